"""Pipeline assembly, options and the ``newsflow`` CLI."""

from pipelines import logs

__version__ = "0.2.0"

# A Beam worker process imports this package to run our DoFns but never runs the CLI's set-up.
logs.configure_from_env()

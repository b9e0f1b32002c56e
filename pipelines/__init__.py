"""Pipeline assembly (``chain``, ``stream``, ``backfill``), options and the ``newsflow`` CLI.

Layers point one way: ``cli`` → the assembly → ``engine`` (local execution) and ``devkafka`` (a
development broker) → ``options``, ``logs``, ``summary`` → :mod:`transforms` → ``transforms.records`` and
``transforms.settings``. The import contracts in ``pyproject.toml`` (``make lint``) enforce it.
"""

from pipelines import logs
from transforms.settings import VERSION

__version__ = VERSION

# A Beam worker process imports this package to run our DoFns but never runs the CLI's set-up.
logs.configure_from_env()

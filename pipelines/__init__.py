"""Pipeline assembly, options and the ``newsflow`` CLI."""

__version__ = "0.1.0"

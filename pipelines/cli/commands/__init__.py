"""One module per ``newsflow`` sub-command (discovered by ``pipelines.cli``)."""

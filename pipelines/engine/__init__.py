"""The local execution engine: how newsflow runs Beam pipelines on this machine.

``local_stream`` runs ``newsflow stream`` as micro-batches on the FnApiRunner; ``local_runner`` builds the
backfill's FnApiRunner; ``worker_forks`` and ``worker_fork_client`` fork its worker processes from one
preloaded process; ``worker_cache`` holds one NER model per worker process. Nothing here knows which
pipeline it runs: the assembly above (``pipelines.stream``, ``pipelines.backfill``) hands it in.
"""

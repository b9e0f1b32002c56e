"""The local execution engine: how newsflow runs Beam pipelines on this machine.

``local_stream`` runs ``newsflow stream`` as micro-batches on the FnApiRunner; ``local_runner`` builds the
backfill's FnApiRunner; ``worker_forks`` and ``worker_fork_client`` fork worker processes from one preloaded
process, for both: the backfill's Beam workers and the stream's ``worker_pool`` (``--workers`` processes
that run the chain's per-article stages); ``worker_cache`` holds one NER model per worker process. Nothing
here knows which pipeline it runs: the assembly above (``pipelines.stream``, ``pipelines.backfill``,
``pipelines.chain_workers``) hands it in.
"""

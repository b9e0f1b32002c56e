"""Exact and near-duplicate detection (issue 4): pure core, pluggable store, thin Beam wrappers.

See ``transforms/dedup/README.md`` for the rules (streaming and batch) and the measured defaults.
"""

from transforms.dedup.beam import Deduplicate
from transforms.dedup.deduplicator import Deduplicator
from transforms.dedup.settings import DedupSettings
from transforms.dedup.shingles import content_hash
from transforms.dedup.store import KeyStore, MemoryStore, SqliteStore

__all__ = [
    "DedupSettings",
    "Deduplicate",
    "Deduplicator",
    "KeyStore",
    "MemoryStore",
    "SqliteStore",
    "content_hash",
]

"""custdesk's store: the data and every rule of the product. Never imports the UI."""
import os

# Set before polars loads: its allocator (jemalloc) otherwise keeps freed pages for
# 10 s, so the transient memory of decoding a table would stay in the process's RSS.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0")

from store.domain.batches import Batch
from store.errors import (
    ConcurrentChange,
    FieldIssue,
    NotFound,
    NothingToUndo,
    RuleViolation,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    ValidationFailed,
)
from store.store import Store

__all__ = [
    "Batch", "ConcurrentChange", "FieldIssue", "NotFound", "NothingToUndo", "RuleViolation",
    "Store", "StoreBusy", "StoreCorrupt", "StoreError", "ValidationFailed",
]

"""custdesk's store: the data and every rule of the product. Never imports the UI.

`Store` and `Batch` are loaded when first asked for: they bring polars and the
rules' libraries (~0.7 s), which `custdesk --help` and the errors never need.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Set before polars loads: its allocator (jemalloc) otherwise keeps freed pages for
# 10 s, so the transient memory of decoding a table would stay in the process's RSS.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0")

from store.base.errors import (
    ConcurrentChange,
    FieldIssue,
    NoStore,
    NotFound,
    NothingToUndo,
    RuleViolation,
    StoreBusy,
    StoreCorrupt,
    StoreError,
    TooManyToMatch,
    ValidationFailed,
)

if TYPE_CHECKING:
    from store.domain.batches import Batch
    from store.store import Store

__all__ = [
    "Batch", "ConcurrentChange", "FieldIssue", "NoStore", "NotFound", "NothingToUndo", "RuleViolation",
    "Store", "StoreBusy", "StoreCorrupt", "StoreError", "TooManyToMatch", "ValidationFailed",
]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from store.store import Store
        return Store
    if name == "Batch":
        from store.domain.batches import Batch
        return Batch
    raise AttributeError(f"module 'store' has no attribute {name!r}")

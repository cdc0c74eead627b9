"""custdesk's store: the data and every rule of the product. Never imports the UI."""
from .errors import (
    ConcurrentChange, FieldIssue, NotFound, NothingToUndo, RuleViolation, StoreBusy,
    StoreCorrupt, StoreError, ValidationFailed,
)
from .store import Batch, Store

__all__ = [
    "Batch", "ConcurrentChange", "FieldIssue", "NotFound", "NothingToUndo", "RuleViolation",
    "Store", "StoreBusy", "StoreCorrupt", "StoreError", "ValidationFailed",
]

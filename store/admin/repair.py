"""Store upkeep outside the verbs: `custdesk repair`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from store.engine import repair
from store.schema import SCHEMA


def repair_store(path: str | Path, *, lock_timeout: float = 15.0) -> dict[str, Any]:
    """Rebuild a damaged store from what is intact; returns the report (see `store.engine.repair`)."""
    return repair(path, SCHEMA, lock_timeout=lock_timeout)

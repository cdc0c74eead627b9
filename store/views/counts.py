"""How many customers (active, inactive, corporate, private) and prospects a store holds,
from the counts the engine keeps with every commit: no table is read."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from store.engine import peek_meta
from store.model import CORPORATE, CUSTOMERS, PRIVATE, SOURCES


def stats_from(tallies: Mapping[str, Any]) -> dict[str, int] | None:
    """The counts `custdesk stats` prints, or None when the store has not counted yet
    (written before counts were kept, and unchanged since)."""
    customers, sources = tallies.get(CUSTOMERS), tallies.get(SOURCES)
    if customers is None or sources is None:
        return None
    active = customers["active"].get("true", 0)
    return {"customers": customers["*"], "active": active, "inactive": customers["*"] - active,
            CORPORATE: customers["kind"].get(CORPORATE, 0), PRIVATE: customers["kind"].get(PRIVATE, 0),
            "sources": sources["*"]}


def quick_stats(path: str | Path) -> dict[str, int] | None:
    """The counts of the store at `path`, read from its files without opening it; None when
    they are not kept there (the caller opens the store and counts)."""
    meta = peek_meta(path)
    return None if meta is None else stats_from(meta.get("tallies") or {})

"""How many customers (active, inactive, corporate, private) and prospects a store holds,
and how many rows a filter of one field selects, from the counts the engine keeps with
every commit: no table is read."""
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
    counted = {"customers": (None, None), "active": (None, True), "inactive": (None, False), CORPORATE: (CORPORATE, None),
               PRIVATE: (PRIVATE, None)}
    return {**{name: filtered_count(customers, kind, active) or 0 for name, (kind, active) in counted.items()},
            "sources": filtered_count(sources, None, None) or 0}


def filtered_count(tally: Mapping[str, Any], kind: str | None, active: bool | None) -> int | None:
    """How many of a table's documents (`tally`: the engine's counts of its table) are of
    `kind`, or `active` or not; every document without either. None where the counts do not
    tell: both filters at once (the counts are of each field apart), a field the table is not
    counted by. (The counts hold a value as text: an active flag of "true" as text, which
    the store never writes, counts as active here and not in the shown column.)"""
    if kind is not None and active is not None:
        return None
    if kind is not None:
        return int(tally["kind"].get(kind, 0)) if "kind" in tally else None
    if active is not None:
        if "active" not in tally:
            return None
        true = int(tally["active"].get("true", 0))
        return true if active else int(tally["*"]) - true
    return int(tally["*"])


def quick_stats(path: str | Path) -> dict[str, int] | None:
    """The counts of the store at `path`, read from its files without opening it; None when
    they are not kept there (the caller opens the store and counts)."""
    meta = peek_meta(path)
    return None if meta is None else stats_from(meta.get("tallies") or {})

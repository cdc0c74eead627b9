"""How many customers (active, inactive, corporate, private) and prospects a store holds,
and how many rows a filter of kind, status or both, or of a tag alone, selects, from the
counts the engine keeps with every commit: no table is read."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from store.engine import peek_meta
from store.model import CORPORATE, CUSTOMERS, KIND_ACTIVE_COUNTS, PRIVATE, SOURCES, TAG_COUNTS


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


def filtered_count(tally: Mapping[str, Any], kind: str | None, active: bool | None, tag: str | None = None) -> int | None:
    """How many of a table's documents (`tally`: the engine's counts of its table) are of
    `kind`, or `active` or not, or both, or carry `tag`; every document without a filter.
    None where the counts do not tell: a tag with another filter, a count the table does not
    keep (a store kept before it was, unchanged since; one of more values than are kept). (The counts hold a value as text: an
    active flag of "true" as text, which the store never writes, counts as active here and
    not in the shown column.)"""
    if tag is not None:
        if kind is not None or active is not None or tally.get(TAG_COUNTS) is None:  # (None: too many tags to keep)
            return None
        return int(tally[TAG_COUNTS].get(tag, 0))
    if kind is not None and tally.get("kind") is None:  # (None: more values than are kept)
        return None
    if active is None:
        return int(tally["*"]) if kind is None else int(tally["kind"].get(kind, 0))
    if kind is None:
        if tally.get("active") is None:
            return None
        true, of = int(tally["active"].get("true", 0)), int(tally["*"])
    else:
        if tally.get(KIND_ACTIVE_COUNTS) is None:  # (its keys: the values joined as `store.engine.tallies` joins them)
            return None
        true, of = int(tally[KIND_ACTIVE_COUNTS].get(f"{kind}|true", 0)), int(tally["kind"].get(kind, 0))
    return true if active else of - true


def quick_stats(path: str | Path) -> dict[str, int] | None:
    """The counts of the store at `path`, read from its files without opening it; None when
    they are not kept there (the caller opens the store and counts)."""
    meta = peek_meta(path)
    return None if meta is None else stats_from(meta.get("tallies") or {})

"""What the aggregates that write people ask of the duplicate matcher (store.matching).

The matcher reads a whole `Store` and keeps its index per Store; the aggregates are
given this view of it (`store.store.StoreMatcher`) instead of the Store they are part of.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from store.matching.pairs import Pair, RecordRef
    from store.views.duplicates import LikelyCustomer


class Matcher(Protocol):
    def matches_for(self, table: str, record: Mapping[str, Any]) -> list[Pair]:
        """The stored records the matcher finds likely `record` (to be added to `table`), surest first."""
        ...

    def matches_among(self, table: str, records: Sequence[Mapping[str, Any]], *, limit: int) -> list[list[Pair]]:
        """`matches_for` of many new records at once: each one's `limit` surest."""
        ...

    def likely_customers(self, ref: RecordRef, record: Mapping[str, Any]) -> list[LikelyCustomer]:
        """The customers the stored `record` (`ref`) likely is, surest first (store.views.duplicates)."""
        ...

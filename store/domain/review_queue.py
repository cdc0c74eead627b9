"""The review queue: pairs an import, a sync or a sign-up wrote on purpose although the new
record likely is someone the store holds, kept for a person to look at (issue 25); and who
holds a record's email, phones or VAT id (`holders`), what each of them checks first.

Each queued pair is kept on the journal entry of the write that made it (`queued`: one
[table, id, other table, other id, score, reasons] per pair), as "not a duplicate" keeps
its word (store.domain.distinct): nothing else to store or migrate, and undoing the
import drops its pairs with its records. A pair leaves the queue when either record is
gone (merged, deleted, activated, discarded) or a person said "not a duplicate".
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from store.domain.distinct import Distinct
from store.domain.session import Session
from store.engine import Lookups
from store.model import CUSTOMERS, JOURNAL
from store.rules.keys import normalise_key
from store.rules.validation import identity_keys

if TYPE_CHECKING:
    from store.matching.pairs import Pair

QUEUED = "queued"  # the journal entry's key of its queued pairs
# The matcher (store.matching.matches_among: a write's new records all at once, ~0.5 ms a
# record at 100k records) checks at most this many new records of one import or sync; beyond,
# only the records' email, phone and VAT id are looked up (the next sweep compares the rest).
MATCHED_ROWS = 20_000


def matcher_checks(count: int) -> bool:
    """Whether the matcher checks a write's `count` new records (see MATCHED_ROWS)."""
    return 0 < count <= MATCHED_ROWS


@dataclass(frozen=True)
class QueuedPair:
    pair: Pair      # score 0.0 (band review) when only an identity check named it (the matcher scored it under REVIEW)
    origin: str     # where it came from: the summary of the write that queued it and its entry ("… (#12)")
    entry: int      # the journal entry that queued it
    action: str     # that entry's action: "import", "sync" …

    @property
    def label(self) -> str:
        """Short: "import #12", "sign-up #14"."""
        return f"{self.action.replace('_', '-')} #{self.entry}"


def queued_details(pairs: Iterable[tuple[str, int, str, int, float | None, Sequence[str]]]) -> dict[str, Any]:
    """A journal entry's `details` keeping `pairs` (new record's table and id, the other's,
    the matcher's score or None, the reasons)."""
    kept = [[table, doc_id, other_table, other_id, score, list(reasons)]
            for table, doc_id, other_table, other_id, score, reasons in pairs]
    return {QUEUED: kept} if kept else {}


class ReviewQueue:
    """The pairs queued for review (see the module's docstring)."""

    def __init__(self, session: Session, distinct: Distinct) -> None:
        self.session, self.distinct = session, distinct

    def queued_pairs(self) -> list[QueuedPair]:
        """The queue, oldest write first: pairs whose records both still exist and that no one
        has said are not duplicates."""
        from store.matching.pairs import Pair, RecordRef, band_of

        distinct = self.distinct.distinct_pairs()
        tables = self.session.db.tables
        entries = list(tables[JOURNAL].items())  # (copied at once: safe from the app's worker)
        found: list[QueuedPair] = []
        seen: set[frozenset[RecordRef]] = set()
        for entry_id, entry in sorted(entries, key=lambda item: item[0]):
            if not entry.get(QUEUED) or entry.get("undone"):
                continue
            origin = _origin(entry_id, entry)
            for table, doc_id, other_table, other_id, score, reasons in entry[QUEUED]:
                new, other = RecordRef(str(table), int(doc_id)), RecordRef(str(other_table), int(other_id))
                key = frozenset((new, other))
                if key in seen or key in distinct or doc_id not in tables[table] or other_id not in tables[other_table]:
                    continue
                seen.add(key)
                a, b = sorted((new, other))
                value = 0.0 if score is None else float(score)
                found.append(QueuedPair(Pair(a, b, value, band_of(value), tuple(reasons), {}), origin, entry_id,
                                        str(entry.get("action"))))
        return found


def queued_first(queued: Sequence[QueuedPair], pairs: Sequence[Pair]) -> list[tuple[Pair, QueuedPair | None]]:
    """The review's list: the queued pairs first (the matcher's own scoring of them where the
    sweep found them too), then the sweep's other pairs."""
    swept = {frozenset((p.a, p.b)): p for p in pairs}
    first = [(swept.get(frozenset((q.pair.a, q.pair.b)), q.pair), q) for q in queued]
    taken = {frozenset((q.pair.a, q.pair.b)) for q in queued}
    return first + [(p, None) for p in pairs if frozenset((p.a, p.b)) not in taken]


def _origin(entry_id: int, entry: Mapping[str, Any]) -> str:
    return f"{entry.get('summary') or entry.get('action')} (#{entry_id})"


# What a shared identity says, in the matcher's words (store.matching.reasons).
SAME = {"email": "same email", "phone": "same phone", "vat_id": "same VAT id"}
Holders = dict[tuple[str, int], tuple[str, ...]]  # (table, id) -> why ("same phone")


def holders(indexes: Lookups, record: Mapping[str, Any], tables: Sequence[str] = (CUSTOMERS,)) -> Holders:
    """The records of these tables (in this order) holding one of a cleaned record's email,
    phones (E.164) or VAT id, each with the reasons ("same phone")."""
    held: Holders = {}
    for table in tables:
        for field, value in identity_keys(record):
            for doc_id in sorted(indexes.holders(table, field, [normalise_key(field, value)])[0]):
                reasons = held.get((table, doc_id), ())
                held[(table, doc_id)] = reasons if SAME[field] in reasons else (*reasons, SAME[field])
    return held


def customers_holding(indexes: Lookups, record: Mapping[str, Any]) -> dict[int, tuple[str, ...]]:
    """`holders` among the customers, by customer id."""
    return {doc_id: reasons for (_table, doc_id), reasons in holders(indexes, record).items()}

"""What a journal entry keeps for history: the field-level changes of the records it
touched (who changed which field from what to what), and what obfuscation removes of them."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypedDict

from store.engine import Document, Transaction
from store.model import CHILD_TABLES, CUSTOMERS, SHARED_OWNERS, SOURCES

Event = Literal["created", "changed", "deleted"]

# Records a person looks up the history of; settings, templates and campaigns say what
# changed in their entry's summary.
TRACED = frozenset({CUSTOMERS, SOURCES, *CHILD_TABLES})
# Fields that change with every write and say nothing a person did; and where a record came
# from, which the detail shows (a sync's last synced values and conflicts, the raw row; a
# marketing answer's time and source, which are its entry's own). And the customers a shared
# record names (an export's): each one's own log says it, and the entry of an export of
# millions would hold them all, read at every open.
BOOKKEEPING = frozenset({"rev", "updated_at", "created_at", "schema_version", "origin", "raw", "imported_at",
                         "marketing_consent", SHARED_OWNERS})
# An entry changing more documents than this (an update import of a whole ledger) keeps
# its summary and counts only: the old values of 1M rows are not a history anyone reads,
# and every open of the store would read them.
EDITS_UP_TO = 1_000
# Written in place of text that named an obfuscated customer.
REMOVED = "[removed]"


class Edit(TypedDict):
    """One record's changes in one journal entry."""

    table: str
    id: int
    owner: int | None     # the customer it belongs to (itself for a customer)
    label: str | None     # its number when it had one (a deleted customer is still named)
    event: Event
    fields: list[list[Any]]  # [field, old, new]; on creation the values it was given


def owner_of(table: str, doc_id: int, doc: Mapping[str, Any] | None) -> int | None:
    if table == CUSTOMERS:
        return doc_id
    if table in CHILD_TABLES and doc is not None:
        owner = doc.get("customer_id")
        return owner if isinstance(owner, int) else None
    return None


def _diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[list[Any]]:
    if after is None:  # a deletion keeps no values: what is deleted is gone from history too
        return []
    old = before or {}
    fields = sorted((set(old) | set(after)) - BOOKKEEPING)
    return [[f, old.get(f), after.get(f)] for f in fields if old.get(f) != after.get(f) and (
        before is not None or after.get(f) not in (None, "", []))]


def _event(before: Document | None, after: Document | None) -> Event:
    return "created" if before is None else "deleted" if after is None else "changed"


def of_transaction(tx: Transaction) -> list[Edit] | None:
    """The transaction's changes field by field (None: more than `EDITS_UP_TO` documents, or
    some patched column-wise).
    Documents an import added column-wise are left out: their entry names them as runs
    (`customer_runs`)."""
    changed = [(table, doc_id, before) for (table, doc_id), before in tx.before.items() if table in TRACED]
    if len(changed) + sum(stop - first for table, first, stop, _rev in tx.deleted_runs() if table in TRACED) > EDITS_UP_TO \
            or tx.patched():  # (patched column-wise: many, none held)
        return None
    edits: list[Edit] = []
    for table, doc_id, before in changed:
        after = tx.get(table, doc_id)
        fields = _diff(before, after)
        if before is not None and after is not None and not fields:
            continue
        either = after if after is not None else before
        label = (either or {}).get("number")
        edits.append(Edit(table=table, id=doc_id, owner=owner_of(table, doc_id, either),
                          label=label if isinstance(label, str) else None, event=_event(before, after), fields=fields))
    return edits


def _ranges(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ids as [first, stop] runs of consecutive ones."""
    runs: list[list[int]] = []
    for doc_id in ids:
        if runs and runs[-1][1] == doc_id:
            runs[-1][1] += 1
        else:
            runs.append([doc_id, doc_id + 1])
    return runs


def customer_runs(tx: Transaction, touched: list[int]) -> dict[str, list[list[int]]]:
    """The customers a bulk entry created and changed (`touched`, sorted), as runs of ids:
    an import of 100,000 new customers is one run, and each of them finds its entry.
    Changes scattered over more than `EDITS_UP_TO` runs are not kept (only counted)."""
    created = sorted({i for table, first, stop in tx.inserted_runs() if table == CUSTOMERS for i in range(first, stop)}
                     | {i for (table, i), before in tx.before.items() if table == CUSTOMERS and before is None})
    changed = sorted(set(touched) - set(created))
    found = {"created_runs": _ranges(created), "changed_runs": _ranges(changed)}
    return {name: runs for name, runs in found.items() if runs and len(runs) <= EDITS_UP_TO}


def _in_runs(runs: Iterable[list[int]], doc_id: int) -> bool:
    return any(first <= doc_id < stop for first, stop in runs)


def created_in(entry: Mapping[str, Any], customer_id: int) -> bool:
    """Whether the entry created the customer (in bulk, or column-wise)."""
    return _in_runs(entry.get("created_runs") or (), customer_id)


def changed_in(entry: Mapping[str, Any], customer_id: int) -> bool:
    """Whether the entry changed the customer's document (told by its runs)."""
    return _in_runs(entry.get("changed_runs") or (), customer_id)


def names(entry: Mapping[str, Any], customer_id: int) -> bool:
    """Whether the entry changed the customer or one of its records, or created it."""
    if customer_id in (entry.get("customer_ids") or ()):
        return True
    if any(edit["owner"] == customer_id for edit in entry.get("edits") or ()):
        return True
    return created_in(entry, customer_id) or changed_in(entry, customer_id)


def prospects_of(entries: Iterable[Mapping[str, Any]], customer_id: int) -> set[int]:
    """The prospects that became the customer: deleted by an entry that created or changed
    it (an activation, a prospect merged into it)."""
    found: set[int] = set()
    for entry in entries:
        changed = entry.get("edits") or []
        if any(edit["table"] == CUSTOMERS and edit["id"] == customer_id for edit in changed):
            found.update(edit["id"] for edit in changed if edit["table"] == SOURCES and edit["event"] == "deleted")
    return found


def belongs(edit: Mapping[str, Any], customer_id: int, prospects: set[int]) -> bool:
    """Whether the edit is of the customer's records, or of a prospect it was before."""
    return edit["owner"] == customer_id or (edit["table"] == SOURCES and edit["id"] in prospects)


def forget_values(entry: Mapping[str, Any], customer_id: int, prospects: set[int], secrets: Iterable[str]) -> Document | None:
    """The entry without the customer's old values (obfuscation's promise: they survive
    nowhere), or None when it holds none. Its edits of the customer's records (and of the
    prospects it was) keep which fields changed, not what from or to; text naming them
    (a summary, a sync conflict) has the secrets replaced."""
    edits = entry.get("edits") or []
    kept = [{**edit, "fields": [[f, None, None] for f, *_ in edit["fields"]], "forgotten": True}
            if belongs(edit, customer_id, prospects) else edit for edit in edits]
    scrubbed = _scrub(entry, sorted({s for s in secrets if len(s) > 1}, key=len, reverse=True))
    if kept == edits and scrubbed == entry:
        return None
    return {**scrubbed, "edits": kept} if "edits" in entry else scrubbed


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REMOVED)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) if k not in ("edits", "changes", "patches") else v for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value

"""Journal entries: who did what and when, and what undo needs to put back."""
from __future__ import annotations

import getpass
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import polars as pl

from store.domain import edits
from store.engine import META, Document, Transaction, containing
from store.model import CHILD_TABLES, CUSTOMERS, JOURNAL, JournalEntry

# Destructive actions that can be undone (SPEC §2.14); obfuscation never.
UNDOABLE = frozenset({"merge", "merge_source", "delete", "deactivate", "reactivate", "import", "discard", "picture", "sync",
                      "distinct", "sync_resolve"})
# How many undoable entries keep their undo data; older ones keep the summary.
KEEP_UNDO_DATA = 50
LIST_CUSTOMERS_UP_TO = 1000
# Whose entry keeps which records changed but no value, old or new (its promise is that
# the old values survive nowhere, and the new ones are fakes or gone).
KEEPS_NO_VALUES = frozenset({"obfuscate", "erase"})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): still journal the change
        return "unknown"


def touched_customers(tx: Transaction) -> list[int]:
    ids: set[int] = set()
    for (table, doc_id), before in tx.before.items():
        _add_owners(ids, tx, table, doc_id, before)
    for table, first, stop, _rev in tx.deleted_runs():
        if table == CUSTOMERS:  # (`bulk_runs` never deletes related records so: their owners are in their documents)
            ids.update(range(first, stop))
    for table, values, _before in tx.patched():
        if table == CUSTOMERS:  # (a patch never changes an owner: `Transaction.patch` puts such a field one by one)
            ids.update(values["id"].to_list())
    for table, first, stop in tx.inserted_runs():
        if table == CUSTOMERS:  # its own owner: no document read (an import adds 100k)
            ids.update(range(first, stop))
        elif table in CHILD_TABLES:
            for doc_id in range(first, stop):
                _add_owners(ids, tx, table, doc_id, None)
    return sorted(ids)


def _add_owners(ids: set[int], tx: Transaction, table: str, doc_id: int, before: Document | None) -> None:
    """The customers a changed document belongs to, before and after."""
    if table == CUSTOMERS:  # its own owner: no document read
        ids.add(doc_id)
    elif table in CHILD_TABLES:
        for doc in (before, tx.get(table, doc_id)):
            owner = edits.owner_of(table, doc_id, doc)
            if owner is not None:
                ids.add(owner)


def _listed(ids: set[int]) -> list[int] | None:
    # Bulk entries name their customers through their undo data, not a 100k list.
    return sorted(ids) if len(ids) <= LIST_CUSTOMERS_UP_TO else None


def _numbers(tx: Transaction, customer_ids: Iterable[int]) -> list[str | None]:
    """The numbers of the customers the entry names, as they were (a deleted one's too): the
    activity list reads them without the customers' table."""
    found = []
    for customer_id in customer_ids:
        doc = tx.get(CUSTOMERS, customer_id) or tx.before.get((CUSTOMERS, customer_id)) or {}
        found.append(doc.get("number"))
    return found


def write_entry(tx: Transaction, action: str, summary: str, user: str, extra_customers: tuple[int, ...] = (),
                details: Mapping[str, Any] | None = None) -> JournalEntry:
    """Record the transaction's changes as one journal entry (call last in a verb);
    `details` are kept on it (a sync run's counts and conflicts)."""
    undoable = action in UNDOABLE
    entry: Document = {
        **(details or {}),
        "at": now(),
        "user": user,
        "action": action,
        "summary": summary,
        "customer_ids": (listed := _listed(set(touched := touched_customers(tx)) | set(extra_customers))),
        "numbers": _numbers(tx, listed or ()),
        "undoable": undoable,
        "undone": False,
    }
    changed = edits.of_transaction(tx)
    if changed is not None and action in KEEPS_NO_VALUES:
        changed = [{**edit, "fields": [[field, None, None] for field, *_ in edit["fields"]]} for edit in changed]
    entry["edits"] = changed
    touched_tables = Counter(table for table, _ in tx.before if table in edits.TRACED)
    for table, first, stop in [*tx.inserted_runs(), *((t, a, b) for t, a, b, _rev in tx.deleted_runs()),
                               *((t, 0, values.height) for t, values, _before in tx.patched())]:
        if table in edits.TRACED:
            touched_tables[table] += stop - first
    entry["touched"] = dict(touched_tables)
    entry.update(edits.customer_runs(tx, touched))  # (a bulk entry's customers, not listed, found by these)
    if undoable:
        entry["changes"] = _undo_data(tx)
        if tx.patched():
            entry["patches"] = _patches(tx)
        _drop_old_undo_data(tx)
    doc_id = tx.insert(JOURNAL, entry)
    return cast(JournalEntry, {**entry, "id": doc_id})


def _undo_data(tx: Transaction) -> list[list[Any]]:
    """[table, id, document before, rev after] of each document changed; the documents an
    import added column-wise as one [table, [first, stop], None, 1] per run (1M documents:
    25 MB less to write, and to read at every open)."""
    assert not tx.deleted_runs(), "documents deleted column-wise keep no undo data: only undo deletes so"
    runs = [run for run in tx.inserted_runs() if run[0] not in (META, JOURNAL)]
    single = [[table, doc_id, before, tx.rev(table, doc_id)] for (table, doc_id), before in tx.before.items()
              if table not in (META, JOURNAL)]
    return single + [[table, [first, stop], None, 1] for table, first, stop in runs]


def _patches(tx: Transaction) -> list[list[Any]]:
    """[table, ids, revs after, {field: value before (None: absent)}] of the documents the
    transaction patched column-wise (`Transaction.patch`), their schema version among the
    fields: what undo patches back, not the documents (90,000 deactivated customers kept
    whole: 30 MB of JSON in one entry)."""
    found = []
    for table, values, before in tx.patched():
        found.append([table, values["id"].to_list(), values["rev"].to_list(),
                      {field: [None if text is None else orjson.loads(text) for text in before[field]]
                       for field in before.columns if field not in ("id", "rev")}])
    return found


def patches_of(entry: Mapping[str, Any]) -> Iterator[tuple[str, pl.DataFrame, dict[str, list[Any]]]]:
    """An entry's patches (`_patches`): (table, frame of id and rev after, each field's
    values before by field: None, absent)."""
    for table, ids, revs, before in entry.get("patches") or ():
        yield table, pl.DataFrame({"id": ids, "rev": revs}, schema={"id": pl.Int64(), "rev": pl.Int64()}), before


def changes_of(entry: Mapping[str, Any]) -> Iterator[tuple[str, int, Document | None, int | None]]:
    """An entry's undo data one document at a time: (table, id, document before, rev after)."""
    for table, where, before, after_rev in entry["changes"]:
        if isinstance(where, list):
            for doc_id in range(*where):
                yield table, doc_id, None, after_rev
        else:
            yield table, where, before, after_rev


def bulk_runs(entry: Mapping[str, Any]) -> tuple[list[tuple[str, int, int, int]], dict[str, Any]]:
    """The runs of documents an entry added that undo deletes column-wise (`Transaction.delete_run`:
    those of more than `edits.EDITS_UP_TO`, whose entry names no edit of each; not a
    customer's related records, whose owners their documents name), and the entry with its
    other changes."""
    runs, rest = [], []
    for change in entry["changes"]:
        table, where, _before, after_rev = change
        if isinstance(where, list) and where[1] - where[0] > edits.EDITS_UP_TO and table not in CHILD_TABLES:
            runs.append((table, where[0], where[1], after_rev))
        else:
            rest.append(change)
    return runs, {**entry, "changes": rest}


def changed_ids(entry: Mapping[str, Any]) -> dict[str, list[int]]:
    """The ids of the documents an entry's undo data names, by table."""
    found: dict[str, list[int]] = {}
    for table, where, _before, _after_rev in entry["changes"]:
        found.setdefault(table, []).extend(range(*where) if isinstance(where, list) else (where,))
    return found


def _drop_old_undo_data(tx: Transaction) -> None:
    # Only entries keeping documents count: one that changed none ("not a duplicate") costs
    # nothing to keep undoable, so a hundred of them never take a merge's undo away.
    rows = tx.table(JOURNAL)
    holders = [i for i in containing(rows, ('"changes"', '"patches"')) if (e := rows[i]).get("changes") or e.get("patches")]
    for doc_id in holders[: max(0, len(holders) - (KEEP_UNDO_DATA - 1))]:
        entry = tx.table(JOURNAL)[doc_id]
        tx.put(JOURNAL, doc_id, {**entry, "changes": None, "patches": None, "undoable": False, "expired": True})


def newest(entries: Mapping[int, Document], where: Callable[[Document], bool]) -> Iterator[tuple[int, Document]]:
    """The entries `where` accepts, newest first; each is read only when reached."""
    for doc_id in sorted(entries, reverse=True):
        entry = entries[doc_id]
        if where(entry):
            yield doc_id, entry


def latest_undoable(entries: Mapping[int, Document], customer_id: int | None = None) -> tuple[int, Document] | None:
    """The newest entry undo can still take back (of those that hold `customer_id`'s data, if given)."""
    return next(newest(entries, lambda entry: bool(
        entry.get("undoable") and not entry.get("undone") and entry.get("changes") is not None
        and (customer_id is None or holds(entry, customer_id)))), None)


def holds(entry: Mapping[str, Any], customer_id: int) -> bool:
    """Whether the entry's undo data holds documents of the customer (itself or its related records)."""
    return customer_id in (entry.get("customer_ids") or ()) or any(
        table == CUSTOMERS and where[0] <= customer_id < where[1] if isinstance(where, list)
        else edits.owner_of(table, where, before) == customer_id
        for table, where, before, _ in entry["changes"]
    ) or any(table == CUSTOMERS and customer_id in ids for table, ids, *_ in entry.get("patches") or ())


def conflicts(tx: Transaction, entry: dict[str, Any]) -> list[tuple[str, int]]:
    """Documents changed since the entry, which undo would silently overwrite."""
    found = []
    for table, doc_id, _before, after_rev in changes_of(entry):
        current = tx.get(table, doc_id)
        if (current or {}).get("rev") != after_rev:
            found.append((table, doc_id))
    return found

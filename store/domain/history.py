"""Reading the journal: the store's activity, entry by entry, and one customer's
timeline field by field (`custdesk log`, `custdesk history`, the app's History)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict

from store.base.errors import NotFound, RuleViolation
from store.domain import edits, journal
from store.engine import Document, containing
from store.model import CUSTOMERS, singular

State = Literal["undoable", "undone", "expired", "purged", ""]

# An entry lists the customers it touched (`customer_ids`, each id in its text) unless they
# are many: then it names them by runs of ids only. Its undo data may hold ranges of ids.
_LISTED = r'"customer_ids":\s*\['
_UNDO_DATA = ('"changes"', '"patches"')


class LogEntry(TypedDict):
    """One journal entry as the activity list shows it."""

    id: int
    at: str
    user: str
    action: str
    summary: str
    customers: list[str]   # the numbers of the customers it touched (when it names them)
    counts: dict[str, int]  # records touched, by what they are ("customer": 3)
    state: State


class Change(TypedDict):
    """One field of one record changed by one entry."""

    record: str        # "customer C-000001", "department #12"
    field: str
    old: Any
    new: Any
    hidden: bool       # its values are gone (obfuscation): which field changed is all there is


class Event(TypedDict):
    """One entry of a customer's timeline, with what it changed of the customer's records."""

    entry: int
    at: str
    user: str
    action: str
    summary: str
    state: State
    what: str           # "created", "changed", "deleted", "obfuscated", "" (named only)
    changes: list[Change]


def parse_since(text: str) -> datetime:
    """A date or a date and time (ISO 8601); without a zone, in the local one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RuleViolation(f"'{text}' is not a date: give YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return moment.astimezone() if moment.tzinfo is None else moment


def counted(counts: Mapping[str, int]) -> str:
    """Records touched, by kind, as words: "3 customers, 1 department"."""
    return ", ".join(f"{n:,} {what}{'s' if n != 1 else ''}" for what, n in counts.items())


def field_named(change: Change) -> str:
    """The changed field as a line of history names it: the customer's own fields by name,
    those of its other records after the record ("department #3 city")."""
    own = change["record"].startswith(f"{singular(CUSTOMERS)} ")
    return change["field"] if own else f"{change['record']} {change['field']}"


def state_of(entry: Mapping[str, Any]) -> State:
    if entry.get("undone"):
        return "undone"
    if entry.get("purged"):
        return "purged"
    if entry.get("expired"):
        return "expired"
    return "undoable" if entry.get("undoable") and entry.get("changes") is not None else ""


class JournalReader(Protocol):
    """What history reads: the journal, and the customers by number (an open store's, or
    the store file's, read without opening it: `store.views.journal`)."""

    def entries(self) -> Mapping[int, Document]: ...
    def ids_numbered(self, number: str) -> set[int]: ...
    def number_of(self, customer_id: int) -> str | None: ...


class History:
    """The journal read back: what was done, by whom, when, and to which records."""

    def __init__(self, reader: JournalReader) -> None:
        self.reader = reader

    def customer_id(self, number: str) -> int:
        """The id of the customer numbered `number`: a current one, or one deleted or merged
        away that the journal still names (its history tells where it went)."""
        wanted = number.strip()
        found = self.reader.ids_numbered(wanted)
        if found:
            return min(found)
        for _doc_id, entry in journal.newest(self.reader.entries(), lambda e: wanted in (e.get("numbers") or ())):
            return int(entry["customer_ids"][entry["numbers"].index(wanted)])
        raise NotFound(f"no customer numbered {wanted}, now or in the journal")

    def log(self, customer_id: int | None = None, since: datetime | None = None,
            limit: int | None = None) -> list[LogEntry]:
        """Journal entries, newest first: all, those since a moment, or those that touched a customer."""
        found: list[LogEntry] = []
        for doc_id, entry in self._entries(customer_id, since):
            found.append(LogEntry(id=doc_id, at=entry["at"], user=entry["user"], action=entry["action"],
                                  summary=entry["summary"], customers=self._numbers(entry), counts=_counts(entry),
                                  state=state_of(entry)))
            if limit is not None and len(found) >= limit:
                break
        return found

    def history(self, customer_id: int) -> list[Event]:
        """The customer's timeline, oldest first: every entry that touched it or its records,
        with the fields each changed (an obfuscated customer's old values are gone: its
        entries say which fields changed, not from what)."""
        events = [self._event(doc_id, entry, customer_id) for doc_id, entry in self._entries(customer_id, None)]
        return events[::-1]

    def _entries(self, customer_id: int | None, since: datetime | None) -> Iterator[tuple[int, Mapping[str, Any]]]:
        def wanted(entry: Mapping[str, Any]) -> bool:
            return customer_id is None or edits.names(entry, customer_id) or (
                entry.get("changes") is not None and journal.holds(entry, customer_id))
        rows = self.reader.entries()
        # Of a customer's: the entries whose text names its id, or that list no customers (a
        # bulk entry's are runs of ids), or hold undo data (a server's journal is held as
        # text: only these are parsed).
        ids = rows if customer_id is None else containing(rows, (str(customer_id), *_UNDO_DATA), lacking=(_LISTED,))
        for doc_id in sorted(ids, reverse=True):
            entry = rows[doc_id]
            if since is not None and datetime.fromisoformat(entry["at"]) < since:
                return  # entries are numbered in time order
            if wanted(entry):
                yield doc_id, entry

    def _event(self, doc_id: int, entry: Mapping[str, Any], customer_id: int) -> Event:
        own = [edit for edit in entry.get("edits") or () if edit["owner"] == customer_id]
        hidden = entry["action"] in journal.KEEPS_NO_VALUES
        changes = [Change(record=self._record(edit), field=field, old=self._value(field, old), new=self._value(field, new),
                          hidden=hidden or bool(edit.get("forgotten")))
                   for edit in own for field, old, new in edit["fields"] if field not in edits.BOOKKEEPING]
        return Event(entry=doc_id, at=entry["at"], user=entry["user"], action=entry["action"],
                     summary=entry["summary"], state=state_of(entry), what=_what(entry, own, customer_id, bool(changes)),
                     changes=changes)

    def _record(self, edit: Mapping[str, Any]) -> str:
        name = singular(edit["table"])
        return f"{name} {edit['label']}" if edit["label"] else f"{name} #{edit['id']}"

    def _value(self, field: str, value: Any) -> Any:
        # A related record's owner by the number people know it by, not an internal id.
        if field == "customer_id" and isinstance(value, int):
            return self.reader.number_of(value) or f"#{value}"
        return value

    def _numbers(self, entry: Mapping[str, Any]) -> list[str]:
        ids = entry.get("customer_ids") or []
        numbers = entry.get("numbers") or [None] * len(ids)
        return [number or f"#{customer_id}" for customer_id, number in zip(ids, numbers, strict=False)]


def _what(entry: Mapping[str, Any], own: list[Mapping[str, Any]], customer_id: int, shown: bool) -> str:
    """What the entry did to the customer, in a word ("" where its shown changes say it, or
    it changed only where the record came from: a sync's conflict noted)."""
    if entry["action"] in journal.KEEPS_NO_VALUES:
        return "obfuscated"
    mine = next((edit for edit in own if edit["table"] == CUSTOMERS and edit["id"] == customer_id), None)
    if mine is not None:
        return "" if mine["event"] == "changed" and not shown else str(mine["event"])
    if edits.created_in(entry, customer_id):
        return "created"
    return "changed" if shown or (not own and edits.changed_in(entry, customer_id)) else ""


def _counts(entry: Mapping[str, Any]) -> dict[str, int]:
    return {singular(table): n for table, n in (entry.get("touched") or {}).items()}

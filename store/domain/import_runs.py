"""Import runs and the mappings they remember, read from the journal.

An import's journal entry keeps the run (`RUN`: file, sheet, target, mode, key,
counts) and, when the user confirmed its mapping (corrected a column, gave
`--map`, or took a remembered one), that mapping (`MAPPING`,
store.rules.mappings.mapping_record). A shape's remembered mapping is the newest
such entry's, unless that import was undone (undo takes back what the import
did, remembering included) or a `FORGET` entry for the shape came after it.
Kept in the journal, a mapping is remembered exactly when its import committed,
and undoing an import never meets a later import's mapping as a conflict.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from store.base.text import path_text
from store.domain import journal
from store.engine import Document
from store.model import JournalEntry

IMPORT = "import"
FORGET = "forget_mapping"
RUN = "import_run"
MAPPING = "mapping"
FORGETS = "forgets"

UndoState = Literal["undoable", "undone", "expired"]


@dataclass(frozen=True)
class RememberedMapping:
    """A confirmed mapping for one shape of file (`id`: the shape's key)."""

    id: str
    target: str
    columns: tuple[tuple[str, str | None], ...]
    file: str | None   # where it was confirmed
    sheet: str | None
    at: str
    entry: int         # the newest import that applied it

    def message(self) -> str:
        """What the review and the command line say when it applies."""
        return f"mapping remembered from {self.file or 'an earlier import'} ({self.at[:10]})"

    def origin(self) -> dict[str, str | None]:
        return {"file": self.file, "sheet": self.sheet, "at": self.at}

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.target, "columns": dict(self.columns), "file": self.file,
                "sheet": self.sheet, "at": self.at, "entry": self.entry}


@dataclass(frozen=True)
class ImportRun:
    """One import as its journal entry keeps it (an import from before runs were kept
    names no file, sheet, mode or key: None)."""

    id: int  # its journal entry: `custdesk undo --entry ID`
    at: str
    user: str
    summary: str
    file: str | None
    sheet: str | None
    target: str | None
    mode: str | None
    key: str | None
    counts: dict[str, int]
    undo: UndoState
    mapping: str | None  # the remembered mapping it applied or confirmed

    def entry(self) -> JournalEntry:
        """The journal entry as undo asks about it."""
        return cast(JournalEntry, {"id": self.id, "at": self.at, "user": self.user, "summary": self.summary})

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "user": self.user, "file": self.file, "sheet": self.sheet,
                "target": self.target, "mode": self.mode, "key": self.key, "counts": self.counts, "undo": self.undo,
                "mapping": self.mapping, "summary": self.summary}


def run_details(file: str, sheet: str | None, target: str, mode: str, key: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """What an import's entry keeps of its run."""
    return {"file": path_text(file), "sheet": sheet, "target": target, "mode": mode, "key": key, "counts": dict(counts)}


def undo_state(entry: Mapping[str, Any]) -> UndoState:
    if entry.get("undone"):
        return "undone"
    return "undoable" if entry.get("undoable") and entry.get("changes") is not None else "expired"


def import_runs(entries: Mapping[int, Document]) -> Iterator[ImportRun]:
    """Every import, newest first."""
    for doc_id, entry in journal.newest(entries, lambda e: e.get("action") == IMPORT):
        run = entry.get(RUN) or {}
        mapping = entry.get(MAPPING) or {}
        yield ImportRun(doc_id, entry["at"], entry["user"], entry["summary"], run.get("file"), run.get("sheet"),
                        run.get("target"), run.get("mode"), run.get("key"), dict(run.get("counts") or {}),
                        undo_state(entry), mapping.get("key"))


def _says_of_mapping(entry: Document) -> bool:
    return entry.get("action") == FORGET or (entry.get("action") == IMPORT and bool(entry.get(MAPPING)))


def remembered(entries: Mapping[int, Document]) -> Iterator[RememberedMapping]:
    """Each shape's remembered mapping, newest first."""
    settled: set[str] = set()  # shapes whose newest word was said (a mapping or a forget)
    for doc_id, entry in journal.newest(entries, _says_of_mapping):
        if entry.get("action") == FORGET:
            settled.add(entry[FORGETS])
            continue
        record = entry[MAPPING]
        if record["key"] in settled or entry.get("undone"):
            continue
        settled.add(record["key"])
        origin = record.get("origin") or {"file": (entry.get(RUN) or {}).get("file"),
                                          "sheet": (entry.get(RUN) or {}).get("sheet"), "at": entry["at"]}
        yield RememberedMapping(record["key"], record["target"], tuple((c, f) for c, f in record["columns"]),
                                origin.get("file"), origin.get("sheet"), origin.get("at") or entry["at"], doc_id)

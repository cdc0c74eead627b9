"""Typed refusals of the store. Every message is fit to show a user as it is."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from store.base.text import printable


class StoreError(Exception):
    """Base of every refusal the store makes; str(err) is the user message: one line,
    whatever data it quotes (a column name, a value), with no character that could
    steer a terminal."""

    def __str__(self) -> str:
        return printable(super().__str__())


class NotFound(StoreError):
    pass


class RuleViolation(StoreError):
    """A product rule forbids the action (inactive customer, linked orders …)."""


@dataclass(frozen=True)
class FieldIssue:
    field: str
    value: object
    message: str
    severity: Literal["error", "warning"]

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationFailed(StoreError):
    def __init__(self, issues: list[FieldIssue]):
        self.issues = [i for i in issues if i.severity == "error"]
        super().__init__("; ".join(str(i) for i in self.issues))


class ConcurrentChange(StoreError):
    """Somebody else changed what this action was based on."""


class StoreBusy(StoreError):
    """Another process holds the store's lock for too long."""


class UnreadableInput(StoreError):
    """A file the user named cannot be read as one: missing, a folder, a pipe or a device,
    not readable, or larger than what it may hold (`store.base.files.read_regular`)."""


class NoStore(StoreError):
    """No store at the location, and the command may not create one (a mistyped --db)."""


class StoreCorrupt(StoreError):
    """The store file cannot be read as a custdesk store."""


class NothingToUndo(StoreError):
    pass


class TooManyToMatch(StoreError):
    """More customers and prospects than the duplicate matcher compares in one process
    (`store.matching.index.MATCHED_STORE`): its index of them would not fit in memory."""

"""What workers and the app tell screens, as typed Textual messages.

Workers never touch widgets: they post one of these (posting is thread-safe)
and the screen's handler, on the UI thread, updates what the user sees.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from importers import ImportPlan
    from outreach.sending import CampaignReport
    from store.model import JournalEntry


class StoreChanged(Message):
    """The store changed (a verb here, or another process's commit). `changes`: the
    changed documents' ids by table, None when everything may have changed."""

    def __init__(self, changes: dict[str, set[int]] | None) -> None:
        super().__init__()
        self.changes = changes


class CommittedElsewhere(Message):
    """Another session committed to the store (heard at once where the backend tells: PostgreSQL)."""


class WaitingForStore(Message):
    """A verb waits for another process's commit to finish (the user should know why)."""


class WorkProgress(Message):
    """A worker's progress: `done` of `total` (None: not known yet)."""

    def __init__(self, done: int, total: int | None) -> None:
        super().__init__()
        self.done, self.total = done, total


class RecipientsRead(Message):
    """Who a mailing reaches and who it skips, read off the UI thread (`MailScreen`)."""

    def __init__(self, reachable: list[Any], skipped: list[dict[str, str]]) -> None:
        super().__init__()
        self.reachable, self.skipped = reachable, skipped


class WorkFailed(Message):
    """A worker stopped with a refusal or an error, worded for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ImportPlanned(Message):
    def __init__(self, plan: ImportPlan) -> None:
        super().__init__()
        self.plan = plan


class Imported(Message):
    def __init__(self, entry: JournalEntry) -> None:
        super().__init__()
        self.entry = entry


class CampaignSent(Message):
    """A campaign run ended (`report` None: it failed before any report)."""

    def __init__(self, report: CampaignReport | None) -> None:
        super().__init__()
        self.report = report


class Exported(Message):
    def __init__(self, count: int, target: Any, gone: int = 0) -> None:
        super().__init__()
        self.count, self.target = count, target
        self.gone = gone  # chosen, but deleted or merged away before they were read


class StoreOpened(Message):
    """The store the app started without is open, checked and its customer rows built
    (`CustdeskApp._open_behind_page`, from its thread: a message is safe there)."""

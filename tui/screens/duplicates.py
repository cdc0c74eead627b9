"""The duplicate review: every likely duplicate pair of the store, surest first, the two
records side by side; merge them, say they are two people, or skip."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Header, ProgressBar, Static
from textual.worker import get_current_worker

from store import StoreError
from store.domain.distinct import PROSPECT_NAME
from store.domain.review_queue import QueuedPair, queued_first
from store.matching import Pair, RecordRef, sweep_pairs
from store.model import CUSTOMERS, SOURCES, display_name
from store.views.records import SHOWN_NAME, shown_rows
from store.views.shown import FrameShown

from ..flows.merge import merge
from ..flows.undo import undo
from ..messages import WorkFailed, WorkProgress
from ..verbs import attempt
from ..widgets.footer import SteadyFooter
from ..widgets.table import Column, RecordTable, Row
from .base import StoreScreen
from .modals import ConfirmScreen, literal

# The fields shown side by side, in the order people read a record.
FIELDS = ("first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode", "city", "country", "vat_id")
# How each level of the matcher's evidence is marked beside a field.
MARKS = {"exact": ("=", "bold green"), "close": ("≈", "yellow"), "different": ("≠", "bold red"), "missing": ("", "")}
# A queued pair's reasons start with this and where it was queued ("queued by import #12: same phone").
QUEUED_MARK = "queued by "
# The sweep's progress reaches the screen at most this often (a message per comparison block would flood it).
PROGRESS_EVERY_SECONDS = 0.1


class PairsFound(Message):
    """The sweep's pairs after the queued ones (the worker's result; `queued`: where each queued
    pair came from, None for the sweep's), and the same as rows (`pair_rows`)."""

    def __init__(self, pairs: list[Pair], queued: list[QueuedPair | None], rows: pl.DataFrame) -> None:
        super().__init__()
        self.pairs, self.queued, self.rows = pairs, queued, rows


class SweepStopped(Exception):
    """Raised from the progress callback when the screen no longer wants the sweep."""


class DuplicatesScreen(StoreScreen[None]):
    """The pairs an import, sync or sign-up queued for review (store.domain.review_queue), then those
    `store.matching.find_pairs` finds, by score; under the list the highlighted pair side by
    side, each field marked by the matcher's evidence, with its reasons."""

    COLUMNS = [Column("score", "Score", 5), Column("band", "Band", 6, drop=1), Column("a", "Record", 3, flex=True),
               Column("b", "Duplicate?", 3, flex=True), Column("reasons", "Why", 4, flex=True)]
    BINDINGS = [
        Binding("m", "merge", "Merge", id="merge-pair"),
        Binding("n", "distinct", "Not a duplicate", id="not-a-duplicate"),
        Binding("s", "skip", "Skip", id="skip-pair"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("r", "rescan", "Rescan", id="rescan"),
        Binding("escape", "back", "Back", id="back"),
    ]
    CSS_PATH = "duplicates.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[Pair] = []  # the queued, then the sweep's, in its order; a row's id is its index here
        self.queued: list[QueuedPair | None] = []  # (per pair) where a queued one came from
        self.rows = pair_rows([])
        self.sweeping = False
        self._mergeable: bool | None = None  # whether the footer offers `m` now

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="sweep")
        yield ProgressBar(id="sweep-progress", show_eta=False)
        yield RecordTable(self.COLUMNS, row_style=_band_style, id="pairs")
        with VerticalScroll(id="pair-scroll"):
            yield Static(id="pair")
        yield SteadyFooter()

    @property
    def table(self) -> RecordTable:
        return self.query_one("#pairs", RecordTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.action_rescan()

    # -- the sweep (a worker) -------------------------------------------------------------
    def action_rescan(self) -> None:
        self.sweeping = True
        bar = self.query_one("#sweep-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#sweep", Static).update(Text("Comparing the store's customers and prospects …"))
        self.refresh_bindings()
        self._sweep()

    @work(thread=True, exclusive=True, group="sweep")
    def _sweep(self) -> None:
        worker = get_current_worker()
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if worker.is_cancelled:  # the screen was closed or a new sweep started: stop comparing
                raise SweepStopped
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_SECONDS or done >= total:
                last = now
                self.post_message(WorkProgress(done, total))
        try:
            listed = queued_first(self.store.queued_pairs(), self._swept_pairs(progress))
        except SweepStopped:
            return
        except StoreError as err:
            self.post_message(WorkFailed(str(err)))
            return
        except Exception as err:  # a record no rule foresaw must not take the app down
            self.post_message(WorkFailed(f"the duplicate sweep failed ({type(err).__name__}: {err})"))
            return
        if not worker.is_cancelled:
            pairs, queued = [pair for pair, _ in listed], [queued for _, queued in listed]
            self.post_message(PairsFound(pairs, queued, pair_rows(pairs, queued)))

    def _swept_pairs(self, progress: Callable[[int, int], None]) -> list[Pair]:
        """The sweep's pairs (`store.matching.sweep_pairs`), saying why when they are not the matcher's."""
        pairs, instead = sweep_pairs(self.store, progress=progress)
        if instead is not None:
            self.app.call_from_thread(self.notify, instead, markup=False, timeout=10)
        return pairs

    def on_work_progress(self, message: WorkProgress) -> None:
        self.query_one("#sweep-progress", ProgressBar).update(progress=message.done, total=message.total)
        if message.total:
            self.query_one("#sweep", Static).update(Text(f"Comparing … {message.done:,} of {message.total:,}"))

    def on_work_failed(self, message: WorkFailed) -> None:
        message.stop()
        self._swept()
        self.notify(message.reason, severity="error", timeout=10)

    def on_pairs_found(self, message: PairsFound) -> None:
        self.pairs, self.queued, self.rows = message.pairs, message.queued, message.rows  # (queued, then surest first)
        self._swept()
        self.redraw()

    def _swept(self) -> None:
        self.sweeping = False
        self.query_one("#sweep-progress", ProgressBar).display = False
        self.refresh_bindings()

    # -- showing ----------------------------------------------------------------------------
    def redraw(self) -> None:
        """The pairs still open: both records there (not merged, deleted or activated since)
        and not said to be two people; the cursor stays where it was (on the next pair when
        the one under it left)."""
        # Column-wise, the pairs' records alone read from the store as it is now (on a server of
        # millions, not the whole table): tens of thousands of pairs redrawn after each merge or `n`.
        said = [_key(*sorted(pair)) for pair in self.store.distinct_pairs()]
        labels = pl.concat([self._labels(CUSTOMERS, pl.col("number")),
                            self._labels(SOURCES, pl.format(PROSPECT_NAME, pl.col("id")))])
        frame = (self.rows.filter(~pl.col("key").is_in(said))
                 .join(labels.rename({"key": "a_key", "label": "a"}), on="a_key")  # (a record gone: its pairs go)
                 .join(labels.rename({"key": "b_key", "label": "b"}), on="b_key")
                 .sort("id"))
        self.table.show(FrameShown(frame), keep=self.table.current_id)
        if not self.sweeping:  # (while it sweeps, the line shows how far it is)
            sure, queued = int((frame["band"] == "sure").sum()), int(frame["reasons"].str.starts_with(QUEUED_MARK).sum())
            self.query_one("#sweep", Static).update(Text(
                f"{frame.height:,} likely duplicate pair(s): {sure:,} sure, {frame.height - sure:,} to review"
                + (f", {queued:,} queued first" if queued else "")
                if frame.height else "No likely duplicates: r looks again"))
        self._show_pair()
        self.refresh_bindings()

    def _labels(self, table: str, name: pl.Expr) -> pl.DataFrame:
        """Each record of the table in a pair, as it is now: its key and "C-000001 Ada Lovelace"."""
        ids = {ref.id for pair in self.pairs for ref in (pair.a, pair.b) if ref.table == table}
        return shown_rows(self.store, table, ids).select(_key_of(pl.lit(table), pl.col("id")).alias("key"),
                                                         pl.concat_str([name, SHOWN_NAME], separator=" ").alias("label"))

    def _record(self, ref: RecordRef) -> Mapping[str, Any]:
        return self.store.record(ref.table, ref.id)

    def current(self) -> Pair | None:
        row_id = self.table.current_id if self.is_mounted else None
        return self.pairs[row_id] if row_id is not None else None

    def on_record_table_moved(self, _event: RecordTable.Moved) -> None:
        self._show_pair()
        # Re-evaluating the bindings rebuilds the footer: only when `m` comes or goes.
        mergeable = self.check_action("merge", ())
        if mergeable != self._mergeable:
            self._mergeable = mergeable
            self.refresh_bindings()

    def _show_pair(self) -> None:
        pair = self.current()
        shown = self.query_one("#pair", Static)
        if pair is None:
            shown.update("")
            return
        queued = self.queued[self.table.current_id or 0] if self.queued else None
        shown.update(side_by_side(pair, self._record(pair.a), self._record(pair.b),
                                  (self.store.record_name(pair.a), self.store.record_name(pair.b)),
                                  queued.origin if queued else None))

    # -- acting -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("merge", "distinct", "undo", "rescan") and self.sweeping:
            return None  # the sweep reads the store meanwhile, and its list replaces this one
        if action in ("merge", "distinct", "skip"):
            pair = self.current()
            if pair is None:
                return None
            if action == "merge" and pair.b.table == SOURCES and pair.a.table == SOURCES:
                return None  # two prospects: no merge of prospects (activate one first)
        return True

    def action_merge(self) -> None:
        pair = self.current()
        if pair is None:
            return
        if pair.a.table == CUSTOMERS and pair.b.table == CUSTOMERS:
            merge(self.app, pair.a.id, pair.b.id)
        elif pair.a.table == CUSTOMERS:  # a customer and a prospect: the source list's merge into the customer
            self._merge_prospect(pair.b.id, pair.a.id)

    def _merge_prospect(self, source_id: int, customer_id: int) -> None:
        customer, number = self.store.customer(customer_id), self.store.record_name(RecordRef(CUSTOMERS, customer_id))
        message = Text.assemble(f"Merge prospect #{source_id} ", literal(display_name(self.store.source(source_id))),
                                f" into {number} ", literal(display_name(customer)),
                                "? Its fields fill the customer's empty ones, its notes are added, and it leaves the "
                                "source list. u undoes it.")

        def confirmed(yes: bool | None) -> None:
            if yes:
                attempt(self.app, self.store.merge_source_into, source_id, customer_id,
                                 success=f"Merged prospect #{source_id} into {number}; u undoes")
        self.app.push_screen(ConfirmScreen(message), confirmed)

    def action_distinct(self) -> None:
        pair = self.current()
        if pair is not None:
            attempt(self.app, self.store.mark_distinct, pair.a, pair.b,
                             then=lambda entry: self.notify(f"{entry['summary']}; u undoes"))

    def action_skip(self) -> None:
        self.table.action_cursor(1)

    def action_undo(self) -> None:
        undo(self.app)

    def action_back(self) -> None:
        self.app.pop_screen()


def pair_rows(pairs: Sequence[Pair], queued: Sequence[QueuedPair | None] = ()) -> pl.DataFrame:
    """The pairs as the list shows them (worked out once per sweep, in its worker), with each
    side's key to find its label and whether it is still there; a queued pair's reasons
    start with where it was queued (`queued`: per pair, or none)."""
    marks = [f"{QUEUED_MARK}{q.label}: " if q else "" for q in queued] or [""] * len(pairs)
    return pl.DataFrame({
        "id": range(len(pairs)),
        "score": [f"{pair.score:.3f}" for pair in pairs],
        "band": [pair.band for pair in pairs],
        "reasons": [mark + "; ".join(pair.reasons) for mark, pair in zip(marks, pairs, strict=True)],
        "a_key": [_key(pair.a) for pair in pairs],
        "b_key": [_key(pair.b) for pair in pairs],
        "key": [_key(pair.a, pair.b) for pair in pairs],
    }, schema={"id": pl.Int64, "score": pl.String, "band": pl.String, "reasons": pl.String, "a_key": pl.String,
               "b_key": pl.String, "key": pl.String})


def _key(*refs: RecordRef) -> str:
    """A record ("customers:12"), or a pair of them in order ("customers:12 sources:3")."""
    return " ".join(f"{ref.table}:{ref.id}" for ref in refs)


def _key_of(table: pl.Expr, doc_id: pl.Expr) -> pl.Expr:
    """`_key` of a record, column-wise."""
    return pl.concat_str([table, doc_id.cast(pl.String)], separator=":")


def _band_style(row: Row) -> str:
    return "bold" if row["band"] == "sure" else ""


def side_by_side(pair: Pair, a: Mapping[str, Any], b: Mapping[str, Any], names: Sequence[str], queued: str | None = None) -> Group:
    """The pair's reasons, then each field either record has, the two values side by side and
    the matcher's verdict on the field between them (= same, ≈ close, ≠ different);
    `queued`: where a queued pair came from."""
    reasons = Text(f"{pair.band} · {pair.score:.3f} · ", style="bold")
    if queued:
        reasons = Text.assemble((QUEUED_MARK, "bold magenta"), literal(queued), "\n", reasons)
    reasons.append_text(literal("; ".join(pair.reasons)))
    table = Table(expand=True, header_style="bold", box=None, padding=(0, 1))
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column(_heading(names[0], a), ratio=1)
    table.add_column("", no_wrap=True, width=1)
    table.add_column(_heading(names[1], b), ratio=1)
    for field in FIELDS:
        if not (a.get(field) or b.get(field)):
            continue
        mark, style = MARKS.get(pair.evidence.get(field, "missing"), ("", ""))
        left, right = literal(a.get(field)), literal(b.get(field))
        if style:
            left.stylize(style)
            right.stylize(style)
        table.add_row(field.replace("_", " "), left, Text(mark, style=style), right)
    return Group(reasons, table)


def _heading(name: str, record: Mapping[str, Any]) -> Text:
    """A column's heading: the record's number and name on one line (cut short, not wrapped)."""
    heading = literal(f"{name}  {display_name(record)}")
    heading.no_wrap, heading.overflow = True, "ellipsis"
    return heading

"""The custdesk terminal app: one store, its screens, and the flows they share."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from store import Store, StoreBusy, StoreError
from store.domain.sources import activation_kind
from store.model import CUSTOMERS, SOURCES, JournalEntry, Prospect, display_name
from store.text import printable
from store.view import RecordView

from .config import Config
from .dates import Dates
from .messages import CommittedElsewhere, StoreChanged, WaitingForStore, WorkFailed
from .screens.modals import ConfirmScreen, CustomerForm, HelpScreen, PromptScreen, SettingsScreen, literal
from .screens.tables import CustomersScreen, pick_other_customer

POLL_SECONDS = 3.0
WIDE_HEADER = 100  # columns from which the header names the store file too
POLL_WAIT_SECONDS = 0.2
# A verb waiting longer than this for another process's commit says so.
BUSY_NOTICE_SECONDS = 0.5
T = TypeVar("T")

if TYPE_CHECKING:  # (store.duplicates loads the matcher: imported where first needed)
    from store.duplicates import LikelyCustomer


@dataclass
class _VerbCall(Generic[T]):
    verb: Callable[..., T]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    success: str | None
    then: Callable[[T], object] | None
    refused: Callable[[StoreError], None] | None
# Build the indexes this long after start: by then the first screen is painted.
PREPARE_AFTER_SECONDS = 0.5


class CustdeskApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "custdesk"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("comma", "settings", "Settings", show=False, id="settings"),
        Binding("ctrl+t", "templates", "Templates", show=False, id="templates"),
    ]

    def __init__(self, store: Store, config: Config | None = None) -> None:
        super().__init__()
        config = config or Config()
        if config.theme:
            self.theme = config.theme
        self.set_keymap(config.keymap)  # the user's keys, by binding id (tui/config.py)
        self.dates = Dates(config.date_format)
        self.store = store
        store.take_changes()  # the views below start from the store as it is now
        self.views = {CUSTOMERS: RecordView(store, CUSTOMERS), SOURCES: RecordView(store, SOURCES)}
        # Why the app stopped at start: a damaged store (the command line prints it, exit 2).
        self.refusal: StoreError | None = None

    def on_mount(self) -> None:
        self.sub_title = self.store.where
        self.push_screen(CustomersScreen())
        self.call_after_refresh(self.check_store)

    def check_store(self) -> None:
        """Check the store's checksums once the first screen is painted (from the columns
        file, checked on its own), before any key is handled: a damaged store stops the app
        as it stops every command. ~0.1 s per 100 MB of store."""
        try:
            self.store.verify()
        except StoreError as refused:
            self.refusal = refused
            self.exit(return_code=2)
            return
        self.set_interval(POLL_SECONDS, self.poll_store)
        # PostgreSQL tells of other sessions' commits at once (NOTIFY); the timer stays as a
        # net for a store file, or a lost listening connection.
        self.store.watch(self._heard_a_commit)
        self.set_timer(PREPARE_AFTER_SECONDS, self.prepare_lookups)

    @work(thread=True, group="prepare")
    def prepare_lookups(self) -> None:
        # Started after the first paint (a thread holding the GIL slows painting
        # threefold): the first new customer, import or detail view then does not
        # wait for the indexes and documents (~0.6 s at 100k customers, ~7 s at 1M).
        self.store.prepare_lookups()

    # -- shared state -------------------------------------------------------------
    def update_counts(self) -> None:
        # From the views (kept in step with the store): a polars sum, not a walk over 100k documents.
        customers, prospects = self.views[CUSTOMERS].frame.height, self.views[SOURCES].frame.height
        if self.size.width < WIDE_HEADER:  # what must fit beside the title at 80 columns, even at 1M
            self.sub_title = f"{customers:,} customers · {prospects:,} prospects"
            return
        active = self.views[CUSTOMERS].frame["active"].sum()
        self.sub_title = f"{self.store.title} · {customers:,} customers ({active:,} active) · {prospects:,} prospects"

    def after_change(self) -> None:
        """The store changed under our hands: rebuild the changed rows, then tell every screen."""
        changes = self.store.take_changes()
        for table, view in self.views.items():
            view.refresh(None if changes is None else changes.get(table, set()))
        self.update_counts()
        for screen in self.screen_stack:
            screen.post_message(StoreChanged(changes))

    def shows(self, screen: Screen[Any]) -> bool:
        """Whether `screen` is on view: the top one, and those under dialogs down to the
        first full screen (the rest redraw when they come back)."""
        for shown in reversed(self.screen_stack):
            if shown is screen:
                return True
            if not shown.is_modal:
                return False
        return False

    @work(thread=True, exclusive=True, group="poll")
    def poll_store(self) -> None:
        # Someone else (another user, a cron import) may have committed. The look
        # is lock-free; catching up changes the tables, so it runs on the UI
        # thread (the only one reading them) while this worker holds the lock.
        if not self.store.changed_elsewhere() or get_current_worker().is_cancelled:
            return
        try:
            with self.store.reserved(wait=POLL_WAIT_SECONDS):
                self.call_from_thread(self.catch_up)
        except StoreBusy:
            pass  # someone's long commit: look again at the next poll

    def _heard_a_commit(self) -> None:
        self.post_message(CommittedElsewhere())  # (from the listening thread: a message is safe there)

    def on_committed_elsewhere(self, _message: CommittedElsewhere) -> None:
        self.poll_store()

    def catch_up(self) -> None:
        # Bounded: the lock is held for us, but the background index build may hold the
        # store's in-process mutex for seconds at 1M customers; the next poll tries again.
        try:
            changed = self.store.refresh(wait=POLL_WAIT_SECONDS)
        except StoreBusy:
            return
        if changed:
            self.after_change()

    def attempt(self, verb: Callable[..., T], *args: Any, success: str | None = None,
                then: Callable[[T], object] | None = None, refused: Callable[[StoreError], None] | None = None,
                **kwargs: Any) -> None:
        """Run a store verb; its refusal becomes a message (or goes to `refused`), its result goes to `then`.

        The wait for the store's lock (another process committing) happens on a
        worker thread; the verb itself then runs on the UI thread, which alone
        reads the store's tables, without waiting."""
        self._reserve_then_run(_VerbCall(verb, args, kwargs, success, then, refused))

    @work(thread=True, group="verbs")
    def _reserve_then_run(self, call: _VerbCall[Any]) -> None:
        worker = get_current_worker()
        held = ExitStack()
        try:
            try:
                held.enter_context(self.store.reserved(wait=BUSY_NOTICE_SECONDS))
            except StoreBusy:
                self.post_message(WaitingForStore())
                held.enter_context(self.store.reserved())
        except StoreBusy as err:
            self.post_message(WorkFailed(str(err)))
            return
        with held:
            if not worker.is_cancelled:
                self.call_from_thread(self._run_verb, call)

    def once_given(self, verb: Callable[..., object], *args: Any, success: str) -> Callable[[Any], None]:
        """A dialog's callback: `verb(*args, result)` once the dialog returns something."""
        def run(result: Any) -> None:
            if result:
                self.attempt(verb, *args, result, success=success)
        return run

    def _run_verb(self, call: _VerbCall[Any]) -> None:
        try:
            result = call.verb(*call.args, **call.kwargs)
        except StoreError as err:
            if call.refused is not None:
                call.refused(err)
            else:
                self.notify(str(err), severity="error", timeout=8)
            return
        self.after_change()
        if call.success:
            self.notify(call.success)
        if call.then is not None:
            call.then(result)

    def on_waiting_for_store(self, _message: WaitingForStore) -> None:
        self.notify("Waiting for another user's change to the store to finish …", timeout=3)

    def on_work_failed(self, message: WorkFailed) -> None:
        self.notify(message.reason, severity="error", timeout=8)

    def switch_active(self, customer_ids: list[int]) -> None:
        """`d`: the store decides which way (see `Store.switch_active`); say what it did."""
        def done(result: tuple[str, int]) -> None:
            verb, count = result
            self.notify(f"{verb.capitalize()}d {count} customer(s); u undoes")
        self.attempt(self.store.switch_active, customer_ids, then=done)

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notification is plain text with no terminal control: they quote refusals and
        file names, which are data. Screens and widgets pass markup=True by default; it is
        ignored on purpose."""
        super().notify(printable(message, keep_lines=True), title=printable(title), severity=severity,
                       timeout=timeout, markup=False)

    # -- palette and help -----------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Obfuscation policy run", "obfuscate every customer inactive for N days (asks first)",
                            self.obfuscation_policy)
        yield SystemCommand("Sync runs", "the accounting sync runs, their counts and conflicts", self.action_sync_runs)
        yield SystemCommand("Duplicates", "review likely duplicate customers and prospects, side by side",
                            self.action_duplicates)
        own = {"Sync runs", "Duplicates"}  # (a screen's key for one of these is not listed twice)
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if (binding.description and binding.description not in own and (binding.action, binding.description) not in seen
                    and active.enabled):
                seen.add((binding.action, binding.description))
                yield SystemCommand(binding.description, f"key {binding.key_display or key}",
                                    lambda node=active.node, action=binding.action: self.run_action(action, node))

    def action_sync_runs(self) -> None:
        from .screens.sync import SyncScreen
        if not isinstance(self.screen, SyncScreen):
            self.push_screen(SyncScreen())

    def action_duplicates(self) -> None:
        from .screens.duplicates import DuplicatesScreen
        if not isinstance(self.screen, DuplicatesScreen):
            self.push_screen(DuplicatesScreen())

    def action_templates(self) -> None:
        from .screens.mail import TemplatesScreen
        current = self.screen.table.current_id if isinstance(self.screen, CustomersScreen) else None
        self.push_screen(TemplatesScreen(current))

    def obfuscation_policy(self) -> None:
        """The policy run: who is due, who is refused and why, then (after a yes) do it."""
        def run(days: str | None) -> None:
            if days is not None:  # (the store judges the days as typed)
                self.attempt(self.store.obfuscate_inactive, days, dry_run=True, then=lambda report: ask(days, report))

        def ask(days: str, report: dict[str, Any]) -> None:
            message = Text(f"Obfuscate {len(report['obfuscated'])} customer(s) inactive for {days.strip()}+ days: "
                           f"{', '.join(report['obfuscated'][:10]) or 'none'}. This cannot be undone.", style="bold")
            if report["opted_out"]:
                message.append(f"\n{report['opted_out']} customer(s) opted out of obfuscation are passed over.")
            for refused in report["refused"][:5]:
                message.append("\nrefused: ")
                message.append_text(literal(refused["reason"]))

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.attempt(self.store.obfuscate_inactive, days, then=reported)
            self.push_screen(ConfirmScreen(message), confirmed)

        def reported(done: dict[str, Any]) -> None:
            self.notify(f"Obfuscated {len(done['obfuscated'])}, refused {len(done['refused'])}, "
                        f"passed over {done['opted_out']} opted out")
        self.push_screen(PromptScreen("Obfuscate customers inactive for at least how many days?",
                                      str(self.store.settings["obfuscation_retention_days"])), run)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_settings(self) -> None:
        def save(values: dict | None) -> None:
            if values:
                self.attempt(self.store.update_settings, **values, success="Settings saved")
        self.push_screen(SettingsScreen(self.store.settings), save)

    # -- flows shared by the table and the detail screen ------------------------------
    def edit_customer(self, customer_id: int | None) -> None:
        if customer_id is None:
            return
        current = self.store.customer(customer_id)

        def save(result: tuple[str, dict] | None) -> None:
            if result:
                kind, data = result
                self.attempt(self.store.edit_customer, customer_id, {**data, "kind": kind},
                             expected_rev=current["rev"], success=f"Saved {current['number']}")
        self.push_screen(CustomerForm(self.store, f"Edit {current['number']}", current), save)

    def delete_customer(self, customer_id: int | None) -> None:
        if customer_id is None:
            return
        customer = self.store.customer(customer_id)
        message = Text.assemble(f"Delete {customer['number']} ", literal(display_name(customer)),
                                " and everything it owns? (u undoes it)")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.attempt(self.store.delete, customer_id, success=f"Deleted {customer['number']}; u undoes")
        self.push_screen(ConfirmScreen(message), confirmed)

    def obfuscate_customer(self, customer_id: int | None) -> None:
        if customer_id is None:
            return
        customer = self.store.customer(customer_id)
        message = Text.assemble(f"Obfuscate {customer['number']} ", literal(display_name(customer)),
                                ("? Its personal data is replaced by fakes and its conversations deleted. "
                                 "This cannot be undone.", "bold red"))

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.attempt(self.store.obfuscate, customer_id, success=f"Obfuscated {customer['number']}")
        self.push_screen(ConfirmScreen(message), confirmed)

    def undo(self, customer_id: int | None = None) -> None:
        """`u`: undo the store's last undoable action, or (from a customer's detail) the last
        one that changed this customer; asks first, naming it, and undoes exactly that one."""
        entry = self.store.next_undo(customer_id)
        if entry is None:
            self.notify("Nothing to undo" + (" for this customer" if customer_id is not None else ""), severity="warning")
            return
        self.undo_entry(entry)

    def undo_entry(self, entry: JournalEntry) -> None:
        """Undo this journal entry, once the user said yes to its name."""
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.attempt(self.store.undo, entry["id"], success=f"Undone: {entry['summary']}")
        message = Text.assemble("Undo ", literal(entry["summary"]), f" ({self.dates.shown(entry['at'])}, {entry['user']})?")
        self.push_screen(ConfirmScreen(message), confirmed)

    def merge(self, keep_id: int | None, other_id: int | None = None) -> None:
        from .screens.merge import MergeScreen
        if keep_id is None:
            return
        if other_id is not None:
            self.push_screen(MergeScreen(keep_id, other_id))
            return

        def picked(chosen: int | None) -> None:
            if chosen is not None:
                self.push_screen(MergeScreen(keep_id, chosen))
        pick_other_customer(self, keep_id, picked)

    def activate_source(self, source_id: int | None) -> None:
        """Activate a prospect; one that likely is a customer already is offered as a merge into it."""
        if source_id is not None:
            # Said only when the look takes a while (the matcher's first in a big store).
            notice = self.set_timer(0.5, lambda: self.notify("Looking for the customers this prospect may already be …"))
            self._look_before_activating(source_id, notice)

    @work(thread=True, exclusive=True, group="activate")
    def _look_before_activating(self, source_id: int, notice: Timer) -> None:
        # In a worker: the matcher's first look in a process builds its index (seconds in a big store).
        try:
            source, likely = self.store.source(source_id), self.store.customers_like_source(source_id)
        except StoreError as err:
            self.post_message(WorkFailed(str(err)))
            return
        except Exception as err:  # a record no rule foresaw must not take the app down
            self.post_message(WorkFailed(f"looking for the customers this prospect likely is failed ({type(err).__name__}: {err})"))
            return
        finally:
            self.call_from_thread(notice.stop)
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._offer_merge_or_activate, source_id, source, likely)

    def _offer_merge_or_activate(self, source_id: int, source: Prospect, likely: list[LikelyCustomer]) -> None:
        if likely:
            customer, why = likely[0].customer, ", ".join(likely[0].reasons)
            message = Text.assemble("This prospect is likely customer ", f"{customer['number']} ",
                                    literal(display_name(customer)), literal(f" ({why})" if why else ""),
                                    ". Merge it into that customer instead? (n activates it as a new customer)")

            def merge(yes: bool | None) -> None:
                if yes:
                    self.attempt(self.store.merge_source_into, source_id, customer["id"],
                                 success=f"Merged into {customer['number']}; u undoes")
                else:
                    self._activate_form(source_id, source)
            self.push_screen(ConfirmScreen(message), merge)
            return
        self._activate_form(source_id, source)

    def _activate_form(self, source_id: int, source: Prospect) -> None:

        def save(result: tuple[str, dict] | None) -> None:
            if result:
                kind, data = result
                self.attempt(self.store.activate, source_id, kind, data,
                             then=lambda customer: self.notify(f"{display_name(customer)} is customer {customer['number']} now"))
        self.push_screen(CustomerForm(self.store, "Activate prospect: check and save", source, activation_kind(source)), save)


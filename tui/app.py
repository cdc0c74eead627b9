"""The custdesk terminal app: one store, kept in step with its file or database, and its
screens; what a key starts past a screen of its own is a flow (`tui.flows`)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from time import monotonic
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import get_current_worker

from store import StoreBusy, StoreError
from store.base.text import printable
from store.model import CUSTOMERS, SOURCES
from store.views.page import Page

from .config import Config
from .dates import Dates
from .key_gate import KeyGate, KeyHandled
from .keymap import checked
from .memory import (
    full_passes_when_quiet,
    keep_forgetting_closed_watchers,
    keep_out_of_collections,
    mend_background_styles_cache,
    return_freed_memory,
)
from .messages import CommittedElsewhere, StoreChanged, StoreOpened, WaitingForStore, WorkFailed

if TYPE_CHECKING:  # (the store, its views and the screens bring polars: imported once the first page is painted)
    from store import Store
    from store.views.records import Views

POLL_SECONDS = 3.0
WIDE_HEADER = 100  # columns from which the header names the store file too
POLL_WAIT_SECONDS = 0.2
# Build the indexes this long after start: by then the first screen is painted.
PREPARE_AFTER_SECONDS = 0.5


def header_line(width: int, title: str, counts: dict[str, int]) -> str:
    """The header's line beside the app's name: the store and its counts (the engine's tallies)."""
    customers, prospects = counts.get("customers", 0), counts.get("sources", 0)
    if width < WIDE_HEADER:  # what must fit beside the title at 80 columns, even at 1M
        return f"{customers:,} customers · {prospects:,} prospects"
    return f"{title} · {customers:,} customers ({counts.get('active', 0):,} active) · {prospects:,} prospects"


mend_background_styles_cache()  # (once: closed widgets were kept alive by Textual's cache)


class CustdeskApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "custdesk"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("comma", "settings", "Settings", show=False, id="settings"),
        Binding("ctrl+t", "templates", "Templates", show=False, id="templates"),
        Binding("E", "erasure_requests", "Erasure requests", show=False, id="erasure-requests"),
    ]

    def __init__(self, store: Store | None, config: Config | None = None, *, opening: Callable[[], Store] | None = None,
                 page: Page | None = None) -> None:
        """The app on `store`; or, with no store yet, on the store `opening` opens behind the
        first `page` of its customers (`store.views.page`), shown meanwhile."""
        super().__init__()
        # The user's theme and keys (by binding id), judged against this app's own: a ConfigError
        # refuses them in one line before anything is shown.
        config = checked(config or Config(), type(self))
        if config.theme:
            self.theme = config.theme
        self.set_keymap(config.keymap)
        self.dates = Dates(config.date_format)
        # Why the app stopped at start: a damaged store (the command line prints it, exit 2).
        self.refusal: StoreError | OSError | None = None
        self.page = page
        self._opening = opening
        # Keys typed while the store opens behind its first page, for the customer table; or
        # while a verb over many records runs (`hold_keys`).
        self._held: list[events.Key] | None = None
        self.last_key_at = monotonic()  # (the last key from the terminal: full passes wait for a quiet moment)
        self.working = 0  # (verbs over many records under way, off the UI thread: `hold_keys`)
        self.verb_turn = threading.Lock()  # (had by the worker of the verb under way, and a poll: `tui.verbs`)
        self._changed_meanwhile = False
        self.keys = KeyGate(self, super().on_event)
        if store is not None:
            self._take(store)
        elif opening is None or page is None:
            raise ValueError("an app with no store needs what opens it and its first page")
        else:
            self._held = []

    def _take(self, store: Store) -> None:
        from store.views.records import Views

        self.store = store
        store.take_changes()  # the views below start from the store as it is now
        self.views: Views = Views(store, (CUSTOMERS, SOURCES))

    async def on_event(self, event: events.Event) -> None:
        # A key from the terminal waits until the one before it has been handled (`tui.key_gate`).
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.last_key_at = monotonic()
            if self._held is not None:
                self._held.append(event)  # (the store is still opening, or a verb at work: for what then shows)
                return
            await self.keys.take(event)
        else:
            await super().on_event(event)

    def on_terminal_closed(self, _message: Message) -> None:
        """The terminal hung up (`tui.terminal.TerminalClosed`): quit as `q` does."""
        self.exit()

    def on_key_handled(self, marker: KeyHandled) -> None:
        self.keys.handled(marker)

    def get_driver_class(self) -> type[Driver]:
        # In a Linux or macOS terminal: Textual's driver, a lone escape reported sooner (`tui.terminal`).
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver":
            from .terminal import PromptEscapeDriver
            return PromptEscapeDriver
        return driver

    def on_mount(self) -> None:
        if self._held is None:
            self.sub_title = self.store.where
            self._show_customers()
            return
        from .screens.preview import PreviewScreen

        assert self.page is not None
        self.sub_title = header_line(self.size.width, self.page["title"], self.page["counts"])
        self.push_screen(PreviewScreen(self.page))
        # After the page is painted: the thread's imports and reads hold the GIL in long
        # stretches, and started at once they held the first paint back (2.2 s at 1M).
        self.call_after_refresh(self._open_behind_page)

    def _show_customers(self) -> None:
        from .screens.tables import CustomersScreen

        self.push_screen(CustomersScreen())
        self.call_after_refresh(self.check_store)

    @work(thread=True, group="open")
    def _open_behind_page(self) -> None:
        # The store, its checksums and the customers' rows, all in a thread while the first
        # page shows: the UI thread only swaps the table in.
        assert self._opening is not None
        try:
            self._take(self._opening())
            self.store.verify()
            if not self.views.rows(CUSTOMERS).remote:
                self.views[CUSTOMERS].frame  # noqa: B018 - (built here, not on the UI thread)
        except (StoreError, OSError) as refused:
            self.call_from_thread(self._refuse, refused)
            return
        self.post_message(StoreOpened())

    def _refuse(self, refused: StoreError | OSError) -> None:
        self.refusal = refused
        self.exit(return_code=2)

    async def on_store_opened(self, _message: StoreOpened) -> None:
        """The store is open: the customer table takes the first page's place, and the keys
        typed meanwhile go to it, in order, as if typed now."""
        from .screens.tables import CustomersScreen

        await self.switch_screen(CustomersScreen())
        self._started()
        # The table takes the focus once mounted (a call the screen leaves for later): the
        # keys follow it, else the first went to the search box it would have at first.
        self.call_after_refresh(self._hand_over_keys)

    async def _hand_over_keys(self) -> None:
        if self.working:
            return  # (another verb began meanwhile: its end hands them over)
        held, self._held = self._held or [], None
        for key in held:
            await self.on_event(key)

    def hold_keys(self) -> None:
        """Keep the keys typed from now on, and those waiting to be routed, until as many
        `hand_over_keys`: a verb over many records is about to run on a worker (`tui.verbs`),
        and a key acting on the store meanwhile would act beside it, or wait for it on the
        UI thread. Meanwhile the app tells its screens of no change (`after_change`) and
        catches up with no other session's commits (`poll_store`): the verb holds the store."""
        self.working += 1
        self._held = [*(self._held or []), *self.keys.take_waiting()]

    def hand_over_keys(self, *, changed: bool = False) -> None:
        """One verb `hold_keys` was for is over (`changed`: it changed the store): once none
        is, the store's changes meanwhile reach the screens, all at once, and the keys held go
        on, in order, as if typed now (after what is already scheduled)."""
        self._changed_meanwhile |= changed
        self.working -= 1
        if self.working:
            return
        if self._changed_meanwhile:
            self.after_change()
        self.call_later(self._hand_over_keys)

    def check_store(self) -> None:
        """Check the store's checksums once the first screen is painted (from the columns
        file, checked on its own), before any key is handled: a damaged store stops the app
        as it stops every command. ~0.1 s per 100 MB of store."""
        try:
            self.store.verify()
        except StoreError as refused:
            self._refuse(refused)
            return
        self._started()

    def _started(self) -> None:
        """The store is open and checked: keep in step with it, and say what waits."""
        if self.page is None:
            self.keep_first_page()  # for the next start's first paint
        self.set_interval(POLL_SECONDS, self.poll_store)
        keep_forgetting_closed_watchers(self)
        full_passes_when_quiet(self, lambda: self.last_key_at)
        # PostgreSQL tells of other sessions' commits at once (NOTIFY); the timer stays as a
        # net for a store file, or a lost listening connection.
        self.store.watch(self._heard_a_commit)
        if not self.views.rows(CUSTOMERS).remote:  # (a server's: the few a verb needs, when it needs them)
            self.set_timer(PREPARE_AFTER_SECONDS, self.prepare_lookups)
        else:  # (the server's column and indexes the table is read through, where missing)
            self.set_timer(PREPARE_AFTER_SECONDS, self.prepare_server)
        self.call_after_refresh(self.tell_erasure_requests)

    def tell_erasure_requests(self) -> None:
        """A person's right to be erased has a deadline: staff hear of waiting requests at start."""
        waiting = len(self.store.erasure_requests(open_only=True))
        if waiting:
            self.notify(f"{waiting} erasure request(s) waiting: E lists them", timeout=8)

    @work(thread=True, group="prepare")
    def prepare_lookups(self) -> None:
        # Started after the first paint (a thread holding the GIL slows painting
        # threefold): the first new customer, import or detail view then does not
        # wait for the indexes and documents (~0.6 s at 100k customers, ~7 s at 1M).
        self.store.prepare_lookups()
        keep_out_of_collections(self)  # (the documents and indexes just read)
        return_freed_memory()  # (what building them took and let go)

    @work(thread=True, group="prepare")
    def prepare_server(self) -> None:
        try:
            # (each table's rows then search by what is made: the second finds it made)
            made = sum(self.views.rows(table).prepare() for table in (CUSTOMERS, SOURCES))
        except StoreError as err:  # (a clerk without the rights: the table is read all the same, slower)
            self.call_from_thread(self.notify, f"The server's search indexes could not be made: {err}",
                                  severity="warning", markup=False)
            return
        if made:
            self.call_from_thread(self.notify, "The server's search indexes are made: searching is fast from now on")

    # -- shared state -------------------------------------------------------------
    def update_counts(self) -> None:
        # The engine's tallies, kept with every commit: no walk over 100k rows, and no view built for them.
        self.sub_title = header_line(self.size.width, self.store.title, self.store.stats())

    def keep_first_page(self, *, then: Callable[[], None] | None = None) -> None:
        """Keep the customers' first rows beside the store file for the next start
        (`store.views.page`); `then` (closing the store) runs before they are tagged."""
        from store.views.records import keep_first_page

        if hasattr(self, "store") and not self.views.rows(CUSTOMERS).remote:
            keep_first_page(self.store, self.views[CUSTOMERS], after=then)
        elif then:
            then()

    def after_change(self) -> None:
        """The store changed under our hands: rebuild the changed rows, then tell every screen
        (once no verb over many records runs: `hold_keys`)."""
        self._changed_meanwhile = bool(self.working)
        if self.working:
            return
        changes = self.store.take_changes()
        for table, view in self.views.built().items():
            view.refresh(None if changes is None else changes.get(table, set()))
        self.update_counts()
        for screen in self.screen_stack:
            # (sent by the app, not the screen that changed the store: a screen idle under it
            # keeps the last message it handled, and that message its sender, until the next
            # one; a closed import screen held its million rows so)
            screen.post_message(StoreChanged(changes).set_sender(self))

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
        if self.working or not self.store.changed_elsewhere() or get_current_worker().is_cancelled:
            return  # (a verb over many records holds the store: the next poll after it)
        if not self.verb_turn.acquire(blocking=False):
            return  # (a verb under way: the store's lock would be had beside it)
        try:
            with self.store.reserved(wait=POLL_WAIT_SECONDS):
                self.call_from_thread(self.catch_up)
        except StoreBusy:
            pass  # someone's long commit: look again at the next poll
        finally:
            self.verb_turn.release()

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
            keep_out_of_collections(self)  # (the store may have read its documents afresh)

    def on_waiting_for_store(self, _message: WaitingForStore) -> None:
        self.notify("Waiting for another user's change to the store to finish …", timeout=3)

    def on_work_failed(self, message: WorkFailed) -> None:
        self.notify(message.reason, severity="error", timeout=8)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notification is plain text with no terminal control: they quote refusals and
        file names, which are data. Screens and widgets pass markup=True by default; it is
        ignored on purpose."""
        super().notify(printable(message, keep_lines=True), title=printable(title), severity=severity,
                       timeout=timeout, markup=False)

    # -- palette and help -----------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Obfuscation policy run", "obfuscate every customer inactive for N days (asks first)",
                            self._obfuscation_policy)
        yield SystemCommand("Sync runs", "the accounting sync runs, their counts and conflicts", self.action_sync_runs)
        yield SystemCommand("Duplicates", "review likely duplicate customers and prospects, side by side",
                            self.action_duplicates)
        yield SystemCommand("Imports", "every import (file, counts, who, when, undo) and the remembered mappings",
                            self.action_imports)
        yield SystemCommand("History", "the journal: who did what, when; undo an entry by its name", self.action_history)
        yield SystemCommand("Erasure requests", "what customers asked through their self-service link to have erased",
                            self.action_erasure_requests)
        own = {"Sync runs", "Duplicates", "Imports", "History", "Erasure requests"}  # (a screen's key for one of these is not listed twice)
        seen: set[tuple[str, str]] = set()
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

    def action_imports(self) -> None:
        from .screens.imports import ImportsScreen
        if not isinstance(self.screen, ImportsScreen):
            self.push_screen(ImportsScreen())

    def action_duplicates(self) -> None:
        from .screens.duplicates import DuplicatesScreen
        if not isinstance(self.screen, DuplicatesScreen):
            self.push_screen(DuplicatesScreen())

    def action_history(self) -> None:
        from .screens.activity import ActivityScreen
        if not isinstance(self.screen, ActivityScreen):
            self.push_screen(ActivityScreen())

    def action_erasure_requests(self) -> None:
        from .screens.erasure import ErasureRequestsScreen
        if not isinstance(self.screen, ErasureRequestsScreen):
            self.push_screen(ErasureRequestsScreen())

    def action_templates(self) -> None:
        from .screens.mail import TemplatesScreen
        from .screens.tables import CustomersScreen
        current = self.screen.table.current_id if isinstance(self.screen, CustomersScreen) else None
        self.push_screen(TemplatesScreen(current))

    def action_help(self) -> None:
        from .screens.modals import HelpScreen
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_settings(self) -> None:
        from .flows.settings import edit_settings
        edit_settings(self)

    def _obfuscation_policy(self) -> None:
        from .flows.settings import obfuscation_policy
        obfuscation_policy(self)

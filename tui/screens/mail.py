"""Message templates and bulk sending: pick, page through the messages, send, resume."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Input, Label, OptionList, ProgressBar, Select, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from outreach.sending import CampaignReport, message_for, send_campaign
from outreach.transports import Transport, transport_for
from store import StoreError
from store.model import Channel, Customer
from store.rules.messages import CHANNELS, PLACEHOLDERS, Rendered, TemplateRefused, render

from ..messages import CampaignSent, RecipientsRead, WorkFailed, WorkProgress
from ..verbs import attempt
from ..widgets.footer import SteadyFooter
from .base import StoreModal, StoreScreen, cursor_key
from .form_parts import SAVE_KEYS, FitsFields, FormFields, form_foot
from .modals import ConfirmScreen, PromptScreen, literal


class TemplateForm(FitsFields, StoreModal[bool]):
    """Add or edit a template; the store checks every part on save."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, template: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.template = template or {}

    def compose(self) -> ComposeResult:
        t = self.template
        with Vertical(classes="dialog wide"):
            yield Label("Template", classes="title")
            with FormFields(classes="fields"):
                with Horizontal(classes="field"):
                    yield Label("Name", classes="label")
                    yield Input(t.get("name", ""), id="t-name")
                yield Select([(c, c) for c in CHANNELS], value=t.get("channel", "email"), allow_blank=False, id="t-channel")
                with Horizontal(classes="field"):
                    yield Label("Subject (email)", classes="label")
                    yield Input(t.get("subject") or "", id="t-subject")
                yield Label("Body — {{ customer.X }} for X in: " + ", ".join(PLACEHOLDERS), classes="hint wraps")
                yield TextArea(t.get("body", ""), id="t-body", classes="template-body")
                yield Label("HTML part (optional, email)", classes="hint")
                yield TextArea(t.get("html") or "", id="t-html", classes="template-html")
            yield form_foot(SAVE_KEYS, problems=True)

    def action_save(self) -> None:
        def refused(err: StoreError) -> None:
            self.query_one("#problems", Static).update(Text(f"✗ {err}", style="red"))
        attempt(self.app, self.store.save_template, self.query_one("#t-name", Input).value,
                         self.query_one("#t-channel", Select).value, self.query_one("#t-subject", Input).value,
                         self.query_one("#t-body", TextArea).text, self.query_one("#t-html", TextArea).text or None,
                         then=lambda _saved: self.dismiss(True), refused=refused)

    def action_cancel(self) -> None:
        self.dismiss(False)


class TemplatesScreen(StoreScreen[None]):
    """Every template; preview one for the customer the table was on."""

    BINDINGS = [
        Binding("a", "add", "Add", id="add"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("delete", "remove", "Remove", id="remove"),
        Binding("enter", "preview", "Preview", id="preview"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, customer_id: int | None = None) -> None:
        super().__init__()
        self.customer_id = customer_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="templates", cursor_type="row")
        yield Static(id="template-preview")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("name", "channel", "subject")
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for t in self.store.templates():
            table.add_row(literal(t["name"]), t["channel"], literal(t.get("subject") or ""), key=t["name"])
        table.focus()

    def current(self) -> dict[str, Any] | None:
        key = cursor_key(self.query_one(DataTable))
        return None if key is None else self.store.template(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "remove", "preview") and self.is_mounted and self.query_one(DataTable).row_count == 0:
            return None
        return True

    def action_add(self) -> None:
        self.app.push_screen(TemplateForm())

    def action_edit(self) -> None:
        template = self.current()
        if template:
            self.app.push_screen(TemplateForm(template))

    def action_remove(self) -> None:
        template = self.current()
        if template:
            message = Text.assemble("Remove template ", literal(template["name"]), "?")
            def confirmed(yes: bool | None) -> None:
                if yes:
                    attempt(self.app, self.store.remove_template, template["name"], success="Template removed")
            self.app.push_screen(ConfirmScreen(message), confirmed)

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_preview()  # the focused table takes enter itself

    def action_preview(self) -> None:
        template = self.current()
        store = self.store
        customer: Customer | None
        if self.customer_id is not None and store.has_customer(self.customer_id):
            customer = store.customer(self.customer_id)
        else:
            customer = next(store.customers(), None)  # the first one: not a list of 100k to take one
        if template is None or customer is None:
            return
        try:
            rendered = render(template, customer)
        except StoreError as err:
            self.query_one("#template-preview", Static).update(Text(str(err), style="red"))
            return
        self.query_one("#template-preview", Static).update(message_text(customer, template["channel"], rendered))

    def action_back(self) -> None:
        self.app.pop_screen()


def message_text(customer: Mapping[str, Any], channel: Channel, rendered: Rendered) -> Text:
    text = Text(f"To {customer['number']}: ", style="bold")
    text.append_text(literal(customer.get("email") if channel == "email" else customer.get("mobile") or customer.get("phone")))
    if rendered.subject:
        text.append("\nSubject: ", style="bold")
        text.append_text(literal(rendered.subject))
    text.append("\n\n")
    text.append(rendered.body)  # Text.append: the message is shown as written, never as markup
    return text


class PickTemplate(StoreModal[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, templates: list[dict[str, Any]]) -> None:
        super().__init__()
        self.templates = templates

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Send which template?", classes="title")
            yield OptionList(*[Option(Text(f"{t['name']}  ({t['channel']})"), id=t["name"]) for t in self.templates])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MailScreen(StoreScreen[None]):
    """Every rendered message of a campaign, then the send and its summary."""

    BINDINGS = [
        Binding("right,l,j", "step(1)", "Next message", id="next-message"),
        Binding("left,h,k", "step(-1)", "Previous message", id="previous-message"),
        Binding("s", "send", "Send", id="send"),
        Binding("r", "resume", "Resume", id="resume"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, template_name: str, customer_ids: list[int]) -> None:
        super().__init__()
        self.template_name, self.customer_ids = template_name, customer_ids
        self.reachable: list[int] = []  # (their ids: the customer a message shows is read when shown)
        self.skipped: list[dict[str, str]] = []
        self.read = False  # (whether `reachable` and `skipped` are read yet)
        self.unread: str | None = None  # (why they could not be)
        self.index = 0
        self.campaign_id: int | None = None
        self.transport_spec: str | None = None
        self.sending = False
        self.report: CampaignReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="mail-summary")
        with VerticalScroll():
            yield Static(id="mail-message")
        yield ProgressBar(id="mail-progress", show_eta=False)
        yield SteadyFooter()

    def on_mount(self) -> None:
        # Messages are rendered one at a time, as they are looked at; who can be reached is read
        # off the screen's thread (100,000 chosen of ten million on a server: seconds).
        self.template = self.store.template(self.template_name)
        self.query_one(ProgressBar).display = False
        self.redraw()
        self._read_recipients()

    @work(thread=True, exclusive=True, group="mail-recipients")
    def _read_recipients(self) -> None:
        try:
            reachable, skipped = self.store.reachable(self.template["channel"], self.customer_ids)
        except StoreError as err:
            self.unread = str(err)
            self.post_message(WorkFailed(str(err)))
            return
        self.post_message(RecipientsRead(reachable, skipped))

    def on_work_failed(self, _message: WorkFailed) -> None:  # (the app says why; the summary too)
        self.redraw()

    def on_recipients_read(self, message: RecipientsRead) -> None:
        self.reachable, self.skipped, self.read = message.reachable, message.skipped, True
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send":
            return True if self.campaign_id is None and self.reachable and not self.sending else None
        if action == "resume":
            return True if self.report is not None and self.report.stopped and not self.sending else None
        return True

    def redraw(self) -> None:
        if not self.read:
            doing = (f"could not read the {len(self.customer_ids):,} customer(s): {self.unread}; escape, then try again"
                     if self.unread else f"reading {len(self.customer_ids):,} customer(s) …")
            self.query_one("#mail-summary", Static).update(Text(f"Template '{self.template_name}': {doing}", style="bold"))
            self.refresh_bindings()
            return
        summary = Text(f"Template '{self.template_name}': {len(self.reachable)} message(s) to send, "
                       f"{len(self.skipped)} customer(s) skipped", style="bold")
        reasons: dict[str, int] = {}
        for skip in self.skipped:
            reasons[skip["reason"]] = reasons.get(skip["reason"], 0) + 1
        if reasons:
            summary.append(" (" + ", ".join(f"{n} {r}" for r, n in reasons.items()) + ")")
        if self.report is not None:
            r = self.report
            summary.append(f"\nCampaign #{self.campaign_id}: {r.sent} sent, {len(r.failed)} failed"
                           + (f", {r.already} reached before" if r.already else ""), style="green" if not r.stopped else "red")
            for failure in r.failed[:5]:
                summary.append(f"\n  {failure['number']}: ")
                summary.append_text(literal(failure["reason"]))
            if r.stopped:
                summary.append("\nStopped: ")
                summary.append_text(literal(r.stopped))
                summary.append("   r resumes: only the customers not reached get a message.")
        self.query_one("#mail-summary", Static).update(summary)
        body = Text(f"Message {self.index + 1} of {len(self.reachable)}\n\n", style="dim") if self.reachable else Text("Nothing to send.")
        if self.reachable:
            try:
                customer = self.store.customer(self.reachable[self.index])
                message = message_for(self.store, self.template, customer)
                body.append_text(message_text(customer, self.template["channel"], message.rendered))
            except TemplateRefused as err:  # this one is skipped when sending
                body.append_text(literal(str(err)))
            except StoreError as err:  # (gone since, or the server unreachable: said; the send leaves out the gone)
                body.append_text(literal(str(err)))
        self.query_one("#mail-message", Static).update(body)
        self.refresh_bindings()

    def action_step(self, step: int) -> None:
        if self.reachable:
            self.index = max(0, min(len(self.reachable) - 1, self.index + step))
            self.redraw()

    def action_send(self) -> None:
        def chosen(spec: str | None) -> None:
            if spec:
                self.transport_spec = spec.strip()
                try:
                    transport = self._transport()
                except StoreError as err:
                    self.notify(str(err), severity="error")
                    return
                def started(campaign: dict[str, Any]) -> None:
                    self.campaign_id = campaign["id"]
                    self._send(transport)
                attempt(self.app, self.store.start_campaign, self.template_name, self.customer_ids, then=started)
        self.app.push_screen(PromptScreen("Send to: an outbox folder, or smtp://HOST:PORT (password from CUSTDESK_SMTP_PASSWORD)",
                                          str(Path.cwd() / "outbox")), chosen)

    def action_resume(self) -> None:
        self._send(self._transport())

    def _transport(self) -> Transport:
        return transport_for(self.transport_spec or "")

    def _send(self, transport: Transport) -> None:
        self.sending = True
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=len(self.reachable), progress=0)
        self.refresh_bindings()
        self._deliver(transport)

    @work(thread=True, exclusive=True, group="mail")
    def _deliver(self, transport: Transport) -> None:
        worker = get_current_worker()
        report = None
        try:
            report = send_campaign(self.store, cast(int, self.campaign_id), transport,
                                   self._progress,
                                   cancelled=lambda: worker.is_cancelled)
        except Exception as err:  # any failure ends as a message, never a crash
            self.post_message(WorkFailed(f"sending failed: {err}"))
        self.post_message(CampaignSent(report))

    def _progress(self, done: int, total: int) -> None:
        self.post_message(WorkProgress(done, total))

    def on_work_progress(self, message: WorkProgress) -> None:
        self.query_one(ProgressBar).update(progress=message.done, total=message.total)

    def on_campaign_sent(self, message: CampaignSent) -> None:
        report = message.report
        self.sending = False
        self.query_one(ProgressBar).display = False
        if report is not None:
            self.report = report
            self.notify(f"Campaign #{self.campaign_id}: {report.sent} sent" + (" — stopped, r resumes" if report.stopped else ""),
                        severity="warning" if report.stopped else "information")
        self.app.after_change()

    def action_back(self) -> None:
        self.app.pop_screen()

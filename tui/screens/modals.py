"""Modal screens: confirm, prompts, choices, record fields, the customer, department,
contact and settings forms, help, and a verb over many records at work."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from time import monotonic
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, RadioSet, Select, Static, Switch
from textual.widgets.option_list import Option

from store import RuleViolation, Store
from store.base.text import printable
from store.model import CORPORATE, DEPARTMENT_FIELDS, PRIVATE, Kind
from store.rules import consent
from store.rules.settings import check_settings

from .answers import answer_fields, select_id, typed_answer
from .form_parts import SAVE_KEYS, FitsFields, FlagWords, FormFields, MarkedRadioButton, flag_field, form_foot

# A customer form's answer: the kind, and the fields as typed (the switch's flag a bool).
CustomerValues = tuple[Kind, dict[str, str | bool]]

FORM_FIELDS = (
    ("company", "Company"), ("first_name", "First name"), ("last_name", "Last name"), ("email", "Email"),
    ("phone", "Phone"), ("mobile", "Mobile"), ("street", "Street"), ("postcode", "Postcode"), ("city", "City"),
    ("country", "Country"), ("vat_id", "VAT id"), ("external_id", "External id"), ("number", "Customer number"),
    ("tags", "Tags (comma separated)"), ("notes", "Notes"),
)


def literal(value: object) -> Text:
    """Data as text on screen: never markup, never terminal control."""
    return Text(printable("" if value is None else str(value)))


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no about one action; the message names what will happen."""

    BINDINGS = [Binding("y", "answer(True)", "Yes", id="yes"), Binding("n,escape", "answer(False)", "No", id="no")]

    def __init__(self, message: Text | str) -> None:
        super().__init__()
        self.message = message if isinstance(message, Text) else Text(message)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.message)
            yield form_foot("y  yes     n  no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PromptScreen(ModalScreen[str | None]):
    """One line of input (a path, tags …); enter accepts, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, markup=False, classes="wraps")  # may list tags or paths from imported data
            yield Input(self.value, placeholder=self.placeholder, id="prompt")

    def retitle(self, title: str) -> None:
        """Say something else above the input (what a worker read meanwhile); nothing once
        the prompt is closed (its label is gone)."""
        for label in self.query(Label):
            label.update(Text(title))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CustomerForm(FitsFields, FlagWords, ModalScreen[CustomerValues | None]):
    """Add or edit a customer: kind first, then the fields; the store's rules
    are checked on ctrl+s and every problem shown under the form; `stored` is the
    customer edited (an old value it keeps is judged as the store judges an edit)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, store: Store, title: str, values: Mapping[str, Any] | None = None, kind: Kind | None = None,
                 stored: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.store, self.title_text = store, title
        self.values, self.stored = values or {}, stored
        self.kind: Kind = kind or self.values.get("kind") or CORPORATE

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="title", markup=False)
            with RadioSet(id="kind"):
                yield MarkedRadioButton("Corporate customer", value=self.kind == CORPORATE, id="kind-corporate")
                yield MarkedRadioButton("Private customer", value=self.kind == PRIVATE, id="kind-private")
            with FormFields(classes="fields"):
                for key, label in FORM_FIELDS:
                    value = self.values.get(key)
                    text = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
                    with Horizontal(classes="field"):
                        yield Label(label, classes="label")
                        yield Input(text, id=f"f-{key}")
                yield flag_field("Obfuscate when inactive", self.values.get("obfuscate_enabled", True) is not False,
                                 "f-obfuscate_enabled")
                yield from answer_fields(self.values)
            yield form_foot(SAVE_KEYS, problems=True)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.kind = CORPORATE if event.pressed.id == "kind-corporate" else PRIVATE

    def data(self) -> dict[str, str | bool]:
        values = {key: self.query_one(f"#f-{key}", Input).value for key, _ in FORM_FIELDS}
        answers = {field: typed_answer(self.query_one(f"#{select_id(channel)}", Select).value)
                   for channel, field in consent.FIELDS.items()}
        return {**values, "obfuscate_enabled": self.query_one("#f-obfuscate_enabled", Switch).value, **answers}

    def action_save(self) -> None:
        data = self.data()
        _cleaned, issues = self.store.check_customer(self.kind, data, stored=self.stored)
        errors = [i for i in issues if i.severity == "error"]
        report = Text("\n").join(Text(f"{'✗' if issue.severity == 'error' else '!'} {issue}",
                                       style="red" if issue.severity == "error" else "yellow") for issue in issues)
        self.query_one("#problems", Static).update(report)
        self.call_after_refresh(self._fit_fields)
        if not errors:
            self.dismiss((self.kind, data))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a few named choices (a status …); enter picks, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, choices: Iterable[str], current: str | None = None) -> None:
        super().__init__()
        self.title_text, self.choices, self.current = title, list(choices), current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            yield OptionList(*[Option(c, id=c) for c in self.choices], id="choices")

    def on_mount(self) -> None:
        picker = self.query_one(OptionList)
        picker.highlighted = self.choices.index(self.current) if self.current in self.choices else 0
        picker.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class InfoScreen(ModalScreen[None]):
    """Every field of one record (an order, a return …), shown literally."""

    BINDINGS = [Binding("escape,enter,i", "close", "Close", id="close")]

    def __init__(self, title: str, fields: Sequence[tuple[str, object]]) -> None:
        super().__init__()
        self.title_text, self.fields = title, fields

    def compose(self) -> ComposeResult:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        for label, value in self.fields:
            grid.add_row(label, literal(value))
        with Vertical(classes="dialog"):
            yield Label(printable(self.title_text), classes="title", markup=False)  # names a record: data
            yield Static(grid)

    def action_close(self) -> None:
        self.dismiss(None)


class WorkingScreen(ModalScreen[None]):
    """What a verb over many records does while it runs on a worker (`tui.verbs`), with the
    seconds it has taken: the screen stays drawn meanwhile, and the keys typed wait for the
    verb's end (`CustdeskApp.hold_keys`). It has no keys of its own: it goes when the verb ends
    (`finish`)."""

    def __init__(self, doing: str) -> None:
        super().__init__()
        self.doing = doing
        self._started = monotonic()
        self._finished = False

    def finish(self) -> None:
        """The verb is over: the screen goes, now if it is on top, else when it is again
        (a screen put over it meanwhile, closed)."""
        self._finished = True
        if self.is_active:
            self.dismiss()

    def on_screen_resume(self) -> None:
        if self._finished and self.is_active:
            self.dismiss()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.doing, classes="title", markup=False)
            yield Static(self._taken(), id="taken", markup=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, lambda: self.query_one("#taken", Static).update(self._taken()))

    def _taken(self) -> str:
        return f"{monotonic() - self._started:.0f} s; keys typed meanwhile wait for it"


class ChildForm(ModalScreen[dict[str, str] | None]):
    """A department or a contact of a corporate customer."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, fields: tuple[str, ...], values: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.title_text, self.fields, self.values = title, fields, values or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title", markup=False)
            for key in self.fields:
                with Horizontal(classes="field"):
                    yield Label(key.replace("_", " ").capitalize(), classes="label")
                    yield Input("" if self.values.get(key) is None else str(self.values[key]), id=f"f-{key}")
            yield form_foot(SAVE_KEYS)

    def action_save(self) -> None:
        self.dismiss({key: self.query_one(f"#f-{key}", Input).value for key in self.fields})

    def action_cancel(self) -> None:
        self.dismiss(None)


def department_form(values: Mapping[str, Any] | None = None) -> ChildForm:
    return ChildForm("Department", DEPARTMENT_FIELDS, values)


class SettingsScreen(FitsFields, FlagWords, ModalScreen[dict[str, Any] | None]):
    """The store's settings: private customers, phone country, retention, the shop's name,
    the sender of its mail and its public address (`custdesk settings` has the same)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]
    # The settings typed as text: key, label, placeholder.
    TYPED = (("default_country", "Default country for phones", "none: phones need a +code"),
             ("obfuscation_retention_days", "Obfuscation retention days", ""),
             ("shop_name", "Shop name (sign-up page)", "custdesk"),
             ("mail_from", "Sender of mail (From)", "Engines GmbH <office@engines.de>"),
             ("reply_to", "Reply-To (empty: sender)", "support@engines.de"),
             ("public_url", "Public web address", "https://crm.engines.de (links in mail)"))

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Settings", classes="title")
            with FormFields(classes="fields"):
                yield flag_field("Allow private customers", self.settings["allow_private_customers"], "allow_private_customers")
                for key, label, placeholder in self.TYPED:
                    with Horizontal(classes="field"):
                        yield Label(label, classes="label")
                        value = self.settings[key]
                        yield Input("" if value is None else str(value), id=key, placeholder=placeholder,
                                    type="integer" if isinstance(value, int) else "text")
            yield form_foot(SAVE_KEYS)

    def action_save(self) -> None:
        values = {"allow_private_customers": self.query_one("#allow_private_customers", Switch).value,
                  **{key: self.query_one(f"#{key}", Input).value for key, *_ in self.TYPED}}
        try:
            self.dismiss(check_settings(values))
        except RuleViolation as refusal:
            self.notify(str(refusal), severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key of the screen it was opened on, generated from its bindings."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="close")]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.target = screen

    def compose(self) -> ComposeResult:
        table = Text()
        table.append(f"{type(self.target).__name__.removesuffix('Screen')} — keys\n\n", style="bold")
        keys: dict[tuple[str, str], list[str]] = {}  # one line per action, all its keys
        for active in self.target.active_bindings.values():
            binding = active.binding
            # custdesk's own keys (each has an id): not Textual's scrolling and focus keys; the palette has its line below
            if binding.id and binding.description and not binding.action.endswith("command_palette"):
                keys.setdefault((binding.action, binding.description), []).append(self.app.get_key_display(binding))
        for (_action, description), shown in keys.items():
            table.append(f"{' '.join(dict.fromkeys(shown)):>16}  ", style="bold cyan")
            table.append(f"{description}\n")
        table.append(f"{'^p':>16}  command palette: every action by name\n")
        with VerticalScroll(classes="dialog wide"):
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)

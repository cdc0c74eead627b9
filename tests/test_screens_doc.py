"""screens.md must list exactly the keys the code binds, screen by screen."""
import re

from helpers import ROOT

from tui.app import CustdeskApp
from tui.screens.activity import ActivityScreen
from tui.screens.detail import DetailScreen, SourceDetailScreen
from tui.screens.duplicates import DuplicatesScreen
from tui.screens.erasure import ErasureRequestsScreen
from tui.screens.import_parts import FieldPicker
from tui.screens.import_review import ImportScreen
from tui.screens.imports import ImportsScreen
from tui.screens.mail import MailScreen, PickTemplate, TemplateForm, TemplatesScreen
from tui.screens.merge import MergeScreen
from tui.screens.modals import ChildForm, ChoiceScreen, ConfirmScreen, CustomerForm, HelpScreen, InfoScreen, PromptScreen, SettingsScreen
from tui.screens.pick_customer import PickCustomer
from tui.screens.sync import SyncScreen
from tui.screens.tables import CustomersScreen, SourcesScreen
from tui.widgets.table import RecordTable

SECTIONS = (CustdeskApp, RecordTable, CustomersScreen, SourcesScreen, SourceDetailScreen, DetailScreen, MergeScreen,
            ImportScreen, ImportsScreen, TemplatesScreen, MailScreen, SyncScreen, DuplicatesScreen, ActivityScreen,
            ErasureRequestsScreen)
DIALOGS = (ConfirmScreen, PromptScreen, CustomerForm, ChildForm, PickCustomer, SettingsScreen, HelpScreen, FieldPicker,
           TemplateForm, PickTemplate, ChoiceScreen, InfoScreen)


def own_and_inherited(cls) -> list:
    """The bindings a screen has: its own and those of its bases (Textual merges them)."""
    return [b for klass in reversed(cls.__mro__) for b in klass.__dict__.get("BINDINGS", [])
            if klass.__module__.startswith("tui")]


def bindings(cls) -> set[tuple[str, str]]:
    return {(b.key, b.description) for b in own_and_inherited(cls)}


def documented_section(text: str, name: str) -> set[tuple[str, str]]:
    section = re.search(rf"^## .*\(`{name}`\)\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, f"screens.md has no section for {name}"
    return set(re.findall(r"^\| `([^`]+)` \| ([^|]+?) \|$", section.group(1), re.M))


def documented_dialog(text: str, name: str) -> set[tuple[str, str]]:
    line = re.search(rf"^\| `{name}`.*\| (.+) \|$", text, re.M)
    assert line, f"screens.md lists no dialog {name}"
    return set(re.findall(r"`([^`]+)` ([^,`]+?)(?:,|$)", line.group(1)))


def test_every_screen_is_documented_with_exactly_its_keys():
    text = (ROOT / "screens.md").read_text()
    for cls in SECTIONS:
        assert documented_section(text, cls.__name__) == bindings(cls), cls.__name__
    for cls in DIALOGS:
        assert documented_dialog(text, cls.__name__) == bindings(cls), cls.__name__


def test_every_binding_has_an_id_and_a_description_for_footer_and_palette():
    for cls in SECTIONS + DIALOGS:
        assert all(b.description and b.id for b in own_and_inherited(cls)), cls.__name__
        ids = [b.id for b in own_and_inherited(cls)]
        assert len(ids) == len(set(ids)), cls.__name__


def test_readme_shows_every_picture_make_screenshots_takes_and_each_is_there():
    import sys

    sys.path.insert(0, str(ROOT / "docs"))
    from screen_cases import CASES
    from screenshots import SHOWN

    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r"\(docs/screens/([a-z_]+)\.svg\)", readme)
    assert shown == list(SHOWN) and set(SHOWN) <= {c.name for c in CASES}
    assert all((ROOT / "docs" / "screens" / f"{name}.svg").stat().st_size > 1000 for name in SHOWN)


def test_readmes_pictures_are_what_the_app_shows_now(tmp_path):
    from helpers import run_python

    taken = run_python("import runpy, sys; sys.argv = ['screenshots', '--out', sys.argv[1]]; "
                       "runpy.run_path('docs/screenshots.py', run_name='__main__')", str(tmp_path))
    assert taken.returncode == 0, taken.stderr
    stale = [p.name for p in sorted(tmp_path.glob("*.svg")) if p.read_bytes() != (ROOT / "docs" / "screens" / p.name).read_bytes()]
    assert not stale, f"README's pictures are out of date ({', '.join(stale)}): run make screenshots"

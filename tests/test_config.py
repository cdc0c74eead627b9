"""The user's configuration file: theme and keys by binding id, refused in one line when
it cannot be followed, applied by the app, shown by `custdesk config`."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import ROOT, SIZE, custdesk, run_python, settle

from tui.app import CustdeskApp
from tui.config import Config, ConfigError, describe, load_config
from tui.dates import Dates
from tui.keymap import checked, offer
from tui.screens.detail import DetailScreen, SourceDetailScreen
from tui.screens.modals import CustomerForm


def test_every_screens_binding_ids_may_be_remapped(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[keymap]\nundo-run = "ctrl+u"\n', encoding="utf-8")  # the Sync runs screen's
    assert checked(load_config(path), CustdeskApp).keymap == {"undo-run": "ctrl+u"}


def test_no_file_is_the_defaults_and_a_file_is_read(tmp_path):
    assert load_config(tmp_path / "config.toml") == Config()
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n[keymap]\nnew = "a"\ndeactivate = "ctrl+d"\n', encoding="utf-8")
    assert load_config(path) == Config("nord", {"new": "a", "deactivate": "ctrl+d"})
    assert load_config(path, theme="dracula").theme == "dracula"  # --theme wins
    path.write_text('theme = "nord"\ndefault_country = "de"\ndate_format = "%d.%m.%Y"\n[keymap]\nnew = "a"\n', encoding="utf-8")
    assert load_config(path) == Config("nord", {"new": "a"}, "DE", "%d.%m.%Y")
    assert load_config(path, app=False) == Config(default_country="DE", date_format="%d.%m.%Y")  # a command: no looks


def test_a_command_does_not_pay_for_the_apps_looks(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n[keymap]\nnew = "a"\n', encoding="utf-8")
    code = (f"import sys; from tui.config import load_config; load_config(__import__('pathlib').Path({str(path)!r}), app=False); "
            "assert not [m for m in sys.modules if m.startswith('textual')], 'textual imported'")
    assert run_python(code).returncode == 0


def test_dates_read_in_the_users_format_and_other_text_as_it_is(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    __import__("time").tzset()
    try:
        dates = Dates("%d.%m.%Y")
        assert dates.shown("2026-11-24") == "24.11.2026"
        assert dates.shown("2026-11-24T09:05:00+00:00") == "24.11.2026 10:05"  # local time
        assert dates.shown("2026-07-01T23:30:00+00:00") == "02.07.2026 01:30"  # summer time, the next day
        assert dates.shown("soon") == "soon" and dates.shown("2026-13-45") == "2026-13-45" and dates.shown(None) == ""
        assert Dates().value("created_at", "2026-11-24T09:05:00+00:00") == "2026-11-24 10:05"
        assert Dates().value("tags", ["vip", "b2b"]) == "vip, b2b" and Dates().value("amount", 1200.5) == "1,200.50"
    finally:
        monkeypatch.delenv("TZ")
        __import__("time").tzset()


def test_the_users_default_country_stands_in_while_the_store_has_none(store_path, tmp_path):
    env = {"CUSTDESK_CONFIG_DIR": str(tmp_path)}
    (tmp_path / "config.toml").write_text('default_country = "TR"\n', encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text("First name,Last name,Phone\nAyşe,Yılmaz,0212 555 12 34\n", encoding="utf-8")
    added = custdesk("--db", store_path, "import", people, "--into", "private", env=env)
    assert added.returncode == 0, added.stderr
    from store import Store
    with Store(store_path) as store:
        assert next(store.customers())["phone"] == "+902125551234"
        store.update_settings(default_country="DE")  # the store's own setting wins once saved
    with Store(store_path, default_country="TR") as store:
        assert store.settings["default_country"] == "DE"


@pytest.mark.parametrize("text,problem", [
    ('theme = "nord', "not valid TOML"),
    ('colour = "red"', "unknown setting 'colour'"),
    ('theme = "purple"', "theme 'purple' is not one of"),
    ('[keymap]\nnope = "a"', "[keymap] 'nope' is not a binding id"),
    ('[keymap]\nnew = 3', "[keymap] new must be a key such as"),
    ('keymap = "n"', "[keymap] must be a table"),
    ('default_country = "Germany"', "ISO 3166"),
    ('date_format = "dd.mm.yyyy"', "has no % directive"),
    ('date_format = 31', "date_format must be text"),
])
def test_a_file_that_cannot_be_followed_is_refused_in_one_line_naming_it(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        checked(load_config(path), CustdeskApp)  # (the theme and the binding ids: judged against what the app has)
    assert str(refused.value).startswith(f"{path}: ") and problem in str(refused.value) and "\n" not in str(refused.value)


def test_show_prints_toml_that_reads_back_as_the_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTDESK_CONFIG_DIR", str(tmp_path))
    config = Config("gruvbox", {"new": "a", "search": "ctrl+f"}, "NL", "%d-%m-%Y")
    shown = describe(config, offer(CustdeskApp))
    assert tomllib.loads(shown) == {"theme": "gruvbox", "default_country": "NL", "date_format": "%d-%m-%Y",
                                    "keymap": {"new": "a", "search": "ctrl+f"}}
    (tmp_path / "config.toml").write_text(shown, encoding="utf-8")
    assert load_config() == config
    assert all(f"{binding_id} = " in shown for binding_id in offer(CustdeskApp).defaults())  # every id, with its default


async def test_the_app_takes_the_users_keys_and_theme(store):
    app = CustdeskApp(store, Config("nord", {"new": "a"}))
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "nord"
        await pilot.press("n")
        assert not isinstance(app.screen, CustomerForm)
        await pilot.press("a")
        assert isinstance(app.screen, CustomerForm)


def test_the_config_command(tmp_path):
    env = {"CUSTDESK_CONFIG_DIR": str(tmp_path)}
    assert custdesk("config", "path", env=env).stdout.strip() == str(tmp_path / "config.toml")
    (tmp_path / "config.toml").write_text('[keymap]\nnew = "a"\n', encoding="utf-8")
    shown = custdesk("config", "show", env=env)
    assert shown.returncode == 0 and 'new = "a"  # default: n' in shown.stdout
    refused = custdesk("--theme", "purple", "config", "show", env=env)
    assert refused.returncode == 2 and refused.stderr.startswith("custdesk: --theme: theme 'purple'")
    assert len(refused.stderr.splitlines()) == 1


def shows(app, text: str) -> bool:
    return text.replace(" ", "&#160;") in app.export_screenshot()


async def test_the_app_shows_dates_in_the_users_format(shop):
    customer = next(shop.customers())
    app = CustdeskApp(shop, Config(date_format="%d.%m.%Y"))
    expected = Dates("%d.%m.%Y").shown(customer["created_at"])
    assert expected[2] == "." and expected[5] == "."
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        assert shows(app, expected) and not shows(app, customer["created_at"][:10])
        await pilot.press("escape", "p")
        assert expected in app.screen.query_one("RecordTable").render_line(1).text
        await pilot.press("enter")
        assert isinstance(app.screen, SourceDetailScreen) and shows(app, expected)


@pytest.mark.parametrize("keymap,clash", [
    ('new = "d"', "key 'd' is given to two actions of CustomersScreen: new and deactivate"),
    ('edit = "delete"', "key 'delete' is given to two actions of CustomersScreen: edit and delete"),
    ('undo-run = "escape"', "key 'escape' is given to two actions of SyncScreen: undo-run and back"),
])
def test_a_keymap_giving_one_key_to_two_actions_of_a_screen_is_refused_in_one_line(tmp_path, keymap, clash):
    path = tmp_path / "config.toml"
    path.write_text(f"[keymap]\n{keymap}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        checked(load_config(path), CustdeskApp)
    assert str(refused.value) == f"{path}: [keymap] {clash}"


def test_keys_shared_by_design_may_go_on_sharing_one(tmp_path):
    path = tmp_path / "config.toml"  # `d` names deactivate or activate: one key, whichever applies
    path.write_text('[keymap]\ndeactivate = "ctrl+d"\nreactivate = "ctrl+d"\nsearch = "ctrl+f,slash"\n', encoding="utf-8")
    assert checked(load_config(path), CustdeskApp).keymap == {"deactivate": "ctrl+d", "reactivate": "ctrl+d", "search": "ctrl+f,slash"}
    path.write_text('[keymap]\ndeactivate = "ctrl+d"\n', encoding="utf-8")  # ctrl+d deactivates, d still activates
    assert checked(load_config(path), CustdeskApp).keymap == {"deactivate": "ctrl+d"}


async def test_the_app_refuses_a_clashing_keymap_at_start_and_follows_a_sound_one(shop):
    with pytest.raises(ConfigError, match=r"^config.toml: \[keymap\] key 'd' is given to two actions of CustomersScreen: new and deactivate$"):
        CustdeskApp(shop, Config(keymap={"new": "d"}, source="config.toml"))
    app = CustdeskApp(shop, Config(keymap={"deactivate": "ctrl+d", "reactivate": "ctrl+d"}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await settle(app, pilot)
        assert shop.customer(1)["active"]  # d no longer deactivates
        await pilot.press("ctrl+d")
        await settle(app, pilot)
        assert not shop.customer(1)["active"]


def test_the_command_line_refuses_a_clashing_keymap_in_one_line(store, store_path, tmp_path):
    env = {"CUSTDESK_CONFIG_DIR": str(tmp_path)}
    path = tmp_path / "config.toml"
    path.write_text('[keymap]\nnew = "d"\n', encoding="utf-8")
    expected = f"custdesk: {path}: [keymap] key 'd' is given to two actions of CustomersScreen: new and deactivate\n"
    for args in (("config", "show"), ("--db", store_path)):  # the app itself refuses before it takes the terminal
        refused = custdesk(*args, env=env, timeout=60)
        assert refused.returncode == 2 and refused.stderr == expected and refused.stdout == ""


def test_the_config_module_is_headless(tmp_path):
    """The command line reads the whole file (theme and keymap too) without the app: no
    Textual, no screen; a contract of pyproject.toml holds its imports so."""
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n[keymap]\nnew = "a"\n', encoding="utf-8")
    code = (f"import sys; from tui.config import load_config; load_config(__import__('pathlib').Path({str(path)!r})); "
            "loaded = [m for m in sys.modules if m.startswith(('textual', 'tui.screens', 'tui.app', 'tui.keymap'))]; "
            "assert not loaded, loaded")
    ran = run_python(code)
    assert ran.returncode == 0, ran.stderr
    contract = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--contract", "headless-config"],
                              cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert contract.returncode == 0 and "1 kept, 0 broken" in contract.stdout, contract.stdout


@pytest.mark.parametrize("keys,wrong", [
    ('"d\\u001b[2J"', "'d\\x1b[2J'"), ('"notakey"', "'notakey'"), ('"ctrl+ctrl+a"', "'ctrl+ctrl+a'"),
    ('"ctrl+f,x+y"', "'x+y'"), ('"ctrl+"', "'ctrl+'"),
])
def test_a_key_the_app_can_never_receive_is_refused_naming_it(tmp_path, keys, wrong):
    path = tmp_path / "config.toml"
    path.write_text(f"[keymap]\nedit = {keys}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        checked(load_config(path), CustdeskApp)
    assert str(refused.value).startswith(f"{path}: [keymap] edit: {wrong} is not a key the app can receive")
    shown = custdesk("config", "show", env={"CUSTDESK_CONFIG_DIR": str(tmp_path)})
    assert shown.returncode == 2 and "is not a key the app can receive" in shown.stderr and "\x1b" not in shown.stderr


@pytest.mark.parametrize("keys", ['"ctrl+e"', '"f2"', '"question_mark"', '"ctrl+shift+left"', '"f3,ctrl+e"', '"ä"'])
def test_every_key_a_terminal_sends_is_taken(tmp_path, keys):
    path = tmp_path / "config.toml"
    path.write_text(f"[keymap]\nedit = {keys}\n", encoding="utf-8")
    assert checked(load_config(path), CustdeskApp).keymap == {"edit": keys.strip('"')}

"""The user's configuration file: theme and keys by binding id, refused in one line when
it cannot be followed, applied by the app, shown by `custdesk config`."""
from __future__ import annotations

import tomllib

import pytest
from helpers import SIZE, custdesk

from tui.app import CustdeskApp
from tui.config import Config, ConfigError, binding_ids, describe, load_config
from tui.screens.modals import CustomerForm


def test_no_file_is_the_defaults_and_a_file_is_read(tmp_path):
    assert load_config(tmp_path / "config.toml") == Config()
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n[keymap]\nnew = "a"\ndeactivate = "ctrl+d"\n', encoding="utf-8")
    assert load_config(path) == Config("nord", {"new": "a", "deactivate": "ctrl+d"})
    assert load_config(path, theme="dracula").theme == "dracula"  # --theme wins


@pytest.mark.parametrize("text,problem", [
    ('theme = "nord', "not valid TOML"),
    ('colour = "red"', "unknown setting 'colour'"),
    ('theme = "purple"', "theme 'purple' is not one of"),
    ('[keymap]\nnope = "a"', "[keymap] 'nope' is not a binding id"),
    ('[keymap]\nnew = 3', "[keymap] new must be a key such as"),
    ('keymap = "n"', "[keymap] must be a table"),
])
def test_a_file_that_cannot_be_followed_is_refused_in_one_line_naming_it(tmp_path, text, problem):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value).startswith(f"{path}: ") and problem in str(refused.value) and "\n" not in str(refused.value)


def test_show_prints_toml_that_reads_back_as_the_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTDESK_CONFIG_DIR", str(tmp_path))
    config = Config("gruvbox", {"new": "a", "search": "ctrl+f"})
    shown = describe(config)
    assert tomllib.loads(shown) == {"theme": "gruvbox", "keymap": {"new": "a", "search": "ctrl+f"}}
    assert all(f"{binding_id} = " in shown for binding_id in binding_ids())  # every id, with its default


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

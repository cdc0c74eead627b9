"""The user's own keys and looks: `config.toml` in the platform's config folder.

    theme = "nord"              # one of Textual's themes (custdesk config show lists them)
    default_country = "DE"      # phones without a +code are read in it while the store has none saved
    date_format = "%d.%m.%Y"    # how the app shows dates (strftime); times add HH:MM, local time
    [keymap]                    # binding id = the key(s) that run it, as Textual writes keys
    new = "a"
    de-activate = "ctrl+d,d"

Binding ids are the ones screens.md lists beside each key. A file that cannot be
followed is refused in one line naming it and what is wrong; the app does not start
with half a configuration. It is read only when it is a regular file of at most
`MAX_CONFIG_BYTES` (a FIFO would block the start; a few settings never need more),
and one nested too deeply for the parser is refused like any other. Commands other than the app read only what they use
(the default country), so a theme or keymap costs them no start-up time.
"""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from store.errors import RuleViolation, StoreError, UnreadableInput
from store.files import read_regular
from store.paths import APP
from store.rules.settings import check_settings
from tui.dates import ISO_DATE, check_format

SETTINGS = ("theme", "default_country", "date_format", "keymap")
MAX_CONFIG_BYTES = 64 * 1024  # a keymap of every binding takes under 4 KiB


class ConfigError(StoreError):
    """The configuration file cannot be followed (one line: the file and the problem)."""


@dataclass(frozen=True)
class Config:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    default_country: str | None = None
    date_format: str = ISO_DATE


def config_path() -> Path:
    """`config.toml` in the user's config folder (CUSTDESK_CONFIG_DIR overrides)."""
    return Path(os.environ.get("CUSTDESK_CONFIG_DIR") or platformdirs.user_config_dir(APP)) / "config.toml"


def themes() -> list[str]:
    from textual.theme import BUILTIN_THEMES  # (0.17 s: not for commands that do not need it)

    return sorted(BUILTIN_THEMES)


def binding_ids() -> dict[str, str]:
    """Every binding id of the app, its screens and widgets → its default key(s)."""
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.screen import Screen

    import tui.app
    import tui.screens
    import tui.widgets.table

    for module in pkgutil.iter_modules(tui.screens.__path__):  # every screen class known below, none forgotten
        importlib.import_module(f"tui.screens.{module.name}")

    found: dict[str, str] = {}
    owners: list[type] = [tui.app.CustdeskApp, *_subclasses(Screen), tui.widgets.table.RecordTable]
    for owner in owners:
        if not owner.__module__.startswith("tui."):
            continue
        for binding in getattr(owner, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, binding.key)
    return dict(sorted(found.items()))


def _subclasses(cls: type) -> list[type]:
    direct: list[type] = cls.__subclasses__()
    return [sub for child in direct for sub in (child, *_subclasses(child))]


def load_config(path: Path | None = None, *, theme: str | None = None, app: bool = True) -> Config:
    """The configuration at `path` (default: `config_path()`; none there: the defaults);
    `theme` (the --theme option) wins over the file's. `app=False`: the theme and keymap
    are left unchecked and out (a command that does not open the app)."""
    path = path or config_path()
    try:
        return _follow(path, _read(path), theme, app)
    except RecursionError:  # (a value nested thousands deep, however it is looked at)
        raise ConfigError(f"{path}: nested too deeply for a configuration file") from None


def _read(path: Path) -> dict[str, object]:
    """The settings in the file at `path`; none there: no settings (a link to nothing, or
    one in a loop, is there: it is a configuration that cannot be read, said so)."""
    if not os.path.lexists(path):
        return {}
    try:
        return tomllib.loads(read_regular(path, MAX_CONFIG_BYTES, "a configuration file").decode("utf-8"))
    except UnreadableInput as err:
        raise ConfigError(str(err)) from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: cannot be read ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None


def _follow(path: Path, data: dict[str, object], theme: str | None, app: bool) -> Config:
    """The settings checked, as `load_config` says."""
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting '{unknown[0]}' (custdesk knows {', '.join(SETTINGS)})")
    shared = Config(default_country=_country(path, data.get("default_country")),
                    date_format=_date_format(path, data.get("date_format", ISO_DATE)))
    if not app:
        return shared
    chosen = theme if theme is not None else data.get("theme")
    return replace(shared, theme=_theme(path if theme is None else Path("--theme"), chosen),
                   keymap=_keymap(path, data.get("keymap", {})))


def _country(path: Path, country: object) -> str | None:
    if country is None:
        return None
    try:  # the store's own rule for its setting of the same name
        checked: str | None = check_settings({"default_country": str(country)})["default_country"]
    except RuleViolation as err:
        raise ConfigError(f"{path}: {err}") from None
    return checked


def _date_format(path: Path, date_format: object) -> str:
    problem = check_format(date_format) if isinstance(date_format, str) else f"date_format must be text, not {date_format!r}"
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return str(date_format)


def _theme(where: Path, theme: object) -> str | None:
    if theme is None:
        return None
    known = themes()
    if theme not in known:
        raise ConfigError(f"{where}: theme '{theme}' is not one of {', '.join(known)}")
    return str(theme)


def _keymap(path: Path, keymap: object) -> dict[str, str]:
    if not isinstance(keymap, dict):
        raise ConfigError(f"{path}: [keymap] must be a table of binding id = \"key\"")
    # (Knowing every id imports every screen: only done for a keymap, not at every start.)
    known = binding_ids() if keymap else {}
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            raise ConfigError(f"{path}: [keymap] '{binding_id}' is not a binding id (custdesk config show lists them)")
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"{path}: [keymap] {binding_id} must be a key such as \"ctrl+d\", not {keys!r}")
    return dict(keymap)


def describe(config: Config) -> str:
    """The configuration in force, as TOML, with every binding id and its default key."""
    lines = [f"# {config_path()}", f"theme = {json.dumps(config.theme)}" if config.theme else "# theme = \"textual-dark\"",
             f"# themes: {', '.join(themes())}",
             f"default_country = {json.dumps(config.default_country)}" if config.default_country
             else "# default_country = \"DE\"  # none: the store's setting, else the locale's",
             f"date_format = {json.dumps(config.date_format)}", "", "[keymap]"]
    for binding_id, default in binding_ids().items():
        if binding_id in config.keymap:
            lines.append(f"{binding_id} = {json.dumps(config.keymap[binding_id])}  # default: {default}")
        else:
            lines.append(f"# {binding_id} = {json.dumps(default)}")
    return "\n".join(lines)

"""The user's own keys and looks: `config.toml` in the platform's config folder.

    theme = "nord"              # one of Textual's themes (custdesk config show lists them)
    [keymap]                    # binding id = the key(s) that run it, as Textual writes keys
    new = "a"
    de-activate = "ctrl+d,d"

Binding ids are the ones screens.md lists beside each key. A file that cannot be
followed is refused in one line naming it and what is wrong; the app does not start
with half a configuration.
"""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import BUILTIN_THEMES

from store.errors import StoreError
from store.paths import APP


class ConfigError(StoreError):
    """The configuration file cannot be followed (one line: the file and the problem)."""


@dataclass(frozen=True)
class Config:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)


def config_path() -> Path:
    """`config.toml` in the user's config folder (CUSTDESK_CONFIG_DIR overrides)."""
    return Path(os.environ.get("CUSTDESK_CONFIG_DIR") or platformdirs.user_config_dir(APP)) / "config.toml"


def themes() -> list[str]:
    return sorted(BUILTIN_THEMES)


def binding_ids() -> dict[str, str]:
    """Every binding id of the app, its screens and widgets → its default key(s)."""
    import tui.app
    import tui.screens.detail
    import tui.screens.import_review
    import tui.screens.mail
    import tui.screens.merge
    import tui.screens.modals
    import tui.screens.tables
    import tui.widgets.table  # (imported so that every screen class is known below)

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


def load_config(path: Path | None = None, *, theme: str | None = None) -> Config:
    """The configuration at `path` (default: `config_path()`; none there: the defaults);
    `theme` (the --theme option) wins over the file's."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read ({getattr(err, 'strerror', None) or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    unknown = sorted(set(data) - {"theme", "keymap"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting '{unknown[0]}' (custdesk knows theme and [keymap])")
    chosen = theme if theme is not None else data.get("theme")
    return Config(_theme(path if theme is None else Path("--theme"), chosen), _keymap(path, data.get("keymap", {})))


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
             f"# themes: {', '.join(themes())}", "", "[keymap]"]
    for binding_id, default in binding_ids().items():
        if binding_id in config.keymap:
            lines.append(f"{binding_id} = {json.dumps(config.keymap[binding_id])}  # default: {default}")
        else:
            lines.append(f"# {binding_id} = {json.dumps(default)}")
    return "\n".join(lines)

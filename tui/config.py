"""The user's own keys and looks: `config.toml` in the platform's config folder.

    theme = "nord"              # one of Textual's themes (custdesk config show lists them)
    default_country = "DE"      # phones without a +code are read in it while the store has none saved
    date_format = "%d.%m.%Y"    # how the app shows dates (strftime); times add HH:MM, local time
    [keymap]                    # binding id = the key(s) that run it, as Textual writes keys
    new = "a"
    deactivate = "ctrl+d,d"

Binding ids are the ones screens.md lists beside each key. A file that cannot be
followed is refused in one line naming it and what is wrong; the app does not start
with half a configuration. A keymap that gives one key to two actions of one screen is
refused too (bindings that share a key by design, as `d` names deactivate or activate,
may go on sharing one). The file is read only when it is a regular file of at most
`MAX_CONFIG_BYTES` (a FIFO would block the start; a few settings never need more), and
one nested too deeply for the parser is refused like any other. Commands other than the
app read only what they use (the default country), so a theme or keymap costs them no
start-up time.

This module knows no screen and imports no Textual (a contract holds it): the command line
reads the file through it without loading the app. What the app offers to choose from (its
themes, every binding by screen) is gathered by the app itself (`tui.keymap`) and judged
here (`check_offered`).
"""
from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import NamedTuple

import platformdirs

from store.base.errors import RuleViolation, StoreError, UnreadableInput
from store.base.files import read_regular
from store.paths import APP
from tui.dates import ISO_DATE, check_format

SETTINGS = ("theme", "default_country", "date_format", "keymap")
MAX_CONFIG_BYTES = 64 * 1024  # a keymap of every binding takes under 4 KiB


class ConfigError(StoreError):
    """The configuration file cannot be followed (one line: the file and the problem)."""


def config_path() -> Path:
    """`config.toml` in the user's config folder (CUSTDESK_CONFIG_DIR overrides)."""
    return Path(os.environ.get("CUSTDESK_CONFIG_DIR") or platformdirs.user_config_dir(APP)) / "config.toml"


@dataclass(frozen=True)
class Config:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    default_country: str | None = None
    date_format: str = ISO_DATE
    # Where the keymap and the theme were read (a refusal names it): not settings themselves.
    source: str = field(default_factory=lambda: str(config_path()), compare=False)
    theme_source: str | None = field(default=None, compare=False)  # None: `source`; "--theme": the option


class BindingSpec(NamedTuple):
    """One binding of a screen (or of the app, a widget), as the keymap sees it."""

    id: str
    key: str  # one key or several, comma separated, as Textual writes them
    action: str


@dataclass(frozen=True)
class Offer:
    """What the app offers a configuration to choose: its themes, and its bindings by the
    class holding them (the app, a screen, a widget)."""

    themes: tuple[str, ...]
    bindings: Mapping[str, tuple[BindingSpec, ...]]

    def defaults(self) -> dict[str, str]:
        """Every binding id → its default key(s)."""
        found: dict[str, str] = {}
        for specs in self.bindings.values():
            for spec in specs:
                found.setdefault(spec.id, spec.key)
        return dict(sorted(found.items()))


def load_config(path: Path | None = None, *, theme: str | None = None, app: bool = True) -> Config:
    """The configuration at `path` (default: `config_path()`; none there: the defaults);
    `theme` (the --theme option) wins over the file's. `app=False`: the theme and keymap
    are left out (a command that does not open the app). What needs the app's knowledge
    (which themes and binding ids there are, which keys clash) is `check_offered`'s."""
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
                    date_format=_date_format(path, data.get("date_format", ISO_DATE)), source=str(path))
    if not app:
        return shared
    chosen = theme if theme is not None else data.get("theme")
    if chosen is not None and not isinstance(chosen, str):
        raise ConfigError(f"{path}: theme must be the name of a theme, not {chosen!r}")
    return replace(shared, theme=chosen, theme_source=None if theme is None else "--theme",
                   keymap=_keymap(path, data.get("keymap", {})))


def _country(path: Path, country: object) -> str | None:
    if country is None:
        return None
    # (the rules' libraries load here, not before the app's first paint)
    from store.rules.settings import check_settings

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


def _keymap(path: Path, keymap: object) -> dict[str, str]:
    if not isinstance(keymap, dict):
        raise ConfigError(f"{path}: [keymap] must be a table of binding id = \"key\"")
    for binding_id, keys in keymap.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"{path}: [keymap] {binding_id} must be a key such as \"ctrl+d\", not {keys!r}")
    return dict(keymap)


def check_offered(config: Config, offer: Offer) -> Config:
    """`config` as the app can follow it: its theme one the app has, each keymap id one of
    its bindings', and no screen given one key for two actions; else one line naming the
    file (or --theme) and what is wrong."""
    if config.theme is not None and config.theme not in offer.themes:
        raise ConfigError(f"{config.theme_source or config.source}: theme '{config.theme}' is not one of {', '.join(offer.themes)}")
    if not config.keymap:
        return config
    known = offer.defaults()
    for binding_id in config.keymap:
        if binding_id not in known:
            raise ConfigError(f"{config.source}: [keymap] '{binding_id}' is not a binding id (custdesk config show lists them)")
    for owner, specs in offer.bindings.items():
        _no_clash(config, owner, specs)
    return config


def _no_clash(config: Config, owner: str, specs: tuple[BindingSpec, ...]) -> None:
    """Refuse a key the keymap leaves to two actions of `owner`. Bindings that share a key
    by default (one shown at a time, as deactivate and activate) may share any."""
    paired = {frozenset((a.action, b.action)) for a, b in combinations(specs, 2) if _keys(a.key) & _keys(b.key)}
    holder: dict[str, BindingSpec] = {}
    for spec in specs:
        for key in _keys(config.keymap.get(spec.id, spec.key)):
            other = holder.setdefault(key, spec)
            if other.action != spec.action and frozenset((other.action, spec.action)) not in paired:
                first, second = sorted((other, spec), key=lambda s: s.id not in config.keymap)  # the remapped one first
                raise ConfigError(f"{config.source}: [keymap] key '{key}' is given to two actions of {owner}: "
                                  f"{first.id} and {second.id}")


def key_list(keys: str) -> list[str]:
    """The keys of a binding's key text ("ctrl+f,slash"), in order."""
    return [key.strip() for key in keys.split(",") if key.strip()]


def _keys(keys: str) -> set[str]:
    return set(key_list(keys))


def describe(config: Config, offer: Offer) -> str:
    """The configuration in force, as TOML, with every binding id and its default key."""
    lines = [f"# {config_path()}", f"theme = {json.dumps(config.theme)}" if config.theme else "# theme = \"textual-dark\"",
             f"# themes: {', '.join(offer.themes)}",
             f"default_country = {json.dumps(config.default_country)}" if config.default_country
             else "# default_country = \"DE\"  # none: the store's setting, else the locale's",
             f"date_format = {json.dumps(config.date_format)}", "", "[keymap]"]
    for binding_id, default in offer.defaults().items():
        if binding_id in config.keymap:
            lines.append(f"{binding_id} = {json.dumps(config.keymap[binding_id])}  # default: {default}")
        else:
            lines.append(f"# {binding_id} = {json.dumps(default)}")
    return "\n".join(lines)

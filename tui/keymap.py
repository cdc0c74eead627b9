"""What the app offers a configuration to choose, gathered from its classes: the themes,
and every binding of the app, its screens and widgets (`BINDINGS`, by binding id). The
configuration file's rules (`tui.config`) judge a configuration against it."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character
from textual.theme import BUILTIN_THEMES

from .config import BindingSpec, Config, ConfigError, Offer, check_offered, key_list

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# The keys Textual names (escape, f2, pageup …; slash, plus …), less its internal events (<any>).
NAMED = frozenset(key.value.rsplit("+", 1)[-1] for key in Keys if not key.value.startswith("<")) | frozenset(REPLACED_KEYS)


def themes() -> tuple[str, ...]:
    return tuple(sorted(BUILTIN_THEMES))


def offer(app: type[App[Any]]) -> Offer:
    """The themes, and the bindings of `app` and of every screen and widget class of
    custdesk (each module under `tui.screens` imported: none forgotten)."""
    import tui.screens

    for module in pkgutil.iter_modules(tui.screens.__path__):
        importlib.import_module(f"tui.screens.{module.name}")
    owners = [app, *(cls for cls in _subclasses(DOMNode) if cls.__module__.startswith("tui.") and cls is not app)]
    bindings = {owner.__name__: specs for owner in owners if (specs := _bindings(owner))}
    return Offer(themes(), dict(sorted(bindings.items())))


def checked(config: Config, app: type[App[Any]], offered: Offer | None = None) -> Config:
    """`config` judged against what `app` offers (`tui.config.check_offered`; `offered` if
    gathered already) and each of its keys one a terminal can send (`producible`); the
    keymap's bindings are gathered only when it has any (that imports every screen)."""
    for binding_id, keys in config.keymap.items():
        named = key_list(keys)
        wrong = next((key for key in named if not producible(key)), None) if named else keys
        if wrong is not None:
            raise ConfigError(f"{config.source}: [keymap] {binding_id}: {wrong!r} is not a key the app can receive "
                              '(e.g. "ctrl+d", "f2", "d", "question_mark"; custdesk config show lists the keys in use)')
    return check_offered(config, offered or (offer(app) if config.keymap else Offer(themes(), {})))


def producible(key: str) -> bool:
    """Whether Textual can report `key` to the app: modifiers (each once) before a key it
    names or a printable character's name. A name it never produces would leave its action
    unreachable without a word."""
    *modifiers, name = key.split("+")
    if any(m not in MODIFIERS for m in modifiers) or len(set(modifiers)) != len(modifiers):
        return False
    if name in NAMED:
        return True
    character = key_to_character(name)
    return character is not None and character.isprintable() and not character.isspace()


def _bindings(owner: type[DOMNode]) -> tuple[BindingSpec, ...]:
    """The bindings with an id that `owner` has, its own and those it inherits."""
    found: dict[BindingSpec, None] = {}
    for cls in reversed(owner.__mro__):
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                found[BindingSpec(binding.id, binding.key, binding.action)] = None
    return tuple(found)


def _subclasses(cls: type[DOMNode]) -> list[type[DOMNode]]:
    direct = cls.__subclasses__()
    return [sub for child in direct for sub in (child, *_subclasses(child))]

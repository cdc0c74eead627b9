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
from textual.theme import BUILTIN_THEMES

from .config import BindingSpec, Config, Offer, check_offered


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


def checked(config: Config, app: type[App[Any]]) -> Config:
    """`config` judged against what `app` offers (`tui.config.check_offered`); the keymap's
    bindings are gathered only when it has any (that imports every screen)."""
    return check_offered(config, offer(app) if config.keymap else Offer(themes(), {}))


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

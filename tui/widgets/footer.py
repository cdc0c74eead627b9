"""Textual's footer, rebuilt only when what it shows changes.

Textual's Footer rebuilds all its keys (some twenty widgets, each styled anew) at every
refresh of the screen's bindings, and once per refresh asked for: on each focus change,
each return to the screen, each cursor move that greys a key. That was most of the work
of a return from a customer's detail to the table (whose keys had not changed) and of
opening the detail (asked three times over). This one rebuilds once per paint at most,
and only when the keys, their names or their greying differ from those it shows.
"""
from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

Shown = tuple[tuple[str, str, str, bool, str], ...]  # per key shown: key, its display, description, enabled, tooltip


class Footer(TextualFooter):
    _shown: Shown | None = None
    _pending = False

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or self._pending:
            return
        self._pending = True
        self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return  # its screen closed meanwhile
        shown = self._keys_shown()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _keys_shown(self) -> Shown:
        app = self.app
        return tuple((binding.key, app.get_key_display(binding), binding.description, enabled, tooltip)
                     for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
                     if binding.show or binding.key == app.COMMAND_PALETTE_BINDING)

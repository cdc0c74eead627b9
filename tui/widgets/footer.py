"""The footer of every screen: Textual's, redrawn only when the keys it shows change."""
from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    """Textual's footer recomposes its keys whenever the screen's bindings may have changed:
    each return to a screen, each focus moved. Back from a customer's detail the table's keys
    are the same, and making some 20 of them again (each restyled twice as it mounts) cost
    ~20 ms of every escape. Here the keys are made again only when what they show differs."""

    _shown: list[tuple[Any, ...]] | None = None

    def _showing(self) -> list[tuple[Any, ...]]:
        """What `compose` draws from: each active binding, whether enabled, its tooltip."""
        return [(binding, enabled, tooltip) for _node, binding, enabled, tooltip in self.screen.active_bindings.values()]

    def compose(self) -> Any:
        self._shown = self._showing() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self._shown is not None and self.is_attached and screen is self.screen and self._showing() == self._shown:
            return
        super().bindings_changed(screen)

"""A customer's picture on screen: through the terminal's graphics protocol (Sixel,
Kitty's) where it has one, else as coloured half-block cells, which any terminal
with colours shows, over SSH too.

Which protocol a terminal speaks is asked of it by textual-image before the app
starts (`prepare_graphics`): once Textual reads the keyboard the answer would be
taken for keys. An app started without asking (no store with pictures, tests)
draws half blocks.
"""
from __future__ import annotations

import io
import sys

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.widget import Widget
from textual.widgets import Static

GRAPHICS = "textual_image.widget"


def prepare_graphics() -> None:
    """Ask the terminal which graphics protocol it speaks (call before the app runs)."""
    import textual_image.widget  # noqa: F401  (its import asks the terminal)


def picture_widget(data: bytes) -> Widget:
    """The picture (a PNG, JPEG or WebP file's bytes) at the widget's size, by the best means
    the terminal has."""
    if GRAPHICS in sys.modules:
        from textual_image.widget import Image

        return Image(io.BytesIO(data), classes="picture")
    return Static(HalfBlocks(data), classes="picture")


class HalfBlocks:
    """A picture as cells of `▀`: the upper pixel is the cell's colour, the lower its background.
    The file is decoded once a size, not at every repaint of the detail."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._drawn: tuple[tuple[int, int], list[Segment]] | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        size = (options.max_width, options.height or options.max_width // 2)
        if self._drawn is None or self._drawn[0] != size:
            self._drawn = (size, self._segments(*size))
        yield from self._drawn[1]

    def _segments(self, width: int, height: int) -> list[Segment]:
        from PIL import Image

        with Image.open(io.BytesIO(self.data)) as image:
            picture = image.convert("RGB")
        picture.thumbnail((width, height * 2))  # (keeps its proportions: a cell is twice as tall as wide)
        rgb, row = picture.tobytes(), 3 * picture.width  # r, g, b a pixel, row by row
        segments = []
        for top in range(0, picture.height - 1, 2):
            for x in range(0, row, 3):
                upper, lower = rgb[top * row + x:top * row + x + 3], rgb[(top + 1) * row + x:(top + 1) * row + x + 3]
                segments.append(Segment("▀", Style(color=Color.from_rgb(*upper), bgcolor=Color.from_rgb(*lower))))
            segments.append(Segment.line())
        return segments

"""Rows given as a list (`store.views.shown.Shown`), kept apart from polars: the app's first
page is shown through it before polars is imported."""
from __future__ import annotations

from store.views.query import Row


class Listed:
    """Rows given whole, in their order."""

    complete, capped = True, False

    def __init__(self, rows: list[Row]) -> None:
        self._rows = list(rows)
        self.count: int | None = len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, start: int, count: int) -> list[Row]:
        return self._rows[start:start + count]

    def id_at(self, index: int) -> int:
        return int(self._rows[index]["id"])

    def index_of(self, row_id: int) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row["id"] == row_id), None)

    def read_more(self) -> bool:
        return False

    def count_rows(self) -> None:
        """Nothing: every row is here, counted."""

    def ids(self, cap: int) -> list[int] | None:
        return None if len(self._rows) > cap else [int(row["id"]) for row in self._rows]

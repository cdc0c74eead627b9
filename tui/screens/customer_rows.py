"""What the customer table shows, before the store is loaded (`preview`) and after
(`tables.CustomersScreen`): its columns, a row's style and the filter bar. Neither polars
nor the store: the first page is painted before they are imported."""
from __future__ import annotations

from rich.text import Text

from ..widgets.table import Column, Row

COLUMNS = [Column("number", "Number", 9), Column("name", "Name", 3, flex=True), Column("company", "Company", 3, flex=True),
           Column("kind", "Kind", 9, drop=2), Column("email", "Email", 4, flex=True), Column("phone", "Phone", 15, drop=1),
           Column("city", "City", 2, flex=True, drop=3), Column("tags", "Tags", 2, flex=True, drop=4),
           Column("active", "Active", 6)]
SEARCH_PLACEHOLDER = "search: number, name, company, email, phone"
# The filter bar of the table as it opens: nothing filtered, no sort.
UNFILTERED = [("kind", "all"), ("status", "all"), ("tag", "all"), ("sort", "none")]


def row_style(row: Row) -> str:
    return "" if row["active"] else "dim"


def filter_bar(labels: list[tuple[str, str]], search: str, shown: int, selected: int, total: int, *,
               at_least: bool = False) -> Text:
    """The line over a table: its filters, the search, and how many rows are shown of how
    many (`at_least`: more than `shown`, not counted)."""
    bar = Text()
    for label, value in labels:
        bar.append(f"{label}: ", style="dim")
        bar.append(value, style="bold" if value != "all" else "")
        bar.append("  ")
    if search:
        bar.append("search: ", style="dim")
        bar.append(search, style="bold")
        bar.append("  ")
    chosen = f" · {selected:,} selected" if selected else ""
    bar.append(f"{shown:,}{'+' if at_least else ''} shown{chosen} · {total:,} total", style="cyan")
    return bar

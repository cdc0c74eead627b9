"""What a table's rows are asked for: the search, the filters and the sort, the same for
the polars view (`records`) and the server's (`served`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CUSTOMER_COLUMNS = ("number", "name", "company", "kind", "email", "phone", "city", "tags", "active")
SOURCE_COLUMNS = ("name", "company", "email", "phone", "city", "origin", "imported")
# The columns of each table one may sort by (each has its index on a server: `searched.prepare`).
CUSTOMER_SORTABLE = ("number", "name", "company", "kind", "email", "city", "active")
SOURCE_SORTABLE = ("name", "company", "email", "city", "origin", "imported")

Row = dict[str, Any]  # one shown row: its id and its columns


class Interrupted(Exception):
    """A read of rows stopped by a newer query, which made it moot (`served.ServerRows.interrupt`)."""


@dataclass
class Query:
    text: str = ""  # found in the number, name, company, email or phone, whatever its case
    kind: str | None = None  # corporate / private
    active: bool | None = None
    tag: str | None = None
    sort: str | None = None  # a column; None: in id order
    descending: bool = False  # the sort reversed whole (ties too: by id, descending)

    @property
    def reversed(self) -> bool:
        """Whether the rows come last first: a sort's, descending (id order is never reversed)."""
        return self.descending and self.sort is not None

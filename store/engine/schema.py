"""What the engine needs to know of the records it keeps, given by the domain.

The engine stores documents (JSON objects) by table and id; it knows nothing
of customers. The domain describes its tables once, as a `Schema`: which
tables exist, which fields of the large tables are kept decoded for views
and lookups, which fields are identifying keys (and how two values count as
equal), and which field ties a document to its owner.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

# The engine's own bookkeeping table (sequence number, next ids, counters) and its one document.
META = "_meta"
META_ID = 1
# In the meta document: the rev it had when a custdesk that keeps every count of this one
# last wrote it (`counts_trusted`).
COUNTED_AT = "counted_at"


def counts_trusted(meta: Mapping[str, Any]) -> bool:
    """Whether every count in the meta document was kept by a custdesk that keeps them all
    (`COUNTED_AT`): a store no older one wrote since. An older custdesk's commit adds to the
    rev and leaves the counts it does not know (of fields together, of tags) as they were."""
    return COUNTED_AT in meta and meta[COUNTED_AT] == meta.get("rev", 0)


@dataclass(frozen=True)
class Schema:
    # Every table, in the order the snapshot writes them (META among them).
    tables: tuple[str, ...]
    # Large tables: the fields kept decoded as a polars frame (views, indexes).
    columns: Mapping[str, Mapping[str, pl.DataType]]
    # Document field → (key name, normaliser): looked up by `Indexes.find`/`key_map`.
    keys: Mapping[str, tuple[str, Callable[[str], str]]]
    # The tables whose documents are looked up by key.
    keyed_tables: tuple[str, ...]
    # The field of a child document that names its owner (indexed by `Indexes.child_ids`).
    owner_field: str
    # Stamped on every document written, so a later layout can tell old ones apart.
    version: int
    # Per table, what is counted with every commit: fields' values, fields' together, a list's values (see `tallies`).
    tallies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The field of a child document shared by several owners: the list of their ids
    # (indexed like `owner_field`, under each of them).
    owners_field: str | None = None
    # `normalise` for a whole column of an identifying field (same results, column-wise):
    # building an index of 1M documents then costs no Python call per value.
    key_column: Callable[[str, pl.Series], pl.Series] | None = None
    # What the files kept beside the documents are (`blobs`): names their folder or table.
    blobs: str = "blobs"
    # The field a counter's number is written in, `<prefix>-<n>` (`Transaction.next_counter`
    # names the counter after the table): a repaired store's counters never fall below it.
    numbered: str | None = None
    # Small tables a server's session reads when first needed, then holds as JSON text (each
    # document parsed when read), not at open as documents: a journal grows with every
    # commit (25,000 entries took 51 MB a session and 0.2 s of each open), a campaign names
    # every customer it goes to.
    read_when_needed: tuple[str, ...] = ()

    def owners(self, doc: Mapping[str, Any]) -> list[int]:
        """The ids of the owners a child document belongs to."""
        one = doc.get(self.owner_field)
        many: list[int] = (doc.get(self.owners_field) or []) if self.owners_field else []
        return [one, *many] if one is not None else many

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for name, _ in self.keys.values()))

    def normalise(self, field: str, value: object) -> str | None:
        """The form under which two values of an identifying field count as equal."""
        if value is None:
            return None
        key = self.keys[field][1](str(value).strip())
        return key or None

    def normalise_column(self, field: str, values: pl.Series) -> pl.Series:
        """`normalise` of every value of a column (None: null)."""
        if self.key_column is not None:
            return self.key_column(field, values)
        import polars as pl

        return pl.Series(values.name, [self.normalise(field, value) for value in values.to_list()], dtype=pl.String)

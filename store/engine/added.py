"""Documents added column-wise (`Table.extend`: an import's) to a table read from a server
one document at a time, held by the session until their commit puts them on the server
(`Table.settle`): their decoded fields, and their JSON text built only for a document read
(`ObjectTexts`): a million of them held as text took 0.6 GB more at the peak of an import.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from store.base.json_rows import ObjectTexts


@dataclass(frozen=True, eq=False)
class Added:
    """The documents of one or more `extend`s, in id order: `fields` (id and `frame()`'s
    columns), and per `extend` its first id and its documents' text (consecutive ids)."""
    fields: pl.DataFrame
    texts: tuple[tuple[int, ObjectTexts], ...]

    @classmethod
    def of(cls, fields: pl.DataFrame, texts: ObjectTexts) -> Added:
        """The documents whose fields are `fields` (ids consecutive, as `insert_rows` gives
        them), `texts` row for row."""
        ids = fields["id"]
        first = int(ids[0])
        if ids.len() != len(texts) or not (ids.diff().drop_nulls() == 1).all():
            raise ValueError(f"documents added from id {first} are not numbered one after another")
        return cls(fields, ((first, texts),))

    @property
    def first(self) -> int:
        return int(self.fields["id"][0])

    @property
    def last(self) -> int:
        return int(self.fields["id"][-1])

    def plus(self, later: Added) -> Added:
        return Added(pl.concat([self.fields, later.fields]), self.texts + later.texts)

    def text(self, doc_id: int) -> str | None:
        """The document's JSON text (None: not one of these)."""
        for first, texts in self.texts:
            if first <= doc_id < first + len(texts):
                return texts.at(doc_id - first)
        return None

    def documents(self) -> pl.DataFrame:
        """Every document's id and JSON text (`doc`), built now."""
        return pl.concat([pl.DataFrame({"id": pl.int_range(first, first + len(texts), dtype=pl.Int64, eager=True),
                                        "doc": texts.series()}, schema={"id": pl.Int64, "doc": pl.String})
                          for first, texts in self.texts])

    def before(self, stop: int) -> Added | None:
        """Those of ids below `stop` (None: none)."""
        fields = self.fields.filter(pl.col("id") < stop)
        if not fields.height:
            return None
        return Added(fields, tuple((first, texts.slice(0, stop - first)) for first, texts in self.texts if first < stop))

"""Reading a store's documents off the server: all of a table's as JSON text, the
decoded fields of a large one (taken out by the server, as `Schema.columns` says),
and those written since a commit (catching up)."""
from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import polars as pl
import psycopg
from psycopg import sql

from store.base.json_rows import JSON_TEXT
from store.base.sorting import SORTED_CHARACTERS
from store.engine import tallies

_TEXTS = {"id": pl.Int64(), "doc": pl.String()}


def read_texts(conn: psycopg.Connection[Any], table: str, ids: Collection[int] | None = None) -> pl.DataFrame:
    """(id, doc as JSON text) of the table's documents (all, or those of `ids`), in id order."""
    query = sql.SQL("COPY (SELECT id, doc::text FROM {} WHERE doc IS NOT NULL{} ORDER BY id) "
                    "TO STDOUT (FORMAT csv)").format(sql.Identifier(table), _some(ids))
    return _copied(conn, table, query, _TEXTS)


def read_order(conn: psycopg.Connection[Any], table: str, field: str) -> pl.Series:
    """The ids of the table's documents by their `field`'s text (its first `SORTED_CHARACTERS`,
    by their bytes, missing as empty), then id: sorted by the server, which sends nothing else
    (the expression is the customers' sort index's, `store.views.searched.prepare`, so that
    it is read in order)."""
    query = sql.SQL("COPY (SELECT id FROM {} WHERE doc IS NOT NULL "
                    "ORDER BY (left(coalesce(doc ->> {}, ''), {})) COLLATE \"C\", id) TO STDOUT (FORMAT csv)").format(
        sql.Identifier(table), sql.Literal(field), sql.Literal(SORTED_CHARACTERS))
    return _copied(conn, table, query, {"id": pl.Int64()})["id"]


def read_text(conn: psycopg.Connection[Any], table: str, doc_id: int) -> str | None:
    """One document as JSON text (None: there is none)."""
    row = conn.execute(sql.SQL("SELECT doc::text FROM {} WHERE id = %s AND doc IS NOT NULL").format(
        sql.Identifier(table)), (doc_id,)).fetchone()
    return None if row is None else str(row[0])


def read_holding(conn: psycopg.Connection[Any], table: str, field: str, values: Collection[int | str]) -> list[int]:
    """The ids of the table's documents whose `field` holds one of `values`, in id order
    (compared as `->>` gives them: the index on a related record's owner is of that)."""
    rows = conn.execute(sql.SQL("SELECT id FROM {} WHERE doc IS NOT NULL AND (doc ->> {}) = ANY(%s) ORDER BY id").format(
        sql.Identifier(table), sql.Literal(field)), ([str(value) for value in values],)).fetchall()
    return [int(row[0]) for row in rows]


def read_columns(conn: psycopg.Connection[Any], table: str, fields: Mapping[str, pl.DataType],
                 ids: Collection[int] | None = None) -> pl.DataFrame:
    """The decoded fields (`Schema.columns`) of the table's documents (all, or those of `ids`),
    taken out by the server (no document is sent whole): what decoding each would give."""
    exprs = [sql.SQL("id"), *(_field_sql(name, dtype) for name, dtype in fields.items())]
    query = sql.SQL("COPY (SELECT {} FROM {} WHERE doc IS NOT NULL{} ORDER BY id) TO STDOUT (FORMAT csv)").format(
        sql.SQL(", ").join(exprs), sql.Identifier(table), _some(ids))
    raw = _copied(conn, table, query, {"id": pl.Int64(), **{name: pl.String() for name in fields}})
    return raw.select("id", *(_typed(pl.col(name), dtype).alias(name) for name, dtype in fields.items()))


def _some(ids: Collection[int] | None) -> sql.Composable:
    """The condition that keeps the rows of `ids` (None: every row; a range: by its bounds)."""
    if ids is None:
        return sql.SQL("")
    if isinstance(ids, range) and ids.step == 1:
        return sql.SQL(" AND id >= {} AND id < {}").format(sql.Literal(ids.start), sql.Literal(ids.stop))
    return sql.SQL(" AND id = ANY({})").format(sql.Literal(list(ids)))


def _field_sql(name: str, dtype: pl.DataType) -> sql.Composable:
    field = sql.Literal(name)
    if dtype == pl.String:
        return sql.SQL("doc ->> {}").format(field)
    if dtype in (pl.Boolean, pl.Int64):  # (a value of another JSON type decodes as null)
        kind = sql.Literal("boolean" if dtype == pl.Boolean else "number")
        return sql.SQL("CASE jsonb_typeof(doc -> {}) WHEN {} THEN doc ->> {} END").format(field, kind, field)
    return sql.SQL("(doc -> {})::text").format(field)  # a list or an object: its JSON, decoded here


def _typed(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype in (pl.String, JSON_TEXT):  # (JSON_TEXT: `_field_sql`'s last case, the field's JSON)
        return text
    if dtype == pl.Boolean:
        return text == "true"
    if dtype == pl.Int64:
        return text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    return text.str.json_decode(dtype)


def _copied(conn: psycopg.Connection[Any], table: str, query: sql.Composed, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The rows COPY sends of `query` over `table`. Outside a transaction the table is locked
    for reading first: COPY takes its snapshot before it waits for the table, and a table
    rewritten meanwhile (the searched column added, `store.views.searched.prepare`) is empty
    to a snapshot taken before (an export read a chunk of no customers so)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return _copy(conn, query, schema)
    with conn.transaction():
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.Identifier(table)))
        return _copy(conn, query, schema)


def _copy(conn: psycopg.Connection[Any], query: sql.Composed, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    # Written into one buffer as they come: COPY gives a block a row, and ten million of them
    # held as a list to join cost 1.4 GB for 80 MB of ids.
    data = io.BytesIO()
    with conn.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            data.write(block)
    if not data.tell():
        return pl.DataFrame(schema=schema)
    data.seek(0)
    return pl.read_csv(data, has_header=False, schema=schema)


def changed_since(conn: psycopg.Connection[Any], tables: Iterable[str], seq: int, most: int) -> list[tuple[Any, ...]]:
    """(table, id, document as JSON; None: deleted) of the rows written after commit `seq`,
    at most `most` of them (more: the caller reads the store again instead)."""
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}::text, id, doc::text FROM {} WHERE seq > %(seq)s").format(sql.Literal(t), sql.Identifier(t))
        for t in tables)
    return conn.execute(query + sql.SQL(" LIMIT %(most)s"), {"seq": seq, "most": most}).fetchall()


def count_table(conn: psycopg.Connection[Any], table: str, names: Iterable[str]) -> dict[str, Any]:
    """The table's tally (`store.engine.tallies`), counted by the server in one pass: its
    documents grouped by the fields the names read (a list field by its whole list), each
    group then counted here as one document (no document is sent: read and decoded here,
    ten million customers' fields took gigabytes; one pass over them takes 10-25 s)."""
    names = list(names)
    fields = list(dict.fromkeys(f for name in names for f in tallies.fields_of(name)))
    lists = {f for name in names if name.endswith(tallies.EACH) for f in tallies.fields_of(name)}
    keys = [sql.SQL("CASE jsonb_typeof(doc -> {0}) WHEN 'array' THEN doc -> {0} END" if field in lists else
                    "doc ->> {0}").format(sql.Literal(field)) for field in fields]
    grouped = conn.execute(sql.SQL("SELECT {}count(*) FROM {} WHERE doc IS NOT NULL{}").format(
        sql.SQL("").join(sql.SQL("{}, ").format(key) for key in keys), sql.Identifier(table),
        sql.SQL(" GROUP BY ") + sql.SQL(", ").join(sql.Literal(i) for i in range(1, len(keys) + 1)) if keys else sql.SQL(""),
    )).fetchall()
    tally: dict[str, Any] = {"*": 0, **{name: {} for name in names}}
    for *values, n in grouped:  # (a group as its documents: counted as the engine counts each)
        tallies.count_doc(tally, names, dict(zip(fields, values, strict=True)), int(n))
    return tally

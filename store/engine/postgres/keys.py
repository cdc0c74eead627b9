"""Lookups the server answers: each keyed document's identifying keys kept beside it, so that a lookup by
key (`Indexes.holders`: is this email, number or phone held already?) is one indexed
query, not an index of every customer built in the session (48 s and 4 GB at 10,000,000).

The keys are those the session's own index holds (`Schema.normalise`, the domain's rules:
an email's IDNA domain, a VAT id's prefix …), worked out by the writer with each write and
kept as a JSON array of "name:key" strings in the column `keys`, under a GIN index; a
lookup asks `keys ?| array[...]`. A store made before the column is filled in at its first
open (`fill`), under the store's lock. The documents a customer owns (`children`) are found
through the index on their owner's field."""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import polars as pl
import psycopg
from psycopg import sql

from store.engine.indexes import Keyed, keys_of
from store.engine.schema import Schema

KEYS = "keys"
FILL_ROWS = 200_000  # documents filled in per statement (a store made before the column)

def doc_keys(keyed: Keyed, doc: Mapping[str, Any]) -> str:
    """The document's keys as the column keeps them (JSON text): those the session's index
    would hold (`indexes.keys_of`)."""
    return orjson.dumps([f"{name}:{key}" for name, key in keys_of(keyed, doc)]).decode()


def frame_keys(schema: Schema, fields: pl.DataFrame) -> pl.Series:
    """Each row's keys (JSON text) from its decoded identifying fields, column-wise (an
    import's 100k rows, a store filled in)."""
    parts = [pl.lit(f"{name}:") + schema.normalise_column(field, fields[field].cast(pl.String))
             for field, (name, _normalise) in schema.keys.items() if field in fields.columns]
    if not parts:
        return pl.Series(KEYS, ["[]"] * fields.height, dtype=pl.String)
    listed = fields.select(pl.concat_list(parts).list.drop_nulls().alias("k"))
    # A struct of one list encoded, its wrapper cut off: `{"k":[...]}` → `[...]`.
    encoded = listed.select(pl.struct("k").struct.json_encode().str.slice(5).str.strip_suffix("}").alias(KEYS))
    return encoded.to_series()


def keys_of_texts(schema: Schema, texts: pl.Series) -> pl.Series:
    """`frame_keys` of documents given as JSON text."""
    fields = pl.Struct({field: pl.String() for field in schema.keys})
    decoded = texts.to_frame("doc").select(pl.col("doc").str.json_decode(fields).alias("d")).unnest("d")
    return frame_keys(schema, decoded)


def lacking_column(conn: psycopg.Connection[Any], tables: Iterable[str]) -> list[str]:
    """Those of `tables` that have no keys column yet (one query, at every open)."""
    have = {str(row[0]) for row in conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND column_name = %s", (KEYS,))}
    return [table for table in tables if table not in have]


def add_column(conn: psycopg.Connection[Any], schema: Schema, table: str) -> None:
    """The column, filled in (`fill`), then its index (in the caller's transaction, under the
    store's lock: minutes at 10,000,000 documents, once)."""
    name = sql.Identifier(table)
    conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} jsonb").format(name, sql.Identifier(KEYS)))
    fill(conn, schema, table)
    conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ({}) WHERE doc IS NOT NULL").format(
        sql.Identifier(f"{table}_keys"), name, sql.Identifier(KEYS)))


def fill(conn: psycopg.Connection[Any], schema: Schema, table: str) -> int:
    """Work out the keys of every document that has none (a store made before the column);
    how many were filled in."""
    fields = [field for field in schema.keys if field in schema.columns.get(table, {})]
    name = sql.Identifier(table)
    filled, after = 0, -1
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS custdesk_keys (id bigint, keys jsonb) ON COMMIT DROP")
    while True:
        query = sql.SQL("COPY (SELECT id, {} FROM {} WHERE id > {} AND doc IS NOT NULL AND {} IS NULL "
                        "ORDER BY id LIMIT {}) TO STDOUT (FORMAT csv)").format(
            sql.SQL(", ").join(sql.SQL("doc ->> {}").format(sql.Literal(f)) for f in fields), name,
            sql.Literal(after), sql.Identifier(KEYS), sql.Literal(FILL_ROWS))
        with conn.cursor() as cur, cur.copy(query) as copy:
            data = b"".join(bytes(block) for block in copy)
        if not data:
            return filled
        rows = pl.read_csv(io.BytesIO(data), has_header=False, schema={"id": pl.Int64(), **{f: pl.String() for f in fields}})
        keyed = pl.DataFrame([rows["id"], frame_keys(schema, rows)])
        with conn.cursor() as cur:
            cur.execute("TRUNCATE custdesk_keys")
            with cur.copy("COPY custdesk_keys (id, keys) FROM STDIN (FORMAT csv)") as copy:
                copy.write(keyed.write_csv(include_header=False))
            cur.execute(sql.SQL("UPDATE {} AS t SET {} = k.keys FROM custdesk_keys k WHERE t.id = k.id").format(
                name, sql.Identifier(KEYS)))
        filled += rows.height
        after = int(rows["id"][-1])


def holders(conn: psycopg.Connection[Any], table: str, wanted: Iterable[str]) -> list[tuple[int, list[str]]]:
    """(id, its keys) of each document holding any of the keys `wanted` ("name:key")."""
    rows = conn.execute(sql.SQL("SELECT id, {} FROM {} WHERE {} ?| %s AND doc IS NOT NULL").format(
        sql.Identifier(KEYS), sql.Identifier(table), sql.Identifier(KEYS)), (list(wanted),)).fetchall()
    return [(int(row[0]), list(row[1])) for row in rows]


def children(conn: psycopg.Connection[Any], schema: Schema, table: str, owner_id: int) -> list[int]:
    """The ids of `table`'s documents owned by `owner_id` (`Schema.owners`), found through the
    index on the owner's field (`tables.create`)."""
    owned = sql.SQL("(doc ->> {}) = %(owner)s").format(sql.Literal(schema.owner_field))
    shared = schema.owners_field
    if shared is not None and shared in schema.columns.get(table, {}):
        owned = sql.SQL("({} OR doc -> {} @> %(owners)s::jsonb)").format(owned, sql.Literal(shared))
    rows = conn.execute(sql.SQL("SELECT id FROM {} WHERE doc IS NOT NULL AND {}").format(sql.Identifier(table), owned),
                        {"owner": str(owner_id), "owners": f"[{owner_id}]"}).fetchall()
    return [int(row[0]) for row in rows]

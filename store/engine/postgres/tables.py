"""The store's tables on the server: each store table a SQL table `(id, rev, seq,
updated_at, doc jsonb)` in the connection's schema, made when missing, and the state
row (`custdesk_state`: the last commit's seq, the horizon of forgotten deletions)."""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from store.base.errors import StoreError
from store.engine.schema import Schema

STATE = "custdesk_state"


def blobs_table(blobs: str) -> str:
    """The table of the store's blobs (`Schema.blobs`)."""
    return f"custdesk_{blobs}"


def present(conn: psycopg.Connection[Any]) -> set[str]:
    """The tables of the connection's schema."""
    return {str(row[0]) for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def complete(found: set[str], schema: Schema, blobs: str) -> bool:
    """Whether every table of the store is there (then opening makes nothing)."""
    return {STATE, *schema.tables, blobs} <= found


def create(conn: psycopg.Connection[Any], schema: Schema, found: set[str], *, where: str, pg_schema: str) -> None:
    """The store's tables, made when missing, under the lock (two first sessions at once)."""
    foreign = [t for t in schema.tables if t in found]
    if STATE not in found and foreign:
        raise StoreError(f"{where}: schema '{pg_schema}' already has a table '{foreign[0]}' that is not "
                         "a custdesk store's; choose another database or schema")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
                 "seq bigint NOT NULL, horizon bigint NOT NULL, schema_version integer NOT NULL)")
    conn.execute(f"INSERT INTO {STATE} (seq, horizon, schema_version) VALUES (0, 0, %s) "
                 "ON CONFLICT DO NOTHING", (schema.version,))
    for table in schema.tables:
        name = sql.Identifier(table)
        conn.execute(sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY, rev bigint NOT NULL, seq bigint NOT NULL, "
            "updated_at timestamptz NOT NULL DEFAULT now(), doc jsonb)").format(name))
        conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (seq)").format(sql.Identifier(f"{table}_seq"), name))
        if schema.owner_field in schema.columns.get(table, {}):
            # Hash: owners are looked up by equality (`keys.children`), and a hash insert compares
            # no text under the database's collation. Partial: a document without an owner costs
            # nothing; `doc ->> 'customer_id' = …` implies the condition, so lookups use it.
            conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hash ((doc ->> {})) "
                                 "WHERE (doc ->> {}) IS NOT NULL").format(
                sql.Identifier(f"{table}_{schema.owner_field}"), name, sql.Literal(schema.owner_field),
                sql.Literal(schema.owner_field)))
    for table in shared_tables(schema):
        conn.execute(owners_index(schema, table))


def shared_tables(schema: Schema) -> list[str]:
    """The tables whose records name many owners (`Schema.owners_field`: an export's customers)."""
    return [table for table in schema.tables if schema.owners_field in schema.columns.get(table, {})]


def owners_index(schema: Schema, table: str) -> sql.Composed:
    """The GIN index over a shared record's owners: a customer's lookup of its records
    (`keys.children`) reads it, not every record (710 ms a lookup without it, at 2,000
    records of 10,000 customers each: two exports of ten million). A store made before it
    gets it from the app, CONCURRENTLY (`store.views.searched.prepare`: the same index)."""
    assert schema.owners_field is not None
    return sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ((doc -> {}) jsonb_path_ops) "
                   "WITH (fastupdate = off)").format(
        sql.Identifier(f"{table}_{schema.owners_field}"), sql.Identifier(table), sql.Literal(schema.owners_field))


def state(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """(the last commit's seq, the horizon: deletions up to it are forgotten)."""
    row = conn.execute(f"SELECT seq, horizon FROM {STATE}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def forget_deletions(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> None:
    """Drop the deleted documents' markers; a session that saw none of them (behind the
    horizon) reads the store anew."""
    for table in tables:
        conn.execute(sql.SQL("DELETE FROM {} WHERE doc IS NULL").format(sql.Identifier(table)))
    conn.execute(f"UPDATE {STATE} SET horizon = seq")

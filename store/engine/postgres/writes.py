"""Writing a commit to the server, in its SQL transaction: the documents COPYed into a
staging table, then written set-based. An update or delete matches `id` and the `rev`
the verb read, so a row changed behind the lock is refused, never overwritten; the
rows `insert_rows` numbered go straight into their tables. The state row takes the
commit's seq, which is NOTIFYed to listening sessions."""
from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import polars as pl
import psycopg
from psycopg import sql

from store.base.bulk import made_ahead
from store.base.errors import ConcurrentChange
from store.base.json_rows import ObjectTexts, object_texts
from store.engine.indexes import keyed_fields
from store.engine.postgres.keys import KEYS, doc_keys, frame_keys
from store.engine.postgres.tables import STATE
from store.engine.schema import Schema
from store.engine.table import dumps
from store.engine.transaction import Transaction

STAGING = "custdesk_staging"
PATCHES = "custdesk_patches"
# Rows written to COPY as CSV text at a time.
COPY_ROWS = 20_000
# A table a commit writes this many rows of is analyzed in it (`_analyzed`).
ANALYZED_FROM = 20_000
_STAGED = {"tbl": pl.String(), "id": pl.Int64(), "old_rev": pl.Int64(), "rev": pl.Int64(), "doc": pl.String(),
           "keys": pl.String()}


def create_staging(conn: psycopg.Connection[Any]) -> None:
    """The session's staging tables (emptied by each commit): of documents, and of patches."""
    conn.execute(f"CREATE TEMP TABLE {STAGING} (tbl text, id bigint, old_rev bigint, rev bigint, doc jsonb, "
                 "keys jsonb) ON COMMIT DELETE ROWS")
    conn.execute(f"CREATE TEMP TABLE {PATCHES} (tbl text, id bigint, old_rev bigint, rev bigint, doc jsonb, unset text[]) "
                 "ON COMMIT DELETE ROWS")


def write(conn: psycopg.Connection[Any], tx: Transaction, seq: int, schema: Schema, *, where: str,
          channel: str) -> set[str]:
    """Write the transaction's documents as commit `seq`, a keyed table's with their keys
    (`keys`); returns the tables written (none: nothing changed, and nothing is written)."""
    staged = _staged(tx, schema)
    first = next(staged, None)
    fresh = [(table, ids, texts) for table, ids, texts in tx.inserted() if len(ids)]
    deleted, patched = tx.deleted_runs(), tx.patched()
    if first is None and not fresh and not deleted and not patched:
        return set()
    with conn.cursor() as cur:
        for table, ids, texts in fresh:
            # Documents `insert_rows` numbered after every id ever given: nothing to match
            # them against, so they go straight into their table (an import's 100k rows).
            keyed = table in schema.keyed_tables
            columns = "id, rev, seq, doc" + (", " + KEYS if keyed else "")
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                    sql.Identifier(table), sql.SQL(columns))) as copy:
                # The next part built while the server takes in the last: each took as long
                # as the other (a million prospects into ten million customers: 44 s of COPY).
                for part in made_ahead(_fresh_parts(schema, table, ids, texts, seq)):
                    copy.write(part)
        kinds = _copied(cur, itertools.chain([first], staged)) if first is not None else _kinds(pl.DataFrame(schema=_STAGED))
        _analyzed(cur, kinds, fresh, deleted, patched)
        for table, statement, expected, params in [*_statements(kinds, schema.keyed_tables),
                                                   *_run_deletes(deleted, schema.keyed_tables), *_patches(cur, patched)]:
            cur.execute(statement, {"seq": seq, "tbl": table, **params})
            if cur.rowcount != expected:
                raise ConcurrentChange(f"{where}: {expected - cur.rowcount:,} record(s) of '{table}' were "
                                       "changed by someone else meanwhile; nothing was saved: try again")
        cur.execute(f"UPDATE {STATE} SET seq = %s", (seq,))
        cur.execute("SELECT pg_notify(%s, %s)", (channel, str(seq)))
    return (set(kinds["tbl"]) | {table for table, _ids, _texts in fresh} | {table for table, *_ in deleted}
            | {table for table, *_ in patched})


def _fresh_parts(schema: Schema, table: str, ids: pl.Series, texts: ObjectTexts, seq: int) -> Iterator[memoryview]:
    """The CSV text of the numbered documents' rows of `table` (`write`), `COPY_ROWS` at a
    time, its text built then: a million documents as one text took 1.5 GB more, their
    keys 0.5 GB."""
    for start in range(0, len(ids), COPY_ROWS):
        docs = texts.slice(start, COPY_ROWS)
        part = pl.DataFrame({"id": ids.slice(start, COPY_ROWS), "rev": 1, "seq": seq, "doc": docs.series()})
        if table in schema.keyed_tables:  # (from the fields the documents were written from: decoding their text took 6 s a million)
            part = part.with_columns(frame_keys(schema, docs.frame))
        text = io.BytesIO()
        part.write_csv(text, include_header=False)  # (as UTF-8 bytes: no str of it made, then encoded)
        yield text.getbuffer()


def _copied(cur: psycopg.Cursor[Any], parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """COPY the staged rows into the staging table a part at a time; how many of each kind
    each table's are (`_kinds`)."""
    counted = []
    with cur.copy(f"COPY {STAGING} (tbl, id, old_rev, rev, doc, keys) FROM STDIN (FORMAT csv)") as copy:
        for part in parts:
            copy.write(part.write_csv(include_header=False))
            counted.append(_kinds(part))
    return pl.concat(counted).group_by("tbl", maintain_order=True).sum()


def _patches(cur: psycopg.Cursor[Any], patched: list[tuple[str, pl.DataFrame, pl.DataFrame]]
             ) -> Iterator[tuple[str, sql.Composed, int, dict[str, int]]]:
    """Per table `Transaction.patch` changed column-wise: its patches COPYed (each row's
    values as a JSON object, the fields a null leaves out named), then one statement, which
    must find each of its rows at the rev the verb read. A keyed table's keys stay: no
    patched field is keyed."""
    for table, values, before in patched:
        fields = [name for name in values.columns if name != "id"]
        assert all(name.isidentifier() for name in fields), "field names go into an array literal"
        rows = values.select(pl.lit(table).alias("tbl"), "id", before["rev"].alias("old_rev"), "rev",
                             object_texts(values.select(fields)).alias("doc"),
                             pl.concat_str([pl.lit("{"), pl.concat_str(
                                 [pl.when(pl.col(name).is_null()).then(pl.lit(name)) for name in fields],
                                 separator=",", ignore_nulls=True), pl.lit("}")]).alias("unset"))
        with cur.copy(f"COPY {PATCHES} (tbl, id, old_rev, rev, doc, unset) FROM STDIN (FORMAT csv)") as copy:
            for part in rows.iter_slices(COPY_ROWS):
                copy.write(part.write_csv(include_header=False))
        yield table, sql.SQL(
            "UPDATE {} AS t SET rev = p.rev, seq = %(seq)s, doc = (t.doc - p.unset) || p.doc, updated_at = now() "
            "FROM " + PATCHES + " p WHERE p.tbl = %(tbl)s AND t.id = p.id AND t.rev = p.old_rev AND t.doc IS NOT NULL"
        ).format(sql.Identifier(table)), values.height, {}


def _analyzed(cur: psycopg.Cursor[Any], kinds: pl.DataFrame, fresh: list[tuple[str, pl.Series, ObjectTexts]],
              deleted: list[tuple[str, int, int, int]], patched: list[tuple[str, pl.DataFrame, pl.DataFrame]]) -> None:
    """Count again a table the commit adds `ANALYZED_FROM` rows to or more, or changes as many
    of while the server counts fewer (its rows sampled, in the transaction: its own inserts
    counted), before the staged rows are matched with it. Planned on the counts of before (a
    store's first import of a million prospects: none), the undo of that import walked an
    index of a million entries for each of its million rows (stopped after 12 minutes; 32 s
    after an ANALYZE). A table another session holds for upkeep (an index being made) is left
    as it is, and one this role does not own too (the server says so, and counts nothing: its
    own upkeep does, later). The counts are the server's own, outside the transaction: a
    commit that fails after them leaves them counting its rows until that upkeep."""
    added = {table: inserts for table, inserts, _updates, _deletes in kinds.iter_rows()}
    changed = {table: updates + deletes for table, _inserts, updates, deletes in kinds.iter_rows()}
    for table, ids, _texts in fresh:
        added[table] = added.get(table, 0) + len(ids)
    for table, first, stop, _rev in deleted:
        changed[table] = changed.get(table, 0) + stop - first
    for table, values, _before in patched:
        changed[table] = changed.get(table, 0) + values.height
    for table in added.keys() | changed.keys():
        many = changed.get(table, 0)
        if added.get(table, 0) >= ANALYZED_FROM or (many >= ANALYZED_FROM and many >= _counted(cur, table)):
            cur.execute(sql.SQL("ANALYZE (SKIP_LOCKED) {} (id, rev)").format(sql.Identifier(table)))


def _counted(cur: psycopg.Cursor[Any], table: str) -> float:
    """How many rows the server last counted the table to hold (none yet: 0)."""
    row = cur.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = to_regclass(quote_ident(%s))",
                      (table,)).fetchone()
    return float(row[0]) if row else 0.0


def _staged(tx: Transaction, schema: Schema) -> Iterator[pl.DataFrame]:
    """(table, id, rev before, rev after, document as JSON, its keys) of every document written
    but those `insert_rows` added, `COPY_ROWS` at a time (100,000 deactivated customers' JSON
    held at once, then copied as a frame and as CSV: 220 MB more); absent before: no old rev;
    deleted: no document."""
    keyed, keyed_tables = keyed_fields(schema), set(schema.keyed_tables)
    rows = []
    for table, doc_id, old, new in tx.written():
        rows.append((table, doc_id, None if old is None else old.get("rev", 0), None if new is None else new.get("rev", 0),
                     None if new is None else dumps(new).decode(),
                     None if new is None or table not in keyed_tables else doc_keys(keyed, new)))
        if len(rows) == COPY_ROWS:
            yield pl.DataFrame(rows, schema=_STAGED, orient="row")
            rows = []
    if rows:
        yield pl.DataFrame(rows, schema=_STAGED, orient="row")


def _kinds(staged: pl.DataFrame) -> pl.DataFrame:
    """Per table of the staged rows: how many are inserts, updates and deletes."""
    return staged.group_by("tbl", maintain_order=True).agg(
        (pl.col("old_rev").is_null() & pl.col("doc").is_not_null()).sum().alias("insert"),
        (pl.col("old_rev").is_not_null() & pl.col("doc").is_not_null()).sum().alias("update"),
        pl.col("doc").is_null().sum().alias("delete"))


def _run_deletes(deleted: list[tuple[str, int, int, int]], keyed_tables: tuple[str, ...]
                 ) -> Iterator[tuple[str, sql.Composed, int, dict[str, int]]]:
    """Per run `Transaction.delete_run` deleted: one statement, which must find each of its
    rows at the rev the verb read."""
    for table, first, stop, rev in deleted:
        yield table, sql.SQL(
            "UPDATE {} AS t SET " + _deleting(table in keyed_tables) +
            " WHERE id >= %(first)s AND id < %(stop)s AND rev = %(rev)s AND doc IS NOT NULL").format(
            sql.Identifier(table)), stop - first, {"first": first, "stop": stop, "rev": rev}


def _statements(kinds: pl.DataFrame, keyed_tables: tuple[str, ...]) -> Iterator[tuple[str, sql.Composed, int, dict[str, int]]]:
    """Per table (`kinds`: how many rows of each kind it has staged): the inserts, updates and
    deletes, each one set-based statement, with how many rows each must touch. Updates and
    deletes match the rev the verb read."""
    for table, inserts, updates, deletes in kinds.iter_rows():
        name = sql.Identifier(table)
        # A keyed table's rows take their keys along; a deleted one keeps none.
        keyed = table in keyed_tables
        columns = ", keys" if keyed else ""
        if inserts:
            # (a document undone back into existence takes the place of its deletion marker)
            yield table, sql.SQL(
                "INSERT INTO {} AS t (id, rev, seq, doc" + columns + ") SELECT id, rev, %(seq)s, doc" + columns +
                " FROM " + STAGING + " WHERE tbl = %(tbl)s AND old_rev IS NULL AND doc IS NOT NULL ON CONFLICT (id) "
                "DO UPDATE SET rev = excluded.rev, seq = excluded.seq, doc = excluded.doc, updated_at = now()" +
                _keys_from("excluded", keyed) + " WHERE t.doc IS NULL").format(name), inserts, {}
        if updates:
            yield table, sql.SQL(
                "UPDATE {} AS t SET rev = s.rev, seq = %(seq)s, doc = s.doc, updated_at = now()" + _keys_from("s", keyed) +
                " FROM " + STAGING + " s WHERE s.tbl = %(tbl)s AND s.old_rev IS NOT NULL AND s.doc IS NOT NULL "
                "AND t.id = s.id AND t.rev = s.old_rev AND t.doc IS NOT NULL").format(name), updates, {}
        if deletes:
            yield table, sql.SQL(
                "UPDATE {} AS t SET " + _deleting(keyed) + " FROM " + STAGING + " s WHERE s.tbl = %(tbl)s "
                "AND s.doc IS NULL AND t.id = s.id AND t.rev = s.old_rev AND t.doc IS NOT NULL").format(name), deletes, {}


def _deleting(keyed: bool) -> str:
    """The SET clause that leaves a row its deletion marker (a keyed table's without its keys)."""
    return "seq = %(seq)s, doc = NULL, updated_at = now()" + (", keys = NULL" if keyed else "")


def _keys_from(source: str, keyed: bool) -> str:
    """The SET clause that takes a keyed table's keys from `source` (none for another table)."""
    return f", keys = {source}.keys" if keyed else ""

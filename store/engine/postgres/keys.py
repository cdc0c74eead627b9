"""Lookups the server answers: each keyed document's identifying keys kept beside it, so that a lookup by
key (`Indexes.holders`: is this email, number or phone held already?) is one indexed
query, not an index of every customer built in the session (48 s and 4 GB at 10,000,000).

The keys are those the session's own index holds (`Schema.normalise`, the domain's rules:
an email's IDNA domain, a VAT id's prefix …), worked out by the writer with each write and
kept as a JSON array of "name:key" strings in the column `keys`, under a GIN index that
takes each new entry at once; a lookup probes the index once per key (`holders`), and the
keys many documents share are grouped there too (`shared`). A store made before the column
is filled in at its first open (`add_column`), under the store's lock, and its index tuned
(`tune`). The documents a customer owns (`children`) are found through the index on their
owner's field."""
from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import polars as pl
import psycopg
from psycopg import sql

from store.engine.indexes import Keyed, keys_of
from store.engine.postgres.tables import STATE
from store.engine.schema import Schema

KEYS = "keys"
FILL_ROWS = 200_000  # documents filled in per statement (a store made before the column)
# `KeptAnswers` keeps up to `KEPT_ANSWERS` answers to lookups of more than `KEPT_FROM` keys
# (up to 50,000 each, `indexes.SERVER_KEYS`; asking a few again takes milliseconds), naming
# `KEPT_HOLDERS` documents in all (an import of new people names few).
KEPT_FROM = 64
KEPT_ANSWERS = 512
KEPT_HOLDERS = 20_000


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


def kept(conn: psycopg.Connection[Any], tables: Iterable[str]) -> dict[str, tuple[bool, bool]]:
    """Per table of `tables`: (whether it has the keys column, whether its index takes new
    entries at once: `tune`); one query, at every open."""
    found = {str(row[0]): (bool(row[1]), bool(row[2])) for row in conn.execute(
        "SELECT t.relname, a.attname IS NOT NULL, coalesce(i.reloptions @> array['fastupdate=off'], false) "
        "FROM pg_class t LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = %s AND NOT a.attisdropped "
        "LEFT JOIN pg_class i ON i.relname = t.relname || '_' || %s AND i.relnamespace = t.relnamespace "
        "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)", (KEYS, KEYS, list(tables)))}
    return {table: found.get(table, (False, False)) for table in tables}


def add_column(conn: psycopg.Connection[Any], schema: Schema, table: str) -> None:
    """The column, filled in (`fill`), then its index (in the caller's transaction, under the
    store's lock: minutes at 10,000,000 documents, once)."""
    name = sql.Identifier(table)
    conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} jsonb").format(name, sql.Identifier(KEYS)))
    fill(conn, schema, table)
    conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ({}) WITH (fastupdate = off) "
                         "WHERE doc IS NOT NULL").format(sql.Identifier(f"{table}_{KEYS}"), name, sql.Identifier(KEYS)))


def tune(conn: psycopg.Connection[Any], schema: Schema, table: str) -> None:
    """Have the keys index of a store made before take each new entry at once (by default
    GIN queues them, up to 4 MB, and every lookup reads the whole queue: after an import a
    probe took 0.8 ms instead of 1.4 µs), its queue emptied; and drop each key field's own
    index, made before the keys were kept and read by none. Only the tables' owner may: for
    another role nothing changes (lookups work, more slowly after imports)."""
    index = f"{table}_{KEYS}"
    try:
        with conn.transaction():
            conn.execute(sql.SQL("ALTER INDEX {} SET (fastupdate = off)").format(sql.Identifier(index)))
            conn.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,))
            for field in schema.keys:
                conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(f"{table}_{field}")))
    except psycopg.errors.InsufficientPrivilege:
        pass


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


# The last commit as the server's state row names it: its seq, and the row version's
# transaction (a seq repeated with other contents, after a restore or a writer that took no
# lock, is another commit).
Commit = tuple[int, str]


def last_commit(conn: psycopg.Connection[Any]) -> Commit:
    row = conn.execute(f"SELECT seq, xmin::text FROM {STATE}").fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def holders(conn: psycopg.Connection[Any], table: str, wanted: str) -> tuple[Commit, list[tuple[int, list[str]]]]:
    """(the last commit the answer reads, (id, its keys) of each document holding any of the
    keys `wanted`: a JSON array of "name:key")."""
    # One probe of the keys' index per key wanted, 2.4 µs each at 10,000,000 customers: `?|`
    # with thousands of keys is planned as a scan testing each against every row (22 s for
    # 30k keys against 20k customers), and so is a plain join at millions (the subquery's
    # OFFSET keeps it a probe per key); compiling the statement (JIT) took longer than 10,000 probes.
    statement = sql.SQL("SELECT DISTINCT t.id, t.{keys} FROM jsonb_array_elements_text(%s::jsonb) AS w(k) CROSS JOIN LATERAL "
                        "(SELECT id, {keys} FROM {table} WHERE {keys} ? w.k AND doc IS NOT NULL OFFSET 0) AS t").format(
        keys=sql.Identifier(KEYS), table=sql.Identifier(table))
    with conn.transaction():
        # (the state's seq and the documents read in one snapshot: the answer is that commit's)
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute("SET LOCAL jit = off")
        commit = last_commit(conn)
        # (as one JSON text: psycopg quotes a list of a million keys one by one, in Python: 14 s)
        rows = conn.execute(statement, (wanted,)).fetchall()
    return commit, [(int(row[0]), list(row[1])) for row in rows]


class KeptAnswers:
    """`holders`' answers as of the last commit they read, to be given again while that
    commit is still the server's last: the server would answer the same. An import's plan
    looks up a million keys (8 s at 10,000,000 customers), some twice (the key of its mode,
    then every identity), and its commit looks them up again under the lock (another
    session's commit meanwhile may hold them). Answers naming many documents are not kept
    (an update of a million records: their keys would be held twice)."""

    def __init__(self) -> None:
        self._commit: Commit | None = None
        self._kept: dict[tuple[str, bytes], list[tuple[int, list[str]]]] = {}
        self._holders = 0  # (named by the answers kept)
        self._lock = threading.Lock()

    def given(self, table: str, wanted: str) -> tuple[Commit, list[tuple[int, list[str]]]] | None:
        """(the commit it read, the answer) kept for `wanted` (`holders`' JSON text) of `table`,
        if any. The answer is the one kept, not a copy: read it only."""
        key = (table, _digest(wanted))
        with self._lock:
            found = self._kept.get(key)
            return None if found is None or self._commit is None else (self._commit, found)

    def keep(self, table: str, wanted: list[str], asked: str, commit: Commit, found: list[tuple[int, list[str]]]) -> None:
        """Keep `holders`' answer to `wanted` (`asked`: as its JSON text), read as of `commit`
        (another commit's forgets those kept), unless the keys were few, or the answers kept
        would be too many or name too many documents."""
        if len(wanted) <= KEPT_FROM:
            return
        key = (table, _digest(asked))
        with self._lock:
            if commit != self._commit:
                self._commit, self._kept, self._holders = commit, {}, 0
            holders = self._holders - len(self._kept.get(key, ())) + len(found)
            if holders <= KEPT_HOLDERS and (key in self._kept or len(self._kept) < KEPT_ANSWERS):
                self._kept[key], self._holders = found, holders


def _digest(wanted: str) -> bytes:
    # (a million keys as their text would take 80 MB; two lists of keys with one digest, never)
    return hashlib.blake2b(wanted.encode(), digest_size=20).digest()


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


def shared(conn: psycopg.Connection[Any], tables: Iterable[str], names: Iterable[str],
           most: int) -> list[tuple[str, list[tuple[str, int]]]]:
    """Each key of a name in `names` ("name:key") that between two and `most` documents of
    `tables` hold, with them as (table, id): grouped on the server, which reads every
    document's keys once (34 s at 10,000,000 customers) and sends only the keys shared."""
    held = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {} AS t, id, e AS k FROM {}, jsonb_array_elements_text({}) AS e "
                "WHERE doc IS NOT NULL AND split_part(e, ':', 1) = ANY(%(names)s)").format(
            sql.Literal(table), sql.Identifier(table), sql.Identifier(KEYS)) for table in tables)
    statement = sql.SQL("SELECT k, array_agg(t ORDER BY t, id), array_agg(id ORDER BY t, id) FROM ({}) AS held "
                        "GROUP BY k HAVING count(*) BETWEEN 2 AND %(most)s ORDER BY k").format(held)
    with conn.transaction():
        conn.execute("SET LOCAL jit = off")
        conn.execute("SET LOCAL work_mem = '256MB'")  # (the groups in memory: a sort on disk took twice as long)
        rows = conn.execute(statement, {"names": list(names), "most": most}).fetchall()
    # (a document holds a key twice when its phone and mobile are one number: counted once)
    grouped = [(str(key), sorted(set(zip(map(str, found), map(int, ids), strict=True)))) for key, found, ids in rows]
    return [(key, holders) for key, holders in grouped if len(holders) >= 2]

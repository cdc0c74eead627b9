"""`custdesk migrate SRC DST`: a store copied between backends (a file ↔ PostgreSQL).

Every document keeps its id and rev (a customer opened in the app before the move
is still the same version after it), the meta document its next ids, counters
and counts, and the pictures go along. The copy is one commit into an empty
target, read back afterwards and compared with the source: the same number of
documents in every table and the same checksum over all of them.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from store.base.errors import StoreError
from store.engine import META, META_ID, Document, Engine, open_engine
from store.paths import shown_location
from store.schema import SCHEMA


def fingerprint(tables: Mapping[str, Mapping[int, Document]]) -> tuple[dict[str, int], str]:
    """(documents per table, SHA-256 over every document): the same for two stores that
    hold the same documents, whatever the backend's key order or layout. The engine's own
    meta document (its rev counts the target's commits) is left out; its ids and counters
    are compared on their own."""
    digest = hashlib.sha256()
    counts = {}
    for table in sorted(t for t in tables if t != META):
        rows = tables[table]
        counts[table] = len(rows)
        for doc_id in sorted(rows):
            digest.update(orjson.dumps([table, doc_id, rows[doc_id]], option=orjson.OPT_SORT_KEYS))
    return counts, digest.hexdigest()


def _bookkeeping(engine: Engine) -> dict[str, Any]:
    meta = engine.tables[META].get(META_ID) or {}
    return {"next_ids": meta.get("next_ids") or {}, "counters": meta.get("counters") or {}}


def migrate(source: str | Path, target: str | Path) -> dict[str, Any]:
    """Copy the store at `source` into the new or empty store at `target`; returns what was
    copied and checked. Refused (nothing written) when the target holds data."""
    if str(source) == str(target):
        raise StoreError(f"{shown_location(source)}: the source and the target are the same store")
    src = open_engine(source, SCHEMA, create=False)  # a mistyped source is refused, not made empty and copied
    try:
        dst = open_engine(target, SCHEMA)
        try:
            _copy(src, dst, shown_location(target))
        finally:
            dst.close()
        expected, books = fingerprint(src.tables), _bookkeeping(src)
        blobs = src.blobs.names()
    finally:
        src.close()
    again = open_engine(target, SCHEMA)  # read back from the target's own storage, not from memory
    try:
        found, kept_books, kept = fingerprint(again.tables), _bookkeeping(again), again.blobs.names()
    finally:
        again.close()
    if (found, kept_books, kept) != (expected, books, blobs):
        raise StoreError(f"{shown_location(target)}: the copy does not match the source (counts, checksum, counters "
                         "or pictures differ); do not use it: empty it and migrate again")
    return {"source": shown_location(source), "target": shown_location(target), "documents": expected[0],
            "pictures": len(blobs), "checksum": expected[1], **books}


def _copy(src: Engine, dst: Engine, where: str) -> None:
    with dst.transaction() as tx:
        # Looked at under the target's lock: nobody can write into it between the look and the copy.
        if any(len(tx.table(table)) for table in SCHEMA.tables if table != META):
            raise StoreError(f"{where}: the target store already holds data; migrate into a new, empty one")
        for table in SCHEMA.tables:
            if table != META:
                for doc_id, doc in src.tables[table].items():
                    tx.restore(table, doc_id, doc)
        meta = src.tables[META].get(META_ID)
        if meta is not None:
            tx.adopt_meta(meta)
        for name in src.blobs.names():
            data = src.blobs.read(name)
            if data is not None:
                dst.blobs.write(name, data)

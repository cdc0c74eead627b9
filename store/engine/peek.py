"""The engine's meta document as committed, read without the lock and without any table.

`custdesk stats` needs only the counts the engine keeps in its meta document
(`tallies`): the snapshot's table of contents gives that small table's bytes,
and the change log's records after it give the newer versions. Every table's
bytes are checked against their CRC all the same (summed, not parsed: ~0.1 s
per 100 MB), so a damaged store is refused here as at any open, naming
`custdesk repair`. Nothing here loads polars or a large table.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from store.engine.changelog import ChangeLog
from store.engine.schema import META, META_ID
from store.engine.toc import check_file, damaged, is_toc, looks_like_toc, parse_toc


def peek_meta(path: str | Path) -> dict[str, Any] | None:
    """The meta document, or None when there is no store file or it has no table of contents
    (a file TinyDB wrote: it must be read whole)."""
    path = Path(os.path.realpath(path))
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; read with pread
    except FileNotFoundError:
        return None
    with handle:
        first = handle.readline()
        if not is_toc(first):
            if looks_like_toc(first):
                raise damaged(path, "the table of contents is damaged")
            return None
        _generation, ranges = parse_toc(path, first)
        if META not in ranges:
            raise damaged(path, f"the table of contents is damaged (no table '{META}')")
        check_file(path, handle.fileno(), first, ranges)
        start, end, *_crc = ranges[META]
        raw = os.pread(handle.fileno(), end - start, start)
    if len(raw) != end - start:
        raise damaged(path, f"table '{META}' is cut short")
    meta: dict[str, Any] = orjson.loads(raw).get(str(META_ID)) or {}
    seq = meta.get("seq", 0)
    records, _end = ChangeLog(path.with_name(path.name + ".log")).read_from(0)
    for record in records:
        if record["seq"] != seq + 1:
            continue  # already in the snapshot, or after a gap the full open would stop at too
        for table, _doc_id, doc in record["ops"]:
            if table == META and doc is not None:
                meta = doc
        seq = record["seq"]
    return meta

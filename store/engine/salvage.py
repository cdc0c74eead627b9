"""`custdesk repair`: keep every intact record of a damaged store, and say what was dropped.

Opening refuses a store it cannot prove whole (a damaged change-log line, a
missing or emptied store file beside a log). Repair takes the store lock,
copies the damaged files aside, applies every intact log record the store
file does not hold yet (in order; a gap left by a damaged line is reported),
and writes a new store file with an empty log.
"""
from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from store.base.errors import NoStore
from store.base.files import FILE_MODE
from store.engine import tallies as tally
from store.engine.changelog import ChangeLog
from store.engine.memory import empty_meta
from store.engine.schema import META, META_ID, Schema
from store.engine.snapshot import empty_tables, read_tables, write_snapshot
from store.engine.table import Table


def repair_store(path: str | Path, schema: Schema, *, lock_timeout: float = 15.0) -> dict[str, Any]:
    """Rebuild the store at `path` from what is intact; returns the report."""
    path = Path(os.path.realpath(path))
    log = ChangeLog(path.with_name(path.name + ".log"))
    if not path.exists() and not log.size():
        raise NoStore(f"no store at {path}")
    with FileLock(str(path) + ".lock", timeout=lock_timeout, mode=FILE_MODE, thread_local=False):
        tables = read_tables(path, schema) if path.exists() else None  # a damaged store file refuses here
        found = "read" if tables is not None else "missing or empty: rebuilt from the log"
        report: dict[str, Any] = {"store": str(path), "store_file": found}
        tables = tables if tables is not None else empty_tables(schema)
        seq = (tables[META].get(META_ID) or {}).get("seq", 0)
        records, damaged = log.salvage()
        applied, skipped, gaps = 0, 0, []
        for record in records:
            if record["seq"] <= seq:
                skipped += 1  # already in the store file
                continue
            if record["seq"] != seq + 1:
                gaps.append([seq + 1, record["seq"] - 1])
            for table, doc_id, doc in record["ops"]:
                rows = tables[table]
                if doc is None:
                    rows.pop(int(doc_id), None)
                else:
                    rows[int(doc_id)] = doc
            seq = record["seq"]
            applied += 1
        report.update(kept=applied, already_in_store_file=skipped,
                      dropped=[{"byte": offset, "length": length} for offset, length in damaged],
                      missing_commits=gaps, backups=_back_up(path, log.path))
        # The kept counts may include a lost commit's documents: counted again from what was kept.
        counts = {table: tally.count(rows, rows.frame() if isinstance(rows, Table) else None, fields)
                  for table, fields in schema.tallies.items() for rows in (tables[table],)}
        tables[META][META_ID] = {**(tables[META].get(META_ID) or empty_meta(schema.version)), "seq": seq, "tallies": counts}
        write_snapshot(path, tables, schema)
        log.reset()
    return report


def _back_up(*paths: Path) -> list[str]:
    """Copies of the damaged files, beside them, before anything is rewritten."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    copies = []
    for original in paths:
        if original.exists():
            copy = original.with_name(f"{original.name}.damaged-{stamp}")
            shutil.copyfile(original, copy)
            os.chmod(copy, FILE_MODE)
            copies.append(str(copy))
    return copies

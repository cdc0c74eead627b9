"""`custdesk repair`: keep every intact record of a damaged store in a new whole store,
and keep the damaged files beside it.

Opening refuses a store it cannot prove whole, in one line naming `custdesk repair`.
Repair takes the store lock and reads what is intact, changing nothing yet: the
snapshot table by table and, in a damaged table, document by document (`sections`);
the change log line by line. A store found intact is left as it is. Otherwise the
store's files (the snapshot, its change log, its columns file) are moved aside as
`<name>.damaged-<UTC time>`, never deleted, and a new store is written in their place:
the snapshot's intact documents, then every intact commit of the log not in them yet
(in order; a gap left by a damaged line is reported), its counts taken anew, its
columns file rebuilt from the documents. A file that cannot be moved aside (a
read-only folder) refuses before anything is written; a new store that cannot be
written puts the damaged files back.
"""
from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from store.base.errors import NoStore, StoreError
from store.base.files import FILE_MODE
from store.engine import tallies as tally
from store.engine.changelog import ChangeLog
from store.engine.columns import columns_path
from store.engine.memory import empty_meta
from store.engine.schema import COUNTED_AT, META, META_ID, Schema
from store.engine.sections import Salvaged, TableFinding, counted_numbers, salvage_snapshot
from store.engine.snapshot import Tables, empty_tables, write_snapshot
from store.engine.table import Table


def repair_store(path: str | Path, schema: Schema, *, lock_timeout: float = 15.0) -> dict[str, Any]:
    """Rebuild the store at `path` from what is intact; returns the report."""
    path = Path(os.path.realpath(path))
    log = ChangeLog(path.with_name(path.name + ".log"))
    if not path.exists() and not log.size():
        raise NoStore(f"no store at {path}")
    with FileLock(str(path) + ".lock", timeout=lock_timeout, mode=FILE_MODE, thread_local=False):
        salvaged = salvage_snapshot(path, schema)
        records, damaged_lines = log.salvage()
        if salvaged is not None and salvaged.intact and salvaged.columns_usable and not damaged_lines:
            return {"store": str(path), "intact": True,
                    "tables": {name: {"state": "intact", "kept": f.kept} for name, f in salvaged.findings.items()}}
        if not records and (salvaged is None or all(f.state == "missing" for f in salvaged.findings.values())):
            raise StoreError(f"{path}: nothing in the store file or its change log can be read as a custdesk store; "
                             "nothing was changed")
        tables = salvaged.tables if salvaged is not None else empty_tables(schema)
        findings = salvaged.findings if salvaged is not None else {}
        meta_intact = META in findings and findings[META].state == "intact"
        replay = _replay(tables, records, meta_intact)
        if not meta_intact:
            _raise_meta(tables, schema)
        report = _report(path, salvaged, tables, findings, replay)
        report["dropped"] = [{"byte": offset, "length": length} for offset, length in damaged_lines]
        report["damage"] += ["the change log"] if damaged_lines else []
        _recount(tables, schema, replay["seq"])
        report["backups"] = _rewrite(path, tables, schema, [path, log.path, columns_path(path)])
    return report


def _replay(tables: Tables, records: list[dict[str, Any]], meta_intact: bool) -> dict[str, Any]:
    """Apply every intact commit the snapshot does not hold yet, in order. With its meta
    document damaged, the snapshot's place in the log is unknown: every commit is applied
    (each writes whole documents, in order, so the last one of a document wins either way)."""
    meta = tables[META].get(META_ID) or {}
    seq: int | None = meta.get("seq", 0) if meta_intact else None
    applied, skipped, gaps = 0, 0, []
    restored: dict[str, set[int]] = {}
    for record in records:
        if seq is not None and record["seq"] <= seq:
            skipped += 1  # already in the store file
            continue
        if seq is not None and record["seq"] != seq + 1:
            gaps.append([seq + 1, record["seq"] - 1])
        for table, doc_id, doc in record["ops"]:
            rows = tables.setdefault(table, {})
            if doc is None:
                rows.pop(int(doc_id), None)
            else:
                rows[int(doc_id)] = doc
            restored.setdefault(table, set()).add(int(doc_id))
        seq = record["seq"]
        applied += 1
    final = seq if seq is not None else meta.get("seq", 0)
    return {"kept": applied, "already_in_store_file": skipped, "missing_commits": gaps, "restored": restored,
            "seq": final if isinstance(final, int) else 0}


def _raise_meta(tables: Tables, schema: Schema) -> None:
    """A meta document read from a damaged table (or lost) may hold a changed digit: its
    next ids and counters are raised to what the documents kept show, so no id or number
    is ever given twice."""
    meta = {**empty_meta(schema.version), **(tables[META].get(META_ID) or {})}
    next_ids, counters = dict(meta.get("next_ids") or {}), dict(meta.get("counters") or {})
    for name, rows in tables.items():
        if name == META or not rows:
            continue
        next_ids[name] = max(next_ids.get(name, 1), max(rows) + 1)
        if schema.numbered is not None:
            number = counted_numbers(rows, rows.frame() if isinstance(rows, Table) else None, schema.numbered)
            if number:
                counters[name] = max(counters.get(name, 0), number)
    tables[META][META_ID] = {**meta, "next_ids": next_ids, "counters": counters}


def _report(path: Path, salvaged: Salvaged | None, tables: Tables, findings: dict[str, TableFinding],
            replay: dict[str, Any]) -> dict[str, Any]:
    """Per table what was kept and what lost (a lost document a later commit wrote again is
    restored from the log, and not lost)."""
    shown: dict[str, Any] = {}
    for name, rows in tables.items():
        finding = findings.get(name, TableFinding("missing"))
        restored = replay["restored"].get(name, set())
        lost = finding.lost - len(finding.lost_ids & restored)
        shown[name] = {"state": finding.state, "kept": len(rows), "lost": max(lost, 0),
                       "restored_from_log": len(finding.lost_ids & restored), "unwitnessed": finding.unwitnessed,
                       "witnessed": finding.witnessed}
    damage = list(salvaged.damage) if salvaged is not None else ["the store file (missing or empty)"]
    damage += [f"table '{name}'" for name, f in findings.items() if f.state != "intact"]
    if salvaged is not None and not salvaged.columns_usable:
        damage.append("the columns file (missing, damaged or stale: rebuilt from the documents)")
    return {"store": str(path), "intact": False, "damage": damage, "tables": shown,
            "store_file": "read" if salvaged is not None else "missing or empty: rebuilt from the log",
            **{key: replay[key] for key in ("kept", "already_in_store_file", "missing_commits")}}


def _recount(tables: Tables, schema: Schema, seq: int) -> None:
    """Counts taken anew from what was kept; the commits applied up to `seq`."""
    counts = {table: tally.count(rows, rows.frame() if isinstance(rows, Table) else None, fields)
              for table, fields in schema.tallies.items() for rows in (tables[table],)}
    meta = tables[META].get(META_ID) or empty_meta(schema.version)
    tables[META][META_ID] = {**meta, "seq": seq, "tallies": counts, COUNTED_AT: meta.get("rev", 0)}


def _rewrite(path: Path, tables: Tables, schema: Schema, files: list[Path]) -> list[str]:
    """Move the damaged files aside, then write the new store in their place; the files
    moved aside (put back if the new store cannot be written)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved: list[tuple[Path, Path]] = []
    try:
        for original in (f for f in files if f.exists()):
            aside = original.with_name(f"{original.name}.damaged-{stamp}")
            if aside.exists():
                raise FileExistsError(17, "a file of that name is there", str(aside))
            os.rename(original, aside)
            moved.append((original, aside))
    except OSError as err:
        _put_back(moved)
        raise StoreError(f"{path}: could not move the damaged files aside ({err.strerror}); nothing was changed") from None
    try:
        write_snapshot(path, tables, schema)
    except BaseException:
        for written in (path, columns_path(path)):
            written.unlink(missing_ok=True)  # (ours: the damaged ones were moved away)
        _put_back(moved)
        raise
    return [str(aside) for _original, aside in moved]


def _put_back(moved: list[tuple[Path, Path]]) -> None:
    for original, aside in reversed(moved):
        os.rename(aside, original)

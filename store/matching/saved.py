"""The matcher's index kept beside the store, `<store>.json.matching`, so a few new records
(a small import or sync on a large store) are compared without normalising and blocking
every stored record again (~1.5 s at 100,000 records; this look ~0.02 s).

The file holds what of an index (`index.build`) depends on the whole store: its blocks
(hashes and rows, as `BlockIndex` keeps them), each row's record, the weights, and how
many records hold each name, company and street value (by a hash of the value, per
row and counted). It is read memory-mapped: a look touches the pages of the blocks it
shares and the counts of its candidates' values; the candidates themselves are read from
the store and normalised as the index would (`prepared`), with the saved counts.

It is tagged with the store's state it was built from (the snapshot's generation and seq,
`state()`) and the polars version (its hashes are polars'). A later state of the same
snapshot catches up as a running process's index does (`index.updated`): the rows of the
records changed since are retired, their values uncounted, and the records as they are
now added. A file of another snapshot or layout, or unreadable, is not used (the generation
is a random token of each snapshot: another store's file never has this one's); the index
is then built afresh, and saved. Written whole under a
temporary name (owner-only, as every store file); a commit that rewrites the store
(erasure) removes it with the rest of the old state.
"""
from __future__ import annotations

import contextlib
import json
import mmap
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from store.base.files import atomic_write, write_all
from store.matching.blocking import BlockIndex, block_keys
from store.matching.compare import Array
from store.matching.pairs import RecordRef
from store.matching.weights import TERM_FREQUENCY, Weights
from store.model import CUSTOMERS, SOURCES

if TYPE_CHECKING:
    from store.matching.index import Index
    from store.store import Store

SUFFIX = ".matching"
FORMAT = 1  # the file's layout: a file of another is built again
# Below this many records building costs no more than reading a file.
SAVED_FROM = 2000
# Beyond this many records changed since the file was written, the index is built again.
CATCH_UP = 2000
TABLES = (CUSTOMERS, SOURCES)
_COUNTED = tuple(TERM_FREQUENCY.values())
_SEED = 25
_ALIGN = 64


def state_of(store: Store) -> tuple[str, int] | None:
    """The store's state now (None: a store kept nowhere a file could be saved beside)."""
    return store.parts.session.db.state()


def value_hashes(values: pl.Series) -> Array:
    """One 64-bit number per value (0: none), what the counts are kept by."""
    hashed = values.hash(seed=_SEED).to_numpy().astype(np.uint64)
    return np.where(values.is_null().to_numpy(), np.uint64(0), hashed)


def save(store: Store, index: Index, state: tuple[str, int] | None) -> None:
    """Keep a freshly built `index` of the store at `state` beside it (best effort: a store
    read where it cannot be written builds its index again next time)."""
    engine = store.parts.session.db
    path = engine.side_file(SUFFIX)
    if state is None or path is None or len(index.refs) < SAVED_FROM or not index.compact:
        return
    engine.verify()  # (StoreCorrupt: nothing is written beside a damaged store, nor derived from one)
    arrays: dict[str, Array] = {
        "hashes": np.ascontiguousarray(index.blocks.hashes, dtype=np.uint64),
        "block_rows": np.ascontiguousarray(index.blocks.rows, dtype=np.int64),
        "row_table": np.array([TABLES.index(r.table) for r in index.refs], dtype=np.uint8),
        "row_id": np.array([r.id for r in index.refs], dtype=np.int64),
    }
    for c in _COUNTED:
        arrays[f"row_{c}"] = value_hashes(index.norm[c])
        held = pl.DataFrame({"h": arrays[f"row_{c}"], "n": index.norm[c + "_n"]}).filter(pl.col("h") != 0)
        counted = held.unique("h").sort("h")
        arrays[f"count_{c}_h"] = counted["h"].to_numpy().astype(np.uint64)
        arrays[f"count_{c}_n"] = counted["n"].to_numpy().astype(np.int64)
    layout, offset = {}, 0
    for name, array in arrays.items():
        layout[name] = [offset, array.dtype.str, len(array)]
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header = json.dumps({"format": FORMAT, "polars": pl.__version__, "generation": state[0], "seq": state[1],
                         "region": index.region, "u": index.weights.u, "totals": index.weights.totals,
                         "records": index.weights.records, "arrays": layout}).encode()
    start = -(-(len(header) + 1) // _ALIGN) * _ALIGN

    def fill(fd: int) -> None:
        write_all(fd, header.ljust(start - 1) + b"\n")
        for array in arrays.values():
            data = array.tobytes()
            write_all(fd, data + b"\0" * (-len(data) % _ALIGN))

    with contextlib.suppress(OSError):
        atomic_write(path, fill)


class Saved:
    """The index kept beside the store at a later state: what `_matches` asks of an index."""

    def __init__(self, header: Mapping[str, Any], arrays: Mapping[str, Array]) -> None:
        self.region: str | None = header["region"]
        self.weights = Weights(u={name: {int(lv): float(u) for lv, u in levels.items()} for name, levels in header["u"].items()},
                               totals={k: int(v) for k, v in header["totals"].items()}, records=int(header["records"]))
        self._arrays = arrays
        self.size = len(arrays["row_id"])
        self.blocks = BlockIndex(arrays["hashes"], arrays["block_rows"])
        self._dead = np.zeros(0, dtype=np.int64)
        self._delta: dict[str, Counter[int]] = {c: Counter() for c in _COUNTED}
        self._added_refs: list[RecordRef] = []
        self._added_rows: dict[RecordRef, int] = {}
        self._added_raw: pl.DataFrame | None = None
        self._added_norm: pl.DataFrame | None = None

    # -- what `_matches` asks ---------------------------------------------------
    def alive_at(self, rows: Array) -> Array:
        return ~np.isin(rows, self._dead)

    def row_of(self, ref: RecordRef) -> int | None:
        if ref in self._added_rows:
            return self._added_rows[ref]
        found = self._rows_of(TABLES.index(ref.table), np.array([ref.id], dtype=np.int64))
        return int(found[0]) if found.size and not np.isin(found[0], self._dead) else None

    def ref_at(self, row: int) -> RecordRef:
        if row >= self.size:
            return self._added_refs[row - self.size]
        return RecordRef(TABLES[int(self._arrays["row_table"][row])], int(self._arrays["row_id"][row]))

    def stored(self, store: Store, rows: Array) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(fields as stored, normalised and counted) of these rows, in their order."""
        from store.matching.index import prepared, raw_frame

        unique, inverse = np.unique(rows, return_inverse=True)
        saved_rows = unique[unique < self.size]
        raws, norms = [], []
        if saved_rows.size:
            raw = self._raw_of(store, saved_rows)
            raws.append(raw)
            norms.append(self._counted(prepared(raw, self.region)))
        if self._added_raw is not None and self._added_norm is not None:
            at = unique[unique >= self.size] - self.size
            raws.append(self._added_raw[at])
            norms.append(self._counted(self._added_norm[at]))
        if not raws:
            return raw_frame([]), self._counted(prepared(raw_frame([]), self.region))
        positions = np.asarray(inverse, dtype=np.int64).reshape(-1)
        return pl.concat(raws)[positions], pl.concat(norms, how="vertical_relaxed")[positions]

    # -- catching up -------------------------------------------------------------
    def catch_up(self, store: Store, changes: Mapping[str, set[int]]) -> None:
        """Retire the rows of the records changed since the file's state and add them as they are now."""
        from store.matching.index import _stored, prepared

        dead = [self._rows_of(t, np.fromiter(changes.get(table, ()), dtype=np.int64)) for t, table in enumerate(TABLES)]
        self._dead = np.sort(np.concatenate(dead))
        for c in _COUNTED:
            for value in self._arrays[f"row_{c}"][self._dead].tolist():
                if value:
                    self._delta[c][value] -= 1
        refs, raw = _stored(store, {t: set(changes.get(t, ())) for t in TABLES})
        if not refs:
            return
        norm = prepared(raw, self.region)
        for c in _COUNTED:
            self._delta[c].update(v for v in value_hashes(norm[c]).tolist() if v)
        self._added_refs = refs
        self._added_rows = {ref: self.size + n for n, ref in enumerate(refs)}
        self._added_raw, self._added_norm = raw, norm
        self.blocks = self.blocks.with_rows(block_keys(norm).with_columns(pl.col("row") + self.size))

    # -- internals ---------------------------------------------------------------
    def _rows_of(self, table: int, ids: Array) -> Array:
        return np.flatnonzero((self._arrays["row_table"] == table) & np.isin(self._arrays["row_id"], ids))

    def _raw_of(self, store: Store, rows: Array) -> pl.DataFrame:
        """The stored fields of these rows' records (as `index._stored` reads them), in the rows' order."""
        from store.matching.normalise import FIELDS

        tables, ids = self._arrays["row_table"][rows], self._arrays["row_id"][rows]
        parts, order = [], []
        for t, table in enumerate(TABLES):
            at = np.flatnonzero(tables == t)
            if at.size:
                wanted = pl.DataFrame({"id": ids[at]})
                found = wanted.join(store.frame(table, ids[at].tolist()), on="id", how="left", maintain_order="left")
                parts.append(found.select(pl.col(f).cast(pl.String) for f in FIELDS))
                order.append(at)
        return pl.concat(parts)[np.argsort(np.concatenate(order))]

    def _counted(self, norm: pl.DataFrame) -> pl.DataFrame:
        """`norm` with how many records hold each row's value now (`with_counts` as updated)."""
        columns = []
        for c in _COUNTED:
            hashes = value_hashes(norm[c])
            saved_h, saved_n = self._arrays[f"count_{c}_h"], self._arrays[f"count_{c}_n"]
            held = np.zeros(len(hashes), dtype=np.int64)
            if len(saved_h):
                at = np.minimum(np.searchsorted(saved_h, hashes), len(saved_h) - 1)
                held = np.where(saved_h[at] == hashes, saved_n[at], 0)
            delta = self._delta[c]
            counts = [None if h == 0 else int(n) + delta.get(h, 0) for h, n in zip(hashes.tolist(), held.tolist(), strict=True)]
            columns.append(pl.Series(c + "_n", counts, dtype=pl.UInt32))
        return norm.drop([c + "_n" for c in _COUNTED if c + "_n" in norm.columns]).with_columns(columns)


def load(store: Store, region: str | None) -> Saved | None:
    """The index kept beside the store, caught up with the records changed since; None when
    there is none fit to use (see the module's docstring)."""
    engine = store.parts.session.db
    path = engine.side_file(SUFFIX)
    if path is None:
        return None
    try:
        read = _read(path)
    except (OSError, KeyError, ValueError, TypeError):
        return None  # missing, damaged, cut short or of another layout: built again
    if read is None:
        return None
    header, arrays = read
    if header["region"] != region:
        return None
    changes = engine.changes_since((str(header["generation"]), int(header["seq"])))
    if changes is None or sum(len(changes.get(t, ())) for t in TABLES) > CATCH_UP:
        return None
    saved = Saved(header, arrays)
    saved.catch_up(store, changes)
    return saved


def _read(path: Path) -> tuple[dict[str, Any], dict[str, Array]] | None:
    with open(path, "rb") as handle:
        header: dict[str, Any] = json.loads(handle.readline())
        if header.get("format") != FORMAT or header.get("polars") != pl.__version__:
            return None
        start = handle.tell()
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)  # (stays open while the arrays live)
    arrays = {}
    for name, (offset, dtype, length) in header["arrays"].items():
        arrays[name] = np.frombuffer(mapped, dtype=np.dtype(dtype), count=int(length), offset=start + int(offset))
    return header, arrays

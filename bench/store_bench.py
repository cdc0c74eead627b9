"""Store figures (for bench/run.py), each beside a bare reference measured in the same run.

    python bench/store_bench.py build STORE CUSTOMERS   # {"build": s}
    python bench/store_bench.py open STORE              # {"open": s, "rss": MB}

Both run in a fresh process: the bench's own process stays small, so it
neither disturbs the other figures (freeing gigabytes) nor inflates them.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from common import best_of, clock, median, rss_mb

from importers.demo import build_demo
from store import Store
from store.views.records import Query, RecordView

SEARCHED = "mül"  # typed one key at a time: "m", "mü", "mül"


def bare_fsync_write(folder: Path) -> None:
    fd = os.open(folder / "fsync.probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, b"x" * 1024)
    os.fsync(fd)
    os.close(fd)


def bare_orjson_load(path: Path) -> float:
    import orjson
    return clock(lambda: orjson.loads(path.read_bytes()))[1]


def edit_figures(path: Path) -> dict[str, tuple[str, str]]:
    with Store(path) as store:
        view = RecordView(store)
        ids = view.frame.filter(view.frame["active"])["id"].head(54).to_list()
        edits = [clock(lambda i=i: store.deactivate([i]))[1] for i in ids[:50]]
        fsync = best_of(lambda: bare_fsync_write(path.parent), repeat=20)
        keys = [clock(lambda n=n: view.select(Query(text=SEARCHED[:n])))[1] for n in range(1, len(SEARCHED) + 1)]
        bare = best_of(lambda: view.frame["email"].str.contains(SEARCHED, literal=True))
        lookups = clock(store.prepare_lookups)[1]
        first_merge = clock(lambda: store.merge_into(ids[50], ids[51]))[1]
        merge = clock(lambda: store.merge_into(ids[52], ids[53]))[1]
        undo = clock(store.undo)[1]
    return {
        "one durable edit (deactivate), median of 50": (f"{median(edits) * 1000:.1f} ms",
                                                        f"write+fsync 1 KB {fsync * 1000:.1f} ms"),
        "search keystroke in the store's view, median": (f"{median(keys) * 1000:.1f} ms",
                                                         f"bare str.contains on one column {bare * 1000:.1f} ms"),
        "build every index (done in the background after the first paint)": (f"{lookups:.2f} s", ""),
        "first merge (reads the related tables' documents)": (f"{first_merge * 1000:.0f} ms", ""),
        "merge two customers": (f"{merge * 1000:.1f} ms", ""),
        "undo the merge": (f"{undo * 1000:.1f} ms", ""),
    }


def open_probe(path: str) -> dict:
    start = time.perf_counter()
    Store(path)
    return {"open": time.perf_counter() - start, "rss": rss_mb()}


def build_probe(path: str, customers: str) -> dict:
    with Store(path) as store:
        _, build = clock(lambda: build_demo(store, customers=int(customers)))
        store.compact()
    return {"build": build}


if __name__ == "__main__":
    probe = {"open": open_probe, "build": build_probe}[sys.argv[1]]
    print(json.dumps(probe(*sys.argv[2:])))

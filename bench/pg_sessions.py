"""A team on one PostgreSQL store: SESSIONS processes at once, each editing and searching,
timed per action, and every edit checked afterwards (issue 31's concurrent sessions).

    python bench/pg_sessions.py [--customers 100000] [--sessions 20] [--actions 40]
    python bench/pg_sessions.py --url URL [--sessions 20]   # a store already on a server

A server is started in a temporary folder, durable (`tests/pg_server.py`); the demo
store of CUSTOMERS is built as a file and migrated onto it (or, with --url, the store
there is used: `make bench-scale` leaves one of 10,000,000 customers). Then SESSIONS
processes each open the store as the app does (the customers stay on the server: the
table reads its pages there, a verb reads the documents it touches, a lookup by key asks
the server), wait for one another, and take turns of one edit and one search, as fast as
they can (or, with --pause, as people do: a pause before each action):
- an edit: `edit_customer` of one of the session's own customers (a city naming the
  session and the turn), durable when it returns; refused (another session's commit
  in between, the store busy) it is tried again, and timed from the first try;
- a search: the store caught up with the others' commits (`refresh`), then the table's
  first page and count for three letters of a customer's name (what a keystroke reads).
No edit may be lost: after the run each session's customers must hold its last city.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, in_fresh_process

sys.path.insert(0, str(ROOT / "tests"))
from pg_server import LocalServer, missing_reason

TRIES = 20  # an edit refused this many times in a row counts as lost
OWN_FROM = 2_000  # the sessions edit the first customers (each its own share of them)


def session(url: str, number: int, sessions: int, actions: int, folder: Path, pause: float, seed: int) -> dict:
    """One session's run: its timings and the city it last gave each of its customers. It
    opens the store, reads its customers' first pages (its own customers and the names it
    will search for), says so in `folder`, and starts when every session has (`go` there)."""
    from store import Store, StoreError
    from store.model import CUSTOMERS
    from store.views.query import Query
    from store.views.records import Views

    rnd = random.Random(seed * 1_000 + number)  # (another seed, other searches: pages the last run read are warm)
    with Store(url, user=f"agent{number}") as store:
        rows = Views(store, (CUSTOMERS,)).rows(CUSTOMERS)
        shown = rows.shown(Query())
        while len(shown) < OWN_FROM and shown.read_more():
            pass
        first = shown.rows(0, OWN_FROM)
        names = [row["name"] for row in first if len(row["name"]) >= 3]
        own = [row["id"] for row in first if row["id"] % sessions == number]
        (folder / f"ready-{number}").touch()
        while not (folder / "go").exists():
            time.sleep(0.01)
        edits, searches, searched, refusals, last = [], [], [], 0, {}
        for turn in range(actions):
            time.sleep(pause * rnd.uniform(0.5, 1.5))  # (a person reads the screen between two actions)
            customer, city = rnd.choice(own), f"City {number}-{turn}"
            started = time.perf_counter()
            for _ in range(TRIES):
                try:
                    store.edit_customer(customer, {"city": city})
                    last[customer] = city
                    break
                except StoreError:
                    refusals += 1
            edits.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.refresh()
            name = rnd.choice(names)
            cut = rnd.randrange(len(name) - 2)
            rows.shown(Query(text=name[cut:cut + 3])).count_rows()
            searches.append(time.perf_counter() - started)
            searched.append(name[cut:cut + 3])
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    return {"edits": edits, "searches": searches, "searched": searched, "refusals": refusals, "last": last, "rss": rss}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--actions", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds a session waits before each action, on average (0: none, as fast as it can)")
    parser.add_argument("--url", help="a store already on a server (else the demo store, built and migrated)")
    parser.add_argument("--seed", type=int, default=0, help="which customers are edited and what is searched")
    parser.add_argument("--session", nargs=4, help=argparse.SUPPRESS)  # (url, number, sessions, folder): one session
    args = parser.parse_args()
    if args.session:
        url, number, sessions, folder = args.session
        print(json.dumps(session(url, int(number), int(sessions), args.actions, Path(folder), args.pause, args.seed)))
        return
    reason = missing_reason()
    if reason:
        sys.exit(f"pg_sessions: {reason}")
    from store import Store
    from store.admin.migrate import migrate
    from store.views.searched import prepare_server

    server = None if args.url else LocalServer(durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if server is None:
                url = args.url
            else:
                path = Path(tmp) / "demo.json"
                in_fresh_process("store_bench.py", "build", str(path), str(args.customers))
                url = server.create_database("team")
                migrate(path, url)
            prepare_server(url)  # (what the app makes on a server where missing: the search column and indexes)
            workers = [subprocess.Popen([sys.executable, __file__, "--actions", str(args.actions),
                                         "--pause", str(args.pause), "--seed", str(args.seed), "--session", url,
                                         str(n), str(args.sessions), tmp], stdout=subprocess.PIPE, text=True,
                                        cwd=ROOT) for n in range(args.sessions)]
            while len(list(Path(tmp).glob("ready-*"))) < args.sessions and all(w.poll() is None for w in workers):
                time.sleep(0.05)
            (Path(tmp) / "go").touch()
            runs = [json.loads(worker.communicate()[0].strip().splitlines()[-1]) for worker in workers]
            with Store(url, user="check") as store:
                lost = [(customer, city) for run in runs for customer, city in run["last"].items()
                        if store.customer(int(customer)).get("city") != city]
                customers = store.stats()["customers"]
    finally:
        if server is not None:
            server.stop()
    edits = [s for run in runs for s in run["edits"]]
    searches = [s for run in runs for s in run["searches"]]
    kept = sum(len(run["last"]) for run in runs)
    print(f"{args.sessions} sessions on one PostgreSQL store of {customers:,} customers, {os.cpu_count()} cores, "
          f"{args.actions} turns each (an edit, then a search), "
          f"{f'{args.pause:g} s apart on average' if args.pause else 'as fast as each can'}\n")
    print("| action | median | p95 | max |\n|---|---|---|---|")
    for name, found in (("edit (durable; retried when refused)", edits), ("search (caught up, then a page and its count)", searches)):
        print(f"| {name} | {percentile(found, 0.5) * 1000:.0f} ms | {percentile(found, 0.95) * 1000:.0f} ms | "
              f"{max(found) * 1000:.0f} ms |")
    slowest = sorted(((s, text) for run in runs for s, text in zip(run["searches"], run["searched"], strict=True)),
                     reverse=True)[:max(1, len(searches) // 20)]
    print("\nThe slowest twentieth of the searches: " + ", ".join(f"{text!r} {s * 1000:.0f} ms" for s, text in slowest))
    print(f"\nEdits refused and tried again: {sum(run['refusals'] for run in runs)}; customers edited: {kept}; "
          f"lost: {len(lost)}{' ' + str(lost[:5]) if lost else ''}; peak RSS per session: "
          f"{max(run['rss'] for run in runs):,.0f} MB")


if __name__ == "__main__":
    main()

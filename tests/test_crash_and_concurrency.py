"""Crash safety (SIGKILL mid-commit) and two processes on one store."""
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from helpers import ROOT, person, run_python
from store import Store

BATCH = 400

# Commits batches of prospects forever; a small compaction threshold makes the
# kills land in snapshot rewrites as well as in log appends.
WRITER = f"""
import sys
import store.database as database
database.COMPACT_MIN_BYTES = 300_000
from store import Batch, Store
s = Store(sys.argv[1])
n = len({{p["notes"] for p in s.sources()}})
while True:
    n += 1
    s.apply_batch(Batch("sources", creates=[
        {{"first_name": f"B{{n}}", "last_name": f"R{{i}}", "email": f"b{{n}}.r{{i}}@example.com", "notes": f"batch {{n}}"}}
        for i in range({BATCH})]))
    print(n, flush=True)
"""


def test_killed_writer_leaves_whole_batches_only(store_path):
    Store(store_path).close()
    rng = random.Random(1)
    committed_before = 0
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.4, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with Store(store_path) as s:
            sizes = Counter(p["notes"] for p in s.sources())
            assert set(sizes.values()) <= {BATCH}, f"a torn batch: {sizes}"
            assert len(sizes) >= committed_before  # nothing committed was lost
            committed_before = len(sizes)
            imports = [e for e in s.journal() if e["action"] == "import"]
            assert len(imports) == len(sizes)
    assert committed_before > 12


EDITOR = """
import sys
from store import Store
s = Store(sys.argv[1], lock_timeout=60)
for i in range(1000):
    s.set_tags([1], add=[f"{sys.argv[2]}-{i}"])
    if i % 10 == 0:
        s.add_source({"first_name": sys.argv[2], "email": f"{sys.argv[2]}{i}@example.com"})
"""


def test_two_processes_lose_nothing(store_path):
    with Store(store_path) as s:
        s.add_customer("private", person(1))
    procs = [subprocess.Popen([sys.executable, "-c", EDITOR, str(store_path), name], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("p", "q")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    with Store(store_path) as s:
        tags = s.customer(1)["tags"]
        assert len(tags) == 2000 and len(set(tags)) == 2000
        assert len(list(s.sources())) == 200


def test_second_process_sees_the_firsts_change_before_deciding(store_path):
    with Store(store_path) as mine:
        c = mine.add_customer("private", person(1))
        result = run_python(
            "import sys\nfrom store import Store\ns = Store(sys.argv[1])\ns.deactivate([1])", str(store_path))
        assert result.returncode == 0, result.stderr
        # This process still holds the old copy in memory; the verb must catch up first.
        try:
            mine.deactivate([c["id"]])
        except Exception as err:
            assert "already inactive" in str(err)
        else:
            raise AssertionError("deactivated twice: the other process's change was not seen")
        assert mine.refresh() is False
        assert mine.customer(c["id"])["active"] is False

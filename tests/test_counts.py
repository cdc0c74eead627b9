"""The counts the engine keeps with every commit, and `custdesk stats` reading them
without opening the store."""
import contextlib
import json

import polars as pl
import pytest
from helpers import company, custdesk, person, run_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Batch, Store, StoreError, ValidationFailed
from store.views.counts import quick_stats


def scanned(store: Store) -> dict:
    """The counts as a walk over every customer finds them (the reference)."""
    customers = list(store.customers())
    active = sum(1 for c in customers if c.get("active"))
    return {"customers": len(customers), "active": active, "inactive": len(customers) - active,
            "corporate": sum(c["kind"] == "corporate" for c in customers),
            "private": sum(c["kind"] == "private" for c in customers), "sources": sum(1 for _ in store.sources())}


def test_counts_follow_every_verb_rollback_and_undo(store, store_path):
    a = store.add_customer("private", person(1))["id"]
    b = store.add_customer("corporate", company(2))["id"]
    c = store.add_customer("private", person(3))["id"]
    store.apply_batch(Batch("corporate", creates=[company(n) for n in range(10, 15)]))
    store.add_source(person(20))
    store.add_source(person(21))
    store.activate(next(store.sources())["id"], "private")
    store.discard([next(store.sources())["id"]])
    store.edit_customer(a, {"kind": "corporate", "company": "Now a company"})
    store.deactivate([b, c])
    store.reactivate([c])
    store.merge_into(b, c)
    store.undo()  # the merge comes back
    store.delete(a)
    with pytest.raises(ValidationFailed):  # refused whole: nothing counted
        store.apply_batch(Batch("private", creates=[person(30), person(31, email="broken")]))
    store.obfuscate_inactive(0)  # the refused ones roll back inside savepoints
    assert store.stats() == scanned(store)
    assert quick_stats(store_path) == scanned(store)
    with Store(store_path) as again:  # the counts are in the files, not only in memory
        assert again.stats() == scanned(store)


def test_rows_inserted_column_wise_into_a_table_not_counted_yet_are_counted_once(store):
    """A new store on PostgreSQL keeps no counts until its first write: an import's rows,
    inserted as one frame, were counted with the table and then added again (40,000 for 20,000)."""
    rows = pl.DataFrame([person(n) for n in range(5)]).select("first_name", "last_name", "email")
    store.apply_batch(Batch("sources", rows=rows))
    store.apply_batch(Batch("private", rows=rows.with_columns(pl.col("email").str.replace("@", "+c@"))))
    assert store.stats() == scanned(store) == {"customers": 5, "active": 5, "inactive": 0, "corporate": 0, "private": 5,
                                               "sources": 5}


def test_another_process_commit_is_counted_without_opening_the_store(store, store_path):
    store.add_customer("private", person(1))
    result = run_python("import sys\nfrom store import Store\nStore(sys.argv[1]).add_customer('corporate', "
                        "{'company': 'Remote', 'email': 'remote@example.com'})", str(store_path))
    assert result.returncode == 0, result.stderr
    assert quick_stats(store_path) == {"customers": 2, "active": 2, "inactive": 0, "corporate": 1, "private": 1,
                                       "sources": 0}


@pytest.mark.file_store
def test_a_store_written_before_counts_is_counted_when_opened_and_keeps_them_from_its_next_write(store_path):
    from tinydb import TinyDB
    store_path.parent.mkdir(parents=True)
    db = TinyDB(store_path)  # a file without counts (and without a table of contents)
    db.table("customers").insert({"kind": "private", "first_name": "Grace", "email": "g@example.com",
                                  "number": "C-000001", "active": True})
    db.close()
    assert quick_stats(store_path) is None  # not kept there: the command opens the store instead
    assert json.loads(custdesk("--db", store_path, "stats", "--json").stdout)["customers"] == 1
    with Store(store_path) as s:
        s.add_customer("corporate", company(2))
        s.compact()
    assert quick_stats(store_path) == {"customers": 2, "active": 2, "inactive": 0, "corporate": 1, "private": 1,
                                       "sources": 0}


def test_stats_reads_no_table_and_loads_no_polars(store, store_path):
    store.add_customer("private", person(1))
    code = ("import sys\nfrom cli import main\nsys.argv = ['custdesk', '--db', sys.argv[1], 'stats', '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'polars' not in sys.modules, 'stats loaded polars'")
    result = run_python(code, str(store_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["customers"] == 1


# Each verb, given the store, a customer, another customer, a prospect (each may be None) and a step number.
VERBS = {
    "add_private": lambda s, c, o, p, n: s.add_customer("private", person(n)),
    "add_corporate": lambda s, c, o, p, n: s.add_customer("corporate", company(n)),
    "deactivate": lambda s, c, o, p, n: c and s.deactivate([c]),
    "reactivate": lambda s, c, o, p, n: c and s.reactivate([c]),
    "delete": lambda s, c, o, p, n: c and s.delete(c),
    "to_private": lambda s, c, o, p, n: c and s.edit_customer(c, {"kind": "private"}),
    "to_corporate": lambda s, c, o, p, n: c and s.edit_customer(c, {"kind": "corporate", "company": f"Firm {n}"}),
    "merge": lambda s, c, o, p, n: c and o and c != o and s.merge_into(c, o),
    "undo": lambda s, c, o, p, n: s.undo(),
    "source": lambda s, c, o, p, n: s.add_source(person(100 + n)),
    "activate": lambda s, c, o, p, n: p and s.activate(p, "private"),
    "discard": lambda s, c, o, p, n: p and s.discard([p]),
    "batch": lambda s, c, o, p, n: s.apply_batch(Batch("private", creates=[person(200 + n * 3 + k) for k in range(3)])),
    "bad_batch": lambda s, c, o, p, n: s.apply_batch(Batch("private", creates=[person(300 + n), person(301 + n, email="x")])),
    "policy": lambda s, c, o, p, n: s.obfuscate_inactive(0),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(VERBS)), st.integers(0, 50)), min_size=1, max_size=25))
def test_counts_equal_a_walk_after_any_sequence_of_verbs(tmp_path, operations):
    import uuid
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    store = Store(path)
    for step, (verb, pick) in enumerate(operations):
        customers = [c["id"] for c in store.customers()]
        prospects = [p["id"] for p in store.sources()]
        chosen = customers[pick % len(customers)] if customers else None
        other = customers[(pick + 1) % len(customers)] if customers else None
        prospect = prospects[pick % len(prospects)] if prospects else None
        with contextlib.suppress(StoreError):  # a refusal changes nothing; the counts must say so too
            VERBS[verb](store, chosen, other, prospect, step)
        assert store.stats() == scanned(store), (step, verb)
    assert quick_stats(path) == scanned(store)
    store.close()

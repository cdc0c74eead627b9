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
from store.views.counts import filtered_count, quick_stats

TAGS = ("vip", "Öko", "İzmir")


def scanned(store: Store) -> dict:
    """The counts as a walk over every customer finds them (the reference)."""
    customers = list(store.customers())
    active = sum(1 for c in customers if c.get("active"))
    return {"customers": len(customers), "active": active, "inactive": len(customers) - active,
            "corporate": sum(c["kind"] == "corporate" for c in customers),
            "private": sum(c["kind"] == "private" for c in customers), "sources": sum(1 for _ in store.sources())}


def filters_counted_as_walked(store: Store) -> None:
    """Every filter of kind, status and tag the kept counts tell (both of kind and status, a
    tag alone) counts what a walk over the customers finds; the others they do not tell."""
    customers = list(store.customers())
    kept = store.parts.session.db.tallies()["customers"]
    for kind in (None, "corporate", "private"):
        for active in (None, True, False):
            for tag in (None, *TAGS):
                walked = sum(1 for c in customers if (kind is None or c["kind"] == kind) and (
                    active is None or bool(c.get("active")) == active) and (tag is None or tag in (c.get("tags") or [])))
                told = filtered_count(kept, kind, active, tag)
                assert told == (None if tag is not None and (kind or active is not None) else walked), (kind, active, tag)


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
    store.set_tags([b, c], add=["vip", "Öko"])
    store.set_tags([c], remove=["vip"])
    store.deactivate([c])
    assert store.stats() == scanned(store)
    filters_counted_as_walked(store)
    assert quick_stats(store_path) == scanned(store)
    with Store(store_path) as again:  # the counts are in the files, not only in memory
        assert again.stats() == scanned(store)
        filters_counted_as_walked(again)


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
    "tag": lambda s, c, o, p, n: c and o and s.set_tags({c, o}, add=[TAGS[n % 3], TAGS[(n + 1) % 3]]),
    "untag": lambda s, c, o, p, n: c and s.set_tags([c], remove=[TAGS[n % 3]]),
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
        filters_counted_as_walked(store)
    assert quick_stats(path) == scanned(store)
    store.close()


def test_a_server_store_kept_before_a_count_or_written_by_an_older_custdesk_is_counted_by_the_server_at_its_next_write(
        pg_database):
    """Counts of kind and status together and of each tag came later: a store kept before
    them (or written since by an older custdesk, which leaves them as they were) has only
    the counts of each field alone to believe. Its filters of both, and of a tag, are
    counted as any other filter, and its reads of the counts count nothing, until its next
    write counts them, on the server (ten million customers' fields read and counted here
    took gigabytes), and from then on exactly."""
    import psycopg

    from store.engine.postgres.reads import count_table
    from store.model import CUSTOMERS, TALLIED
    from store.views import served
    from store.views.query import Query

    with Store(pg_database, user="tester") as store:
        for n in range(12):
            made = store.add_customer("corporate" if n % 3 == 0 else "private", company(n) if n % 3 == 0 else person(n))
            if n % 4 == 0:
                store.set_tags([made["id"]], add=["vip", "Öko"] if n % 8 == 0 else ["vip"])
        store.deactivate([1, 4, 5])

    def server(statement: str) -> dict:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(statement)
            return {"kept": conn.execute("SELECT doc -> 'tallies' -> 'customers' FROM _meta").fetchone()[0],
                    "counted": count_table(conn, CUSTOMERS, TALLIED[CUSTOMERS])}

    def rows(store: Store) -> served.ServerRows:
        reads = store.page_reads()
        assert reads is not None
        return served.ServerRows(reads, reads.interrupt)

    def told(store: Store, query: Query) -> int | None:
        return rows(store).tallied(query)

    server("UPDATE _meta SET doc = (doc #- '{tallies,customers,kind|active}' #- '{tallies,customers,tags[]}') - 'counted_at'::text")
    with Store(pg_database, user="tester") as store:
        assert told(store, Query(kind="corporate", active=False)) is None and told(store, Query(tag="vip")) is None
        assert told(store, Query(kind="corporate")) == 4  # (counted before: told as ever)
        db, counted = store.parts.session.db, []
        count = db.count_committed
        db.count_committed = lambda table: counted.append(table) or count(table)
        assert store.stats() == scanned(store) and store.stats() == scanned(store)
        assert counted == [] and db.tables[CUSTOMERS].__dict__["_columns"] is None  # (a read of the counts counts nothing)
        store.add_customer("private", person(40))
        assert sorted(counted) == [CUSTOMERS, "sources"]  # (the write: on the server, once)
        assert told(store, Query(kind="corporate", active=False)) == 2 and told(store, Query(tag="vip")) == 3
        assert told(store, Query(tag="vip", active=True)) is None  # (a tag with another filter: not counted together)
        filters_counted_as_walked(store)
        found = server("SELECT 1")
        assert found["kept"] == found["counted"] and found["kept"]["tags[]"] == {"vip": 3, "Öko": 2, "": 10}
        assert rows(store).tags() == ["vip", "Öko"]
        server("UPDATE customers SET doc = doc - 'tags' WHERE id = 1")
        assert rows(store).tags() == ["vip", "Öko"]  # (listed from the counts: no document is read)
    # An older custdesk's commit: the rev one on, the counts it does not keep left as they were.
    server("UPDATE _meta SET rev = rev + 1, doc = jsonb_set(doc, '{rev}', to_jsonb((doc ->> 'rev')::int + 1))")
    with Store(pg_database, user="tester") as store:
        assert told(store, Query(tag="vip")) is None and told(store, Query(kind="private", active=True)) is None
        assert told(store, Query(active=False)) == 3 and sorted(rows(store).tags()) == ["vip", "Öko"]  # (read off the documents)
        store.deactivate([2])
        assert told(store, Query(tag="vip")) == 2 and told(store, Query(kind="private", active=True)) == 7
        filters_counted_as_walked(store)
    found = server("SELECT 1")
    assert found["kept"] == found["counted"] and found["kept"]["tags[]"] == {"vip": 2, "Öko": 1, "": 11}


def _made_untrusted(store: Store, tags: dict) -> None:
    """As an older custdesk's commit leaves a store: the meta document one rev on, its counts of
    tags as they were (here `tags`), the rev they were kept at behind."""
    from store.engine import META, META_ID

    db = store.parts.session.db
    with db.transaction() as tx:
        meta = tx.get(META, META_ID)
        assert meta is not None
        tx.put(META, META_ID, {**meta, "tallies": {**meta["tallies"], "customers": {**meta["tallies"]["customers"],
                                                                                     "tags[]": tags}}})


def test_a_store_of_more_tags_than_are_counted_counts_its_tag_filter_as_any_other(store, monkeypatch):
    from store.engine import tallies

    monkeypatch.setattr(tallies, "MOST_VALUES", 2)
    for n in range(3):
        store.add_customer("private", person(n, tags=f"tag{n}"))
    kept = store.parts.session.db.tallies()["customers"]
    assert kept["tags[]"] is None and filtered_count(kept, None, None, "tag1") is None
    assert filtered_count(kept, "private", True) == 3 and store.stats() == scanned(store)


def test_a_migration_counts_what_it_copies_not_what_the_source_kept(tmp_path):
    """A source an older custdesk wrote since keeps counts of tags that are not so: the
    target counts the documents it copies, and believes those."""
    from store.admin.migrate import migrate

    source, target = tmp_path / "a" / "custdesk.json", tmp_path / "b" / "custdesk.json"
    with Store(source) as store:
        store.add_customer("private", person(1))
        store.add_customer("corporate", company(2))
        store.set_tags([1], add=["vip"])
        _made_untrusted(store, {"ghost": 2})
    migrate(source, target)
    with Store(target) as copied:
        kept = copied.parts.session.db.meta
        assert kept["tallies"]["customers"]["tags[]"] == {"vip": 1, "": 1} and kept["counted_at"] == kept["rev"]
        filters_counted_as_walked(copied)


def test_a_write_that_counts_anew_and_finds_the_counts_as_they_were_makes_them_believed(store_path):
    """Counted anew at a write (the store untrusted) and found unchanged, the counts are
    written all the same: else every later write would count them again (12.6 s at 10M)."""
    from store.engine import META, META_ID
    from store.model import CUSTOMERS

    with Store(store_path) as store:
        store.add_customer("private", person(1))
        store.set_tags([1], add=["vip"])
        db = store.parts.session.db
        _made_untrusted(store, {"vip": 1})  # (the counts right, the rev they were kept at behind)
        assert db.meta["counted_at"] != db.meta["rev"]
        with db.transaction() as tx:  # (a write of a customer that changes no count, and nothing else of the meta)
            tx.put(CUSTOMERS, 1, {**(tx.get(CUSTOMERS, 1) or {}), "city": "Köln"})
        meta = db.tables[META].get(META_ID)
        assert meta["counted_at"] == meta["rev"]

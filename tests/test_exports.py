"""An export is one record naming every customer it wrote out, found from each of them."""
from helpers import company, contents, custdesk, person

from store import Store
from store.engine import open_engine
from store.schema import SCHEMA


def _three(store: Store) -> list[int]:
    return [store.add_customer("private", person(n))["id"] for n in (1, 2, 3)]


def test_one_export_is_one_record_listed_for_each_customer(store):
    a, b, c = _three(store)
    assert store.log_export([a, b, c, b], "csv", "/tmp/out.csv") == 3
    for customer_id in (a, b, c):
        (run,) = store.children(customer_id, "exports")
        assert (run["format"], run["target"], run["count"], run["customer_ids"]) == ("csv", "/tmp/out.csv", 3, [a, b, c])
        assert store.related_counts(customer_id)["exports"] == 1
    assert len(open_engine(store.location, SCHEMA).tables["exports"]) == 1


def test_deleting_a_customer_takes_it_off_the_export_and_undo_puts_it_back(store):
    a, b, c = _three(store)
    store.log_export([a, b, c], "vcf", "/tmp/all.vcf")
    before = contents(store)
    store.delete(b)
    (run,) = store.children(a, "exports")
    assert run["customer_ids"] == [a, c] and run["count"] == 2 and store.children(b, "exports") == []
    store.undo()
    assert contents(store) == before


def test_merging_moves_the_export_to_the_kept_customer_once(store):
    a, b, c = _three(store)
    store.log_export([a, b], "csv", "/tmp/two.csv")
    store.log_export([b, c], "csv", "/tmp/other.csv")
    store.merge_into(a, b)
    runs = store.children(a, "exports")
    assert [(r["target"], r["customer_ids"]) for r in runs] == [("/tmp/two.csv", [a]), ("/tmp/other.csv", [a, c])]
    assert store.children(c, "exports")[0]["customer_ids"] == [a, c]


def test_export_records_of_older_stores_still_follow_their_customer(store, store_path):
    a, b = store.add_customer("corporate", company(1))["id"], store.add_customer("private", person(2))["id"]
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:  # the layout before: one record per exported customer
        tx.insert("exports", {"customer_id": b, "at": "2026-01-01T00:00:00+00:00", "format": "csv", "target": "x.csv"})
    store.refresh()
    store.merge_into(a, b)
    assert [r["target"] for r in store.children(a, "exports")] == ["x.csv"]
    store.delete(store.add_customer("private", person(3))["id"])  # nothing of another customer's goes


def test_the_export_command_adds_one_record_however_many_customers(store, store_path, tmp_path):
    for n in range(25):
        store.add_customer("private", person(n))
    result = custdesk("--db", store_path, "export", tmp_path / "all.csv")
    assert result.returncode == 0, result.stderr
    with Store(store_path) as again:
        (run,) = again.children(1, "exports")
        assert run["count"] == 25 and len(open_engine(store_path, SCHEMA).tables["exports"]) == 1

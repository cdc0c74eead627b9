"""An export is one record naming every customer it wrote out, found from each of them."""
import csv

import pytest
from helpers import company, contents, custdesk, person
from openpyxl import load_workbook

import exporters.customers as customers_export
from exporters.customers import export_customers
from store import Store, StoreBusy, StoreError
from store.domain import related
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


def _rows_of(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_an_export_is_read_and_written_a_chunk_at_a_time_by_number_with_each_headquarters(store, tmp_path, monkeypatch):
    monkeypatch.setattr(customers_export, "CHUNK", 3)
    ids = [store.add_customer("corporate", company(n))["id"] for n in range(4)]
    ids += [store.add_customer("private", person(n))["id"] for n in range(4, 10)]
    store.add_department(ids[1], {"name": "Zentrale Köln"}, headquarters=True)
    store.add_department(ids[1], {"name": "Lager"})
    store.add_department(ids[2], {"name": "Merkez İstanbul"}, headquarters=True)
    store.edit_customer(ids[0], {"number": "Z-1"})  # last by number, though first by id
    told: list[tuple[int, int]] = []

    count = export_customers(store, tmp_path / "all.csv", progress=lambda what, done, total: told.append((done, total)))

    rows = _rows_of(tmp_path / "all.csv")
    assert count == 10 and [r["number"] for r in rows] == sorted(r["number"] for r in rows) and rows[-1]["number"] == "Z-1"
    assert {r["number"]: r["headquarters"] for r in rows if r["headquarters"]} == {
        store.customer(ids[1])["number"]: "Zentrale Köln", store.customer(ids[2])["number"]: "Merkez İstanbul"}
    assert told == [(0, 10), (3, 10), (6, 10), (9, 10), (10, 10)]
    (run,) = store.children(ids[0], "exports")
    assert run["count"] == 10 and run["customer_ids"] == sorted(ids)


def test_an_export_of_chosen_customers_writes_those_still_there_by_number(store, tmp_path, monkeypatch):
    monkeypatch.setattr(customers_export, "CHUNK", 2)
    ids = [store.add_customer("private", person(n))["id"] for n in range(6)]
    store.delete(ids[3])  # (deleted after it was chosen)
    chosen = [ids[5], ids[3], ids[0], ids[2]]

    assert export_customers(store, tmp_path / "some.xlsx", chosen) == 3

    sheet = load_workbook(tmp_path / "some.xlsx").active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [store.customer(i)["number"] for i in (ids[0], ids[2], ids[5])]
    (run,) = store.children(ids[0], "exports")
    assert run["customer_ids"] == [ids[0], ids[2], ids[5]]


def test_more_customers_than_a_sheet_holds_are_refused_before_anything_is_read(store, tmp_path, monkeypatch):
    monkeypatch.setattr(customers_export, "XLSX_ROWS", 3)
    for n in range(3):
        store.add_customer("private", person(n))
    (folder := tmp_path / "out").mkdir()
    with pytest.raises(StoreError, match=r"all\.xlsx: 3 customers are more rows than a workbook sheet holds \(2 and the header\); "
                                         r"export to \.csv or \.vcf"):
        export_customers(store, folder / "all.xlsx")
    assert list(folder.iterdir()) == [] and store.children(1, "exports") == []


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "vcf"])
def test_an_export_stopped_midway_leaves_the_file_there_was_and_no_other(store, tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(customers_export, "CHUNK", 2)
    for n in range(6):
        store.add_customer("private", person(n))
    (folder := tmp_path / "out").mkdir()
    out = folder / f"out.{suffix}"
    out.write_bytes(b"the last export")

    def stop(_what: str, done: int, _total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_customers(store, out, progress=stop)
    assert out.read_bytes() == b"the last export" and list(folder.iterdir()) == [out]
    assert store.children(1, "exports") == []


def test_an_export_from_a_server_reads_no_table_whole(store, store_path, backend, tmp_path):
    for n in range(5):
        store.add_customer("private", person(n))
    store.add_department(store.add_customer("corporate", company(9))["id"], {"name": "HQ"}, headquarters=True)
    with Store(store_path) as session:  # (another session's: nothing read yet)
        customers = session.parts.session.db.tables["customers"]
        assert customers.reads_alone == (backend == "postgresql") and not customers.text_read

        assert export_customers(session, tmp_path / "all.csv") == 6

        # (a read of every document would have held them: the store file's text, the server's rows)
        assert customers.reads_alone == (backend == "postgresql") and not customers.text_read
        departments = session.parts.session.db.tables["departments"]  # (each chunk's looked up on the server)
        assert (departments.__dict__["_columns"] is None) == (backend == "postgresql")
    assert [r["headquarters"] for r in _rows_of(tmp_path / "all.csv")].count("HQ") == 1


def test_an_export_of_many_is_logged_in_parts_and_its_entry_holds_none_of_their_ids(store, monkeypatch):
    monkeypatch.setattr(related, "EXPORT_PART", 2)
    ids = [store.add_customer("private", person(n))["id"] for n in range(5)]

    assert store.log_export(ids[::-1], "csv", "/tmp/all.csv") == 5

    parts = [store.children(i, "exports") for i in ids]
    assert [[run["customer_ids"] for run in runs] for runs in parts] == [[ids[0:2]]] * 2 + [[ids[2:4]]] * 2 + [[ids[4:]]]
    assert len(open_engine(store.location, SCHEMA).tables["exports"]) == 3
    (entry,) = [e for e in store.journal() if e["action"] == "export"]
    assert entry["summary"] == "Exported 5 customer(s) as csv to /tmp/all.csv" and not entry["edits"]
    store.delete(ids[2])  # (its part alone is rewritten: the others keep their revision)
    assert [r["customer_ids"] for r in store.children(ids[3], "exports")] == [[ids[3]]]
    assert [r["rev"] for r in store.children(ids[0], "exports")] == [1]
    deleted = store.journal()[0]
    (part,) = [edit for edit in deleted["edits"] if edit["table"] == "exports"]
    assert [field for field, *_ in part["fields"]] == ["count"]  # (not the customers it names: bookkeeping)


def test_an_export_clears_what_a_killed_export_to_the_same_file_left(store, tmp_path):
    """A killed export leaves its part-written file beside OUT (`.OUT.PID.XXXX.tmp`); the next
    export to OUT removes it, but never the file of one still writing, nor another file's."""
    store.add_customer("private", person(1))
    (folder := tmp_path / "out [1]").mkdir()
    out = folder / "all [*].csv"
    killed = folder / f".{out.name}.4194305.0a1b2c3d.tmp"  # (past the largest process id: no such process)
    writing = folder / f".{out.name}.1.0a1b2c3d.tmp"  # (process 1 runs)
    other = folder / ".all [x].csv.4194305.0a1b2c3d.tmp"
    for path in (killed, writing, other):
        path.write_text("number\n")
    assert export_customers(store, out) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted([out.name, writing.name, other.name])


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "vcf"])
def test_no_export_is_out_that_its_customers_log_lacks(store, tmp_path, monkeypatch, suffix):
    """The export is logged once its file is whole, before the file takes its place: a log
    refused (the store busy) leaves the file there was, and no file out unlogged."""
    store.add_customer("private", person(1))
    (folder := tmp_path / "out").mkdir()
    out = folder / f"all.{suffix}"
    out.write_bytes(b"the last export")

    def busy(*_args):
        raise StoreBusy("the store is busy: another session is saving")

    monkeypatch.setattr(store, "log_export", busy)
    with pytest.raises(StoreBusy):
        export_customers(store, out)
    assert out.read_bytes() == b"the last export" and list(folder.iterdir()) == [out]
    assert store.children(1, "exports") == []

"""The snapshot's layout: tables read alone and on demand, the columns file, lazy indexes."""
import zipfile

import orjson
import polars as pl
import pytest
from helpers import company, contents, person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from store import Store, StoreCorrupt
from store.engine import columns as columns_file
from store.engine import open_engine
from store.engine.columns import columns_path, prefetch_columns, read_frames, write_frames
from store.engine.table import LINE_STARTS, Table
from store.schema import SCHEMA
from store.views.records import Query, RecordView


def _filled(store_path, customers=5):
    with Store(store_path) as s:
        for n in range(1, customers + 1):
            c = s.add_customer("corporate", company(n, tags=[f"t{n % 2}"]))
            s.add_related("orders", c["id"], {"title": f"order {n}", "amount": n})
        s.compact()
    return store_path


def test_the_snapshot_is_one_json_document_tinydb_reads_itself(store_path):
    _filled(store_path)
    assert set(orjson.loads(store_path.read_bytes())) >= {"_toc", "customers", "orders", "journal"}
    db = TinyDB(store_path, storage=JSONStorage, access_mode="r")  # TinyDB's own storage, not ours
    assert sorted(d["number"] for d in db.table("customers").all()) == [f"C-00000{n}" for n in range(1, 6)]
    db.close()


def test_a_file_tinydb_wrote_opens_and_is_rewritten_in_the_table_layout(store_path):
    store_path.parent.mkdir(parents=True)
    db = TinyDB(store_path)
    db.table("customers").insert({"kind": "private", "first_name": "Grace", "email": "g@example.com",
                                  "number": "C-000001", "active": True})
    db.close()
    with Store(store_path) as s:
        assert s.find("customers", "email", "G@example.com")[0]["first_name"] == "Grace"
        s.add_customer("private", person(2))
        s.compact()
    assert store_path.read_bytes().startswith(b'{"_toc":')
    with Store(store_path) as s:
        assert s.customer_count() == 2


def test_opening_reads_no_large_table_until_it_is_used(store_path):
    _filled(store_path)
    engine = open_engine(store_path, SCHEMA)
    orders = engine.tables["orders"]
    assert not orders.text_read  # nothing of its text read yet
    assert engine.indexes.child_ids(1, "orders") == {1}  # answered from the columns file
    assert not orders.text_read
    assert orders[1]["title"] == "order 1"  # its line read alone (the columns file knows where it starts)
    assert not orders.text_read
    assert [doc["title"] for doc in orders.values()] == [f"order {n}" for n in range(1, 6)]
    assert orders.text_read


def test_a_table_never_read_is_copied_into_the_next_snapshot_as_it_was(store_path):
    _filled(store_path)
    before = orjson.loads(store_path.read_bytes())["orders"]
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:
        tx.insert("customers", {"kind": "private", "number": "C-000009"})
    engine.compact()
    assert not engine.tables["orders"].text_read
    assert orjson.loads(store_path.read_bytes())["orders"] == before


def test_a_table_read_from_a_snapshot_another_process_replaced_is_the_old_one(store_path):
    _filled(store_path)
    reader = Store(store_path)
    with Store(store_path) as writer:
        writer.add_related("orders", 1, {"title": "late", "amount": 1})
        writer.compact()  # a new snapshot file replaces the one `reader` opened
    assert [o["title"] for o in reader.children(1, "orders")] == ["order 1"]
    assert reader.refresh()
    assert [o["title"] for o in reader.children(1, "orders")] == ["order 1", "late"]


def _unknown_compression(archive: bytes, member: bytes) -> bytes:
    """The zip with `member`'s compression method (local and central headers) set to one
    zipfile does not know."""
    for header, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := archive.find(header, start)) >= 0:
            name_at = start + (30 if header == b"PK\x03\x04" else 46)
            if archive[name_at:name_at + len(member)] == member:
                archive = archive[:start + at] + (99).to_bytes(2, "little") + archive[start + at + 2:]
            start += 4
    return archive


@pytest.mark.parametrize("ahead", [False, True], ids=["opened", "read ahead"])
@pytest.mark.parametrize("damage", ["missing", "other generation", "junk", "unknown compression"])
def test_without_a_matching_columns_file_the_fields_are_decoded_again(store_path, damage, ahead):
    _filled(store_path)
    with Store(store_path) as s:
        expected = RecordView(s).select(Query(sort="name")).to_dicts()
    path = columns_path(store_path)
    if damage == "missing":
        path.unlink()
    elif damage == "junk":
        path.write_bytes(b"PK\x03\x04 not a zip")
    elif damage == "unknown compression":
        path.write_bytes(_unknown_compression(path.read_bytes(), b"customers.parquet"))
    else:
        other = store_path.with_name("other.json")
        _filled(other, customers=2)
        path.write_bytes(columns_path(other).read_bytes())
    if ahead:
        prefetch_columns(store_path)
        if path.exists():
            _read_ahead_done(store_path)  # (a damaged file ends the read too: the open never waits for ever)
    with Store(store_path) as s:
        assert RecordView(s).select(Query(sort="name")).to_dicts() == expected
        assert s.find("customers", "email", "ada3@example.com")[0]["number"] == "C-000003"


def _read_ahead_done(store_path):
    """Wait for the thread `prefetch_columns` started."""
    columns_file._READ_AHEAD[columns_path(store_path)].result(timeout=30)


def test_fields_read_ahead_are_taken_when_the_store_is_opened(store_path):
    _filled(store_path)
    with Store(store_path) as s:
        expected = RecordView(s).select(Query(sort="name")).to_dicts()
    prefetch_columns(store_path)
    _read_ahead_done(store_path)
    with Store(store_path) as s:
        assert columns_path(store_path) not in columns_file._READ_AHEAD  # (taken, not read again)
        assert RecordView(s).select(Query(sort="name")).to_dicts() == expected
        assert s.find("customers", "email", "ada3@example.com")[0]["number"] == "C-000003"


def test_fields_read_ahead_of_a_file_replaced_since_are_not_used(store_path):
    """Another process writes a new snapshot after the fields were read ahead: the store opens
    with the new file's fields, never the old ones."""
    _filled(store_path)
    with Store(store_path) as other:  # (opened before: it takes nothing read ahead)
        prefetch_columns(store_path)
        _read_ahead_done(store_path)
        added = other.add_customer("corporate", company(6))
        other.edit_customer(1, {"city": "Zwickau"})
        other.compact()
    with Store(store_path) as s:
        shown = {row["id"]: row for row in RecordView(s).select(Query(sort="name")).to_dicts()}
        assert added["id"] in shown and shown[1]["city"] == "Zwickau"
        assert s.find("customers", "email", "ada6@example.com")[0]["id"] == added["id"]


def test_a_cut_short_table_is_a_clear_error(store_path):
    _filled(store_path)
    data = store_path.read_bytes()
    store_path.write_bytes(data[: data.index(b'"orders":{') + 20])
    with pytest.raises(StoreCorrupt, match="custdesk.json: the store file is cut short"):
        Store(store_path)


def test_indexes_built_from_columns_equal_indexes_kept_in_step(store_path):
    with Store(store_path) as s:
        awkward = [person(1, email="  Mixed.Case@Example.COM "), person(2, vat_id="de 136.695-976", email=None),
                   person(3, mobile="+4915112345678", external_id=" X-1 ")]
        ids = [s.add_customer("private", p)["id"] for p in awkward]
        probes = [("email", "mixed.case@example.com"), ("vat_id", "DE136695976"), ("phone", "+4915112345678"),
                  ("external_id", "X-1"), ("number", "c-000002")]
        kept_in_step = [s.find("customers", k, v) for k, v in probes]  # indexes built, then updated per write
        s.compact()
    with Store(store_path) as s:
        assert [s.find("customers", k, v) for k, v in probes] == kept_in_step
        assert [len(found) for found in kept_in_step] == [1, 1, 1, 1, 1]
        assert kept_in_step[1][0]["id"] == ids[1]


def test_a_table_reads_written_documents_over_its_text():
    table = Table.from_docs({"customer_id": pl.Int64()}, {1: {"customer_id": 7}, 3: {"customer_id": 8}})
    table[2] = {"customer_id": 7}
    table.pop(3)
    table[5] = {"customer_id": 9}
    assert list(table) == [1, 2, 5] and len(table) == 3 and 3 not in table
    assert [d["customer_id"] for d in table.values()] == [7, 7, 9]
    assert table.frame().to_dicts() == [{"id": 1, "customer_id": 7}, {"id": 2, "customer_id": 7},
                                        {"id": 5, "customer_id": 9}]
    assert table.frame([2, 3]).to_dicts() == [{"id": 2, "customer_id": 7}]
    table.fold()
    assert list(table.items()) == [(1, {"customer_id": 7}), (2, {"customer_id": 7}), (5, {"customer_id": 9})]


def test_everything_survives_a_round_trip_through_the_layout(store_path):
    _filled(store_path)
    with Store(store_path) as s:
        s.deactivate([2])
        s.merge_into(4, 5)
        before = contents(s)
        s.compact()
    with Store(store_path) as s:
        assert contents(s) == before


def test_replaying_the_change_log_at_open_reads_no_table_text(store_path):
    _filled(store_path)
    with Store(store_path) as s:
        s.deactivate([2])
        s.add_customer("private", person(9))
    engine = open_engine(store_path, SCHEMA)
    customers = engine.tables["customers"]
    frame = engine.frame("customers")
    assert not customers.text_read
    assert frame.filter(pl.col("id") == 2)["active"].to_list() == [False]
    assert frame.height == 6 and len(customers) == 6  # the columns file's ids, and the log's writes counted
    assert customers[2]["active"] is False and customers[1]["company"] == company(1)["company"]
    assert not customers.text_read  # (each document read from its own line)
    assert sorted(customers) == [1, 2, 3, 4, 5, 6] and len(list(customers.values())) == 6
    assert customers.text_read


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({"title": _text, "note": _text, "amount": st.integers(-10**12, 10**12)}),
                min_size=1, max_size=12), st.data())
def test_a_document_read_from_its_own_line_is_the_document_written(tmp_path_factory, orders, data):
    """Any text (multi-byte, escaped, control characters), the last line of a table, a table
    copied unchanged into the next snapshot and one rewritten: each document read alone is
    the one written, as reading the whole text gives it."""
    path = tmp_path_factory.mktemp("lines") / "s.json"
    engine = open_engine(path, SCHEMA)
    with engine.transaction() as tx:
        ids = [tx.insert("orders", {**order, "customer_id": 1}) for order in orders]
    engine.compact()
    engine.close()
    for _ in range(2):
        engine = open_engine(path, SCHEMA)
        table = engine.tables["orders"]
        read = [table[i] for i in ids]
        assert [{k: doc[k] for k in order} for doc, order in zip(read, orders, strict=True)] == orders
        assert not table.text_read and len(table) == len(orders)  # each read from its line alone
        assert read == list(table.values())  # as the whole text, read now, gives them
        engine.close()
        engine = open_engine(path, SCHEMA)
        if data.draw(st.booleans()):  # the next snapshot: rewritten, or copied as it was
            with engine.transaction() as tx:
                tx.put("orders", ids[0], {**orders[0], "customer_id": 1})
        with engine.transaction() as tx:
            tx.insert("customers", {"kind": "private", "number": "C-000001"})
        engine.compact()
        engine.close()


def test_a_few_documents_added_leave_a_table_read_line_by_line_unread(store_path):
    _filled(store_path)
    engine = open_engine(store_path, SCHEMA)
    orders = engine.tables["orders"]
    new = pl.DataFrame({"title": ["new a", "new b"], "amount": [7, 8], "customer_id": [1, 1]})
    with engine.transaction() as tx:
        ids = tx.insert_rows("orders", new)
    assert not orders.text_read and len(orders) == 7
    assert [orders[i]["title"] for i in ids] == ["new a", "new b"]
    assert engine.frame("orders")["id"].to_list()[-2:] == ids
    assert engine.indexes.child_ids(1, "orders") == {1, *ids}
    with pytest.raises(RuntimeError), engine.transaction() as tx:
        rolled = tx.insert_rows("orders", new)
        raise RuntimeError("rolled back")
    assert len(orders) == 7 and not any(i in orders for i in rolled)
    engine.compact()
    engine.close()
    engine = open_engine(store_path, SCHEMA)
    assert [doc["title"] for doc in engine.tables["orders"].values()][-2:] == ["new a", "new b"]


def test_line_starts_that_are_not_the_document_s_read_the_text_instead(store_path):
    # (a columns file of this generation whose line starts are wrong: never another document)
    _filled(store_path)

    with zipfile.ZipFile(columns_path(store_path)) as kept:
        generation = kept.read("generation").decode()
    frames = read_frames(columns_path(store_path), generation, SCHEMA.columns)
    shifted = frames["orders"][LINE_STARTS].to_list()
    frames["orders"] = frames["orders"].with_columns(pl.Series(LINE_STARTS, [shifted[1], shifted[2], *shifted[2:]]))
    write_frames(columns_path(store_path), generation, frames)
    engine = open_engine(store_path, SCHEMA)
    orders = engine.tables["orders"]
    assert [orders[i]["title"] for i in (1, 2, 3, 4, 5)] == [f"order {n}" for n in range(1, 6)]
    assert orders.text_read

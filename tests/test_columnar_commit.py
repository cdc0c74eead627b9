"""An import's commit, column-wise (`Batch.rows` → `Transaction.insert_rows`): it must
store exactly the documents the record-by-record path stores, and count, index, log,
roll back and undo them alike."""
from __future__ import annotations

import orjson
import polars as pl
import pytest
from helpers import contents, person
from hypothesis import given, settings
from hypothesis import strategies as st
from international import people

from store import Batch, ConcurrentChange, NotFound, NothingToUndo, RuleViolation, Store
from store.base import json_rows
from store.base.json_rows import object_texts
from store.engine import open_engine
from store.engine.postgres import backend as pg_backend
from store.engine.postgres.reads import read_text as _read_text
from store.model import CUSTOMERS, SOURCES
from store.rules.keys import KEYED, key_column, normalise_key
from store.schema import SCHEMA

STAMPS = ("created_at", "updated_at", "imported_at")
HOSTILE_NOTE = 'line "one"\r\nline\ttwo \x1f \\ 😀 [b]bold[/b] \u2028'


def _records(count: int) -> list[dict]:
    """International people as an import hands them over, some with awkward text."""
    out = []
    for n, p in enumerate(people(count)):
        out.append({"first_name": p.first, "last_name": p.last, "email": p.email, "phone": p.phone,
                    "country": p.country, "company": f"Çiçek & Söhne {n}" if n % 2 else None,
                    "tags": "messe, vip" if n % 3 == 0 else None, "notes": HOSTILE_NOTE if n % 5 == 0 else None})
    return out


def _with_origin(records: list[dict]) -> list[dict]:
    return [{**r, "origin": {"file": "leads.csv", "sheet": None, "row": n + 2},
             "raw": {"Name": r["first_name"], "E-Mail": r["email"], "Notiz \"1\"": r["notes"] or "–"}}
            for n, r in enumerate(records)]


def _as_rows(records: list[dict]) -> pl.DataFrame:
    fields = [f for f in records[0] if f not in ("origin", "raw")]
    rows = pl.DataFrame({f: [r[f] for r in records] for f in fields}, schema=dict.fromkeys(fields, pl.String))
    if "origin" in records[0]:
        rows = rows.with_columns(pl.Series("origin", [r["origin"] for r in records]),
                                 pl.Series("raw", [r["raw"] for r in records]))
    return rows


def _unstamped(store: Store) -> dict:
    return {table: {i: {k: v for k, v in doc.items() if k not in STAMPS} for i, doc in docs.items()}
            for table, docs in contents(store).items()}


@pytest.mark.parametrize("target", ["private", "corporate", "sources"])
@pytest.mark.parametrize("bulk", [False, True], ids=["logged", "new snapshot"])
def test_rows_store_exactly_what_records_store(tmp_path, monkeypatch, target, bulk):
    monkeypatch.setattr(json_rows, "SLICE_ROWS", 16)  # (the documents' text built 16 rows at a time: each part in place)
    if bulk:  # a commit this large is written as a new snapshot rather than logged
        monkeypatch.setattr("store.engine.database.BULK_CHANGES", 10)
    records = _records(70)
    if target == SOURCES:
        records = _with_origin(records)
    elif target == "corporate":
        records = [{**r, "company": r["company"] or f"Bäckerei {n} GmbH"} for n, r in enumerate(records)]
    one, two = Store(tmp_path / "one.json"), Store(tmp_path / "two.json")
    one.apply_batch(Batch(target, creates=[dict(r) for r in records]))
    two.apply_batch(Batch(target, rows=_as_rows(records)))
    assert two.stats() == one.stats()
    table = SOURCES if target == SOURCES else CUSTOMERS
    # The decoded fields the views read: from the documents' JSON for records, from the rows' own columns for rows.
    decoded, conformed = (s.frame(table).drop("imported_at", strict=False) for s in (one, two))
    assert conformed.schema == decoded.schema and conformed.equals(decoded)
    one.close()
    two.close()
    stored = _unstamped(two)
    assert stored == _unstamped(one)
    assert len(stored[table]) == 70
    first = next(iter(stored[table].values()))
    assert first["phone"].startswith("+") and first["rev"] == 1
    noted = [doc for doc in stored[table].values() if doc.get("notes")]
    assert noted and all(doc["notes"] == HOSTILE_NOTE.strip() for doc in noted)  # kept as typed, trimmed


def test_rows_are_indexed_counted_and_undone(store_path):
    store = Store(store_path)
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    records = _records(30)
    entry = store.apply_batch(Batch("private", rows=_as_rows(records)))
    wanted = records[7]["email"].upper() if records[7]["email"].isascii() else records[7]["email"]
    assert [c["first_name"] for c in store.find(CUSTOMERS, "email", wanted)] == [records[7]["first_name"]]
    assert store.stats()["customers"] == 31
    assert [c["number"] for c in store.customers()][-1] == "C-000031"
    store.undo(entry["id"])
    assert store.stats()["customers"] == 1
    assert store.find(CUSTOMERS, "email", wanted) == []
    store.close()
    assert [c["first_name"] for c in Store(store_path).customers()] == ["Ada"]


def test_a_failure_after_the_rows_leaves_nothing_behind(store_path):
    store = Store(store_path)
    kept = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    before = contents(store)
    records = _records(20)
    with pytest.raises(NotFound):  # the update comes after the rows are in
        store.apply_batch(Batch("private", rows=_as_rows(records), updates=[(999, {"city": "Köln"})]))
    assert contents(store) == before
    assert store.stats()["customers"] == 1
    assert store.find(CUSTOMERS, "email", records[0]["email"]) == []
    # The same rows go in afterwards, numbered on from where the store stood.
    store.apply_batch(Batch("private", rows=_as_rows(records)))
    assert sorted(c["number"] for c in store.customers())[-1] == "C-000021"
    assert store.record(CUSTOMERS, kept["id"])["rev"] == 1


def test_numbers_given_twice_among_the_rows_refuse_the_batch(store_path):
    store = Store(store_path)
    rows = _as_rows(_records(3)).with_columns(pl.Series("number", ["K-1", None, "k 1"]))
    with pytest.raises(RuleViolation, match=r"record 3: customer number K 1 is already used"):
        store.apply_batch(Batch("private", rows=rows))
    assert store.stats()["customers"] == 0
    store.apply_batch(Batch("private", rows=rows.with_columns(pl.Series("number", ["K-1", None, "K-3"]))))
    assert sorted(c["number"] for c in store.customers()) == ["C-000001", "K-1", "K-3"]


def test_a_batch_takes_records_or_rows_not_both(tmp_path):
    with pytest.raises(RuleViolation, match="records or rows"):
        Batch("private", creates=[{"first_name": "Ada"}], rows=pl.DataFrame({"first_name": ["Bo"]}))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), st.text(alphabet=" \t\x1c\x1f.-aBcßİı@é0\u00a0")), max_size=12),
       st.sampled_from(sorted(KEYED)))
def test_keys_normalised_column_wise_are_the_keys_one_by_one(values, field):
    assert key_column(field, pl.Series(values, dtype=pl.String)).to_list() == [normalise_key(field, v) for v in values]


def test_rows_written_again_or_undone_in_their_transaction_are_logged_as_they_end(store_path):
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:
        ids = tx.insert_rows(CUSTOMERS, pl.DataFrame({"first_name": ["Ada", "Bo"], "email": ["ada@bäcker.de", None]}))
        tx.put(CUSTOMERS, ids[1], {**(tx.get(CUSTOMERS, ids[1]) or {}), "first_name": "Bea"})
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.insert_rows(CUSTOMERS, pl.DataFrame({"first_name": ["Cy"]}))
            raise RuntimeError
    engine.close()
    again = open_engine(store_path, SCHEMA)  # read back from the snapshot and its log
    assert {i: (d["first_name"], d["rev"]) for i, d in again.tables[CUSTOMERS].items()} == {1: ("Ada", 1), 2: ("Bea", 2)}
    assert again.indexes.find(CUSTOMERS, "email", " ADA@xn--bcker-gra.de") == {1}
    assert again.tallies()[CUSTOMERS]["*"] == 2


def test_an_import_keeps_its_undo_data_as_runs_and_obfuscation_still_purges_it(store_path):
    store = Store(store_path)
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    entry = store.apply_batch(Batch("private", rows=_as_rows(_records(30))))
    stored = open_engine(store.location, SCHEMA).tables["journal"][entry["id"]]
    assert stored["changes"] == [["customers", [2, 32], None, 1]]  # not 30 entries
    store.obfuscate(17)  # one of the imported customers: no undo may bring its data back
    with pytest.raises(NothingToUndo):
        store.undo(entry["id"])


def test_inserted_runs_leave_out_the_rows_written_again(store_path):
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:
        tx.insert_rows(CUSTOMERS, pl.DataFrame({"first_name": list("abcde")}))
        tx.put(CUSTOMERS, 3, {"first_name": "C"})
        assert tx.inserted_runs() == [(CUSTOMERS, 1, 3), (CUSTOMERS, 4, 6)]
        assert (tx.rev(CUSTOMERS, 2), tx.rev(CUSTOMERS, 3)) == (1, 2)
    engine.close()


def test_rows_are_counted_as_runs_not_listed_one_by_one(store_path):
    """The documents `insert_rows` added are runs (an import's 100k would make every look over a
    commit's changes walk them); the transaction still counts them, and the journal names them."""
    engine = open_engine(store_path, SCHEMA)
    with engine.transaction() as tx:
        tx.insert_rows(CUSTOMERS, pl.DataFrame({"first_name": list("abcde")}))
        tx.put(CUSTOMERS, 3, {"first_name": "C"})
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.insert_rows(SOURCES, pl.DataFrame({"first_name": ["f", "g"]}))
            raise RuntimeError
        assert tx.before == {(CUSTOMERS, 3): None}  # written again: absent before the transaction
        assert tx.size() == 5 and tx.tables_changed() == {CUSTOMERS, SOURCES}
    engine.close()
    store = Store(store_path)
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    entry = store.apply_batch(Batch("private", rows=_as_rows(_records(30))))
    assert entry["touched"] == {CUSTOMERS: 30} and entry["created_runs"] == [[7, 37]]
    assert entry["customer_ids"] is None or entry["customer_ids"] == list(range(7, 37))
    store.close()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5, unique=True).flatmap(
    lambda names: st.tuples(st.just(names), st.lists(st.lists(st.one_of(st.none(), st.text(max_size=12)),
                                                              min_size=len(names), max_size=len(names)), max_size=6))))
def test_json_built_column_wise_reads_back_as_the_row_without_its_nulls(named):
    names, rows = named
    frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")
    texts = object_texts(frame).to_list()
    assert [orjson.loads(text) for text in texts] == [{n: v for n, v in zip(names, row, strict=True) if v is not None}
                                                      for row in rows]
    # The same cells as one object of a document (a prospect's raw row): its empty ones left out too.
    nested = frame.to_struct("*").to_frame().with_columns(pl.Series("^n$", range(len(rows))))
    texts = object_texts(nested, objects=("*",)).to_list()
    assert [orjson.loads(text) for text in texts] == [
        {"*": {n: v for n, v in zip(names, row, strict=True) if v not in (None, "")}, "^n$": at} for at, row in enumerate(rows)]


def test_each_inserted_documents_text_is_made_once_and_on_a_server_a_part_at_a_time(store_path, backend, monkeypatch):
    """A store file keeps every document's text: made once, for the table and its change log
    alike; a server is sent it a COPY part at a time, none made before."""
    from store.engine.postgres import writes

    monkeypatch.setattr(writes, "COPY_ROWS", 7)
    made: list[int] = []
    build = json_rows.object_texts
    monkeypatch.setattr(json_rows, "object_texts", lambda frame, **kw: made.append(frame.height) or build(frame, **kw))
    Store(store_path).close()
    engine = open_engine(store_path, SCHEMA)
    rows = pl.DataFrame({"first_name": [f"Zoë {n}" for n in range(30)], "email": [f"z{n}@bäckerei.de" for n in range(30)]})
    with engine.transaction() as tx:
        ids = tx.insert_rows(CUSTOMERS, rows)
        assert made == ([] if backend == "postgresql" else [30])
    assert made == ([7, 7, 7, 7, 2] if backend == "postgresql" else [30])
    engine.close()
    again = open_engine(store_path, SCHEMA)
    assert [again.tables[CUSTOMERS].get(i)["first_name"] for i in (ids[0], ids[-1])] == ["Zoë 0", "Zoë 29"]
    again.close()


def test_a_large_commit_on_a_server_reads_no_table_whole(store_path, backend, monkeypatch):
    """A session of a server holds what it wrote until the commit; then the server has it.
    Past `FOLD_WRITTEN` documents the written ones are let go, not folded into the table's
    text: a deactivation of 20,001 of ten million customers read all ten million."""
    from store.engine.postgres import backend as pg_backend

    monkeypatch.setattr(pg_backend, "FOLD_WRITTEN", 3)
    store = Store(store_path)
    ids = [store.add_customer("private", person(n))["id"] for n in range(8)]
    store.close()
    with Store(store_path) as session:  # (another session's: nothing read yet)
        customers = session.parts.session.db.tables[CUSTOMERS]
        session.edit_customer(ids[6], {"city": "Köln"})
        assert [c["id"] for c in session.find(CUSTOMERS, "email", person(6)["email"])] == [ids[6]]
        assert session.deactivate(ids[:5]) == 5
        assert customers.reads_alone == (backend == "postgresql") and not customers.text_read
        assert [c["id"] for c in session.find(CUSTOMERS, "email", person(6)["email"])] == [ids[6]]
        keyed = session.parts.session.db.indexes._keyed_written.get(CUSTOMERS, (None, {}))[1]
        assert keyed.keys() <= customers.written_docs().keys()  # (none of those let go kept with its keys)
        assert [session.customer(i)["active"] for i in ids] == [False] * 5 + [True] * 3
        assert session.stats()["active"] == 3
    with Store(store_path) as session:  # (one whose view holds every customer's fields: they take the written in)
        customers = session.parts.session.db.tables[CUSTOMERS]
        assert customers.frame()["active"].to_list() == [False] * 5 + [True] * 3
        session.reactivate(ids[1:5])  # (more than FOLD_WRITTEN: let go, the fields held taking them in)
        assert customers.frame()["active"].to_list() == [False] + [True] * 7
        assert customers.reads_alone == (backend == "postgresql") and not customers.text_read


def test_verbs_over_many_records_read_them_from_a_server_together(store_path, backend, monkeypatch):
    """Tagging, (de)activating, discarding and undoing many records read them ahead in a few
    statements (`Transaction.reading_ahead`), not each alone: 100,000 chosen customers were
    300,000 statements."""
    from store.engine import table as tables

    read_alone = []
    monkeypatch.setattr(pg_backend, "read_text", lambda *args: read_alone.append(args[1:]) or _read_text(*args))
    monkeypatch.setattr(tables, "HOLD_CHUNK", 4)
    store = Store(store_path)
    ids = [store.add_customer("private", person(n))["id"] for n in range(9)]
    entry = store.apply_batch(Batch("sources", rows=_as_rows(_with_origin(_records(7)))))
    store.close()
    read_alone.clear()
    with Store(store_path) as session:  # (nothing read yet)
        assert session.set_tags(ids, add=["messe"]) == 9
        assert session.deactivate(ids[2:]) == 7
        session.undo()
        assert session.discard([3, 5]) == 2
        session.undo()
        session.undo(entry["id"])
        assert [read for read in read_alone if read[0] != "journal"] == []  # (a server's journal: read when needed)
        assert [session.customer(i)["tags"] for i in ids] == [["messe"]] * 9 and session.stats()["active"] == 9
        assert list(session.sources()) == []


@pytest.fixture
def imported(store_path, monkeypatch):
    """A store of one customer, then an import of 30 customers and one of 20 prospects, each
    run longer than undo lists edit by edit (`EDITS_UP_TO`, 5 here): undone column-wise on a
    server (`Transaction.delete_run`), one by one in a file."""
    from store.domain import edits

    monkeypatch.setattr(edits, "EDITS_UP_TO", 5)
    store = Store(store_path)
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com", "tags": "kept"})
    before = contents(store)
    customers = store.apply_batch(Batch("private", rows=_as_rows(_records(30))))
    prospects = store.apply_batch(Batch("sources", rows=_as_rows(_with_origin(_records(20)))))
    store.close()
    return before, customers, prospects


def test_an_undone_import_takes_its_runs_back_whole(store_path, imported, monkeypatch):
    from store.engine.table import Table

    before, customers, prospects = imported
    read, hold = [], Table.hold
    monkeypatch.setattr(pg_backend, "read_text", lambda *args: read.append(args[1:]) or _read_text(*args))
    monkeypatch.setattr(Table, "hold", lambda table, ids: (table.reads_alone and read.extend(ids)) or hold(table, ids))
    with Store(store_path) as session:
        wanted = _records(30)[7]["email"]
        session.undo(prospects["id"])
        session.undo(customers["id"])
        # (no record read, alone or ahead: by revs and counts alone on a server; its journal read when needed)
        assert [one for one in read if one[0] != "journal"] == []
        assert session.stats() == {**session.stats(), "customers": 1, "active": 1, "private": 1, "sources": 0}
        assert session.find(CUSTOMERS, "email", wanted.upper() if wanted.isascii() else wanted) == []
        assert [c["first_name"] for c in session.customers()] == ["Ada"] and list(session.sources()) == []
        undo = session.journal()[0]
        assert undo["touched"] == {CUSTOMERS: 30} and undo["changed_runs"] == [[2, 32]]
    assert contents(Store(store_path)) == before
    with Store(store_path) as again:  # (another session's counts: those kept with the commit)
        assert again.stats()["customers"] == 1 and again.stats()["sources"] == 0


def test_an_import_changed_since_is_not_undone(store_path, backend, imported, monkeypatch):
    from store.engine.transaction import Transaction

    _before, customers, _prospects = imported
    with Store(store_path) as other:
        other.edit_customer(17, {"city": "Köln"})
    runs, delete_run = [], Transaction.delete_run
    monkeypatch.setattr(Transaction, "delete_run", lambda tx, *run: runs.append(found := delete_run(tx, *run)) or found)
    with Store(store_path) as session:
        session.edit_customer(23, {"city": "Köln"})  # (this session's own: committed, found on the server)
        held = contents(session)
        with pytest.raises(ConcurrentChange, match=r"2 record\(s\) changed since, e\.g\. customer #17"):
            session.undo(customers["id"])
        assert runs == ([[17, 23]] if backend == "postgresql" else [None])  # (column-wise on a server)
        assert contents(session) == held and session.stats()["customers"] == 31
        assert session.customer(23)["city"] == "Köln"


def test_an_undo_that_fails_puts_the_runs_back(store_path, imported, monkeypatch):
    _before, customers, _prospects = imported
    with Store(store_path) as session:
        held = contents(session)
        monkeypatch.setattr(session.parts.session, "write_entry", _fail)
        with pytest.raises(RuntimeError):
            session.undo(customers["id"])
        assert session.customer(20)["number"] == "C-000020" and session.stats()["customers"] == 31
        assert [c["number"] for c in session.customers()][-1] == "C-000031"
    assert contents(Store(store_path)) == held


def _fail(*_args, **_kwargs):
    raise RuntimeError("the journal is full")


def test_a_record_of_a_run_deleted_whole_is_not_written_again_in_its_transaction(store_path, backend, imported):
    """(Its deletion is written after the transaction's other writes and undone apart from
    them.) A store file deletes no run whole: its caller deletes the records one by one."""
    with Store(store_path) as session:
        db = session.parts.session.db
        if backend == "postgresql":
            with pytest.raises(ValueError, match="customers #7 was deleted with its run"), db.transaction() as tx:
                assert tx.delete_run(CUSTOMERS, 2, 32, 1) == []
                tx.put(CUSTOMERS, 7, {"first_name": "Again"})
        else:
            with db.transaction() as tx:
                assert tx.delete_run(CUSTOMERS, 2, 32, 1) is None
        assert session.stats()["customers"] == 31 and session.customer(7)["number"] == "C-000007"


def test_objects_are_struct_columns_and_one_of_no_fields_is_an_empty_object():
    frame = pl.DataFrame({"a": [1]}).with_columns(pl.Series("o", [{}], dtype=pl.Struct({})))
    assert object_texts(frame, objects=("o", "absent")).to_list() == ['{"a":1,"o":{}}']
    for wrong in (("a",), "o"):  # (text where an object is meant; a name, not a collection of names)
        with pytest.raises(TypeError, match="objects names struct columns"):
            object_texts(frame, objects=wrong)

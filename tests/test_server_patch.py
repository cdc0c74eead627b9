"""Deactivating, reactivating and tagging many customers on a server, and undoing it, field by field
(`Transaction.patch`): the session reads the fields it decides on, column-wise, and writes
one statement; it holds no customer's document, and the journal keeps the fields changed,
not the documents. Checked against what the same verbs leave in a store file, one by one."""
from __future__ import annotations

import orjson
import psycopg
import pytest
from international import people

from store import ConcurrentChange, NotFound, Store
from store.domain import edits, journal
from store.engine import containing, transaction
from store.engine.postgres import reads, writes
from store.model import CUSTOMERS, TALLIED

CHOSEN = list(range(5, 65))  # (60 customers, more than PATCHED_FROM: changed column-wise)


@pytest.fixture
def url(pg_database, monkeypatch):
    """A store of 80 international customers, every ninth inactive; some with a
    deactivation date, most without one."""
    # (as at 1,000: more are patched column-wise, and their entry lists neither edits nor customers)
    monkeypatch.setattr(transaction, "PATCHED_FROM", 20)
    monkeypatch.setattr(edits, "EDITS_UP_TO", 20)
    monkeypatch.setattr(journal, "LIST_CUSTOMERS_UP_TO", 20)
    with Store(pg_database, user="tester") as store:
        for p in people(80, seed=41):
            store.add_customer("private", {"first_name": p.first, "last_name": p.last, "email": p.email,
                                           "phone": p.phone, "country": p.country})
        store.deactivate(list(range(9, 81, 9)))  # (8 customers: one by one)
    return pg_database


def _stored(url: str) -> dict[int, dict]:
    """Every customer's document as the server holds it."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, doc FROM customers WHERE doc IS NOT NULL ORDER BY id").fetchall())


def _texts(url: str) -> dict[int, str]:
    """Every customer's document as the server's text: `1` and `true` told apart."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, doc::text FROM customers WHERE doc IS NOT NULL ORDER BY id").fetchall())


def _reads_whole(store: Store) -> list[int]:
    """The ids of the customers the session reads whole from now on (a list it appends to)."""
    rows = store.parts.session.db.tables[CUSTOMERS]
    read: list[int] = []
    one, some = rows._read_one, rows._read_some

    def read_one(doc_id):
        read.append(doc_id)
        return one(doc_id)

    def read_some(ids):
        read.extend(ids)
        return some(ids)

    rows._read_one, rows._read_some = read_one, read_some
    return read


def _without(doc: dict, *fields: str) -> dict:
    return {k: v for k, v in doc.items() if k not in fields}


def test_many_customers_are_deactivated_and_undone_field_by_field_holding_none(url):
    before, texts = _stored(url), _texts(url)
    active = [i for i in CHOSEN if before[i]["active"]]
    with Store(url, user="clerk") as store:
        read = _reads_whole(store)
        assert store.deactivate(CHOSEN) == len(active) == 53
        assert read == []  # (the fields decided on read column-wise; nothing read whole)
        entry = store.journal(1)[0]
        assert entry["summary"].startswith("Deactivated ") and entry["touched"] == {"customers": 53}
        assert store.stats()["active"] == 80 - 8 - 53
        assert store.customer(active[0])["active"] is False  # (read from the server: committed)
    after = _stored(url)
    for i, doc in after.items():
        if i in active:  # the three fields changed, the rest as it was
            assert doc["active"] is False and doc["deactivated_at"] == doc["updated_at"] == entry["at"]
            assert doc["rev"] == before[i]["rev"] + 1
            assert _without(doc, "active", "deactivated_at", "updated_at", "rev") == \
                _without(before[i], "active", "deactivated_at", "updated_at", "rev")
        else:
            assert doc == before[i]
    with psycopg.connect(url) as conn:  # the entry keeps the fields changed, not 53 documents
        kept = conn.execute("SELECT doc FROM journal ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert kept["changes"] == [] and kept["patches"][0][:3] == ["customers", active, [before[i]["rev"] + 1 for i in active]]
    assert _kept_counts(url)["kind|active"] == {"private|true": 19, "private|false": 61}  # (read with the status it changed)
    assert kept["patches"][0][3]["active"] == [True] * 53 and "deactivated_at" not in orjson.dumps(kept["changes"]).decode()
    with Store(url, user="other") as other:  # another session counts and reads the same
        assert other.stats()["active"] == 19 and not other.customer(active[-1])["active"]
        read = _reads_whole(other)
        other.undo()
        assert read == []
    assert _texts(url) == texts  # each as it was, absent fields absent again, its rev too
    with Store(url, user="third") as third:
        assert third.stats()["active"] == 72 and third.parts.session.db.tallies()["customers"] == \
            third.parts.session.db.count_table("customers") == _server_counts(url)


def test_the_switch_reactivates_many_when_none_is_active(url):
    with Store(url) as store:
        store.deactivate(CHOSEN)
        assert store.switch_active(CHOSEN) == ("reactivate", 60)
        assert store.stats()["active"] == 79  # (customer 72 stays inactive)
    assert [i for i, doc in _stored(url).items() if not doc["active"] or "deactivated_at" in doc] == [72]


def test_an_undo_of_a_patch_is_refused_when_one_was_changed_since(url):
    with Store(url) as store:
        store.deactivate(CHOSEN)
        with Store(url, user="other") as other:
            other.edit_customer(30, {"city": "İzmir"})
        kept = _stored(url)
        with pytest.raises(ConcurrentChange, match="1 record\\(s\\) changed since, e.g. customer #30"):
            store.undo()
        assert _stored(url) == kept and store.stats()["active"] == 19


def test_a_patch_the_server_refuses_leaves_the_session_and_the_server_as_they_were(url, monkeypatch):
    """As if another session changed one of the rows between the read and the commit: the
    statement finds one row fewer, nothing is saved, and the session reads the server's."""
    kept = _stored(url)
    patches = writes._patches
    monkeypatch.setattr(writes, "_patches", lambda cur, patched: [
        (table, statement, expected + 1, params) for table, statement, expected, params in patches(cur, patched)])
    with Store(url) as store:
        with pytest.raises(ConcurrentChange, match="1 record\\(s\\) of 'customers' were changed by someone else"):
            store.deactivate(CHOSEN)
        assert store.stats()["active"] == 72 and store.customer(5)["active"] is True
        assert store.parts.session.db.tables[CUSTOMERS]._patched == []
        assert store.journal(1)[0]["action"] == "deactivate" and store.journal(1)[0]["touched"] == {"customers": 8}
    assert _stored(url) == kept


def test_a_customer_gone_is_named_and_nothing_is_changed(url):
    kept = _stored(url)
    with Store(url) as store:
        store.delete(40)
        kept = _stored(url)
        with pytest.raises(NotFound, match="customer #40 does not exist"):
            store.deactivate(CHOSEN)
    assert _stored(url) == kept


def test_a_record_patched_is_read_with_its_new_fields_until_the_commit(url):
    """Within the transaction the patched documents read as the server's with the patch over
    them; a write of one is refused (its undo data holds the fields changed only)."""
    import polars as pl

    with Store(url) as store:
        db = store.parts.session.db
        with pytest.raises(RuntimeError, match="rolled back"), db.transaction() as tx:
            found = tx.fields(CUSTOMERS, CHOSEN, {"active": pl.Boolean()})
            tx.patch(CUSTOMERS, found.select("id", "rev", city=pl.lit("Köln"), active=pl.lit(None, dtype=pl.Boolean())))
            doc = tx.get(CUSTOMERS, 5)
            assert doc["city"] == "Köln" and "active" not in doc and doc["rev"] == found["rev"][0] + 1
            assert db.docs(CUSTOMERS, [5, 70])[5] == doc and db.docs(CUSTOMERS, [70])[70].get("city") != "Köln"
            assert db.frame(CUSTOMERS, [5, 70])["city"].to_list() == ["Köln", db.docs(CUSTOMERS, [70])[70].get("city")]
            with pytest.raises(ValueError, match="patched column-wise"):
                tx.put(CUSTOMERS, 5, doc)
            raise RuntimeError("rolled back")
        assert store.customer(5).get("city") != "Köln" and store.customer(5)["active"] is True


def test_a_patch_moved_to_a_store_file_is_undone_there_one_by_one(url, tmp_path):
    """`custdesk migrate` copies the journal: the file store undoes the server's patch by
    putting each customer, to the same documents."""
    from store.admin.migrate import migrate

    before = _stored(url)
    with Store(url) as store:
        store.deactivate(CHOSEN)
    path = tmp_path / "moved.json"
    migrate(url, path)
    with Store(path) as moved:
        assert moved.stats()["active"] == 19
        moved.undo()
        assert moved.stats()["active"] == 72
        assert {i: moved.parts.session.db.tables[CUSTOMERS][i] for i in CHOSEN} == {i: before[i] for i in CHOSEN}


def test_many_customers_are_tagged_field_by_field_holding_none(url):
    with Store(url) as store:
        store.set_tags(range(1, 11), add=["vip", "b2b"])  # (10: one by one)
        before = _stored(url)
        read = _reads_whole(store)
        assert store.set_tags(CHOSEN, add=["messe", "b2b"], remove=["vip"]) == 60
        assert read == [] and store.journal(1)[0]["touched"] == {"customers": 60}
        assert store.set_tags(CHOSEN, add=["messe"]) == 0  # (none changes: no entry)
        tagged = store.journal(1)[0]
        assert tagged["summary"] == "Tagged 60 customer(s): +messe,b2b -vip"
        # (a bulk entry names its customers by runs alone: a customer's history parses it, as an entry listing none)
        journal_rows = store.parts.session.db.tables["journal"]
        assert tagged["id"] in containing(journal_rows, ("no such text",), lacking=('"customer_ids"',))
        assert tagged["id"] in [e["entry"] for e in store.history(CHOSEN[-1])]
    after = _stored(url)
    for i, doc in after.items():
        if i in CHOSEN:
            assert doc["tags"] == (["b2b", "messe"] if i <= 10 else ["messe", "b2b"]) and doc["rev"] == before[i]["rev"] + 1
            assert _without(doc, "tags", "updated_at", "rev") == _without(before[i], "tags", "updated_at", "rev")
        else:
            assert doc == before[i]
    # (each tag counted as the patch changed it, by its fields: the tag filter's count and list)
    assert _kept_counts(url)["tags[]"] == _server_counts(url)["tags[]"] == {"vip": 4, "b2b": 64, "messe": 60, "": 16}
    with Store(url) as store:
        store.set_tags(CHOSEN, remove=["messe"])
    assert _kept_counts(url)["tags[]"] == _server_counts(url)["tags[]"] == {"vip": 4, "b2b": 64, "": 16}


def _kept_counts(url: str) -> dict:
    """The customers' counts the store keeps, as committed."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT doc -> 'tallies' -> 'customers' FROM _meta").fetchone()[0]


def _server_counts(url: str) -> dict:
    """The customers' counts taken anew by the server (`reads.count_table`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return reads.count_table(conn, CUSTOMERS, TALLIED[CUSTOMERS])


def test_two_patches_of_the_same_customers_are_undone_one_after_the_other(url):
    """Undo puts each customer back at the rev it had, as every undo does: the older entry's
    revs match again (a patch undone to a new rev left it refused as changed since)."""
    before = _texts(url)
    with Store(url) as store:
        store.deactivate(CHOSEN)
        deactivated = _texts(url)
        store.reactivate(CHOSEN)
        store.undo()
        assert _texts(url) == deactivated  # (the reactivation undone: the dates of deactivation back)
        store.undo()
        assert store.stats()["active"] == 72
    assert _texts(url) == before


@pytest.mark.parametrize("value", ['"yes"', "1"])
def test_a_value_of_another_type_is_put_back_as_it_was(url, value):
    """A document written by hand ("active": "yes", or 1 on the first one, which polars would
    have made every other one's true into): the patch's undo puts each value back as it was,
    document by document, and counts them so."""
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE customers SET doc = jsonb_set(doc, '{active}', %s::jsonb) WHERE id = 5", (value,))
    before = _texts(url)
    with Store(url) as store:
        counted = store.stats()["active"]
        store.deactivate(CHOSEN)
        assert _stored(url)[5]["active"] is False
        store.undo()
        assert store.stats()["active"] == counted
    assert _texts(url) == before and f'"active": {value}' in before[5]


def test_patch_entries_are_found_by_their_customers_kept_from_erasure_and_expire(url, monkeypatch):
    with Store(url) as store:
        store.deactivate(CHOSEN)
        entry = store.journal(1)[0]
        assert store.next_undo(30)["id"] == entry["id"]  # (named by its patch alone)
        assert entry["id"] in [e["id"] for e in store.log(customer_id=30)]
        kept = store.parts.session.db.tables["journal"][entry["id"]]
        scrubbed = edits.forget_values(kept, 999, set(), ["20", "26"])  # (another's erasure: text holding these scrubbed …)
        assert scrubbed["at"] != kept["at"] and scrubbed["patches"] == kept["patches"]  # (… not the values undo puts back)
        monkeypatch.setattr(journal, "KEEP_UNDO_DATA", 2)
        store.reactivate(CHOSEN)
        store.deactivate(CHOSEN)
        expired = store.parts.session.db.tables["journal"][entry["id"]]
        assert "patches" not in expired and expired["expired"] and not expired["undoable"]


def test_fewer_customers_are_put_one_by_one_read_ahead(url):
    """Under `PATCHED_FROM` the documents are put (their entry lists the edits), read from
    the server together: one read of the nine that change, not two statements each."""
    with Store(url) as store:
        rows = store.parts.session.db.tables[CUSTOMERS]
        statements: list[int] = []
        one, some = rows._read_one, rows._read_some
        rows._read_one = lambda doc_id: statements.append(1) or one(doc_id)
        rows._read_some = lambda ids: statements.append(len(ids)) or some(ids)
        assert store.deactivate(range(20, 30)) == 9
        assert statements == [9] and len(store.journal(1)[0]["edits"]) == 9  # (the flags read column-wise)


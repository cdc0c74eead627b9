"""An import into a PostgreSQL store, as at millions of customers: the file's keys looked up on
the server however many they are, the rows sent in by COPY, and no session reading the
customers or prospects whole (their text, or their decoded fields) on the way: neither the
importing one, nor another catching up with it. A store too large for the duplicate matcher
judges an import's rows by email, phone and VAT id alone, and its sweep says why it does not run."""
from __future__ import annotations

import csv
import json
import threading
import time

import polars as pl
import psycopg
import pytest
from helpers import login_role
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from international import people

from store import Batch, ConcurrentChange, Store, TooManyToMatch
from store.base import json_rows
from store.engine.postgres import backend, writes
from store.matching import RecordRef, find_pairs, identity_pairs
from store.matching import index as matching_index
from store.model import CUSTOMERS, SOURCES

HEADER = ["Vorname", "Nachname", "E-Mail", "Telefon", "Ort", "Land"]


@pytest.fixture
def url(pg_database):
    """A store of 120 international customers."""
    with Store(pg_database, user="tester") as store:
        for p in people(120, seed=31):
            store.add_customer("private", {"first_name": p.first, "last_name": p.last, "email": p.email,
                                           "phone": p.phone, "country": p.country})
    return pg_database


def _held_nothing(store: Store) -> bool:
    """Whether the session read none of the customers' nor prospects' documents or fields whole."""
    tables = store.parts.session.db.tables
    return all(not tables[t].text_read and tables[t].__dict__["_columns"] is None for t in (CUSTOMERS, SOURCES))


def _file(tmp_path, stored: list, fresh: list):
    """A file of `fresh` people, then three rows naming stored customers by email (upper case)
    and phone, and a row repeating the first one's email."""
    path = tmp_path / "messe.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(HEADER)
        out.writerows([p.first, p.last, p.email, p.phone, "Köln", p.country] for p in fresh)
        out.writerow(["Again", "Known", stored[3]["email"].upper(), "", "", ""])
        out.writerow(["Same", "Phone", "", stored[4]["phone"], "", ""])
        out.writerow(["Also", "Known", f" {stored[5]['email']}", "", "", ""])
        out.writerow(["Twice", "Over", fresh[0].email, "", "", ""])
    return path


def test_an_import_is_judged_and_written_on_the_server_reading_no_customer_whole(url, tmp_path, monkeypatch):
    from importers import plan_import, read_table

    monkeypatch.setattr(matching_index, "MATCHED_STORE", 100)  # (120 customers: "too many" to build the matcher's index)
    monkeypatch.setattr(writes, "COPY_ROWS", 37)  # (the rows and their keys sent to COPY in parts of 37: each must arrive)
    monkeypatch.setattr(json_rows, "SLICE_ROWS", 29)  # (their text built in parts that are not COPY's)
    with Store(url, user="reader") as reader:
        stored = [reader.customer(i) for i in range(1, 121)]
    fresh = people(400, seed=77)
    with Store(url, user="clerk") as store:
        plan = plan_import(store, read_table(_file(tmp_path, stored, fresh)), target="sources")
        assert _held_nothing(store)
        notes = plan.rows.filter(plan.rows["_status"] == "duplicate")["_note"].to_list()
        assert sorted(notes) == sorted([f"email belongs to customer {stored[3]['number']}",
                                        f"phone belongs to customer {stored[4]['number']}",
                                        f"email belongs to customer {stored[5]['number']}", "same email as an earlier row"])
        entry = store.apply_batch(plan.batch())
        assert _held_nothing(store) and store.stats()["sources"] == 403  # (the repeated email left out; the 3 written and queued)
        assert store.parts.session.db.tables[SOURCES]._unsettled is None  # (committed: read from the server now)
        assert entry["action"] == "import" and plan.queued_count() == 3 and len(store.queued_pairs()) == 3
    with Store(url, user="next") as after:  # the prospects found by their keys, in a session of its own
        found = [[r["id"] for r in after.find(SOURCES, "email", p.email.upper())] for p in fresh[:50]]
        assert all(len(ids) == 1 for ids in found) and _held_nothing(after)
        assert after.source(found[1][0])["last_name"] == fresh[1].last
    with psycopg.connect(url) as conn:  # (every part of the COPY there, with its keys)
        assert conn.execute("SELECT count(*), min(id), max(id), count(keys) FROM sources WHERE doc IS NOT NULL").fetchone() \
            == (403, 1, 403, 403)


def test_an_import_rolled_back_on_the_server_leaves_nothing_held_nor_written(url):
    import polars as pl

    with Store(url, user="clerk") as store:
        db = store.parts.session.db
        with pytest.raises(RuntimeError), db.transaction() as tx:
            ids = tx.insert_rows(SOURCES, pl.DataFrame({"first_name": ["Ada", "Ömer"], "email": ["ada@example.org", "o@örnek.tr"]}))
            assert db.tables[SOURCES].get(ids[1])["first_name"] == "Ömer"  # (held until the commit)
            # (looked up within the transaction: found, though the server has them only once committed)
            assert [[r["id"] for r in store.find(SOURCES, "email", e)] for e in ("ADA@example.org", "o@ÖRNEK.tr")] == [
                [ids[0]], [ids[1]]]
            raise RuntimeError("the import stopped")
        sources = db.tables[SOURCES]
        assert sources._unsettled is None and sources.get(ids[0]) is None
        assert store.lookup(SOURCES, "email", ["ada@example.org"]) == [[]] and _held_nothing(store)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


def test_an_import_into_a_new_store_on_the_server_builds_its_documents_text_a_part_at_a_time(pg_database, monkeypatch):
    """A store no commit has counted yet is counted by the server, no field of it read here; the
    documents two inserts add are read in the transaction from their fields' text, built for
    the one read, and sent to COPY a part at a time: never all of them as text at once. They
    arrive as they are whatever the client's encoding says (COPY is sent UTF-8)."""
    monkeypatch.setattr(writes, "COPY_ROWS", 37)
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    built: list[int] = []
    series = json_rows.ObjectTexts.series
    monkeypatch.setattr(json_rows.ObjectTexts, "series", lambda texts: built.append(len(texts)) or series(texts))
    first = pl.DataFrame({"first_name": [f"Ayşe {n}" for n in range(100)], "email": [f"a{n}@örnek.com.tr" for n in range(100)]})
    second = pl.DataFrame({"last_name": [f"Müller {n}" for n in range(50)], "city": ["Köln", None] * 25,
                           "raw": [{"Straße": "Hauptstr. 1", "Ort": ""}] * 50})
    with Store(pg_database, user="clerk") as store:
        db = store.parts.session.db
        with db.transaction() as tx:
            ids = tx.insert_rows(SOURCES, first) + tx.insert_rows(SOURCES, second, objects=("raw",))
            sources = db.tables[SOURCES]
            assert sources.get(ids[99])["first_name"] == "Ayşe 99" and sources.get(ids[100])["raw"] == {"Straße": "Hauptstr. 1"}
            assert "city" not in sources.get(ids[-1]) and sources.get(ids[-1] + 1) is None
            assert built == [1, 1, 1]  # (the three documents read, each alone)
            assert sources.__dict__["_columns"] is None  # (the new store counted on the server: none of its fields read)
        assert max(built[3:]) == 37 and sum(built[3:]) == 150  # (the COPY's parts)
        tables = db.tables  # (counted on the server: no document's text read)
        assert all(tables[t].reads_alone and not tables[t].text_read for t in (CUSTOMERS, SOURCES))
        assert store.stats()["sources"] == 150 and store.source(ids[120])["last_name"] == "Müller 20"
        assert tables[SOURCES].__dict__["_columns"] is None  # (nor the fields of the rows added, once the server has them)
        assert tables[SOURCES].frame()["id"].to_list() == ids  # (read from the server again when asked)
    with psycopg.connect(pg_database, client_encoding="utf8") as conn:
        docs = dict(conn.execute("SELECT id, doc FROM sources WHERE id IN (1, 100, 150)").fetchall())
    assert docs[1]["email"] == "a0@örnek.com.tr" and docs[100]["first_name"] == "Ayşe 99"
    assert docs[150] == {"last_name": "Müller 49", "raw": {"Straße": "Hauptstr. 1"}, "rev": 1,
                         "schema_version": docs[1]["schema_version"]}


def test_a_tables_fields_read_whole_in_an_imports_transaction_hold_the_rows_it_added(url):
    """Read whole after an import added rows in the same transaction (a count of a store of no
    counts yet, the matcher's index): the server's rows, then those added, which it has only
    once they are committed."""
    with Store(url, user="clerk") as store:
        db = store.parts.session.db
        with db.transaction() as tx:
            ids = tx.insert_rows(SOURCES, pl.DataFrame({"first_name": ["Ada", "Ömer"], "email": ["ada@example.org", "o@örnek.tr"]}))
            sources = db.tables[SOURCES]
            assert sources.__dict__["_columns"] is None  # (not read before the rows were added)
            read = sources.frame()
            assert read["id"].to_list() == ids and read["first_name"].to_list() == ["Ada", "Ömer"]
        assert store.stats()["sources"] == 2 and db.tables[SOURCES].frame()["email"].to_list() == ["ada@example.org", "o@örnek.tr"]


def test_documents_added_are_read_and_let_go_part_by_part():
    from store.base.json_rows import ObjectTexts
    from store.engine.added import Added

    def added(first: int, names: list[str]) -> Added:
        ids = pl.Series("id", range(first, first + len(names)), dtype=pl.Int64)
        frame = pl.DataFrame({"first_name": names})
        return Added.of(frame.with_columns(ids), ObjectTexts(frame))

    both = added(10, ["Ada", "Şule"]).plus(added(12, ["Zoë"]))
    assert (both.first, both.last) == (10, 12)
    assert [both.text(i) for i in (9, 10, 11, 12, 13)] == [None, '{"first_name":"Ada"}', '{"first_name":"Şule"}',
                                                           '{"first_name":"Zoë"}', None]
    assert both.documents().rows() == [(10, '{"first_name":"Ada"}'), (11, '{"first_name":"Şule"}'), (12, '{"first_name":"Zoë"}')]
    kept = both.before(11)
    assert kept is not None and kept.last == 10 and kept.text(11) is None and kept.documents()["id"].to_list() == [10]
    assert both.before(10) is None
    for ids in ([5, 7], [5, 5], [5, 4]):
        with pytest.raises(ValueError, match="from id 5 are not numbered one after another"):
            Added.of(pl.DataFrame({"id": ids}), ObjectTexts(pl.DataFrame({"a": [1, 2]})))


def test_another_session_catches_up_with_a_large_import_without_reading_it(url, monkeypatch):
    import polars as pl

    from store import Batch

    monkeypatch.setattr(backend, "BULK_CHANGES", 50)
    with Store(url, user="watcher") as watcher, Store(url, user="clerk") as clerk:
        assert watcher.customer(7)["id"] == 7
        before = watcher.parts.session.db.tables[SOURCES]
        rows = pl.DataFrame({"first_name": [f"P{n}" for n in range(200)], "email": [f"p{n}@beispiel.de" for n in range(200)]})
        clerk.apply_batch(Batch(SOURCES, rows=rows))
        assert watcher.refresh()
        assert watcher.parts.session.db.tables[SOURCES] is not before  # (read again, not caught up row by row)
        assert [r["id"] for r in watcher.find(SOURCES, "email", "P199@Beispiel.de")] == [200]
        assert watcher.stats()["sources"] == 200 and _held_nothing(watcher)


def test_the_keys_index_takes_new_entries_at_once_and_the_old_key_indexes_go(url):
    """A store whose keys index queues its entries (GIN's default), with an index of a key
    field made by an older version: at the next open the queue is flushed and turned off,
    and the unused index dropped."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER INDEX customers_keys SET (fastupdate = on)")
        conn.execute("CREATE INDEX customers_email ON customers USING hash ((doc ->> 'email'))")
    with Store(url, user="clerk") as store:
        assert [c["id"] for c in store.find(CUSTOMERS, "email", store.customer(9)["email"].upper())] == [9]
    with psycopg.connect(url) as conn:
        options = conn.execute("SELECT reloptions FROM pg_class WHERE relname = 'customers_keys'").fetchone()[0]
        names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customers'")}
    assert options == ["fastupdate=off"] and "customers_email" not in names and "customers_keys" in names


def _shared_identities(location) -> Store:
    """The 120 customers of `url` (copied to `location` unless it is the server's), with a
    customer sharing customer 3's phone (typed nationally) and having it as mobile too, a
    prospect sharing customer 4's email (upper case), and one sharing customer 5's email,
    said to be someone else."""
    store = Store(location, user="clerk")
    third, fourth, fifth = store.customer(3), store.customer(4), store.customer(5)
    store.add_customer("private", {"first_name": "Twin", "last_name": "Phone", "phone": third["phone"],
                                   "mobile": third["phone"], "country": third.get("country")})
    store.add_source({"first_name": "Same", "last_name": "Mail", "email": fourth["email"].upper()})
    other = store.add_source({"first_name": "Other", "last_name": "Person", "email": fifth["email"]})
    store.mark_distinct(RecordRef(CUSTOMERS, 5), RecordRef(SOURCES, other["id"]))
    return store


@pytest.mark.parametrize("backend", ["server", "file"])
def test_a_store_beyond_the_matcher_is_swept_for_shared_identities_instead(url, tmp_path, monkeypatch, backend):
    """Beyond `MATCHED_STORE` the matcher's sweep is refused in one line, and what is listed
    instead are the records sharing an email, phone or VAT id: grouped by the server where
    it keeps the keys (no customer read whole), else from the fields in memory; alike."""
    from store.admin.migrate import migrate

    location = url
    if backend == "file":
        location = tmp_path / "copy.json"
        migrate(url, location)
    monkeypatch.setattr(matching_index, "MATCHED_STORE", 100)
    with _shared_identities(location) as store:
        with pytest.raises(TooManyToMatch) as refused:
            find_pairs(store)
        assert "\n" not in str(refused.value) and "123 customers and prospects" in str(refused.value)
        pairs = identity_pairs(store)
        assert [(p.a, p.b, p.reasons, p.score) for p in pairs] == [
            (RecordRef(CUSTOMERS, 3), RecordRef(CUSTOMERS, 121), ("same phone",), 0.0),
            (RecordRef(CUSTOMERS, 4), RecordRef(SOURCES, 1), ("same email",), 0.0)]
        assert store.record_names([ref for p in pairs for ref in (p.a, p.b)]) == [
            "C-000003", "C-000121", "C-000004", "prospect #1"]
        if backend == "server":
            assert _held_nothing(store)


def test_the_duplicates_command_on_a_store_beyond_the_matcher_lists_shared_identities(url, monkeypatch):
    from click.testing import CliRunner

    from cli.main import cli

    _shared_identities(url).close()
    monkeypatch.setattr(matching_index, "MATCHED_STORE", 100)
    done = CliRunner().invoke(cli, ["--db", url, "duplicates", "--json"])
    assert done.exit_code == 0, done.output
    assert [(p["a"].split()[0], p["reasons"]) for p in json.loads(done.stdout)] == [
        ("C-000003", ["same phone"]), ("C-000004", ["same email"])]
    told = done.stderr.strip().splitlines()
    assert len(told) == 1 and "more than the duplicate matcher compares" in told[0] and "sharing an email" in told[0]


HOSTILE_IDS = ['quote"d', "back\\slash", "ÖZ-İ/ß", "emoji😀", "tab\tinside", "[bold]x[/bold]", "'; DROP TABLE x; --",
               "{\"json\": 1}", "a,b", "%_like", "line\u2028sep"]


@given(extra=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
                      max_size=6, unique=True))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_keys_of_any_text_are_found_on_the_server_in_chunks_as_in_memory(url, monkeypatch, extra):
    """Keys go to the server as one JSON text, a chunk at a time: any text (quotes, backslashes,
    LIKE's wildcards, SQL, markup, Unicode) is found as the index in memory finds it."""
    import polars as pl

    from store import Batch, ValidationFailed
    from store.engine import indexes

    monkeypatch.setattr(indexes, "SERVER_KEYS", 3)
    ids = [i for i in dict.fromkeys(HOSTILE_IDS + [f"x{n}:{t}" for n, t in enumerate(extra)]) if i.strip()]
    with Store(url, user="clerk") as store:
        known = {c["external_id"] for c in (store.customer(i) for i in range(1, store.stats()["customers"] + 1))
                 if c.get("external_id")}
        fresh = [i for i in ids if i.strip() not in known]
        try:
            store.apply_batch(Batch("private", rows=pl.DataFrame({"last_name": ["Id"] * len(fresh), "email": ["id@example.org"] * len(fresh),
                                                                   "external_id": fresh})))
        except ValidationFailed:
            assume(False)  # (a value the rules refuse, as a file could hold: nothing written, nothing to look up)
        asked = [*ids, "nobody", None]
        served = store.lookup(CUSTOMERS, "external_id", [None if i is None else i.strip() for i in asked])
        assert _held_nothing(store)
    with Store(url, user="memory") as memory:
        memory.prepare_lookups()
        assert served == memory.lookup(CUSTOMERS, "external_id", [None if i is None else i.strip() for i in asked])
    assert all(len(found) == 1 for found in served[:len(ids)]) and served[-2:] == [[], []]


def test_a_lookup_of_more_keys_than_a_table_holds_builds_its_index_once_instead(url, monkeypatch):
    """Probing the server key by key costs more than building a small table's index: a look-up
    of more keys than one statement asks, of a table that holds fewer documents (by its count),
    builds the table's index here, once; a large table is still asked of the server."""
    from store.engine import indexes
    from store.rules.keys import normalise_key

    monkeypatch.setattr(indexes, "SERVER_KEYS", 10)
    with Store(url, user="clerk") as store:
        store.add_source({"first_name": "Ada", "email": "ada@example.org"})
        asked = [f"p{n}@example.org" for n in range(50)] + ["ada@example.org"]
        assert store.lookup(SOURCES, "email", asked)[-1] == [1]
        tables = store.parts.session.db.tables
        assert tables[SOURCES].__dict__["_columns"] is not None  # (1 prospect, 51 keys: its index built)
        emails = [store.customer(i)["email"] for i in range(1, 61)]
        assert [len(ids) for ids in store.lookup(CUSTOMERS, "email", [normalise_key("email", e) for e in emails])] == [1] * 60
        assert not tables[CUSTOMERS].text_read and tables[CUSTOMERS].__dict__["_columns"] is None  # (120: asked)


def test_a_lookup_of_several_statements_asks_two_at_once_each_on_a_connection_of_its_own(url, monkeypatch):
    """The statements of a lookup of many keys go to the server two at a time, on the
    session's two readers (the server's two cores probe side by side); the answers are those
    of one statement at a time, and both connections close with the store."""
    from store.engine import indexes
    from store.engine.postgres import keys
    from store.rules.keys import normalise_key

    monkeypatch.setattr(indexes, "SERVER_KEYS", 7)
    asking, most, lock = [0], [0], threading.Lock()
    holders = keys.holders

    def counted(conn, table, wanted):
        with lock:
            asking[0] += 1
            most[0] = max(most[0], asking[0])
        try:
            time.sleep(0.05)  # (long enough for the other statement to be asked meanwhile)
            return holders(conn, table, wanted)
        finally:
            with lock:
                asking[0] -= 1

    monkeypatch.setattr(keys, "holders", counted)
    with Store(url, user="clerk") as store:
        emails = [store.customer(i)["email"] for i in range(1, 61)]
        found = store.lookup(CUSTOMERS, "email", [normalise_key("email", e) for e in emails] + ["nobody@example.org"])
        conns = [reader.conn for reader in store.parts.session.db.readers]
    assert found == [[i] for i in range(1, 61)] + [[]]
    assert most[0] == 2 and all(conn is not None and conn.closed for conn in conns)


def test_a_statement_refused_while_the_other_is_asked_fails_the_lookup_and_frees_both_readers(url, monkeypatch):
    """One of a lookup's two statements at once refused by the server: the lookup fails with
    the store's one-line error, the other statement's reader is given back too, and the next
    lookup is answered on both as before."""
    from store.base.errors import StoreError
    from store.engine import indexes
    from store.engine.postgres import keys
    from store.rules.keys import normalise_key

    monkeypatch.setattr(indexes, "SERVER_KEYS", 7)
    holders, asked = keys.holders, [0]

    def refusing(conn, table, wanted):
        asked[0] += 1
        if asked[0] == 3:
            conn.execute("SELECT 1/0")  # (the server refuses it)
        time.sleep(0.02)
        return holders(conn, table, wanted)

    monkeypatch.setattr(keys, "holders", refusing)
    with Store(url, user="clerk") as store:
        emails = [normalise_key("email", store.customer(i)["email"]) for i in range(1, 61)]
        with pytest.raises(StoreError, match="division by zero"):
            store.lookup(CUSTOMERS, "email", emails)
        free = store.parts.session.db.free_readers
        assert free.qsize() == 2
        assert store.lookup(CUSTOMERS, "email", emails) == [[i] for i in range(1, 61)] and free.qsize() == 2


def test_a_store_closed_while_a_reader_reads_cancels_it_and_makes_no_connection_after(url, monkeypatch):
    """A store closed while a lookup's statement runs on a worker thread waits for it a
    moment, then cancels it: the read fails as the store's error, a read waiting for the
    reader meanwhile runs nothing, and no connection is made again behind the closed store
    (one would be left open for good)."""
    from store.base.errors import StoreError

    monkeypatch.setattr(backend, "CLOSE_WAIT", 0.2)
    store = Store(url, user="clerk")
    db = store.parts.session.db
    reader = db.readers[1]
    failed: list[str] = []
    ran: list[str] = []

    def reads(sql: str) -> None:
        try:
            db.read_on(reader, lambda conn: (conn.execute(sql), ran.append(sql)))
        except StoreError as err:
            failed.append(str(err))

    workers = [threading.Thread(target=reads, args=(sql,), daemon=True) for sql in ("SELECT pg_sleep(30)", "SELECT 1")]
    workers[0].start()
    with psycopg.connect(url, autocommit=True) as watch:
        for _ in range(200):  # (until the statement runs on the server)
            if watch.execute("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' "
                             "AND state = 'active'").fetchone()[0]:
                break
            time.sleep(0.05)
    workers[1].start()  # (waits for the reader)
    time.sleep(0.2)
    started = time.monotonic()
    store.close()
    for worker in workers:
        worker.join(10)
    assert not any(worker.is_alive() for worker in workers) and time.monotonic() - started < 5
    assert failed == [f"{db.where}: the store was closed"] * 2 and ran == [] and reader.conn is None
    with pytest.raises(StoreError, match="the store was closed"):
        db.read_on(reader, lambda conn: conn.execute("SELECT 1"))
    assert reader.conn is None


def test_a_role_that_does_not_own_the_tables_opens_a_store_whose_index_it_may_not_tune(url):
    """Only the tables' owner may change their indexes: a clerk's role opens the store all the
    same, looks up and writes; the index stays as it was until the owner opens the store."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER INDEX customers_keys SET (fastupdate = on)")
    with login_role(url, "custdesk_clerk", "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
                                           "TO custdesk_clerk") as clerk:
        with Store(clerk, user="clerk") as store:
            email = store.customer(9)["email"]
            assert [c["id"] for c in store.find(CUSTOMERS, "email", email.upper())] == [9]
            store.edit_customer(9, {"city": "Köln"})
        with psycopg.connect(url) as conn:
            options = conn.execute("SELECT reloptions FROM pg_class WHERE relname = 'customers_keys'").fetchone()[0]
            assert options == ["fastupdate=on"]
    with Store(url, user="owner") as store:
        assert store.customer(9)["city"] == "Köln"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT reloptions FROM pg_class WHERE relname = 'customers_keys'").fetchone()[0] == [
            "fastupdate=off"]


def test_a_customers_exports_are_found_through_the_owners_index_the_app_makes_where_missing(url):
    """A whole store's export is a thousand records of ten thousand customers at 10M: each
    customer's lookup of its exports reads a GIN index over the records' customers. A new
    store has it; one made before gets it from the app, CONCURRENTLY (`prepare_server`: at
    10M its build took a minute, which under the store's lock would have stopped every commit)."""
    from store.views.searched import prepare_server

    def plan() -> str:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET enable_seqscan = off")  # (a table this small is read whole otherwise)
            return "\n".join(row[0] for row in conn.execute(
                "EXPLAIN SELECT id FROM exports WHERE doc IS NOT NULL AND ((doc ->> 'customer_id') = '9' "
                "OR doc -> 'customer_ids' @> '[9]'::jsonb)"))

    with Store(url, user="tester") as store:
        store.log_export(range(1, 121), "csv", "/tmp/all.csv")
    assert "exports_customer_ids" in plan()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX exports_customer_ids")
    with Store(url, user="clerk") as store:  # (opening makes nothing: the lookup works, reading every record)
        assert [(run["count"], run["target"]) for run in store.children(9, "exports")] == [(120, "/tmp/all.csv")]
    assert "exports_customer_ids" not in plan()
    prepare_server(url)
    assert "exports_customer_ids" in plan()


def _prospects(name: str, count: int) -> pl.DataFrame:
    return pl.DataFrame({"first_name": [f"{name}{n}" for n in range(count)],
                         "email": [f"{name}{n}@example.com" for n in range(count)]})


def test_a_commit_of_many_rows_leaves_the_server_counting_them(url, monkeypatch):
    """The server plans the statements of a large commit (an undo's) on counts that hold the
    rows it changes: a store's first import of a million prospects left it counting none."""
    from store.domain import edits

    monkeypatch.setattr(edits, "EDITS_UP_TO", 5)  # (the undo's run of 40 deleted column-wise)

    def counted(table: str) -> float:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT reltuples FROM pg_class WHERE relname = %s", (table,)).fetchone()[0]

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE sources")  # (none yet: counted as empty)
    assert counted(SOURCES) == 0
    with Store(url) as store:
        monkeypatch.setattr(writes, "ANALYZED_FROM", 1000)
        entry = store.apply_batch(Batch("sources", rows=_prospects("p", 40)))
        assert counted(SOURCES) == 0  # (counted as before: the server's upkeep comes later)
        monkeypatch.setattr(writes, "ANALYZED_FROM", 30)
        store.undo(entry["id"])  # (40 rows changed of none counted: counted first)
        assert counted(SOURCES) == 40 and list(store.sources()) == []
        store.apply_batch(Batch("sources", rows=_prospects("q", 40)))  # (40 added)
        assert counted(SOURCES) == 80
        store.discard(range(41, 76))  # (35 changed of 80 counted: the counts hold)
        store.apply_batch(Batch("sources", rows=_prospects("r", 20)))  # (fewer added than ANALYZED_FROM)
    assert counted(SOURCES) == 80


def test_an_undo_the_server_refuses_puts_its_runs_back(url, monkeypatch):
    """A run deleted column-wise (`Transaction.delete_run`) that the server does not find
    whole (as if another session deleted a row meanwhile) is refused, and the session holds
    its rows again."""
    from store.domain import edits

    monkeypatch.setattr(edits, "EDITS_UP_TO", 5)
    with Store(url) as store:
        entry = store.apply_batch(Batch("sources", rows=_prospects("p", 40)))
    run_deletes = writes._run_deletes
    monkeypatch.setattr(writes, "_run_deletes", lambda deleted, keyed: [
        (table, statement, expected + 1, params) for table, statement, expected, params in run_deletes(deleted, keyed)])
    with Store(url) as session:
        assert session.stats()["sources"] == 40
        with pytest.raises(ConcurrentChange, match="1 record\\(s\\) of 'sources' were changed by someone else meanwhile"):
            session.undo(entry["id"])
        assert session.stats()["sources"] == 40 and len(list(session.sources())) == 40
        assert session.parts.session.db.tables[SOURCES].get(40)["email"] == "p39@example.com"
    with Store(url) as again:
        assert len(list(again.sources())) == 40

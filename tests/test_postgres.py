"""The PostgreSQL backend's own promises: refusals in SQL, the indexes, NOTIFY, one
schema a store, migration both ways, and two processes editing and importing at once.
(Every store suite also runs on it: `BOTH_BACKENDS` in conftest.)"""
import subprocess
import sys
import time

import orjson
import psycopg
import pytest
from helpers import ROOT, contents, custdesk, person, run_python

from store import Store
from store.admin.migrate import fingerprint, migrate
from store.base.errors import ConcurrentChange, StoreError
from store.engine.postgres.connect import lost
from store.paths import shown_location

pytestmark = pytest.mark.usefixtures("pg_server")


def test_a_row_changed_behind_the_lock_is_refused_by_the_server_and_nothing_is_saved(pg_database):
    with Store(pg_database, user="tester") as store:
        ada = store.add_customer("private", person(1))
        with psycopg.connect(pg_database, autocommit=True) as conn:  # a writer that ignores custdesk's lock
            conn.execute("UPDATE customers SET rev = rev + 1 WHERE id = %s", (ada["id"],))
        entries = len(store.journal(50))
        with pytest.raises(ConcurrentChange, match="changed by someone else meanwhile; nothing was saved"):
            store.edit_customer(ada["id"], {"city": "Paris"})
        assert store.customer(ada["id"]).get("city") is None and len(store.journal(50)) == entries  # memory too
        with psycopg.connect(pg_database) as conn:
            assert conn.execute("SELECT doc->>'city' FROM customers WHERE id = %s", (ada["id"],)).fetchone() == (None,)
            assert conn.execute("SELECT count(*) FROM journal WHERE doc IS NOT NULL").fetchone() == (entries,)


def test_lookups_by_key_and_by_owner_go_through_indexes_the_planner_uses(pg_database):
    """A key is looked up in the keys column's index (`postgres.keys`), a customer's documents
    through their owner's field; no index is kept of a key field itself (no lookup reads one)."""
    with Store(pg_database) as store:
        ada = store.add_customer("private", person(1))
        store.add_related("orders", ada["id"], {"title": "Engine"})
    with psycopg.connect(pg_database) as conn:
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customers'")}
        assert {"customers_keys", "customers_seq"} <= indexes and "customers_email" not in indexes
        conn.execute("SET enable_seqscan = off")
        keyed = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT DISTINCT t.id FROM unnest(array['email:x']) AS w(k) JOIN customers t ON t.keys ? w.k WHERE t.doc IS NOT NULL"))
        owned = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT id FROM orders WHERE doc->>'customer_id' = '1'"))
        assert "customers_keys" in keyed and "orders_customer_id" in owned


def test_another_sessions_commit_is_heard_at_once(pg_database):
    heard = []
    with Store(pg_database) as mine, Store(pg_database) as theirs:
        mine.watch(lambda: heard.append(time.monotonic()))
        assert not mine.changed_elsewhere()
        sent = time.monotonic()
        theirs.add_customer("private", person(1))
        deadline = sent + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard, "no NOTIFY reached the listening session"
        assert mine.changed_elsewhere() and mine.refresh() is True
        assert mine.customer(1)["email"] == "ada1@example.com" and not mine.changed_elsewhere()


async def test_the_app_shows_another_sessions_customer_without_a_key(pg_database):
    from helpers import SIZE

    from tui.app import CustdeskApp
    from tui.config import Config

    with Store(pg_database) as mine, Store(pg_database) as theirs:
        mine.add_customer("private", person(1))
        app = CustdeskApp(mine, Config())
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            theirs.add_customer("private", person(2))
            for _ in range(100):  # NOTIFY, not the 3-second poll: well under a second
                await pilot.pause(0.02)
                if app.views["customers"].frame.height == 2:
                    break
            assert app.views["customers"].frame.height == 2
            assert "2 customers" in str(app.sub_title)


def test_each_schema_is_a_store_of_its_own_and_another_apps_tables_are_not_taken(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop2")
        conn.execute("CREATE SCHEMA crm")
        conn.execute("CREATE TABLE crm.customers (id int)")
    second = pg_database + "&options=-csearch_path%3Dshop2"
    with Store(pg_database) as first, Store(second) as other:
        first.add_customer("private", person(1))
        other.add_customer("private", person(2))
        other.add_customer("private", person(3))
        assert first.customer_count() == 1 and other.customer_count() == 2
    refused = custdesk("--db", pg_database + "&options=-csearch_path%3Dcrm", "stats")
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith("already has a table 'customers' that is not a custdesk store's; "
                                           "choose another database or schema")


def test_a_statement_the_server_refuses_as_too_large_is_not_called_an_unreachable_server(pg_database):
    from store.engine import server_session

    with pytest.raises(StoreError) as refused, server_session(pg_database) as conn:
        conn.execute("SELECT array_fill(1, ARRAY[2000000000])")  # (program limit exceeded: "operational" to psycopg)
    assert "unreachable" not in str(refused.value) and "array size exceeds the maximum allowed" in str(refused.value)
    assert lost(psycopg.errors.AdminShutdown()) and lost(psycopg.OperationalError("connection refused"))
    assert not lost(psycopg.errors.ProgramLimitExceeded()) and not lost(psycopg.errors.DiskFull())


@pytest.mark.parametrize(("code", "said"), [("40P01", "deadlock detected"),
                                           ("40001", "could not serialize access due to concurrent update")])
def test_a_change_the_server_rolls_back_for_another_sessions_says_try_again_not_unreachable(pg_database, code, said):
    with Store(pg_database) as store, psycopg.connect(pg_database, autocommit=True) as admin:
        store.add_customer("private", person(1))
        admin.execute("CREATE FUNCTION collide() RETURNS trigger LANGUAGE plpgsql AS "
                      f"$$ BEGIN RAISE EXCEPTION '{said}' USING ERRCODE = '{code}'; END $$")
        admin.execute("CREATE TRIGGER collide BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION collide()")
        with pytest.raises(StoreError) as refused:
            store.add_customer("private", person(2))
        assert "unreachable" not in str(refused.value)
        assert f"for another session's work ({said}); nothing was changed: try again" in str(refused.value)
        admin.execute("DROP TRIGGER collide ON customers")
        store.add_customer("private", person(3))
        assert store.customer_count() == 2


def test_an_unreachable_server_is_one_line_and_the_password_is_never_shown(tmp_path):
    url = f"postgresql://clerk:s3cret@/shop?host={tmp_path}&port=5999"
    result = custdesk("--db", url, "stats")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot connect" in result.stderr and "s3cret" not in result.stderr and "clerk:***@" in result.stderr
    assert shown_location(url) == f"postgresql://clerk:***@/shop?host={tmp_path}&port=5999"
    assert shown_location(f"postgresql:///shop?password=s3cret&host={tmp_path}") == \
        f"postgresql:///shop?password=***&host={tmp_path}"
    in_query = custdesk("--db", f"postgresql://clerk@/shop?host={tmp_path}&port=5999&password=s3cret", "stats")
    assert in_query.returncode == 2 and "s3cret" not in in_query.stderr and "password=***" in in_query.stderr


def test_migrate_round_trip_keeps_every_document_rev_counter_and_picture(tmp_path, pg_database):
    from test_pictures import picture_file

    from importers.demo import build_demo

    source = tmp_path / "a" / "custdesk.json"
    with Store(source) as store:
        build_demo(store, customers=300, seed=3)
        picture_file(tmp_path / "ada.png")
        store.set_picture(1, tmp_path / "ada.png")
        store.edit_customer(2, {"city": "İzmir"})  # rev 2 on the way
        before, books = contents(store), store.stats()
    done = custdesk("--db", pg_database, "migrate", source, pg_database)  # (--db plays no part)
    assert done.returncode == 0, done.stderr
    assert "checked: counts and checksum match" in done.stdout and "1 picture(s)" in done.stdout
    back = tmp_path / "b" / "custdesk.json"
    report = migrate(pg_database, back)
    with Store(pg_database) as on_server, Store(back) as returned:
        assert contents(on_server) == before == contents(returned)
        assert on_server.stats() == books == returned.stats()
        assert on_server.customer(2)["rev"] == 2 and returned.picture(1) == on_server.picture(1) is not None
        # New records continue the numbering and ids: the counters came along.
        assert on_server.add_customer("private", person(9))["number"] == returned.add_customer("private", person(9))["number"]
    assert report["checksum"] == fingerprint_of(source)
    again = custdesk("migrate", source, pg_database)
    assert again.returncode == 2 and "already holds data; migrate into a new, empty one" in again.stderr


def fingerprint_of(location) -> str:
    from store.engine import open_engine
    from store.schema import SCHEMA

    engine = open_engine(location, SCHEMA)
    try:
        return fingerprint(engine.tables)[1]
    finally:
        engine.close()


def test_migrate_refuses_a_store_onto_itself(pg_database):
    with pytest.raises(StoreError, match="the same store"):
        migrate(pg_database, pg_database)


IMPORTER = """
import sys
from cli import main
sys.argv = ["custdesk", "--db", sys.argv[1], "import", sys.argv[2], "--into", "sources"]
main()
"""

EDITOR = """
import sys
from store import Store
s = Store(sys.argv[1], lock_timeout=120)
for i in range(200):
    s.set_tags([1], add=[f"{sys.argv[2]}-{i}"])
"""


def test_two_processes_importing_and_two_editing_at_once_lose_nothing(tmp_path, pg_database):
    with Store(pg_database) as store:
        store.add_customer("private", person(1))
    files = []
    for name in ("p", "q"):
        path = tmp_path / f"{name}.csv"
        path.write_text("first_name,last_name,email\n" + "".join(
            f"{name.upper()}{i},Müller,{name}{i}@example.de\n" for i in range(3000)), encoding="utf-8")
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-c", IMPORTER, pg_database, str(f)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for f in files]
    procs += [subprocess.Popen([sys.executable, "-c", EDITOR, pg_database, name], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for name in ("p", "q")]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    with Store(pg_database) as store:
        tags = store.customer(1)["tags"]
        assert len(tags) == 400 and len(set(tags)) == 400
        emails = {p["email"] for p in store.sources()}
        assert len(emails) == 6000 and store.stats()["sources"] == 6000
        assert [e["action"] for e in store.journal(1000)].count("import") == 2
        # Each import is one undoable entry: undoing the last takes exactly its 3,000 away.
        store.undo()
        assert store.stats()["sources"] == 3000


def test_a_nul_character_is_refused_in_one_line_and_nothing_changes(pg_database):
    with Store(pg_database) as store:
        store.add_customer("private", person(1))
        with pytest.raises(StoreError) as refused:
            store.add_customer("private", {**person(2), "notes": "before\x00after"})
        assert "holds the character NUL (\\x00), which PostgreSQL cannot store; nothing was changed" in str(refused.value)
        assert store.customer_count() == 1 and store.stats()["customers"] == 1
    with Store(pg_database) as again:
        assert again.customer_count() == 1


def test_a_lost_connection_is_one_refusal_then_the_store_reconnects_and_reads_anew(pg_database):
    with Store(pg_database) as store, psycopg.connect(pg_database, autocommit=True) as admin:
        store.add_customer("private", person(1))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'custdesk' AND pid <> pg_backend_pid()")
        with pytest.raises(StoreError, match="unreachable .*nothing was changed: try again"):
            store.add_customer("private", person(2))
        assert store.customer_count() == 1
        store.add_customer("private", person(3))
        assert [c["email"] for c in store.customers()] == ["ada1@example.com", "ada3@example.com"]


def test_the_fields_the_server_takes_out_are_what_decoding_the_documents_gives(tmp_path, pg_database):
    from importers.demo import build_demo

    with Store(pg_database) as store:
        build_demo(store, customers=150, seed=5)
        store.add_source({"first_name": "Zoë", "email": "zoe@example.nl", "origin": {"file": "leads.xlsx", "sheet": "Blad1",
                                                                                     "row": 7}})
        store.set_tags([1, 2], add=["vip", "İstanbul"])
        store.deactivate([3])
    copy = tmp_path / "copy.json"
    migrate(pg_database, copy)
    with Store(pg_database) as on_server, Store(copy) as in_file:
        for table in ("customers", "sources"):
            # The server's columns (read at open) against the file's, decoded from each document's JSON.
            assert on_server.frame(table).equals(in_file.frame(table)), table


DYING_COPY = """
import sys
import time
import psycopg
from psycopg import Copy
from cli import main

def dying(self, buffer, *, _write=Copy.write):  # the server goes away in the middle of a COPY
    with psycopg.connect(sys.argv[2], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (self.connection.info.backend_pid,))
    time.sleep(0.2)
    return _write(self, buffer)
Copy.write = dying
sys.argv = ["custdesk", "--db", *sys.argv[1:]]
main()
"""


def test_a_server_dying_in_the_middle_of_a_copy_is_one_line(tmp_path, pg_database):
    people = tmp_path / "people.csv"
    people.write_text("Name,Email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(20_000)))
    run = run_python(DYING_COPY, pg_database, "import", str(people), "--into", "private")
    assert run.returncode == 2, run.stderr
    (line,) = run.stderr.splitlines()
    assert "the database server is unreachable" in line and "nothing was changed: try again" in line
    with Store(pg_database) as store:
        assert store.customer_count() == 0 and store.stats()["customers"] == 0


def test_keys_looked_up_are_not_asked_again_unless_a_commit_came_between(tmp_path, pg_database, monkeypatch):
    """A commit of an import asks again whether the keys its plan found new are held (8 s
    for a million at 10,000,000 customers), and a plan asks some twice: where no commit came
    in between, the answers read are that commit's, and are taken again; after another
    session's commit, the server is asked, and the prospect it added meanwhile refuses the
    import."""
    from importers import plan_import, read_table
    from store.engine.postgres import keys

    asked: list[str] = []
    ask = keys.holders

    def counted(conn, table, wanted):
        asked.append(table)
        return ask(conn, table, wanted)
    monkeypatch.setattr(keys, "holders", counted)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    many = keys.KEPT_FROM + 1  # (more keys than a lookup of a few, which is asked again)
    first.write_text("Name,Email,Phone\n" + "".join(f"Grace Hopper{n},grace{n}@example.com,+49 30 12345{n:02d}\n"
                                                      for n in range(many)))
    second.write_text("Name,Email\nAda Byron,ada2@example.com\n" + "".join(f"Mary Somerville{n},mary{n}@example.com\n"
                                                                           for n in range(many)))
    with Store(pg_database) as store, Store(pg_database, user="colleague") as other:
        store.add_customer("private", person(1))
        plan = plan_import(store, read_table(first))
        assert plan.counts()["created"] == many and {"sources", "customers"} <= set(asked)
        asked.clear()
        assert plan_import(store, read_table(first)).counts()["created"] == many and asked == []
        store.apply_batch(plan.batch())
        assert asked == [] and store.stats()["sources"] == many
        planned = plan_import(store, read_table(second))
        other.add_source(person(2))  # (ada2@example.com, added while the second file waits)
        asked.clear()
        with pytest.raises(ConcurrentChange, match=f"1 of the {many + 1} records to create now match a customer "
                                                   "or prospect by email"):
            store.apply_batch(planned.batch())
        assert "sources" in asked and store.stats()["sources"] == many + 1
        again = plan_import(store, read_table(second))  # (as the commit read it)
        assert again.counts()["skipped"] == 1  # (its email is held: a create skips it)


def test_kept_answers_are_those_of_many_keys_of_the_last_commit_read_naming_few_documents(monkeypatch):
    from store.engine.postgres import keys

    monkeypatch.setattr(keys, "KEPT_HOLDERS", 3)
    kept = keys.KeptAnswers()
    many = [f"email:p{n}@example.com" for n in range(keys.KEPT_FROM + 1)]
    asked = orjson.dumps(many).decode()
    few = orjson.dumps(many[:-1]).decode()
    seven, eight = (7, "901"), (8, "902")
    kept.keep("sources", many[:-1], few, seven, [(1, ["email:p1@example.com"])])
    assert kept.given("sources", few) is None  # (a few keys are asked again)
    kept.keep("sources", many, asked, seven, [(1, ["email:p1@example.com"])])
    assert kept.given("sources", asked) == (seven, [(1, ["email:p1@example.com"])])
    assert kept.given("customers", asked) is None and kept.given("sources", orjson.dumps([*many[1:], "x"]).decode()) is None
    kept.keep("customers", many, asked, seven, [(2, []), (3, []), (4, [])])  # (3 more documents than 3 in all)
    assert kept.given("customers", asked) is None
    kept.keep("sources", many, asked, seven, [(1, []), (2, [])])  # (kept again: counted once)
    kept.keep("customers", many, asked, seven, [(3, [])])
    assert kept.given("sources", asked) == (seven, [(1, []), (2, [])]) and kept.given("customers", asked) == (seven, [(3, [])])
    kept.keep("customers", many, asked, eight, [(2, []), (3, []), (4, [])])  # (another commit's: the others forgotten)
    assert kept.given("customers", asked) == (eight, [(2, []), (3, []), (4, [])]) and kept.given("sources", asked) is None
    kept.keep("sources", many, asked, (8, "777"), [])  # (the same seq, another commit: a store restored, written again)
    assert kept.given("customers", asked) is None and kept.given("sources", asked) == ((8, "777"), [])
    monkeypatch.setattr(keys, "KEPT_ANSWERS", 1)
    kept.keep("customers", many, asked, (8, "777"), [])
    assert kept.given("customers", asked) is None  # (as many answers kept as may be)


def test_a_character_the_databases_encoding_cannot_store_is_said_so_not_called_a_nul(pg_database):
    with Store(pg_database) as store:
        db = store.parts.session.db
        with pytest.raises(StoreError, match=r"a value holds a character the database's encoding cannot store \(character "
                                             r'with byte sequence 0xc5 0x9f .*"LATIN1"\); nothing was changed'), db._sql_errors():
            raise psycopg.errors.UntranslatableCharacter(
                'character with byte sequence 0xc5 0x9f in encoding "UTF8" has no equivalent in encoding "LATIN1"')

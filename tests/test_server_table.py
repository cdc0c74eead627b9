"""The customer table and the source list of an app on a PostgreSQL store, read from the
server a page at a time (`store.views.shown`): a search, a sort, a filter, scrolling past
the first page and End, the detail, a selection and a verb on it, another session's commit,
as a user meets them with the keys; and the session holds none of the customers' or
prospects' documents or fields meanwhile."""
from __future__ import annotations

import asyncio
import csv
import threading
import time

import polars as pl
import pytest
from helpers import SIZE, notices, settle, table

from store import Batch, Store, StoreError
from store.model import CUSTOMERS, SOURCES
from store.views import searched, served
from store.views.query import Interrupted, Query
from store.views.records import RecordView
from tui.app import CustdeskApp
from tui.config import Config
from tui.screens.detail import DetailScreen

CITIES = ("İzmir", "Köln", "Lyon", "Utrecht", "Sevilla")


@pytest.fixture(scope="module")
def url(pg_server):
    """A store of 300 customers (more than two pages), every seventh inactive."""
    url = pg_server.create_database("server_table")
    with Store(url, user="tester") as store:
        for n in range(1, 301):
            store.add_customer("private", {"first_name": f"Person{n:03d}", "last_name": "Müller" if n % 10 == 0 else "Smith",
                                           "email": f"p{n}@example.org", "city": CITIES[n % 5]})
        store.deactivate(list(range(7, 301, 7)))
    return url


def _held_nothing(store: Store, table: str = CUSTOMERS) -> bool:
    """Whether the session read none of the table's documents or fields whole."""
    held = store.parts.session.db.tables[table]
    return not held.text_read and held.__dict__["_columns"] is None


def _ids(app, screen=None) -> list[int]:
    shown = (screen or app.screen).query_one("RecordTable").shown
    return [shown.id_at(i) for i in range(len(shown))]


async def _shows(app, pilot, ids: list[int]) -> None:
    for _ in range(200):
        await settle(app, pilot)
        if _ids(app)[:len(ids)] == ids:
            return
        await pilot.pause(0.02)
    raise AssertionError(f"the table shows {_ids(app)[:5]}…, not {ids[:5]}…")


async def test_the_table_pages_searches_and_sorts_on_the_server_and_holds_no_customer(url):
    store = Store(url, user="clerk")
    expected = RecordView(Store(url, user="reader"))
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE) as pilot:
        await _shows(app, pilot, list(range(1, 121)))
        assert table(app).row_count == 120 and table(app).shown.count == 300
        assert "300 shown · 300 total" in str(app.screen.query_one("#filters").render())
        await pilot.press("G")  # End: the next pages are read, the cursor on the last row
        assert table(app).row_count == 300 and table(app).current_id == 300
        await pilot.press("g", "s")  # sorted by number, then by name, descending
        await pilot.press("s", "S")
        query = Query(sort="name", descending=True)
        await _shows(app, pilot, expected.select(query)["id"].head(120).to_list())
        customers = app.screen
        await pilot.press("slash", *"müller", "enter")  # Enter opens the first match, read from the server
        await settle(app, pilot)
        matching = expected.select(Query(text="müller", sort="name", descending=True))["id"].to_list()
        assert _ids(app, customers) == matching and len(matching) == 30
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == matching[0]
        assert _held_nothing(store)  # (the detail read its one customer)
    store.close()


async def test_a_filter_of_one_field_is_counted_exactly_from_the_stores_counts(url, monkeypatch):
    """A million inactive customers showed "10,000+ shown" (a count reads up to `COUNT_CAP`
    rows): a filter of status or kind alone, or none, is counted from the counts the store
    keeps with every commit, exactly."""
    from store.views import served

    monkeypatch.setattr(served, "COUNT_CAP", 50)
    store = Store(url, user="clerk")
    expected = RecordView(Store(url, user="reader"))
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE) as pilot:
        await _shows(app, pilot, list(range(1, 121)))
        for query in (Query(active=True), Query(active=False), Query()):  # (F: all, active, inactive, all …)
            await pilot.press("F")
            await settle(app, pilot)
            count = expected.count(query)
            assert count > 50 or query.active is False
            assert f"{count:,} shown" in str(app.screen.query_one("#filters").render())
    store.close()


async def test_kind_and_status_together_and_a_tag_alone_are_counted_exactly_and_the_tags_listed_from_the_counts(
        pg_database, monkeypatch):
    """Corporate and inactive at once, or a tag, counted up to `COUNT_CAP` rows, showed
    "10,000+" at ten million customers, and the tag filter's prompt could not list the tags
    in time: both are told by the counts the store keeps with every commit."""
    monkeypatch.setattr(served, "COUNT_CAP", 5)
    with Store(pg_database, user="tester") as store:  # (more of each than a page: counted, not read to the end)
        for kind, numbers in (("corporate", [n for n in range(1, 301) if n % 3]), ("private", range(3, 301, 3))):
            store.apply_batch(Batch(kind, creates=[{"first_name": f"Person{n:03d}", "last_name": "Öztürk", "company": f"Firma {n}",
                                                    "email": f"p{n}@example.org", "city": CITIES[n % 5]} for n in numbers]))
        store.set_tags(range(2, 301, 2), add=["vip"])
        store.set_tags(range(3, 301, 6), add=["Öko"])
        store.deactivate([n for n in range(1, 301) if n % 4])
    store, reader = Store(pg_database, user="clerk"), Store(pg_database, user="reader")
    expected = RecordView(reader)
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE) as pilot:
        await _shows(app, pilot, list(range(1, 121)))
        await pilot.press("f", "F", "F")  # corporate, inactive
        await settle(app, pilot)
        bar = str(app.screen.query_one("#filters").render())
        assert expected.count(Query(kind="corporate", active=False)) == 150 and "150 shown" in bar and "+" not in bar
        await pilot.press("f", "f", "F", "T")  # every kind and status; the tag filter's prompt
        await settle(app, pilot)
        assert "Tags: vip, Öko" in str(app.screen.query_one("Label").render())
        await pilot.press(*"vip", "enter")
        await settle(app, pilot)
        bar = str(app.screen.query_one("#filters").render())
        assert expected.count(Query(tag="vip")) == 150 and "150 shown" in bar and "+" not in bar
    store.close()
    reader.close()


async def test_a_selection_acts_on_the_servers_rows_and_another_sessions_commit_shows(url):
    store = Store(url, user="clerk")
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE) as pilot:
        await _shows(app, pilot, list(range(1, 121)))
        await pilot.press("slash", *"MÜLLER", "escape")  # (found whatever its case)
        await _shows(app, pilot, list(range(10, 301, 10)))
        await pilot.press("asterisk", "d")  # every Müller selected, and deactivated
        await settle(app, pilot)
        with Store(url, user="other") as other:
            assert all(not other.customer(i)["active"] for i in range(10, 301, 10))
            other.reactivate([10])
        for _ in range(200):  # told by the server (NOTIFY): the row shows it
            await pilot.pause(0.02)
            if table(app).row(0)["active"]:
                break
        assert table(app).row(0)["id"] == 10 and table(app).row(0)["active"] is True
        assert _held_nothing(store)
    with Store(url, user="other") as other:
        other.reactivate([i for i in range(10, 301, 10) if i % 7])
    store.close()


def test_a_newer_query_stops_the_older_ones_statement_on_the_server(url, monkeypatch):
    store = Store(url, user="clerk")
    reads = store.page_reads()
    assert reads is not None
    rows = served.ServerRows(reads, reads.interrupt)
    slow = served._select

    def sleeping(table, query, source, conditions, limit):
        statement = slow(table, query, source, conditions, limit)
        return statement if query.text != "zz" else served.sql.SQL("SELECT * FROM pg_sleep(5), ({}) AS page").format(
            statement)
    monkeypatch.setattr(served, "_select", sleeping)
    outcome: list[object] = []

    def older() -> None:
        try:
            outcome.append(rows.page(Query(text="zz")))
        except Interrupted as stopped:
            outcome.append(stopped)
    thread = threading.Thread(target=older)
    started = time.monotonic()
    thread.start()
    time.sleep(0.3)
    rows.interrupt()  # a newer keystroke …
    rows.stop_older()  # … whose read cancels the older statement, then reads its own
    assert rows.page(Query(text="smith"))[0]["id"] == 1
    thread.join(5)
    assert isinstance(outcome[0], Interrupted) and time.monotonic() - started < 3
    store.close()


def _key_lookups(store: Store) -> list:
    return [[c["id"] for c in store.find(CUSTOMERS, "email", email)] for email in
            ("P10@EXAMPLE.ORG", " p11@example.org", "nobody@example.org")] + [
        [c["id"] for c in store.find(CUSTOMERS, "number", "c 000012")], store.lookup(CUSTOMERS, "phone", ["+4930 1"])]


def test_keys_are_looked_up_on_the_server_and_match_the_index_in_memory(url, tmp_path):
    """A lookup by key asks the server (`postgres.keys`): the same holders as the index built
    in memory, this session's unsaved and caught-up writes included; no customer is read whole."""
    from store.admin.migrate import migrate

    with Store(url, user="clerk") as store:
        served = _key_lookups(store)
        assert served[:4] == [[10], [11], [], [12]] and _held_nothing(store)
        with Store(url, user="other") as other:  # another session's change, caught up with
            other.edit_customer(11, {"email": "moved@example.org"})
        store.refresh()
        assert [c["id"] for c in store.find(CUSTOMERS, "email", "p11@example.org")] == []
        assert [c["id"] for c in store.find(CUSTOMERS, "email", "MOVED@example.org")] == [11]
        with pytest.raises(Exception, match="already"):  # (the rule that refuses a number held twice)
            store.edit_customer(13, {"number": "C-000012"})
        assert _held_nothing(store)
        store.edit_customer(11, {"email": "p11@example.org"})
        order = store.add_related("orders", 10, {"title": "Engine"})
        assert [o["id"] for o in store.children(10, "orders")] == [order["id"]]  # (written here)
    with Store(url, user="fresh") as fresh:  # a customer's documents asked of the server
        assert [o["id"] for o in fresh.children(10, "orders")] == [order["id"]] and fresh.children(11, "orders") == []
        orders = fresh.parts.session.db.tables["orders"]
        assert not orders.text_read and orders.__dict__["_columns"] is None
    copy = tmp_path / "copy.json"
    migrate(url, copy)
    with Store(copy, user="reader") as in_memory:
        assert _key_lookups(in_memory) == served


def test_a_store_made_before_the_keys_were_kept_has_them_filled_in_at_its_first_open(pg_server):
    url = pg_server.create_database("keys_filled")
    with Store(url, user="tester") as store:
        for n in range(1, 6):
            store.add_customer("private", {"first_name": f"P{n}", "email": f"P{n}@Example.ORG", "phone": "+49 30 1234567"})
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE customers DROP COLUMN keys")
    with Store(url, user="tester") as store:
        assert [c["id"] for c in store.find(CUSTOMERS, "email", "p3@example.org")] == [3]
        assert store.lookup(CUSTOMERS, "phone", ["+49301234567"]) == [[1, 2, 3, 4, 5]]
        assert _held_nothing(store)


def test_an_imports_rows_are_found_by_their_keys_in_the_next_session(pg_server):
    """Rows an import commits column-wise (`insert_rows`) take their keys along, worked out
    column-wise: every international email, number and phone is found as the index in memory finds it."""
    from test_columnar_commit import _as_rows, _records

    from store import Batch

    url = pg_server.create_database("keys_imported")
    records = _records(60)
    with Store(url, user="tester") as store:
        store.apply_batch(Batch("private", rows=_as_rows(records)))
    with Store(url, user="fresh") as fresh:
        found = {record["email"]: [c["id"] for c in fresh.find(CUSTOMERS, "email", record["email"].upper())]
                 for record in records if record.get("email")}
        numbers = fresh.lookup(CUSTOMERS, "number", ["C000007", "C000060", "C000061"])
        held = fresh.lookup_held(CUSTOMERS, "number", [None, "C000061", "C000060", "C000007"])
        assert _held_nothing(fresh)
    with Store(url, user="memory") as memory:
        memory.prepare_lookups()  # (the index built in memory: what the server must agree with)
        assert found == {email: [c["id"] for c in memory.find(CUSTOMERS, "email", email.upper())] for email in found}
        assert numbers == memory.lookup(CUSTOMERS, "number", ["C000007", "C000060", "C000061"]) == [[7], [60], []]
        assert held == memory.lookup_held(CUSTOMERS, "number", [None, "C000061", "C000060", "C000007"]) == {2: [60], 3: [7]}
    assert all(found.values())


async def test_the_app_makes_the_servers_search_column_and_indexes_where_missing(pg_server):
    import psycopg

    url = pg_server.create_database("prepared_by_app")
    with Store(url, user="tester") as store:
        store.add_customer("private", {"first_name": "İnce", "last_name": "Müller", "email": "ince@example.org"})
    app = CustdeskApp(Store(url, user="clerk"), Config())
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(300):
            await pilot.pause(0.02)
            if any("search indexes are made" in str(toast.render()) for toast in app.screen.query("Toast")):
                break
        with psycopg.connect(url) as conn:
            assert searched._keeps_searched_column(conn) and searched.prepare(conn) == []  # (nothing left to make)
        await pilot.press("slash", *"i̇nce")  # (İ lower-cased as Unicode says, from the column now)
        await settle(app, pilot)
        assert _ids(app) == [1]
    app.store.close()


async def test_rows_a_probe_found_show_while_the_server_makes_sure_of_them_and_enter_opens_the_sure_first(
        pg_server, monkeypatch):
    """Customer numbers C-000020… found by the probe show at once, while the page read
    through the grams index makes sure no match lies before them; where one does (customer
    3, whose email holds the text), the rows are replaced. Meanwhile the keys move the
    cursor over the rows shown (End reads no further: that read would wait on the
    connection, the screen with it), and it stays on its row after; Enter pressed meanwhile
    opens the first of the page made sure of (it waited on the read, then opened nothing)."""
    import psycopg

    from store.views import shown as shown_rows

    url = pg_server.create_database("shown_early")
    with Store(url, user="tester") as store, psycopg.connect(url, autocommit=True) as conn:
        for n in range(1, 31):
            store.add_customer("private", {"first_name": f"A{n}", "last_name": "B",
                                           "email": "xc-00002@example.org" if n == 3 else f"x{n}@example.org"})
        for statement in searched.prepare(conn):
            conn.execute(statement)
        conn.execute("ANALYZE customers")
    monkeypatch.setattr(shown_rows, "PAGE_ROWS", 5)
    monkeypatch.setattr(served, "PROBE_SECONDS", 30)
    # (as at 10M: the walk is short and finds too few, every match too many to order in time)
    monkeypatch.setattr(served.ServerRows, "_expected", lambda self, query, narrowed: 1e12 if narrowed else None)
    monkeypatch.setattr(served.ServerRows, "_bounds_first", lambda self, query: True)
    sure, read = threading.Event(), served._read

    def held_back(conn, cur, statement, params, **kwargs):
        if params.get("needle") == "%c-00002%" and " id <= " in statement.as_string(conn):
            sure.wait(10)  # (the page made sure of, held back until the test has seen the rows given early)
        return read(conn, cur, statement, params, **kwargs)
    monkeypatch.setattr(served, "_read", held_back)

    async def shown_early(pilot) -> None:
        for _ in range(500):  # (not `settle`: it would wait for the read held back)
            await pilot.pause(0.02)
            if _ids(app) == [20, 21, 22, 23, 24]:
                return
        raise AssertionError(f"the table shows {_ids(app)}")

    app = CustdeskApp(Store(url, user="clerk"), Config())
    async with app.run_test(size=SIZE) as pilot:
        await _shows(app, pilot, [1, 2, 3, 4, 5])
        customers = app.screen
        await pilot.press("slash", *"C-00002")
        await shown_early(pilot)
        await pilot.press("escape", "G", "up")  # (had End waited on the read, the page made sure of would show now)
        assert _ids(app) == [20, 21, 22, 23, 24] and table(app).current_id == 23
        sure.set()
        await _shows(app, pilot, [3, 20, 21, 22, 23])
        assert table(app).current_id == 23  # (the row the keys moved to, now one further down)
        sure.clear()
        await pilot.press("slash", "ctrl+u", *"C-00002")  # (the search typed again)
        await shown_early(pilot)
        await pilot.press("enter")
        assert app.screen is customers  # (the rows shown may not be the page yet)
        sure.set()
        for _ in range(200):
            await settle(app, pilot)
            if isinstance(app.screen, DetailScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 3
        assert _ids(app, customers) == [3, 20, 21, 22, 23]
    app.store.close()


def test_a_refusal_on_a_connection_of_its_own_is_one_line_naming_the_database(url):
    from store import StoreError
    from store.engine import server_session

    with pytest.raises(StoreError) as refused, server_session(url) as conn:
        conn.execute("SELECT * FROM no_such_table")
    assert str(refused.value).startswith(url.split("?")[0]) and "no_such_table" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_servers_search_indexes_take_new_entries_at_once(url):
    """GIN queues new entries by default, and every search then reads the queue: `prepare`
    makes its indexes without one, and turns it off (emptying it) on those made before."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in searched.prepare(conn):
            conn.execute(statement)
        conn.execute("ALTER INDEX customers_grams SET (fastupdate = on)")
        assert any("customers_grams" in s and "fastupdate = off" in s for s in searched.prepare(conn))
    assert searched.prepare_server(url) == 2  # (the index's queue turned off, and emptied)
    with psycopg.connect(url) as conn:
        options = dict(conn.execute("SELECT relname, reloptions FROM pg_class WHERE relname IN "
                                    "('customers_grams', 'customers_tags')").fetchall())
        assert options == {"customers_grams": ["fastupdate=off"], "customers_tags": ["fastupdate=off"]}
        assert searched.prepare(conn) == []


def test_a_search_read_through_the_grams_index_is_counted_by_its_page(url, monkeypatch):
    """The grams index finds every match before the page orders them: their number comes
    with the page, exact past the count's cap, and no count of its own is asked; a search
    whose walk would not count in time is counted the other way only."""
    from store.views.records import Views

    with Store(url, user="clerk") as store:
        rows = Views(store, (CUSTOMERS,)).rows(CUSTOMERS)
        server = rows.server
        smith = Query(text="Smith")
        server._walks_too_long.add(served._matching(smith))  # (as when the walk ran out of time)
        monkeypatch.setattr(server, "count", lambda *_a, **_k: pytest.fail("counted again"))
        shown = rows.shown(smith)
        shown.count_rows()
        expected = RecordView(Store(url, user="reader")).select(smith)
        assert shown.count == 270 == expected.height and not shown.capped and len(shown) == 120
        assert [shown.id_at(i) for i in range(120)] == expected["id"].to_list()[:120]
        monkeypatch.undo()
        walks = []
        reading = served._read
        monkeypatch.setattr(served, "_read", lambda *a, **k: walks.append(k.get("walk", False)) or reading(*a, **k))
        paced = Query(text="Person")
        server._walk_pace[served._matching(paced)] = 1.0  # (a second a match: 10,000 would take hours)
        assert server.count(paced) == 300 and walks == [False]
        walks.clear()
        short = Query(text="Pe")  # (two letters: no index narrows them, and this walk would not count in time)
        server._walk_pace[served._matching(short)] = 1.0
        assert server.count(short) is None and walks == []
        assert _held_nothing(store)


async def test_an_export_of_the_shown_rows_reads_them_from_the_server_in_chunks(pg_server, tmp_path, monkeypatch):
    from exporters import customers as customers_export

    monkeypatch.setattr(customers_export, "CHUNK", 40)
    url = pg_server.create_database("server_export")
    with Store(url, user="tester") as store:
        for n in range(150):
            store.add_customer("private", {"first_name": f"Ünal{n:03d}", "last_name": "Şahin", "email": f"u{n}@örnek.com.tr",
                                           "city": CITIES[n % 5]})
    store = Store(url, user="clerk")
    out = tmp_path / "shown.csv"
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _shows(app, pilot, list(range(1, 121)))
        await pilot.press("x")  # every row shown, 150, though the table read 120 of them
        with Store(url, user="other") as other:
            other.delete(5)  # (gone before the export reads it)
        app.screen.query_one("Input").value = str(out)
        await pilot.press("enter")
        for _ in range(200):
            await settle(app, pilot)
            if any(n.startswith("Exported") for n in notices(app)):
                break
            await pilot.pause(0.02)
        assert f"Exported 149 customer(s) to {out} (1 no longer exist)" in notices(app)
        bar = app.screen.query_one("#work-progress")  # (it ran chunk by chunk, and is gone once done)
        assert (bar.progress, bar.total, bar.display) == (149, 149, False)
        assert _held_nothing(store)
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 149 and [r["number"] for r in rows] == sorted(r["number"] for r in rows)
    assert {r["first_name"] for r in rows} == {f"Ünal{n:03d}" for n in range(150)} - {"Ünal004"}
    store.close()


async def test_the_tag_prompt_is_up_at_once_and_lists_the_tags_read_off_the_screens_thread(pg_server, monkeypatch):
    url = pg_server.create_database("server_tags")
    with Store(url, user="tester") as store:
        for n in range(6):
            store.add_customer("private", {"first_name": f"Ayşe{n}", "email": f"a{n}@örnek.com.tr", "tags": "vip" if n % 2 else "bülten"})
    listed = threading.Event()
    threads: list[str] = []
    tags = served.ServerRows.tags

    def slow_tags(self, *args):
        threads.append(threading.current_thread().name)
        listed.wait(5)  # (as a server of ten million takes its 0.3 s)
        return tags(self, *args)

    monkeypatch.setattr(served.ServerRows, "tags", slow_tags)
    store = Store(url, user="clerk")
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE) as pilot:
        await _shows(app, pilot, list(range(1, 7)))
        await pilot.press("T", "v", "i")  # (typed before the tags are read: into the prompt)
        label = app.screen.query_one("Label")
        assert "Tags: reading them …" in str(label.render()) and app.screen.query_one("Input").value == "vi"
        listed.set()
        for _ in range(200):
            await pilot.pause(0.02)
            if "bülten, vip" in str(label.render()):
                break
        assert "Tags: bülten, vip" in str(label.render()) and threads and threads != [threading.main_thread().name]
        await pilot.press("p", "enter")
        await _shows(app, pilot, [2, 4, 6])
        assert len(_ids(app)) == 3
        listed.clear()
        await pilot.press("T", "escape", "T", "enter")  # (closed before the tags are read, twice)
        listed.set()
        await settle(app, pilot)
        assert app.is_running and _ids(app) == [2, 4, 6]
    store.close()


def test_the_searched_column_waits_for_the_table_a_while_at_a_time_never_stopping_its_readers(pg_server):
    """The app's first prepare adds the searched column (ALTER TABLE: it waits for every
    transaction holding the table, and every read waits behind it). A session holding the
    table in a transaction while it reads a document on another connection would wait on it
    for good, as it on the session: the change waits half a second at a time, and the
    reads go on between its tries."""
    import psycopg

    url = pg_server.create_database("server_prepare")
    with Store(url, user="tester") as store:
        for n in range(3):
            store.add_customer("private", {"first_name": f"Ece{n}", "email": f"e{n}@örnek.com.tr"})
    holder = psycopg.connect(url)  # (a catch-up's consistent read: the table held in a transaction)
    holder.execute("SELECT count(*) FROM customers")
    made: list[int] = []
    preparing = threading.Thread(target=lambda: made.append(searched.prepare_server(url)))
    preparing.start()
    time.sleep(0.2)  # (the change queued behind the holder)
    with psycopg.connect(url, autocommit=True) as reader:
        reader.execute("SET statement_timeout = '5s'")  # (waiting for good, the test would too)
        started = time.perf_counter()
        assert reader.execute("SELECT doc ->> 'first_name' FROM customers WHERE id = 2").fetchone() == ("Ece1",)
        waited = time.perf_counter() - started
    holder.commit()  # (the read done, the session's transaction ends)
    preparing.join(30)
    holder.close()
    assert not preparing.is_alive() and made and made[0] > 0 and waited < 1.5
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT searched FROM customers WHERE id = 2").fetchone()[0].startswith("c-")


@pytest.mark.parametrize("read", ["texts", "order", "columns"])
def test_a_read_queued_behind_the_tables_rewrite_finds_its_rows(pg_server, read):
    """COPY takes its snapshot before it waits for the table, and a table rewritten meanwhile
    (the app's first prepare adds the searched column) is empty to a snapshot taken before:
    an export once read a chunk of no customers so. Reads lock the table first."""
    import psycopg

    from store.engine.postgres.reads import read_columns, read_order, read_texts

    url = pg_server.create_database(f"server_rewrite_{read}")
    with Store(url, user="tester") as store:
        for n in range(4):
            store.add_customer("private", {"first_name": f"Ece{n}", "email": f"e{n}@örnek.com.tr"})
    holder = psycopg.connect(url)
    holder.execute("SELECT count(*) FROM customers")
    rewrite = threading.Thread(target=lambda: psycopg.connect(url, autocommit=True).execute(
        "ALTER TABLE customers ADD COLUMN rewritten text GENERATED ALWAYS AS (doc ->> 'email') STORED"))
    rewrite.start()
    time.sleep(0.3)  # (the rewrite queued behind the holder)
    found: list = []
    reads = {"texts": lambda conn: read_texts(conn, "customers", [2, 3])["id"].to_list(),
             "order": lambda conn: read_order(conn, "customers", "number").to_list()[:2],
             "columns": lambda conn: read_columns(conn, "customers", {"first_name": pl.String()}, [2, 3])["id"].to_list()}
    reading = threading.Thread(target=lambda: found.append(reads[read](psycopg.connect(url, autocommit=True))))
    reading.start()
    time.sleep(0.3)  # (the read queued behind the rewrite)
    holder.commit()
    rewrite.join(10)
    reading.join(10)
    holder.close()
    assert found == [[1, 2] if read == "order" else [2, 3]]


@pytest.fixture(scope="module")
def prospects_url(pg_server):
    """A store of 250 prospects (more than two pages) from three files and the sign-up page."""
    url = pg_server.create_database("server_sources")
    origins = ({"file": "kunden.xlsx", "sheet": "Tabelle1"}, {"file": "müşteri.csv"}, {"profile": "sign-up"})
    with Store(url, user="tester") as store:
        for n in range(1, 251):
            store.add_source({"first_name": f"Lead{n:03d}", "last_name": "Öztürk" if n % 25 == 0 else "Jansen",
                              "email": f"lead{n}@example.org", "city": CITIES[n % 5],
                              "origin": {**origins[n % 3], "row": n}})
    return url


async def test_all_shown_are_read_off_the_screens_thread_and_the_keys_typed_meanwhile_wait_for_them(url, monkeypatch):
    store = Store(url, user="clerk")
    app = CustdeskApp(store, Config())
    read = served.ServerRows.ids
    free_while_read: list[bool] = []
    said: list[str] = []  # (the filter bar during the read)

    def slow(self, query, cap):
        # (a search of 10M customers with 61,328 matches: 6 s) The app's loop runs meanwhile:
        # a callback asked of it from here is run before the read ends.
        ran = threading.Event()
        loop.call_soon_threadsafe(ran.set)
        free_while_read.append(ran.wait(2))
        said.append(str(app.screen.query_one("#filters").render()))
        return read(self, query, cap)

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        loop = asyncio.get_running_loop()
        await _shows(app, pilot, list(range(1, 121)))
        smiths = [n for n in range(1, 301) if n % 10]
        await pilot.press("slash", *"smith", "escape")  # (more than a page: their ids are read from the server)
        await _shows(app, pilot, smiths[:120])
        monkeypatch.setattr(served.ServerRows, "ids", slow)
        await pilot.press("asterisk", "d")  # typed at once: d waits for the selection, and deactivates all 270
        await settle(app, pilot)
        assert free_while_read == [True] and said == ["  Reading the rows shown …"]
        assert "270 selected" in str(app.screen.query_one("#filters").render())  # (the bar counts again)
        with Store(url, user="other") as other:
            assert [i for i in smiths if other.customer(i)["active"]] == []
            other.reactivate([i for i in smiths if i % 7])

        def lost(self, query, cap):
            raise StoreError("the database server is unreachable: connection lost")
        monkeypatch.setattr(served.ServerRows, "ids", lost)
        await pilot.press("escape", "asterisk")  # (the selection cleared; then the server cannot say)
        await settle(app, pilot)
        for _ in range(200):
            if any("the database server is unreachable" in n for n in notices(app)):
                break
            await pilot.pause(0.02)
        assert app.screen.selected == set() and any("the database server is unreachable" in n for n in notices(app))
    store.close()


async def test_a_large_selection_is_asked_of_the_server_again_only_where_a_commit_changed_it(url, monkeypatch):
    """With a selection, each query shows which selected rows are still there and whether each
    is active: asked of the server after its rows show, once, then only for the rows a commit
    changed (this session's, or another's it is told of): 61,000 selected were asked again at
    every keystroke, 0.3-1.2 s of the server's work each at 10M."""
    store = Store(url, user="clerk")
    app = CustdeskApp(store, Config())
    held = served.ServerRows.held
    asked: list[list[int]] = []
    shown_first: list[list[int]] = []

    def slow(self, ids):
        asked.append(sorted(ids))
        shown_first.append(_ids(app)[:3])
        time.sleep(0.2)
        return held(self, ids)

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"smith", "escape")
        smiths = [n for n in range(1, 301) if n % 10]
        await _shows(app, pilot, smiths[:120])
        monkeypatch.setattr(served.ServerRows, "held", slow)
        await pilot.press("asterisk")
        await settle(app, pilot)
        assert asked == [smiths] and shown_first == [[1, 2, 3]]  # (the rows shown first)
        await pilot.press("slash", *["backspace"] * 5, *"müller", "escape")
        await _shows(app, pilot, list(range(10, 301, 10)))
        for text in ("smith", "person"):
            await pilot.press("slash", *["backspace"] * 6, *text, "escape")
            await settle(app, pilot)
        assert asked == [smiths] and len(app.screen.selected) == 270  # (no commit: none asked again)
        try:
            with Store(url, user="other") as other:
                other.deactivate([1])
                other.delete(2)
            for _ in range(200):  # (told by the server, NOTIFY: the table shown again, once or twice)
                await pilot.pause(0.02)
                if 2 not in app.screen.selected and app.screen.held.get(1) is False:
                    break
            assert {i for ids in asked[1:] for i in ids} == {1, 2} and app.screen.held[1] is False
            assert len(app.screen.selected) == 269
        finally:  # (the module's store as it was, for the tests after)
            with Store(url, user="other") as other:
                other.undo()  # (the deletion of 2)
                other.reactivate([1])
    store.close()


def test_a_selection_whose_rows_the_server_was_not_asked_of_in_the_end_is_asked_again(tmp_path):
    """A read of the selection's rows that fails (the server lost, a cancel) leaves those rows
    to be asked at the next query: the change the session was told of is not forgotten."""
    from store.views.shown import ServedRows

    class Server:  # (the rows as a server would tell them: the third one gone)
        def __init__(self) -> None:
            self.asked: list[list[int]] = []
            self.active: dict[int, bool] = {}
            self.lost = False

        def held(self, ids):
            self.asked.append(sorted(ids))
            if self.lost:
                raise StoreError("the server was lost")
            return {i: self.active[i] for i in ids if i in self.active}

    with Store(tmp_path / "store.json", user="clerk") as store:
        ids = [store.add_customer("private", {"first_name": f"Ayşe {n}", "email": f"a{n}@örnek.com.tr"})["id"] for n in range(3)]
        server = Server()
        server.active = {ids[0]: True, ids[1]: True}
        rows = ServedRows(store, server, CUSTOMERS)
        assert rows.held(ids) == {ids[0]: True, ids[1]: True} and server.asked == [ids]
        store.deactivate([ids[0]])
        server.active[ids[0]], server.lost = False, True
        with pytest.raises(StoreError):
            rows.held(ids)
        server.lost = False
        assert rows.held(ids) == {ids[0]: False, ids[1]: True} and server.asked[-1] == [ids[0]]
        assert rows.held(ids) == {ids[0]: False, ids[1]: True} and len(server.asked) == 3  # (nothing changed since)


async def test_the_source_list_pages_searches_and_discards_on_the_server_and_holds_no_prospect(prospects_url):
    store = Store(prospects_url, user="clerk")
    expected = RecordView(Store(prospects_url, user="reader"), SOURCES)
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await _shows(app, pilot, list(range(1, 121)))
        assert table(app).shown.count == 250 and table(app).row(0)["origin"] == "müşteri.csv / row 1"
        await pilot.press("G")  # End: the next pages are read
        assert table(app).row_count == 250 and table(app).current_id == 250
        await pilot.press("g")
        for _ in range(5):  # sorted by origin, descending
            await pilot.press("s")
        await pilot.press("S")
        await _shows(app, pilot, expected.select(Query(sort="origin", descending=True))["id"].head(120).to_list())
        assert app.screen.query_state.sort == "origin"
        await pilot.press("slash", *"ÖZTÜRK", "escape")  # (found whatever its case)
        matching = expected.select(Query(text="öztürk", sort="origin", descending=True))["id"].to_list()
        await _shows(app, pilot, matching)
        assert len(matching) == 10
        await pilot.press("asterisk", "delete", "y")  # every Öztürk selected, and discarded
        await settle(app, pilot)
        with Store(prospects_url, user="other") as other:
            assert all(other.parts.session.db.tables[SOURCES].get(i) is None for i in matching)
            added = other.add_source({"first_name": "Ayşe", "last_name": "Öztürk", "email": "ayse@example.com.tr"})
        for _ in range(200):  # another session's prospect: told by the server (NOTIFY), it shows
            await pilot.pause(0.02)
            if _ids(app) == [added["id"]]:
                break
        assert _ids(app) == [added["id"]]
        assert _held_nothing(store, SOURCES) and SOURCES not in app.views.built()
    store.close()

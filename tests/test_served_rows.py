"""The customer table's rows paged from a PostgreSQL server (`store.views.served`): for any
search, filter and sort, walked a page at a time by keyset, the same rows in the same order
as the polars view over the whole store, and counted alike; read through the indexes made
for them where they are made (`searched.prepare`), the same rows where they are not."""
from __future__ import annotations

import dataclasses
import random
import re
import threading

import psycopg
import pytest
from helpers import login_role
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from international import people
from psycopg import sql

from store import Store
from store.engine import storable_in
from store.model import SOURCES
from store.views import searched, served
from store.views.page import read_page
from store.views.query import CUSTOMER_SORTABLE as SORTABLE
from store.views.query import SOURCE_SORTABLE, Query
from store.views.records import RecordView
from store.views.searched import VACUUM_SHARE, prepare, searched_text
from store.views.served import ServerRows
from store.views.shown_sql import CUSTOMER_ROWS, GRAMS_ASKED, SEARCHED_COLUMN, SOURCE_ROWS, grams

TAGS = ("vip", "newsletter", "Ödeme", "b2b")
# Text that LIKE would read as a pattern, cases that lower-case in more than one way.
ODD_TEXT = ("%", "_", "\\", "İ", "i̇", "ß", "SS", "Ö", "ı", "  ", "@", "+49", "-0000")


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture(scope="module")
def filled(pg_server):
    """A store of 160 customers from seven countries (with the odd ones: no name, only a
    company, an İ, a percent sign), some inactive, tagged, deleted; the database's URL."""
    url = pg_server.create_database("served_rows")
    rnd = random.Random(31)
    with Store(url, user="tester") as store:
        for n, who in enumerate(people(150, seed=31)):
            kind = "corporate" if n % 3 == 0 else "private"
            data = {"first_name": who.first, "last_name": who.last, "email": who.email_truth,
                    "country": who.region, "tags": rnd.sample(TAGS, rnd.randint(0, 2))}
            if who.phone_truth:
                data["phone" if n % 2 else "mobile"] = who.phone_truth
            if kind == "corporate":
                data["company"] = f"{who.last} {rnd.choice(('GmbH', 'A.Ş.', 'SARL', 'B.V.', 'S.L.'))}"
            store.add_customer(kind, data)
        for n, data in enumerate(({"company": "100% Bio_Markt"}, {"last_name": "İNCE", "email": "ince@örnek.com.tr"},
                                  {"first_name": "Straße"}, {"last_name": "Only"}, {"company": "ıIiİ Ltd"},
                                  {"first_name": "Ana", "last_name": "Back\\Slash"}, {"company": "Zeta"},
                                  {"company": "zeta"}, {"company": "Zeta"}, {"company": "Ärger"},
                                  # (sorted by their first 256 characters, then id: these two as added)
                                  {"company": "Ü" * 300 + " b"}, {"company": "Ü" * 300 + " a"})):
            data.setdefault("email", f"odd{n}@example.org")
            store.add_customer("corporate" if "company" in data else "private", data)
        store.deactivate(list(range(1, 161, 7)))
        for doomed in (5, 77, 140):
            store.delete(doomed)
        for origin in _origins(people(60, seed=32), rnd):
            who = origin.pop("who")
            store.add_source({"first_name": who.first, "last_name": who.last, "email": who.email_truth,
                              "company": f"{who.last} GmbH" if rnd.random() < 0.3 else None,
                              "phone": who.phone_truth, "country": who.region, "origin": origin})
        store.add_source({"company": "€" * 1000, "email": "long@example.org", "city": "ẞ" * 900})
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in prepare(conn):
            conn.execute(statement)
        conn.execute("ANALYZE customers")
    yield url
    pg_server.drop_database("served_rows")


def _origins(people_, rnd: random.Random) -> list[dict]:
    """Where prospects come from, each way the source list says it: a file's sheet and row
    (row 0 and a row JSON wrote as 5.0 too), a sync profile's file (or none), the sign-up
    page confirmed or not, nothing known."""
    ways = ({"file": "kunden.xlsx", "sheet": "Tabelle1", "row": 7}, {"file": "müşteri.csv", "row": 0},
            {"file": "a.csv", "row": 5.0}, {"file": "b.csv", "sheet": "", "row": "12"}, {"profile": "datev", "file": "EXTF.csv"},
            {"profile": "lexware"}, {"profile": "sign-up", "confirmed_at": "2026-11-02T10:00:00Z"}, {"profile": "sign-up"},
            {"file": None}, {"sheet": "Blad1"})
    return [{**rnd.choice(ways), "who": who} for who in people_]


@pytest.fixture(scope="module")
def prospects(filled):
    """(the server's rows of the source list, the polars view of the same store's)."""
    conn = psycopg.connect(filled, autocommit=True)
    with Store(filled, user="tester") as store:
        view = RecordView(store, SOURCES)
    yield ServerRows.on(conn, SOURCE_ROWS), view
    conn.close()


@pytest.fixture(scope="module")
def server(filled):
    """A connection to the filled store's database."""
    with psycopg.connect(filled, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def both(filled):
    """(the server's rows, the polars view of the same store)."""
    conn = psycopg.connect(filled, autocommit=True)
    with Store(filled, user="tester") as store:
        view = RecordView(store)
    yield ServerRows.on(conn), view
    conn.close()


def _no_walk_ends_in_time(monkeypatch) -> None:
    """As on a table so large that no bounded walk ends in time: every search of three
    letters or more is read through the grams index (the other way, `served`)."""
    read = served._read

    def bounded(conn, cur, statement, *args, walk=False, seconds=None, **kwargs):
        # (but the walk between a probe's bounds: a page's rows times `GATHERED` at most, in time at any size)
        late = walk and seconds is not None and " BETWEEN " not in statement.as_string(conn)
        return None if late else read(conn, cur, statement, *args, walk=walk, seconds=seconds, **kwargs)
    monkeypatch.setattr(served, "_read", bounded)


def _no_index_read_ends_in_time(monkeypatch, *, bounded_ends: bool) -> None:
    """As where a search's matches are too many to be read through the grams index and ordered
    in time: a page in id order is read between bounds (unless not `bounded_ends` either),
    else walked to the end."""
    read = served._read

    def out_of_time(conn, cur, statement, *args, **kwargs):
        text = statement.as_string(conn)  # (told by its statement: every budget is patched alike)
        late = "count(*) OVER ()" in text or (not bounded_ends and "WITH found AS" in text)
        return None if late and kwargs.get("seconds") else read(conn, cur, statement, *args, **kwargs)
    monkeypatch.setattr(served, "_read", out_of_time)


def _walk(rows, query: Query, limit: int) -> list[dict]:
    """Every row, a page at a time, each page after the last row of the one before."""
    walked, after = [], None
    while True:
        page = rows.page(query, after, limit)
        walked += page
        if len(page) < limit:
            return walked
        after = page[-1]


def _texts(view: RecordView) -> st.SearchStrategy[str]:
    """Searches people type: parts of what the rows show, in any case, or odd text."""
    shown = [v for column in ("number", "name", "company", "email", "phone", "origin") if column in view.frame.columns
             for v in view.frame[column].to_list() if v]

    @st.composite
    def part(draw):
        value = draw(st.sampled_from(shown))
        start = draw(st.integers(0, len(value) - 1))
        cut = value[start:start + draw(st.integers(1, 6))]
        return draw(st.sampled_from((cut, cut.upper(), cut.lower(), f" {cut} ")))
    return st.one_of(part(), st.sampled_from(ODD_TEXT), st.text(max_size=3), st.just(""))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_query_gives_the_polars_views_rows_in_its_order_a_page_at_a_time(both, data, monkeypatch):
    rows, view = both
    with monkeypatch.context() as patched:  # (undone after each example)
        filters = {"kind": data.draw(st.sampled_from((None, "corporate", "private"))),
                   "active": data.draw(st.sampled_from((None, True, False))), "tag": data.draw(st.sampled_from((None, *TAGS)))}
        _same_rows_as_the_polars_view(ServerRows(rows._connection), view, data, patched, SORTABLE, filters)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_search_of_the_source_list_gives_the_polars_views_rows_in_its_order_a_page_at_a_time(prospects, data,
                                                                                                monkeypatch):
    rows, view = prospects
    with monkeypatch.context() as patched:
        _same_rows_as_the_polars_view(ServerRows(rows._connection, table=SOURCE_ROWS), view, data, patched,
                                      SOURCE_SORTABLE, {})


def _same_rows_as_the_polars_view(rows: ServerRows, view: RecordView, data, patched, sortable, filters) -> None:
    """The server's rows of a query drawn (text, `filters`, a sort of `sortable`), walked a
    page at a time, are the polars view's, read whichever way is drawn, and counted alike.
    (`rows` new: nothing remembered of another example's searches.)"""
    for budget in ("WALK_SECONDS", "INDEX_SECONDS", "COUNT_SECONDS", "READ_WHOLE_SECONDS", "BOUNDED_SECONDS"):
        patched.setattr(served, budget, 30)  # (a loaded machine: the way drawn is taken)
    walks_end = not data.draw(st.booleans(), label="no walk ends in time")
    if not walks_end:
        _no_walk_ends_in_time(patched)
    if data.draw(st.booleans(), label="no page read whole through the grams index ends in time"):
        _no_index_read_ends_in_time(patched, bounded_ends=data.draw(st.booleans(), label="a page between bounds ends"))
    scale = data.draw(st.sampled_from((1.0, 1e3, 1e6)), label="the statistics' rows, times those here")
    if scale != 1.0:  # (as on a large table: the way a search is read chosen by its statistics, walks of N rows)
        on = searched.Searched.on

        def scaled(cls, conn, table, on=on, scale=scale):
            found = on(conn, table)
            return dataclasses.replace(found, rows=found.rows * scale)
        patched.setattr(searched.Searched, "on", classmethod(scaled))
    query = Query(text=data.draw(_texts(view)), **filters, sort=data.draw(st.sampled_from((None, *sortable))),
                  descending=data.draw(st.booleans()))
    limit = data.draw(st.sampled_from((1, 7, 50)))
    expected = view.select(query).drop("_haystack").rows(named=True)
    if not walks_end and query.text.strip() and len(query.text.strip()) < 3 and "\x00" not in query.text:
        # (a short search is only walked: its count is not known; one holding NUL is never asked)
        assert rows.count(query) is None
        return
    assert _walk(rows, query, limit) == expected
    assert _walk(view, query, limit) == expected  # (the one interface, the polars view's side)
    told: list[list[dict]] = []
    page, counted = rows.counted_page(query, None, limit, early=told.append)
    assert page == expected[:limit] and counted in {len(expected), None}  # (counted by reading the page: exactly)
    _given_early_holds(told, expected, limit)
    assert view.count(query) == len(expected)
    # (statistics of a large table may say the index could not count a search in time: not known)
    held = rows._searched
    many = held is not None and held.by_grams is not None and len(query.text.strip()) >= 3 and not \
        served._filtered(query) and held.expected(query.text.strip().lower()) > searched.FEW_MATCHES
    unknown = {None} if many else set()
    assert rows.count(query) in {len(expected), *unknown}
    assert rows.count(query, cap=3) in {min(3, len(expected)), *unknown}
    # (a query of no text is counted exactly from the store's counts, but a tag's with another filter)
    tagged = bool(query.tag) and "tags" in view.frame.columns
    other = (bool(query.kind) and "kind" in view.frame.columns) or (query.active is not None and "active" in view.frame.columns)
    told = not query.text.strip() and not (tagged and other)
    assert rows.tallied(query) == (len(expected) if told else None)
    # (every id, for `*` and an export of all shown: through the grams index, or walked where
    # the statistics say more than the cap may match and that read runs out of time)
    patched.setattr(served, "IDS_BY_GRAMS_SECONDS", data.draw(st.sampled_from((30, 1e-6)), label="ids by grams for"))
    cap = data.draw(st.sampled_from((3, 1000)), label="ids up to")
    assert rows.ids(query, cap) == (None if len(expected) > cap else [row["id"] for row in expected])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_search_in_id_order_read_between_bounds_gives_the_polars_views_rows(filled, both, data, monkeypatch):
    """Matches too many to order in time and too far along for a walk (C-01… at 10M) are read
    in id order between bounds: the first the grams index's bitmap reaches bound the page.
    Rows changed on the server first are written anew further along the table, so those
    reached first are not the first by id; the pages are the polars view's all the same."""
    _rows, view = both
    with monkeypatch.context() as patched, psycopg.connect(filled, autocommit=True) as conn, \
            conn.transaction(force_rollback=True):
        moved = data.draw(st.lists(st.integers(1, 172), max_size=60), label="rows written anew")
        conn.execute("UPDATE customers SET doc = jsonb_set(doc, '{moved}', 'true') WHERE id = ANY(%s)", (moved,))
        for budget in ("WALK_SECONDS", "INDEX_SECONDS", "READ_WHOLE_SECONDS", "BOUNDED_SECONDS"):
            patched.setattr(served, budget, 30)
        _no_walk_ends_in_time(patched)
        _no_index_read_ends_in_time(patched, bounded_ends=True)
        # (where a probe's page of matches starting a value is gathered in so few ids, it bounds the page)
        patched.setattr(served, "GATHERED", data.draw(st.sampled_from((0, served.GATHERED, 10**12)), label="gathered"))
        patched.setattr(served, "PROBE_SECONDS", 30)
        reads, read = [], served._read
        patched.setattr(served, "_read", lambda conn, cur, statement, *a, **k: reads.append(
            _between_bounds(statement.as_string(conn))) or read(conn, cur, statement, *a, **k))
        with psycopg.connect(filled) as server:
            storable = storable_in(server)  # (what the database can hold: a query of anything else is not sent)
        text = data.draw(_texts(view).filter(lambda text: len(text.strip()) >= 3 and storable(text)))
        query = Query(text=text, kind=data.draw(st.sampled_from((None, "private"))),
                      active=data.draw(st.sampled_from((None, True))), tag=data.draw(st.sampled_from((None, *TAGS))))
        limit = data.draw(st.sampled_from((1, 3, 7, 50)))
        expected = view.select(query).drop("_haystack").rows(named=True)
        assert _walk(ServerRows.on(conn), query, limit) == expected
        assert any(reads)  # (read between bounds)
        told: list[list[dict]] = []
        assert ServerRows.on(conn).counted_page(query, None, limit, early=told.append)[0] == expected[:limit]
        _given_early_holds(told, expected, limit)


def _given_early_holds(told: list[list[dict]], expected: list[dict], limit: int) -> None:
    """A page given early (`counted_page`'s `early`), once at most: a page of rows, every
    match between its first id and its last (the page, unless a match lies before)."""
    assert len(told) <= 1
    for early in told:
        assert len(early) == limit
        assert early == [row for row in expected if early[0]["id"] <= row["id"] <= early[-1]["id"]]


def _between_bounds(statement: str) -> str | None:
    """Which bound a page in id order was read up to: the first matches the grams index
    reaches ("found"), those a probe found starting a value ("probed"); None: another read."""
    if "WITH found AS" in statement:
        return "found"
    return "probed" if re.search(r"\bid <= \d+ ", statement) else None


def test_a_page_of_customer_numbers_in_id_order_is_bounded_by_those_that_start_a_number(both, monkeypatch):
    """Customer numbers C-01… (a million after a million at 10M): a page of those whose number
    starts with the text, read through the numbers' sort index in any case typed, bounds the
    page in id order (no bitmap of the grams index is built for a bound); matches found so
    but spread over more ids than `GATHERED` times the page do not bound it."""
    rows, view = both
    reads, reading = [], served._read
    monkeypatch.setattr(served, "_read", lambda conn, cur, statement, *a, **k: reads.append(
        ("AS probed" in statement.as_string(conn), _between_bounds(statement.as_string(conn)))) or
        reading(conn, cur, statement, *a, **k))
    monkeypatch.setattr(served, "PROBE_SECONDS", 30)  # (a loaded machine: the probe is read)
    monkeypatch.setattr(ServerRows, "_bounds_first", lambda self, query: True)
    found = ServerRows(rows._connection)
    for text, gathered, bound in (("C-0001", served.GATHERED, "probed"), (" c-0001", served.GATHERED, "probed"),
                                  ("C-0001", 0, "found")):
        monkeypatch.setattr(served, "GATHERED", gathered)
        query = Query(text=text)
        found.page(query)  # (the statistics asked)
        found._searched = dataclasses.replace(found._searched, rows=1e12)  # (as at 10M: the walk would be short)
        found._walks_too_long.add(served._matching(query))
        for after, limit in ((None, 7), (view.page(query, limit=7)[-1], 5)):
            reads.clear()
            assert found.page(query, after, limit) == view.page(query, after, limit) != []
            assert reads == [(True, None), (False, bound)]


def test_a_match_changed_between_the_probe_and_its_page_leaves_the_page_whole(pg_database, monkeypatch):
    """The probe and the page it bounds are two statements: a match another session deletes
    between them leaves fewer below the bound than a page; that page is read again between
    bounds, whole (cut short, it had been said to hold every match, and paging stopped)."""
    with Store(pg_database, user="tester") as store:
        for n in range(30):
            store.add_customer("private", {"first_name": f"A{n}", "last_name": "B", "email": f"x{n}@example.org"})
    with psycopg.connect(pg_database, autocommit=True) as conn, psycopg.connect(pg_database, autocommit=True) as other:
        for statement in prepare(conn):
            conn.execute(statement)
        conn.execute("ANALYZE customers")
        monkeypatch.setattr(served, "PROBE_SECONDS", 30)
        monkeypatch.setattr(ServerRows, "_bounds_first", lambda self, query: True)
        read, reads = served._read, []

        def racing(conn, cur, statement, *args, **kwargs):
            found = read(conn, cur, statement, *args, **kwargs)
            reads.append(_between_bounds(statement.as_string(conn)))
            if "AS probed" in statement.as_string(conn):
                other.execute("UPDATE customers SET doc = NULL WHERE id = 2")  # (deleted meanwhile)
            return found
        monkeypatch.setattr(served, "_read", racing)
        rows, query = ServerRows.on(conn), Query(text="C-0000")  # (every number starts so)
        rows.page(query)  # (the statistics asked)
        rows._searched = dataclasses.replace(rows._searched, rows=1e12)
        rows._walks_too_long.add(served._matching(query))
        reads.clear()
        page, count = rows.counted_page(query, None, 5)
        assert [row["id"] for row in page] == [1, 3, 4, 5, 6] and count is None
        assert reads == [None, "probed", "found"]


@pytest.mark.parametrize("bounds_first", [True, False])
@pytest.mark.parametrize("email", ["x3@example.org", "xc-00002@example.org"])
def test_a_probes_page_is_shown_early_and_kept_unless_the_page_made_sure_of_finds_a_match_before_it(
        pg_database, monkeypatch, email, bounds_first):
    """Customer numbers C-000020… found by the probe are the page between its least id and its
    greatest (read with no bitmap), given early; the page read through the grams index then
    makes sure no match lies before them (between bounds, or every match ordered, which
    counts them): the rows given early are kept where none does, and replaced where one
    does (customer 3, whose email holds the text, not at its start)."""
    from store.model import CUSTOMERS
    from store.views import shown as shown_rows

    with Store(pg_database, user="tester") as store, psycopg.connect(pg_database, autocommit=True) as conn:
        for n in range(1, 31):
            store.add_customer("private", {"first_name": f"A{n}", "last_name": "B",
                                           "email": email if n == 3 else f"x{n}@example.org"})
        for statement in prepare(conn):
            conn.execute(statement)
        conn.execute("ANALYZE customers")
        monkeypatch.setattr(served, "PROBE_SECONDS", 30)
        monkeypatch.setattr(ServerRows, "_bounds_first", lambda self, query: bounds_first)
        monkeypatch.setattr(shown_rows, "PAGE_ROWS", 5)
        rows, query = ServerRows.on(conn), Query(text="C-00002")
        rows.page(query)  # (the statistics asked)
        rows._searched = dataclasses.replace(rows._searched, rows=1e12)  # (as at 10M: the walk would be short)
        rows._walks_too_long.add(served._matching(query))
        told: list = []
        shown = shown_rows.ServedRows(store, rows, CUSTOMERS).shown(query, early=told.append)
        assert [told[0].id_at(i) for i in range(len(told[0]))] == [20, 21, 22, 23, 24]
        first = [shown.id_at(i) for i in range(len(shown))]
        if email.startswith("xc"):
            assert shown is not told[0] and first == [3, 20, 21, 22, 23]
        else:
            assert shown is told[0] and first == [20, 21, 22, 23, 24]
        assert shown.count == (None if bounds_first else 10 + email.startswith("xc"))


def test_a_search_finds_the_turkish_capital_i_as_polars_and_python_lower_case_it(both):
    rows, view = both
    for text in ("İnce", "i̇nce", "ince", "INCE", "ıiİ"):
        assert [r["id"] for r in rows.page(Query(text=text))] == [r["id"] for r in view.page(Query(text=text))]
    assert [r["name"] for r in rows.page(Query(text="i̇nce"))] == ["İNCE"]
    assert [r["company"] for r in rows.page(Query(text="100%"))] == ["100% Bio_Markt"]
    assert rows.page(Query(text="0%_b")) == []  # (% and _ are letters here, not patterns)


def test_text_no_statement_may_carry_matches_no_row_as_in_the_polars_view(both):
    """NUL, and a lone surrogate (a terminal's undecodable byte), are in no stored text: a
    search of them finds nothing on both sides, and is not sent (psycopg could not encode it)."""
    rows, view = both
    for text in ("\udc80", "ab\udcff", "x\x00y", "Ada\ud800"):
        assert rows.page(Query(text=text)) == view.page(Query(text=text)) == []
        assert rows.count(Query(text=text)) == view.count(Query(text=text)) == 0


def test_ties_of_a_sort_are_in_id_order_and_reversed_whole(both):
    rows, _view = both
    ascending = [(r["company"], r["id"]) for r in rows.page(Query(text="zeta", sort="company"))]
    assert ascending == sorted(ascending) and [c for c, _ in ascending] == ["Zeta", "Zeta", "zeta"]
    descending = [(r["company"], r["id"]) for r in rows.page(Query(text="zeta", sort="company", descending=True))]
    assert descending == ascending[::-1]


def test_matches_too_many_for_the_grams_index_in_time_are_walked_to_the_end(both, monkeypatch):
    """Customer numbers C-01…: a stretch of the order no short walk reaches, too many for the
    index: after both run out of time, the page is walked to the end, the same rows."""
    rows, view = both
    read, reads = served._read, []

    def out_of_time(*args, walk=False, seconds=None, **kwargs):
        reads.append((walk, seconds))
        return None if seconds is not None else read(*args, walk=walk, **kwargs)
    monkeypatch.setattr(served, "_read", out_of_time)
    query = Query(text="C-0001", sort="name", descending=True)
    found = ServerRows(rows._connection)
    assert found.page(query) == view.page(query) != []
    # (the statistics say few hold it: read through the index for long, then walked to the end)
    assert reads == [(False, served.READ_WHOLE_SECONDS), (True, None)]
    reads.clear()
    found._searched = dataclasses.replace(found._searched, shares={})  # (as without statistics)
    assert found.page(Query(text="C-00014", sort="name")) == view.page(Query(text="C-00014", sort="name")) != []
    assert reads == [(True, served.WALK_SECONDS), (False, served.INDEX_SECONDS), (True, None)]


def test_a_page_in_id_order_of_a_text_many_rows_hold_is_read_between_bounds_where_quicker(both, monkeypatch):
    """Where the statistics say more than `FEW_MATCHES` rows hold a search's text and its walk
    found no page, a page in id order is read between bounds (counted where the page holds
    every match) at once where its grams are held few times, or its one gram more times than
    are ordered in time; else after every match is ordered, which comes first in another
    order too. Where few rows hold the text, it is read so at once (counted by the page)."""
    rows, view = both
    reads, reading = [], served._read
    monkeypatch.setattr(served, "_read", lambda conn, cur, statement, *a, **k: reads.append(
        (k.get("walk", False), "WITH found AS" in statement.as_string(conn), k.get("seconds"))) or
        reading(conn, cur, statement, *a, **k))
    found, zeta, zet = ServerRows(rows._connection), Query(text="zeta"), Query(text="zet")
    found.page(zeta)  # (the statistics asked)
    held = found._searched
    assert held.asked("zet") == ["zet"] and len(held.asked("zeta")) == 2
    # (rows as many as make "zeta"'s grams held 1.1 times FEW_MATCHES at the least, below BOUNDED_POSTINGS together)
    few_postings = held.rows * served.FEW_MATCHES * 1.1 / held.expected("zeta")
    assert sum(held.shares[gram] for gram in held.asked("zeta")) * few_postings < served.BOUNDED_POSTINGS
    between, ordered = (False, True, served.BOUNDED_SECONDS), (False, False, served.INDEX_SECONDS)
    probe, probed = (False, False, served.PROBE_SECONDS), (False, False, served.BOUNDED_SECONDS)
    for rows_held, query, read in ((few_postings, zeta, between), (1e12, zet, between), (1e12, zeta, ordered),
                                   (1e12, Query(text="zet", sort="company"), ordered)):
        found._searched = dataclasses.replace(held, rows=rows_held)
        found._walks_too_long.add(served._matching(query))  # (its walk did not find a page)
        for limit, count in ((120, 3), (2, None if read == between else 3)):
            reads.clear()
            assert found.counted_page(query, limit=limit) == (view.page(query, limit=limit), count)
            # (between bounds after a probe of the companies starting "zet": three, side by side,
            # bound a page of two, not one of 120)
            assert reads == ([read] if read != between else [probe, between if limit == 120 else probed])
    assert len(view.page(zeta)) == 3
    nothing = Query(text="qxz")  # (its one gram the statistics do not list: only said to be rarer than those listed)
    found._walks_too_long.add(served._matching(nothing))
    reads.clear()
    assert "qxz" not in held.shares and found.counted_page(nothing) == ([], 0) and reads == [ordered]
    # (a capped count through the index: tried where the statistics say at most READ_WHOLE rows hold the text)
    for rows_held, count, counted in ((few_postings, 3, [(False, False, served.COUNT_SECONDS)]), (1e12, None, [])):
        found._searched = dataclasses.replace(held, rows=rows_held)
        reads.clear()
        assert found.count(zeta) == count and reads == counted
    found._searched = dataclasses.replace(held, rows=held.rows * served.FEW_MATCHES * 0.9 / held.expected("zeta"))
    reads.clear()
    assert found.counted_page(zeta) == (view.page(zeta), 3) and reads == [(False, False, served.READ_WHOLE_SECONDS)]


def test_a_document_whose_tags_are_not_a_list_matches_no_tag(filled):
    with psycopg.connect(filled, autocommit=True) as conn, conn.transaction(force_rollback=True):
        conn.execute("UPDATE customers SET doc = jsonb_set(doc, '{tags}', '\"vip\"') WHERE id = 2")
        found = ServerRows.on(conn).page(Query(tag="vip"))
        assert 2 not in [row["id"] for row in found]
        assert ServerRows.on(conn).page(Query(text="C-000002"))[0]["tags"] == ""


def _plan(conn, statement: str, *off: str) -> str:
    """The plan of a statement where the planner may not read the table whole (a table this
    small is, else), nor use the other ways named."""
    for way in ("seqscan", *off):
        conn.execute(f"SET enable_{way} = off")
    try:
        return "\n".join(row[0] for row in conn.execute("EXPLAIN " + statement))
    finally:
        conn.execute("RESET ALL")


@pytest.mark.parametrize("column", SORTABLE)
def test_a_sorted_page_starts_where_its_index_says(filled, column):
    after = "true" if column == "active" else "'m'"
    with psycopg.connect(filled, autocommit=True) as conn:
        key = CUSTOMER_ROWS.sort_key(column)
        plan = _plan(conn, f"SELECT id FROM customers WHERE doc IS NOT NULL AND ({key}, id) < ({after}, 3) "
                           f"ORDER BY {key} DESC, id DESC LIMIT 50", "bitmapscan", "sort")
    assert f"customers_order_{column}" in plan and "Sort" not in plan


@pytest.mark.parametrize("text", ["a back", "0% bio", "c-00015", "@örnek.com.tr"])
def test_a_search_is_narrowed_by_the_grams_index_also_across_spaces_and_dashes(both, server, text):
    """The grams index holds every three characters of the searched text, spaces and dashes
    too (pg_trgm's trigrams are of each word apart: "a back" or "c-00015" had none that
    narrow): the rows it gives are those that hold the text, or nearly."""
    _rows, view = both
    asked = grams(text.lower())
    candidates = server.execute("SELECT count(*) FROM customers WHERE doc IS NOT NULL AND custdesk_grams(searched) "
                                "@> %s::text[]", (asked,)).fetchone()[0]
    holding = view.count(Query(text=text))
    assert 0 < holding <= candidates <= holding + 2
    with server.transaction(force_rollback=True):
        # (in a table this small the planner rather scans another partial index: none is there meanwhile)
        server.execute("DROP INDEX " + ", ".join(f"customers_order_{column}" for column in SORTABLE) + ", customers_tags")
        plan = _plan(server, sql.SQL("SELECT id FROM customers WHERE doc IS NOT NULL AND custdesk_grams(searched) @> "
                                     "{}::text[]").format(sql.Literal(asked)).as_string(server))
    assert "customers_grams" in plan


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40))
def test_the_servers_grams_are_those_a_search_asks(server, text):
    """What the index holds of a row's text (the server's function) and what a search of
    that text asks (Python's) are the same grams, in any script, with combining marks."""
    held = server.execute("SELECT custdesk_grams(%s)", (text,)).fetchone()[0]
    assert grams(text) == sorted(set(held))[:GRAMS_ASKED]


def test_the_server_is_prepared_once_and_the_rows_are_the_same_before(pg_database):
    with Store(pg_database, user="tester") as store:
        store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"})
        view = RecordView(store)
        source = store.add_source({"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.org",
                                   "origin": {"file": "a.csv", "row": 2}})
    with psycopg.connect(pg_database, autocommit=True) as conn:
        assert searched_text(conn) != SEARCHED_COLUMN  # (worked out from each document)
        assert ServerRows.on(conn).page(Query(text="LOVE")) == view.page(Query(text="LOVE")) != []
        assert ServerRows.on(conn, SOURCE_ROWS).page(Query(text="HOPP")) == [
            {"id": source["id"], "name": "Grace Hopper", "company": "", "email": "grace@example.org", "phone": "", "city": "",
             "origin": "a.csv / row 2", "imported": source["imported_at"]}]
        made = prepare(conn)
        for statement in made:
            conn.execute(statement)
        names = {row[0] for row in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('customers', 'sources')")}
        # (per table: its column, its upkeep, its sort indexes; the customers' grams index and its
        # statistics (2), with the grams function, and their tags index)
        assert len(made) == 2 + len(SORTABLE) + 1 + 2 + 1 + len(SOURCE_ROWS.indexed) + 2 + 1
        assert prepare(conn) == []
        assert [row[0] for row in conn.execute(
            "SELECT reloptions FROM pg_class WHERE relname IN ('customers', 'sources')")] == [
            [f"autovacuum_vacuum_scale_factor={VACUUM_SHARE}"]] * 2
        assert ServerRows.on(conn, SOURCE_ROWS).page(Query(text="HOPP"))[0]["id"] == source["id"]
    assert {"customers_grams", "customers_tags", *(f"customers_order_{c}" for c in SORTABLE),
            *(f"sources_order_{c}" for c in SOURCE_ROWS.indexed)} <= names and "sources_grams" not in names


def test_a_store_prepared_by_an_earlier_version_drops_its_trigram_index_once_the_grams_one_is_made(pg_database):
    with Store(pg_database, user="tester") as store:
        store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"})
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute("ALTER TABLE customers ADD COLUMN searched text GENERATED ALWAYS AS "
                     f"({searched_text(conn)}) STORED")
        conn.execute("CREATE INDEX customers_search ON customers USING gin (searched gin_trgm_ops) "
                     "WHERE doc IS NOT NULL")
        made = prepare(conn)
        assert made[-1] == 'DROP INDEX CONCURRENTLY "customers_search"'
        assert made.index('DROP INDEX CONCURRENTLY "customers_search"') > next(
            n for n, statement in enumerate(made) if '"customers_grams"' in statement)
        for statement in made:
            conn.execute(statement)
        names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customers'")}
        assert "customers_search" not in names and "customers_grams" in names and prepare(conn) == []
        assert [r["name"] for r in ServerRows.on(conn).page(Query(text="a lo"))] == ["Ada Lovelace"]


def test_a_grams_index_whose_build_was_cut_short_is_not_read_and_is_made_again(pg_database):
    """CREATE INDEX CONCURRENTLY that does not finish (the app closed during the minutes it
    takes at 10M) leaves an invalid index, which the server never reads: a search reads
    the table meanwhile, and the next `prepare` drops it and makes it again."""
    with Store(pg_database, user="tester") as store:
        store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"})
    with psycopg.connect(pg_database, autocommit=True) as conn:
        for statement in prepare(conn):
            conn.execute(statement)
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'customers_grams'::regclass")
        assert searched.Searched.on(conn).by_grams is None
        assert [r["name"] for r in ServerRows.on(conn).page(Query(text="a lo"))] == ["Ada Lovelace"]
        made = prepare(conn)
        assert made[:2] == ['DROP INDEX CONCURRENTLY "customers_grams"',
                            next(s for s in made if s.startswith('CREATE INDEX CONCURRENTLY "customers_grams"'))]
        for statement in made:
            conn.execute(statement)
        assert searched.Searched.on(conn).by_grams is not None and prepare(conn) == []


def test_a_clerk_who_may_not_install_extensions_gets_every_index(pg_server, pg_database):
    """A clerk who owns no database and may not install extensions gets every index all the
    same (the grams index needs none): a search reads through it, and finds the same rows."""
    with login_role(pg_database, "clerk", "CREATE SCHEMA desk AUTHORIZATION clerk",
                    "ALTER ROLE clerk SET search_path = desk") as clerk:
        with Store(clerk, user="clerk") as store:
            store.add_customer("private", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.org"})
            store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"})
            view = RecordView(store)
        with psycopg.connect(clerk, autocommit=True) as conn:
            for statement in prepare(conn):
                conn.execute(statement)
            names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'desk'")}
            extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
            found = ServerRows.on(conn).page(Query(text="LOVE"))
        page = read_page(clerk)  # (the app's first rows: no more rights needed than the store's)
        assert page is not None and [row["name"] for row in page["rows"]] == ["Grace Hopper", "Ada Lovelace"]
        assert "pg_trgm" not in extensions and {"customers_grams", "customers_order_name"} <= names
        assert found == view.page(Query(text="LOVE")) and [r["name"] for r in found] == ["Ada Lovelace"]


def test_grams_nearly_every_row_holds_are_left_out_of_a_search_that_has_rarer_ones(both, server):
    """Every customer number here starts "C-000": its grams narrow nothing and are the
    longest lists the index reads. By the server's statistics they are left out where the
    text has rarer grams, the rarest kept where it has none; the rows found are the same."""
    rows, view = both
    held = searched.Searched.on(server)
    common = {gram for gram, share in held.shares.items() if share >= searched.COMMON_GRAM}
    assert held.shares["c-0"] > 0.9 and {"c-0", "-00", "000", "001"} <= common and "015" not in common
    assert held.asked("c-00015") == ["015"] and held.asked("c-0") == ["c-0"]
    assert "c-0" not in grams("ada") and held.asked("ada") == grams("ada")
    found = ServerRows(rows._connection)
    found._walks_too_long.add(served._matching(Query(text="C-00015")))  # (read through the grams index)
    assert found.page(Query(text="C-00015")) == view.page(Query(text="C-00015")) != []


def test_a_search_few_rows_hold_by_the_statistics_is_read_through_the_grams_index_without_a_walk(both, monkeypatch):
    """By the statistics of the grams index (the share of rows each gram is held by, and the
    share every gram not listed is rarer than), a name at 10M is held by some 20k rows: read
    through the index at once, as a walk would find a page of them only after 60k rows."""
    at_10m = searched.Searched("searched", "…", {"lan": 0.036, "ggi": 0.0024, "c-0": 1.0, "-01": 0.1, "012": 0.023},
                              rarer=0.00035, rows=10_000_000)
    expected = {text: round(at_10m.expected(text)) for text in ("b l", "ggin", "c-0123", "lan", "c-012", "ggi")}
    # ("123" and "gin" are not listed: rarer than 0.035 %)
    assert expected == {"b l": 3500, "ggin": 3500, "c-0123": 3500, "lan": 360_000, "c-012": 230_000, "ggi": 24_000}
    assert expected["ggi"] > searched.FEW_MATCHES
    assert searched.Searched("searched", "…", {}, 0.0, 0.0).expected("b l") is None  # (no statistics: walked first)
    rows, view = both
    reads = []
    reading = served._read
    monkeypatch.setattr(served, "_read", lambda *a, **k: reads.append((k.get("walk", False), k.get("seconds"))) or
                        reading(*a, **k))
    found, back = ServerRows(rows._connection), Query(text="Back\\Sl")
    assert found.counted_page(back) == (view.page(back), 1) and reads == [(False, served.READ_WHOLE_SECONDS)]
    read_whole = found._searched.rows * served.READ_WHOLE / found._searched.expected("back\\sl")
    for rows_held, seconds in ((read_whole * 0.99, served.READ_WHOLE_SECONDS), (read_whole * 2, served.INDEX_SECONDS)):
        # (more than FEW_MATCHES: walked first, so many rows that a page would be in them, were the
        # matches spread as the statistics say; no page there: read through the index, which is not
        # cut short where the statistics say it ends; its grams held too often to be read between
        # bounds first)
        found._searched = dataclasses.replace(found._searched, rows=rows_held)
        assert not found._bounds_first(back)
        for query in (back, Query(text="Back\\Sl", sort="name")):
            found._walks_too_long.clear()
            reads.clear()
            assert found.counted_page(query) == (view.page(query), 1) and reads == [(True, None), (False, seconds)]
    numbers = Query(text="C-000")  # (every row holds it: a page is in the first rows walked)
    found._searched = dataclasses.replace(found._searched, rows=1e6)
    reads.clear()
    assert found._rows_to_walk(found._searched.expected("c-000"), 7) < 25 and found._rows_to_walk(1.0, 7) == served.WALKED_MOST
    assert found.counted_page(numbers, limit=7) == (view.page(numbers, limit=7), None) and reads == [(True, None)]
    reads.clear()
    found._searched = dataclasses.replace(found._searched, rows=1e12)  # (as if every text were held by millions)
    found._walks_too_long.add(served._matching(back))
    assert found.count(back) is None and reads == []  # (the index would not count them in time)
    found._searched = dataclasses.replace(found._searched, rows=read_whole * 0.99)
    filtered = Query(text="Back\\Sl", kind="private")
    reads.clear()
    assert found.counted_page(filtered) == (view.page(filtered), None)
    assert reads == [(True, served.WALK_SECONDS)]  # (the statistics are not the filter's: walked by the clock, to the end)
    reads.clear()
    assert found.count(filtered) == 1 and reads == [(True, served.COUNT_SECONDS)]  # (walked: many hold its text)
    found = ServerRows(rows._connection)
    reads.clear()
    assert found.count(back) == 1 and reads == [(False, served.COUNT_SECONDS)]  # (few: counted through the index)


def test_a_role_that_may_not_read_the_index_statistics_searches_by_the_clock_and_finds_the_same(filled, both):
    """pg_stats shows a role the statistics of what it may read, and an index's are its
    owner's: a clerk granted the table has the grams index but no statistics of it, so its
    searches choose their way by the clock, and find the same rows."""
    _rows, view = both
    with login_role(filled, "reader", "GRANT SELECT ON customers TO reader") as reader, \
            psycopg.connect(reader, autocommit=True) as conn:
        held = searched.Searched.on(conn)
        assert held.by_grams is not None and held.shares == {} and held.expected("a back") is None
        for text in ("a back", "C-00015", "zeta", "İnce"):
            assert ServerRows.on(conn).page(Query(text=text, sort="name")) == view.page(Query(text=text, sort="name"))


def _cancelled_once(monkeypatch, target, name: str) -> list[str]:
    """`target.name` raising QueryCanceled the first time it is called (a cancel reaching the
    server as it runs), as itself after; the calls made."""
    real, calls = getattr(target, name), []

    def once(*args, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise psycopg.errors.QueryCanceled("canceling statement due to user request")
        return real(*args, **kwargs)
    monkeypatch.setattr(target, name, once)
    return calls


@pytest.mark.parametrize("text", ["", "müller", "zz"])
def test_a_cancel_meant_for_an_older_read_reaching_this_one_reads_it_again(both, monkeypatch, text):
    """`stop_older` cancels what the connection runs when the request lands: the older read,
    or, when it ended just then, the newer one's statement. That one is read again, not lost
    as an error ("the database server is unreachable"), nor taken as out of time."""
    rows, view = both
    found = ServerRows(rows._connection)
    calls = _cancelled_once(monkeypatch, served, "_read")
    assert found.page(Query(text=text)) == view.page(Query(text=text))
    assert calls[:2] == ["_read", "_read"]


def test_a_cancel_reaching_the_read_of_the_statistics_reads_them_again(both, monkeypatch):
    rows, view = both
    found = ServerRows(rows._connection)
    calls = _cancelled_once(monkeypatch, served.Searched, "on")
    assert found.page(Query(text="müller")) == view.page(Query(text="müller")) and calls == ["on", "on"]


def test_a_read_cancelled_twice_in_its_own_generation_says_so_and_a_moot_one_stops(both, monkeypatch):
    rows, _view = both
    found = ServerRows(rows._connection)

    def cancelled(*_args, **_kwargs):
        raise psycopg.errors.QueryCanceled("canceling statement due to user request")
    monkeypatch.setattr(served, "_read", cancelled)
    with pytest.raises(psycopg.errors.QueryCanceled):
        found.page(Query())
    generation = found._generation

    def moot(*_args, **_kwargs):
        found.interrupt()  # (a newer keystroke, while this read ran)
        raise psycopg.errors.QueryCanceled("canceling statement due to user request")
    monkeypatch.setattr(served, "_read", moot)
    with pytest.raises(served.Interrupted):
        found.page(Query())
    assert found._generation == generation + 1


def test_a_read_out_of_time_is_none_and_one_cancelled_before_its_time_is_not(server):
    with server.cursor() as cur:
        assert served._read(server, cur, sql.SQL("SELECT pg_sleep(0.3)"), {}, seconds=0.05) is None
        cur.execute("SELECT 1")
    cancel = threading.Timer(0.05, server.cancel_safe)
    cancel.start()
    with server.cursor() as cur, pytest.raises(psycopg.errors.QueryCanceled):
        served._read(server, cur, sql.SQL("SELECT pg_sleep(2)"), {}, seconds=1.5)
    cancel.join()


def test_a_read_the_server_stopped_is_not_said_to_be_an_unreachable_server():
    from store.base.errors import StoreError
    from store.engine.postgres.connect import refused

    said = r"^postgresql://clerk:\*\*\*@db/custdesk: the server stopped the read \(canceling statement due to user request\); try again$"
    with pytest.raises(StoreError, match=said), refused("postgresql://clerk:secret@db/custdesk"):
        raise psycopg.errors.QueryCanceled("canceling statement due to user request")


def test_a_cancel_reaching_the_statistics_of_a_moot_read_stops_it(both, monkeypatch):
    rows, _view = both
    found = ServerRows(rows._connection)

    def on(_conn, _table):
        found.interrupt()  # (a newer keystroke: this read's cancel lands on its statistics)
        raise psycopg.errors.QueryCanceled("canceling statement due to user request")
    monkeypatch.setattr(served.Searched, "on", on)
    with pytest.raises(served.Interrupted):
        found.page(Query(text="müller"))


def test_a_text_longer_than_a_sort_index_entry_holds_is_saved_and_sorted_by_its_first_characters(pg_database):
    with Store(pg_database, user="tester") as store:
        store.add_customer("corporate", {"company": "Acme", "email": "a@example.org"})
    with psycopg.connect(pg_database, autocommit=True) as conn:
        for statement in prepare(conn):
            conn.execute(statement)
        # (4,000 bytes a company, that do not compress: more than a btree entry holds)
        noise = "".join(random.Random(7).choices("abcçdefgğhıijklmnoöprsştuüvyz€ẞ", k=3000))
        with Store(pg_database, user="tester") as store:
            store.add_customer("corporate", {"company": noise + "b", "email": "b@example.org"})
            store.add_customer("corporate", {"company": noise + "a", "email": "c@example.org", "tags": [noise]})
            store.add_source({"company": noise, "city": noise[::-1], "email": "d@example.org"})
            customers, prospects = RecordView(store), RecordView(store, SOURCES)
        for rows, view, sortable in ((ServerRows.on(conn), customers, SORTABLE),
                                     (ServerRows.on(conn, SOURCE_ROWS), prospects, SOURCE_SORTABLE)):
            for column in sortable:
                for descending in (False, True):
                    query = Query(sort=column, descending=descending)
                    assert _walk(rows, query, 1) == view.select(query).drop("_haystack").rows(named=True)
        assert [row["id"] for row in ServerRows.on(conn).page(Query(tag=noise))] == [3]  # (a tag as long: hashed)
    assert customers.select(Query(sort="company"))["id"].to_list() == [1, 2, 3]  # (a tie, by id)


def test_a_store_prepared_by_an_earlier_version_gets_the_new_indexes_and_drops_those_they_replace(pg_database):
    """Its sort indexes of whole texts, and a grams index of the source list (which is walked)."""
    with Store(pg_database, user="tester") as store:
        store.add_customer("private", {"first_name": "Ada", "email": "ada@example.org"})
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE INDEX customers_by_name ON customers "
                     f"(({served.CUSTOMER_ROWS.shown['name']}) COLLATE \"C\", id) WHERE doc IS NOT NULL")
        conn.execute("CREATE INDEX sources_grams ON sources (id)")
        made = prepare(conn)
        assert made[-2:] == ['DROP INDEX CONCURRENTLY "customers_by_name"', 'DROP INDEX CONCURRENTLY "sources_grams"']
        for statement in made:
            conn.execute(statement)
        names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('customers', 'sources')")}
        assert {"customers_by_name", "sources_grams"}.isdisjoint(names) and "customers_order_name" in names
        assert prepare(conn) == []


def test_a_session_that_finds_another_preparing_the_store_leaves_it_the_work(pg_database):
    Store(pg_database, user="tester").close()
    with psycopg.connect(pg_database, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtext(%s || current_schema()))", (searched._PREPARING,))
        assert searched.prepare_server(pg_database) == 0
        other.execute("SELECT pg_advisory_unlock_all()")
    assert searched.prepare_server(pg_database) > 0
    with psycopg.connect(pg_database, autocommit=True) as conn:
        assert prepare(conn) == []

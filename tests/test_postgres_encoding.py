"""A store on a PostgreSQL database whose encoding is narrower than UTF-8 (LATIN1, as
many older servers were made): what it can store is stored, a write holding a character
it cannot is refused whole with one line that says so, and a search or a tag filter of
such a character (or a lookup of a key holding one) finds nothing, as no stored text can
hold it, instead of failing."""
from __future__ import annotations

import polars as pl
import pytest
from helpers import SIZE, custdesk, notices, settle, table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Batch, Store, StoreError
from store.views import served
from store.views.query import Query
from store.views.records import RecordView
from tui.app import CustdeskApp
from tui.config import Config

REFUSED = r"a value holds a character the database's encoding cannot store \(.*\"LATIN1\"\); nothing was changed"


@pytest.fixture
def latin1(pg_server):
    url = pg_server.create_database("latin1_store", encoding="LATIN1")
    with Store(url, user="tester") as store:
        store.add_customer("private", {"first_name": "Jürgen", "last_name": "Müller", "email": "j@müller.de", "city": "Köln"})
        store.add_customer("corporate", {"company": "Café Ñandú S.L.", "email": "hola@ñandú.es", "city": "Málaga",
                                         "tags": "Öko"})
    yield url
    pg_server.drop_database("latin1_store")


def _rows(store: Store) -> served.ServerRows:
    reads = store.page_reads()
    assert reads is not None
    return served.ServerRows(reads, reads.interrupt)


def test_what_latin1_holds_is_stored_and_a_character_it_lacks_is_refused_whole(latin1, tmp_path):
    with Store(latin1, user="tester") as store:
        with pytest.raises(StoreError, match=REFUSED):
            store.add_customer("private", {"first_name": "Ayşe", "last_name": "Yılmaz", "email": "ayse@example.com.tr"})
        with pytest.raises(StoreError, match=REFUSED):  # (one row of the batch: none of it)
            store.apply_batch(Batch("sources", rows=pl.DataFrame({"first_name": ["Ana", "Ayşe"],
                                                                  "email": ["ana@example.es", "ayse@example.com.tr"]})))
        with pytest.raises(StoreError, match=REFUSED):
            store.set_tags([1, 2], add=["şirket"])
        assert store.stats()["customers"] == 2 and store.stats()["sources"] == 0
        assert store.customer(1)["tags"] == [] and store.customer(2)["tags"] == ["Öko"]
    rows = tmp_path / "leads.csv"
    rows.write_text("First name,Last name,Email\nAna,García,ana@example.es\nAyşe,Yılmaz,ayse@example.com.tr\n", encoding="utf-8")
    planned = custdesk("--db", latin1, "import", rows, "--dry-run", "--json")  # (its keys looked up: held by no one)
    assert planned.returncode == 0 and '"created": 2' in planned.stdout
    done = custdesk("--db", latin1, "import", rows)
    assert done.returncode == 2 and "encoding cannot store" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    with Store(latin1, user="tester") as store:
        assert store.stats()["sources"] == 0


def test_a_search_or_a_tag_of_a_character_latin1_lacks_finds_nothing(latin1):
    with Store(latin1, user="tester") as store:
        rows = _rows(store)
        for text in ("ş", "€", "İzmir", "yılmaz", "mÿller", "µµµ", "MŸLLER"):  # (ÿ, µ upper-cased: Ÿ, Μ, not in LATIN1)
            query = Query(text=text)
            assert rows.page(query, None, 10) == [] and rows.count(query) == 0 and rows.ids(query, 10) == []
        assert rows.page(Query(tag="şirket"), None, 10) == [] and rows.tallied(Query(tag="şirket")) == 0
        # (a key no stored text can hold is held by no one: a lookup, a find, an import's judge)
        assert store.lookup("customers", "email", ["ayşe@örnek.tr", "x\x00@y.de"]) == [[], []]
        assert store.find("customers", "email", "ayşe@örnek.tr") == []
        assert [c["id"] for c in store.find("customers", "email", "J@Müller.de")] == [1]
        assert [r["name"] for r in rows.page(Query(text="müller"), None, 10)] == ["Jürgen Müller"]
        assert [r["company"] for r in rows.page(Query(tag="Öko"), None, 10)] == ["Café Ñandú S.L."]


def test_a_search_read_by_its_probe_leaves_out_the_cases_latin1_lacks(latin1, monkeypatch):
    """A search no walk finds is probed in the sort indexes as typed, lower-, upper-cased and
    capitalised: "mÿller" upper-cased is "MŸLLER", which LATIN1 lacks (the server refused the
    probe); those variants are left out, the others probed."""
    from store.views.searched import prepare_server

    prepare_server(latin1)  # (the grams index: a search is read in id order, probed first)
    monkeypatch.setattr(served.ServerRows, "_walked", lambda *_args: None)  # (as at millions: no walk finds it,
    monkeypatch.setattr(served.ServerRows, "_expected", lambda *_args: None)  # and no statistics say how few hold it)
    probes: list[dict] = []
    probe = served._probe
    monkeypatch.setattr(served, "_probe", lambda *args: probes.append(probe(*args)[1]) or probe(*args))
    with Store(latin1, user="tester") as store:
        rows, early = _rows(store), []
        assert rows.counted_page(Query(text="mÿller"), None, 10, early=early.append)[0] == []
        assert [r["name"] for r in rows.counted_page(Query(text="müller"), None, 10, early=early.append)[0]] == [
            "Jürgen Müller"]
    assert sorted(probes[0].values()) == ["Mÿller%", "mÿller%"] and len(probes[1]) == 3  # (MÜLLER% held: probed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="müÑñşİı€éÿµŸ ,.@\x00", max_size=6), tag=st.sampled_from((None, "Öko", "şirket", "€")))
def test_any_search_of_a_latin1_store_gives_the_polars_views_rows(latin1, text, tag):
    with Store(latin1, user="tester") as store:
        query = Query(text=text, tag=tag)
        expected = RecordView(store).select(query)["id"].to_list()
        rows = _rows(store)
        assert [r["id"] for r in rows.page(query, None, 10)] == expected
        assert rows.ids(query, 10) == expected


async def test_typing_a_character_latin1_lacks_in_the_search_box_shows_no_rows_and_no_error(latin1):
    store = Store(latin1, user="clerk")
    app = CustdeskApp(store, Config())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert table(app).row_count == 2
        await pilot.press("slash", *"ayş")
        await settle(app, pilot)
        assert table(app).row_count == 0 and "0 shown" in str(app.screen.query_one("#filters").render())
        await pilot.press("backspace", "backspace", "backspace", *"ñan")
        await settle(app, pilot)
        assert table(app).row_count == 1
        assert all(n.startswith("The server's search indexes are made") for n in notices(app))  # (no error said)
    store.close()

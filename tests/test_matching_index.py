"""The matcher's index follows the store: every change is seen at once, none builds it again
(store.matching.index), and what it answers equals what a fresh index answers."""
from __future__ import annotations

import contextlib
import io
import zipfile

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Batch, Store
from store.base.errors import NothingToUndo
from store.engine.columns import columns_path
from store.matching import RecordRef, find_pairs, matches_for
from store.matching import index as matcher_index
from store.model import CUSTOMERS, SOURCES

BERLIN = {"street": "Hauptstraße 5", "postcode": "10115", "city": "Berlin", "country": "DE"}
PROBES = [
    {"first_name": "Jürgen", "last_name": "Müller", **BERLIN},
    {"first_name": "Ayse", "last_name": "Sahin", "city": "Istanbul", "email": "ayse.sahin@firma.com.tr"},
    {"first_name": "Jan", "last_name": "de Vries", "email": "jan.devries@ziggo.nl", "city": "Utrecht"},
    {"company": "Zwiebelhaus GmbH", "city": "Köln", "phone": "+49 221 123456"},
]


def _answers(store: Store) -> list[list[tuple[RecordRef, float, tuple[str, ...]]]]:
    return [[(p.a, p.score, p.reasons) for p in matches_for(store, SOURCES, probe)] for probe in PROBES]


def _fresh_answers(store: Store):
    matcher_index._CACHE.pop(store, None)
    try:
        return _answers(store)
    finally:
        matcher_index._CACHE.pop(store, None)


def _same(incremental, fresh) -> None:
    """The same records in the same order, with the same reasons; scores within what another
    sample of random pairs (u) and a few more records (the prior) move them."""
    assert [[(ref, reasons) for ref, _, reasons in answer] for answer in incremental] == \
        [[(ref, reasons) for ref, _, reasons in answer] for answer in fresh]
    for mine, theirs in zip(incremental, fresh, strict=True):
        assert [score for _, score, _ in mine] == pytest.approx([score for _, score, _ in theirs], abs=0.03)


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """How often an index is built in full."""
    counted: list[int] = []
    real = matcher_index.build

    def build(store, step=None):
        counted.append(1)
        return real(store, step)
    monkeypatch.setattr(matcher_index, "build", build)
    return counted


def _people(store: Store) -> dict[str, int]:
    ids = {
        "mueller": store.add_customer("private", {"first_name": "Juergen", "last_name": "Mueller", "email": "jm@gmail.com",
                                                  **BERLIN})["id"],
        "sahin": store.add_customer("private", {"first_name": "Ayşe", "last_name": "Şahin", "city": "İstanbul",
                                                "email": "ayse.sahin@firma.com.tr"})["id"],
        "zwiebel": store.add_customer("corporate", {"company": "Zwiebelhaus GmbH & Co. KG", "city": "Koeln",
                                                    "email": "info@zwiebelhaus.de"})["id"],
    }
    for i in range(40):
        store.add_customer("private", {"first_name": f"Given{i}", "last_name": f"Family{i % 7}", "city": "Bonn",
                                       "email": f"p{i}@example.org"})
    return ids


def test_every_kind_of_change_is_seen_without_building_again(store, builds):
    ids = _people(store)
    assert _answers(store)[0][0][0] == RecordRef(CUSTOMERS, ids["mueller"])
    assert len(builds) == 1

    store.edit_customer(ids["mueller"], {"last_name": "Schmidt", "email": "schmidt@gmail.com"})
    assert all(p.a != RecordRef(CUSTOMERS, ids["mueller"]) or "same last name" not in p.reasons
               for p in matches_for(store, SOURCES, PROBES[0]))
    prospect = store.add_source({"first_name": "Jan", "last_name": "De Vries", "email": "JAN.DEVRIES@ziggo.nl"})["id"]
    assert _answers(store)[2][0][0] == RecordRef(SOURCES, prospect)
    customer = store.activate(prospect, "private")
    assert _answers(store)[2][0][0] == RecordRef(CUSTOMERS, customer["id"])
    store.delete(ids["sahin"])
    assert _answers(store)[1] == []
    store.undo()
    assert _answers(store)[1][0][0] == RecordRef(CUSTOMERS, ids["sahin"])
    store.edit_customer(ids["zwiebel"], {"phone": "0221 123456", "country": "DE"})
    assert "same phone" in _answers(store)[3][0][2]
    assert len(builds) == 1
    _same(_answers(store), _fresh_answers(store))


def test_a_record_checked_against_itself_is_left_out_after_an_edit(store, builds):
    ids = _people(store)
    twin = store.add_customer("private", {"first_name": "Jürgen", "last_name": "Müller", "email": "jm@gmail.com",
                                          **BERLIN})["id"]
    me = RecordRef(CUSTOMERS, twin)
    assert [p.a for p in matches_for(store, CUSTOMERS, store.customer(twin), exclude=me)] == [RecordRef(CUSTOMERS, ids["mueller"])]
    store.edit_customer(twin, {"notes": "called on Monday"})
    found = matches_for(store, CUSTOMERS, store.customer(twin), exclude=me)
    assert [p.a for p in found] == [RecordRef(CUSTOMERS, ids["mueller"])]
    assert len(builds) == 1


def test_the_sweep_after_changes_finds_what_a_fresh_sweep_finds(store, builds):
    ids = _people(store)
    find_pairs(store)
    store.add_customer("private", {"first_name": "Jürgen", "last_name": "Müller", "phone": "+49301234567", **BERLIN})
    store.add_source({"company": "Zwiebelhaus", "city": "Köln", "email": "info@zwiebelhaus.de"})
    store.edit_customer(ids["sahin"], {"first_name": "Ayse", "last_name": "Sahin"})
    swept = [(p.a, p.b, p.reasons) for p in find_pairs(store)]
    matcher_index._CACHE.pop(store, None)
    assert swept == [(p.a, p.b, p.reasons) for p in find_pairs(store)]
    assert len(builds) == 2  # the first sweep's and the fresh one's, none for the changes
    assert len(swept) == 2


def test_a_change_made_by_another_process_is_seen(store_path, builds):
    with Store(store_path) as mine, Store(store_path) as theirs:
        _people(theirs)
        mine.refresh()
        assert _answers(mine)[0] and len(builds) == 1
        wanted = theirs.add_customer("private", {"first_name": "Jan", "last_name": "de Vries",
                                                 "email": "jan.devries@ziggo.nl", "city": "Utrecht"})["id"]
        mine.refresh()
        assert _answers(mine)[2][0][0] == RecordRef(CUSTOMERS, wanted)
        assert len(builds) == 1


def test_a_sweep_stopped_while_the_index_is_built_loses_no_change(store):
    ids = _people(store)
    assert _answers(store)[0]
    store.edit_customer(ids["mueller"], {"last_name": "Schmidt"})

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop
    people = pl.DataFrame({"first_name": [f"New{i}" for i in range(300)], "last_name": ["Person"] * 300,
                           "email": [f"n{i}@example.org" for i in range(300)]})
    store.apply_batch(Batch(target="private", rows=people, summary="people"))  # (a bulk change: built afresh)
    with pytest.raises(Stop):
        find_pairs(store, progress=stop)
    store.edit_customer(ids["sahin"], {"last_name": "Yilmaz"})
    _same(_answers(store), _fresh_answers(store))


def test_a_bulk_change_or_another_default_country_builds_again(store, builds):
    _people(store)
    matches_for(store, SOURCES, PROBES[0])
    store.add_customer("private", {"first_name": "One", "last_name": "More", "email": "one@example.org"})
    matches_for(store, SOURCES, PROBES[0])
    assert len(builds) == 1
    people = pl.DataFrame({"first_name": [f"New{i}" for i in range(300)], "last_name": ["Person"] * 300,
                           "email": [f"n{i}@example.org" for i in range(300)]})
    store.apply_batch(Batch(target="private", rows=people, summary="people"))
    matches_for(store, SOURCES, PROBES[0])
    assert len(builds) == 2  # 300 new records beside 44: building again costs less than adding
    store.update_settings(default_country="NL")
    found = matches_for(store, SOURCES, {"first_name": "Jan", "last_name": "Jansen", "phone": "020 1234567"})
    assert len(builds) == 3 and found == []


def test_the_engine_tells_each_reader_its_own_changes(store):
    assert store.take_changes("one") is None and store.take_changes("two") is None
    customer = store.add_customer("private", {"first_name": "Ann", "last_name": "Alpha", "email": "ann@example.org"})["id"]
    assert store.take_changes("one")[CUSTOMERS] == {customer}
    assert store.take_changes("one") == {}
    other = store.add_customer("private", {"first_name": "Bob", "last_name": "Beta", "email": "bob@example.org"})["id"]
    assert store.take_changes("two")[CUSTOMERS] == {customer, other}
    assert store.take_changes("one")[CUSTOMERS] == {other}


def test_a_reader_that_takes_its_changes_seldom_is_told_everything_changed(store, monkeypatch):
    """Past `CHANGES_HELD` ids of a table, a reader is told everything changed rather than
    its list growing on (a selection's reader takes them only while there is one)."""
    from store.engine import memory

    monkeypatch.setattr(memory, "CHANGES_HELD", 3)
    assert store.take_changes("seldom") is None and store.take_changes("often") is None
    ids = []
    for n in range(5):
        ids.append(store.add_customer("private", {"first_name": f"Zoë {n}", "email": f"z{n}@example.org"})["id"])
        if n == 1:
            assert store.take_changes("often")[CUSTOMERS] == set(ids)
    assert store.take_changes("seldom") is None  # (five: more than three)
    assert store.take_changes("often")[CUSTOMERS] == set(ids[2:])  # (three: kept)
    assert store.take_changes("seldom") == {}


_NAME = st.sampled_from(["Müller", "Mueller", "Muller", "Şahin", "Sahin", "de Vries", "De Vries", "Zwiebelhaus", "Ortega"])
_FIRST = st.sampled_from(["Jürgen", "Juergen", "Ayşe", "Ayse", "Jan", "Sofía", "Sofia", None])
_CITY = st.sampled_from(["Berlin", "Köln", "Koeln", "İstanbul", "Istanbul", "Utrecht", None])
_RECORD = st.fixed_dictionaries({"first_name": _FIRST, "last_name": _NAME, "city": _CITY,
                                 "phone": st.sampled_from([None, "+49301234567", "030 1234567", "+902121234567"]),
                                 "email": st.sampled_from(["jm@gmail.com", "ayse@firma.com.tr", "x@example.org"]),
                                 "country": st.just("DE")})
_STEP = st.one_of(st.tuples(st.just("add"), _RECORD), st.tuples(st.just("edit"), st.integers(0, 50), _RECORD),
                  st.tuples(st.just("delete"), st.integers(0, 50)), st.tuples(st.just("undo")))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, min_size=1, max_size=8))
def test_any_sequence_of_changes_leaves_the_answers_of_a_fresh_index(tmp_path_factory, steps):
    with Store(tmp_path_factory.mktemp("store") / "custdesk.json") as store:
        for i in range(12):
            store.add_customer("private", {"first_name": f"Given{i}", "last_name": f"Family{i % 3}",
                                           "email": f"p{i}@example.org"})
        _answers(store)
        for step in steps:
            customers = sorted(store.frame(CUSTOMERS)["id"].to_list())
            if step[0] == "add":
                store.add_customer("private", {k: v for k, v in step[1].items() if v is not None})
            elif step[0] == "edit" and customers:
                store.edit_customer(customers[step[1] % len(customers)], {k: v for k, v in step[2].items() if v is not None})
            elif step[0] == "delete" and customers:
                store.delete(customers[step[1] % len(customers)])
            elif step[0] == "undo":
                with contextlib.suppress(NothingToUndo):
                    store.undo()
            incremental = _answers(store)
            _same(incremental, _fresh_answers(store))


@pytest.mark.file_store
def test_a_columns_file_of_an_older_custdesk_is_read_again(tmp_path):
    """Written before streets and postcodes were kept decoded: its frames lack them, and the
    documents hold them, so the fields are decoded from the snapshot instead."""
    path = tmp_path / "custdesk.json"
    with Store(path) as store:
        store.add_customer("private", {"first_name": "Ann", "last_name": "Alpha", "email": "ann@example.org", **BERLIN})
        store.compact()
    columns = columns_path(path)
    with zipfile.ZipFile(columns) as old:
        members = {name: old.read(name) for name in old.namelist()}
    frame = pl.read_parquet(io.BytesIO(members["customers.parquet"])).drop("street", "postcode", "country")
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    members["customers.parquet"] = buffer.getvalue()
    with zipfile.ZipFile(columns, "w") as new:
        for name, data in members.items():
            new.writestr(name, data)
    with Store(path) as store:
        assert store.frame(CUSTOMERS).select("street", "postcode", "country").row(0) == ("Hauptstraße 5", "10115", "DE")
    # Decoded once: the file is written again in the new layout, for the next open.
    with zipfile.ZipFile(columns) as kept:
        assert pl.read_parquet(io.BytesIO(kept.read("customers.parquet")))["street"].to_list() == ["Hauptstraße 5"]

"""The matcher's index kept beside the store (store.matching.saved): a store opened again
answers a few records' checks from it, exactly as the index a running process keeps up to
date answers them, without building one; a file that is not this store's state is never used."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_matching_index import BERLIN, _people, builds  # noqa: F401  (builds: a fixture)

from store import Store
from store.matching import RecordRef, matches_among, saved
from store.matching import index as matcher_index
from store.model import CUSTOMERS, SOURCES
from store.rules.keys import normalise_key

PROBES = [
    {"first_name": "Jürgen", "last_name": "Müller", **BERLIN},
    {"first_name": "Ayse", "last_name": "Sahin", "city": "Istanbul", "email": "ayse.sahin@firma.com.tr"},
    {"first_name": "Jan", "last_name": "de Vries", "email": "jan.devries@ziggo.nl", "city": "Utrecht"},
    {"company": "Zwiebelhaus GmbH", "city": "Köln", "phone": "+49 221 123456"},
    {"first_name": "Given3", "last_name": "Family3", "city": "Bonn"},
]


@pytest.fixture(autouse=True)
def small_stores_saved(monkeypatch):
    """Keep the index of the tests' small stores too (else only from SAVED_FROM records)."""
    monkeypatch.setattr(saved, "SAVED_FROM", 1)


def _answers(store: Store) -> list[list[tuple[RecordRef, float, tuple[str, ...], tuple[tuple[str, str], ...]]]]:
    return [[(p.a, p.score, p.reasons, tuple(sorted(p.evidence.items()))) for p in pairs]
            for pairs in matches_among(store, SOURCES, PROBES, limit=3)]


def _changes(store: Store, ids: dict[str, int]) -> None:
    store.edit_customer(ids["mueller"], {"first_name": "Jürgen", "last_name": "Müller"})
    prospect = store.add_source({"first_name": "Jan", "last_name": "De Vries", "email": "JAN.DEVRIES@ziggo.nl"})["id"]
    store.activate(prospect, "private")
    store.delete(ids["sahin"])
    store.edit_customer(ids["zwiebel"], {"phone": "0221 123456", "country": "DE"})
    store.add_customer("private", {"first_name": "Given3", "last_name": "Family3", "city": "Bonn", "email": "g3@example.net"})


def test_a_store_opened_again_answers_from_the_saved_index_as_the_running_one(tmp_path, builds):  # noqa: F811
    path = tmp_path / "s.json"
    with Store(path) as running:
        ids = _people(running)
        _answers(running)  # built, and kept beside the store
        assert len(builds) == 1 and path.with_name("s.json.matching").exists()
        _changes(running, ids)
        expected = _answers(running)  # the running index brought up to date
        assert len(builds) == 1
    with Store(path) as opened:
        assert isinstance(matcher_index.looked_up(opened), saved.Saved)
        assert _answers(opened) == expected
        assert len(builds) == 1  # nothing of the whole store built again
    assert RecordRef(CUSTOMERS, ids["sahin"]) not in {a for answer in expected for a, *_ in answer}
    assert any("same phone" in reasons for *_, reasons, _ in expected[3])


def test_an_import_dry_run_judges_alike_from_the_saved_index(tmp_path):
    from importers import plan_import, read_table

    path = tmp_path / "s.json"
    csv = tmp_path / "in.csv"
    csv.write_text("Vorname,Nachname,Straße,PLZ,Ort,Land,E-Mail\nJürgen,Müller,Hauptstraße 5,10115,Berlin,DE,jm@web.de\n"
                   "Jan,de Vries,,,Utrecht,NL,jan.devries@ziggo.nl\nNeu,Person,,,Hamburg,DE,neu@example.org\n")
    with Store(path) as running:
        _people(running)
        matcher_index.index_of(running)
        running.add_customer("private", {"first_name": "Jan", "last_name": "de Vries", "city": "Utrecht", "phone": "+31 30 1234567"})
        expected = plan_import(running, read_table(csv), target="private").rows
    with Store(path) as opened:
        assert isinstance(matcher_index.looked_up(opened), saved.Saved)
        assert plan_import(opened, read_table(csv), target="private").rows.equals(expected)
    assert expected["_status"].to_list() == ["duplicate", "duplicate", "new"]


def test_a_saved_index_not_of_this_store_as_it_is_is_never_used(tmp_path, builds):  # noqa: F811
    path = tmp_path / "s.json"
    with Store(path) as store:
        _people(store)
        fresh = _answers(store)
    side = path.with_name("s.json.matching")
    kept = side.read_bytes()

    other = tmp_path / "other" / "s.json"  # another store, its file copied beside it
    with Store(other) as store:
        _people(store)
        store.add_customer("private", {"first_name": "Only", "last_name": "Here", "email": "only@example.net"})
        store.compact()
    shutil.copy(side, other.with_name("s.json.matching"))
    with Store(other) as store:
        assert not isinstance(matcher_index.looked_up(store), saved.Saved)

    side.write_bytes(kept[: len(kept) // 2])  # cut short
    with Store(path) as store:
        assert isinstance(matcher_index.looked_up(store), matcher_index.Index)
    side.write_bytes(b"{not json\n" + kept)  # damaged
    with Store(path) as store:
        assert _answers(store) == fresh

    with Store(path) as store:
        store.compact()  # another snapshot: the file of the one before says nothing of it
        assert saved.load(store, None) is None


def test_erasing_a_customer_removes_the_saved_index(tmp_path):
    path = tmp_path / "s.json"
    with Store(path) as store:
        ids = _people(store)
        _answers(store)
        side = path.with_name("s.json.matching")
        assert b"Zwiebelhaus" not in side.read_bytes()  # (it holds hashes and positions, no text)
        assert side in [Path(p) for p in store.files()]
        store.obfuscate(ids["mueller"])
        assert not side.exists()


def test_a_few_identity_look_ups_answer_as_the_key_index(tmp_path):
    path = tmp_path / "s.json"
    with Store(path) as store:
        store.add_customer("private", {"first_name": "A", "last_name": "B", "email": "Anna@Example.org",
                                       "phone": "+49 30 1234567"})
        store.add_customer("private", {"first_name": "C", "last_name": "D", "email": "anna@example.org",
                                       "mobile": "+49301234567"})
        store.add_customer("corporate", {"company": "E GmbH", "email": "e@example.org", "vat_id": "DE 136 695 976"})
    keys = {"email": [normalise_key("email", "ANNA@example.org "), "nobody@example.org", None],
            "phone": ["+49301234567", "+4930"], "vat_id": [normalise_key("vat_id", "de136695976")]}
    with Store(path) as store:
        few = {field: (store.lookup(CUSTOMERS, field, values), store.first_holders(CUSTOMERS, field, values))
               for field, values in keys.items()}
        assert not store.parts.session.db.indexes._keys  # read from the columns: no index built
    with Store(path) as store:
        store.parts.session.db.indexes.key_map(CUSTOMERS, "email")
        assert {field: (store.lookup(CUSTOMERS, field, values), store.first_holders(CUSTOMERS, field, values))
                for field, values in keys.items()} == few
    assert few["email"] == ([[1, 2], [], []], [1, None, None])
    assert few["phone"] == ([[1, 2], []], [1, None])
    assert few["vat_id"] == ([[3]], [3])

"""The keys of the snapshot's documents kept beside the store (store.engine.saved_keys): a
few identity look-ups of a later run read them instead of normalising every document, and
answer exactly as the key index built from the documents; a file that is not of this
snapshot, or not of its documents, is never used."""
from __future__ import annotations

import pytest

from store import Store
from store.model import CUSTOMERS
from store.rules.keys import normalise_key

PEOPLE = [
    {"first_name": "Anna", "last_name": "Berg", "email": "Anna@Example.org", "phone": "+49 30 1234567",
     "number": "K-100.1"},
    {"first_name": "Cem", "last_name": "Demir", "email": "cem@örnek.com.tr", "mobile": "+90 212 555 0101"},
    {"first_name": "Ella", "last_name": "Fink", "email": "ella@example.org", "mobile": "+49301234567"},
]
COMPANY = {"company": "Gerber GmbH", "email": "info@gerber.de", "vat_id": "DE 136 695 976"}
PROBES = {
    "email": [normalise_key("email", v) for v in ("ANNA@example.org", "CEM@xn--rnek-4qa.com.tr", "nobody@x.org")],
    "phone": ["+49301234567", "+902125550101", "+4930"],
    "vat_id": [normalise_key("vat_id", "de136695976"), "DE000000000"],
    "number": [normalise_key("number", "k100 1"), "K-999"],
}


def _store(path) -> None:
    with Store(path) as store:
        for person in PEOPLE:
            store.add_customer("private", person)
        store.add_customer("corporate", COMPANY)
        store.compact()  # a snapshot with a generation: what the keys file is tagged with


def _answers(store: Store) -> dict[str, tuple[list[list[int]], list[int | None]]]:
    return {name: (store.lookup(CUSTOMERS, name, keys), store.first_holders(CUSTOMERS, name, keys))
            for name, keys in PROBES.items()}


def _built(store: Store) -> dict[str, tuple[list[list[int]], list[int | None]]]:
    """The answers of the key index built from the documents (no scan, no saved keys)."""
    store.parts.session.db.indexes.key_map(CUSTOMERS, "email")
    return _answers(store)


def _indexes(store: Store):
    return store.parts.session.db.indexes


def test_a_later_run_answers_from_the_saved_keys_as_the_key_index(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    _store(path)
    keys = path.with_name("s.json.keys")
    with Store(path) as store:
        first = _answers(store)
        assert keys.exists() and keys in store.files()
        assert not _indexes(store)._keys  # read from the columns: no index built
    normalised = []
    monkeypatch.setattr(type(_indexes(Store(path))._schema), "normalise_column",
                        lambda self, field, values: normalised.append(field) or pytest.fail("normalised again"))
    with Store(path) as store:
        assert _answers(store) == first
        assert _built(store) == first  # the app's key index, built from the saved keys too
    assert not normalised
    assert first["email"] == ([[1], [2], []], [1, 2, None])
    assert first["phone"] == ([[1, 3], [2], []], [1, 2, None])
    assert first["vat_id"] == ([[4], []], [4, None])
    assert first["number"] == ([[1], []], [1, None])


def test_documents_written_since_the_snapshot_are_keyed_from_themselves(tmp_path):
    path = tmp_path / "s.json"
    _store(path)
    with Store(path) as store:
        _answers(store)  # the keys file of this snapshot
        store.edit_customer(1, {"email": "anna.berg@example.org", "phone": "+49 40 7654321"})
        store.delete(3)
        added = store.add_customer("private", {"first_name": "Hans", "last_name": "Iser", "email": "ANNA@example.org"})
        expected = _answers(store)
    with Store(path) as store:  # the change log replayed over the saved keys of the snapshot
        assert _answers(store) == expected == _built(Store(path))
    assert expected["email"][0][0] == [added["id"]]
    assert expected["phone"][0][0] == []


def test_keys_of_another_snapshot_or_other_documents_are_never_used(tmp_path):
    path = tmp_path / "s.json"
    _store(path)
    keys = path.with_name("s.json.keys")
    with Store(path) as store:
        _answers(store)
    kept = keys.read_bytes()
    with Store(path) as store:
        store.edit_customer(1, {"email": "new@example.org"})
        store.compact()  # another snapshot: the file of the one before says nothing of it
    keys.write_bytes(kept)
    with Store(path) as store:
        assert store.lookup(CUSTOMERS, "email", ["new@example.org", "anna@example.org"]) == [[1], []]

    keys.write_bytes(b"PK\x03\x04 not a zip" + kept[:100])  # damaged: read from the documents again
    with Store(path) as store:
        assert _answers(store) == _built(Store(path))


def test_where_the_keys_cannot_be_kept_the_look_ups_still_answer(tmp_path):
    path = tmp_path / "s.json"
    _store(path)
    expected = _built(Store(path))
    keys = path.with_name("s.json.keys")
    keys.unlink(missing_ok=True)
    keys.mkdir()  # (a folder in its place: neither read nor written, even by root)
    for _ in range(2):
        with Store(path) as store:
            assert _answers(store) == expected


def test_erasing_a_customer_removes_the_saved_keys(tmp_path):
    path = tmp_path / "s.json"
    _store(path)
    with Store(path) as store:
        _answers(store)
        keys = path.with_name("s.json.keys")
        assert b"info@gerber.de" in keys.read_bytes()
        store.obfuscate(4)
        assert not keys.exists()


def test_the_app_s_key_index_keeps_the_keys_for_the_next_start(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    _store(path)
    keys = path.with_name("s.json.keys")
    keys.unlink(missing_ok=True)
    with Store(path) as store:
        store.edit_customer(2, {"email": "cem.demir@example.org"})  # (a write since the snapshot)
        expected = _built(store)
    assert keys.exists()
    schema = type(_indexes(Store(path))._schema)
    normalise = schema.normalise_column
    normalised = []
    monkeypatch.setattr(schema, "normalise_column",
                        lambda self, field, values: normalised.append(len(values)) or normalise(self, field, values))
    with Store(path) as store:
        assert _built(store) == expected
    assert set(normalised) == {1}  # the snapshot's keys read; the one document written since keyed alone
    assert expected["email"][0][1] == []

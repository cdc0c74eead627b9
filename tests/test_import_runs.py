"""Import runs and remembered mappings, as the store keeps them: on real store files,
reopened between steps; the shape's key under hypothesis; hostile headers."""
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import plan_import, read_table
from store import Batch, NotFound, Store
from store.rules.mappings import KEY_CHARS, columns_for, header_key, shown_headers

MONTHLY = "Kundennr,Vorname,Nachname,Mail,Bemerkung X\n"
MAPS = {"Kundennr": "external_id", "Bemerkung X": "notes"}


def monthly(path, rows, header=MONTHLY):
    path.write_text(header + "".join(rows), encoding="utf-8")
    return read_table(path)


def commit(store, table, **options):
    plan = plan_import(store, table, target="private", **options)
    return plan, store.apply_batch(plan.batch())


def test_a_corrected_mapping_is_remembered_for_the_next_file_of_its_headers(store_path, tmp_path):
    with Store(store_path, user="ines") as store:
        plan, entry = commit(store, monthly(tmp_path / "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"]),
                             overrides=MAPS)
        assert plan.remembered is None
    with Store(store_path, user="olaf") as store:  # the store file read afresh
        [mapping] = store.remembered_mappings()
        assert (mapping.file, mapping.target, mapping.at, mapping.entry) == ("jan.csv", "private", entry["at"], entry["id"])
        assert dict(mapping.columns)["Bemerkung X"] == "notes"
        plan, second = commit(store, monthly(tmp_path / "feb.csv", ["K2,Alan,Turing,alan@example.org,new\n"]))
        assert plan.remembered == mapping and plan.remembered.message() == f"mapping remembered from jan.csv ({entry['at'][:10]})"
        assert {m.column: (m.field, m.how) for m in plan.mappings}["Kundennr"] == ("external_id", "remembered")
    with Store(store_path) as store:
        alan = next(c for c in store.customers() if c["email"] == "alan@example.org")
        assert (alan["external_id"], alan["notes"]) == ("K2", "new")
        [again] = store.remembered_mappings()  # taken again unchanged: still the one confirmed with jan.csv
        assert (again.id, again.file, again.at, again.entry) == (mapping.id, "jan.csv", entry["at"], second["id"])
        runs = store.import_runs()
        assert [(r.id, r.file, r.target, r.mode, r.key, r.user, r.undo, r.mapping) for r in runs] == [
            (second["id"], "feb.csv", "private", "create", "email", "olaf", "undoable", mapping.id),
            (entry["id"], "jan.csv", "private", "create", "email", "ines", "undoable", mapping.id)]
        assert (runs[1].counts["created"], runs[1].counts["updated"], runs[1].counts["skipped"], runs[1].counts["errors"]) == (1, 0, 0, 0)


def test_automatic_mappings_and_dry_runs_are_not_remembered(store, tmp_path):
    table = monthly(tmp_path / "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"])
    plan_import(store, table, target="private", overrides=MAPS)  # planned (a dry run), never committed
    assert store.remembered_mappings() == []
    plan, _entry = commit(store, table)
    assert plan.confirmed_mapping() is None and store.remembered_mappings() == []
    assert store.import_runs()[0].mapping is None


def test_explicit_mapping_wins_per_column_and_is_remembered_anew(store, tmp_path):
    commit(store, monthly(tmp_path / "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"]), overrides=MAPS)
    plan, entry = commit(store, monthly(tmp_path / "feb.csv", ["K2,Alan,Turing,alan@example.org,x\n"]),
                         overrides={"Bemerkung X": None})
    fields = {m.column: (m.field, m.how) for m in plan.mappings}
    assert fields["Bemerkung X"] == (None, "unmapped") and fields["Kundennr"] == ("external_id", "remembered")
    [mapping] = store.remembered_mappings()
    assert (mapping.file, mapping.entry, dict(mapping.columns)["Bemerkung X"]) == ("feb.csv", entry["id"], None)


def test_the_same_headers_in_another_order_take_the_mapping_another_target_does_not(store, tmp_path):
    commit(store, monthly(tmp_path / "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"]), overrides=MAPS)
    moved = monthly(tmp_path / "feb.csv", ["x,alan@example.org,Turing,Alan,K2\n"],
                    header=" bemerkung  x ,MAIL,Nachname,Vorname,KUNDENNR\n")
    plan = plan_import(store, moved, target="private")
    assert plan.remembered is not None
    assert {m.column: m.field for m in plan.mappings} == {"bemerkung  x": "notes", "MAIL": "email", "Nachname": "last_name",
                                                         "Vorname": "first_name", "KUNDENNR": "external_id"}
    assert plan_import(store, moved, target="sources").remembered is None
    assert plan_import(store, moved, target="private", remembered=False).remembered is None


def test_forget_and_undo(store_path, tmp_path):
    with Store(store_path) as store:
        _plan, entry = commit(store, monthly(tmp_path / "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"]), overrides=MAPS)
        [mapping] = store.remembered_mappings()
        forgotten = store.forget_mapping(f"  {mapping.id.upper()} ")
        assert forgotten == mapping
    with Store(store_path) as store:
        assert store.remembered_mappings() == []
        assert store.journal(1)[0]["action"] == "forget_mapping"
        with pytest.raises(NotFound, match="no remembered mapping 'nope' \\(custdesk imports mappings lists them\\)"):
            store.forget_mapping("nope")
        # Remembered again by a correction; undoing that import takes it back, and the run says undone.
        _plan, again = commit(store, monthly(tmp_path / "feb.csv", ["K2,Alan,Turing,alan@example.org,x\n"]), overrides=MAPS)
        assert [m.entry for m in store.remembered_mappings()] == [again["id"]]
        store.undo(again["id"])
    with Store(store_path) as store:
        assert store.remembered_mappings() == []
        assert [(r.id, r.undo) for r in store.import_runs()] == [(again["id"], "undone"), (entry["id"], "undoable")]


def test_hostile_headers_are_remembered_and_listed_without_harm(store_path, tmp_path):
    long = "Notiz " + "ä" * 30_000
    header = f'"\x1b[31mKunde\x07nr","{long}",Mail,"Name\x00"\n'
    path = tmp_path / "hostile.csv"
    path.write_text(header + 'K1,x,ada@example.org,Ada Lovelace\n', encoding="utf-8")
    table = read_table(path)
    with Store(store_path) as store:
        columns = table.columns
        commit(store, table, overrides={columns[0]: "external_id", columns[1]: "notes"})
    with Store(store_path) as store:
        [mapping] = store.remembered_mappings()
        assert dict(mapping.columns)[columns[1]] == "notes"
        shown = shown_headers([c for c, _ in mapping.columns])
        assert len(shown) < 200 and shown.endswith(f", {columns[2]}, {columns[3]}")
        assert plan_import(store, read_table(path), target="private").remembered == mapping


headers = st.lists(st.text(max_size=30), max_size=12, unique_by=lambda h: " ".join(unicodedata.normalize("NFC", h).casefold().split()))


@settings(max_examples=200, deadline=None)
@given(headers, st.randoms(use_true_random=False), st.sampled_from(["sources", "corporate", "private"]))
def test_the_shape_key_ignores_order_case_and_spacing_but_not_the_target(given_headers, random, target):
    key = header_key(target, given_headers)
    assert len(key) == KEY_CHARS and key == key.casefold()
    shuffled = list(given_headers)
    random.shuffle(shuffled)
    assert header_key(target, shuffled) == key
    assert header_key(target, [f"  {h.upper()} " for h in given_headers]) == header_key(target, [h.upper() for h in given_headers])
    other = next(t for t in ("sources", "corporate", "private") if t != target)
    assert header_key(other, given_headers) != key
    remembered = [(h, f"field{i}") for i, h in enumerate(given_headers)]
    assert columns_for(remembered, shuffled) == {h: f"field{i}" for i, h in enumerate(given_headers) if h in shuffled}


@settings(max_examples=100, deadline=None)
@given(headers, headers)
def test_different_header_sets_have_different_keys(a, b):
    def norm(hs):
        return sorted(" ".join(unicodedata.normalize("NFC", h).casefold().split()) for h in hs)
    assert (header_key("private", a) == header_key("private", b)) == (norm(a) == norm(b))


def test_an_import_from_before_runs_were_kept_is_listed_by_its_summary(store_path):
    with Store(store_path) as store:
        # A batch of an older custdesk's import: its entry names no file, mode or key.
        entry = store.apply_batch(Batch("sources", creates=[{"first_name": "Ada", "email": "ada@example.org"}]))
        store.apply_batch(Batch("private", creates=[{"first_name": "Alan", "email": "alan@example.org"}], action="demo"))
    with Store(store_path) as store:
        [run] = store.import_runs()  # the demo's batch is no import
        assert (run.id, run.file, run.mode, run.counts, run.undo, run.mapping) == (entry["id"], None, None, {}, "undoable", None)
        assert run.summary == entry["summary"] and store.remembered_mappings() == []

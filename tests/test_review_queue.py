"""One matcher everywhere (issue 25): an import writes a likely duplicate and queues the pair
for review instead of dropping the row; the queue is kept with the import's journal entry
(undo drops it), leaves with a merge or "not a duplicate", and comes first in the review
(`custdesk duplicates`, D)."""
from __future__ import annotations

import io
import json

import pytest
from helpers import SIZE, custdesk, rendered, settle, table
from rich.console import Console

from importers import plan_import, read_table
from store import Store
from store.base.errors import ConcurrentChange
from store.matching import RecordRef
from store.model import CUSTOMERS, SOURCES
from tui.app import CustdeskApp
from tui.screens.duplicates import DuplicatesScreen

HANS = {"first_name": "Hans", "last_name": "Zwiebelhaus", "email": "hans@example.com", "phone": "030 1234567",
        "street": "Lindenweg 5", "postcode": "10115", "city": "Berlin", "country": "DE"}
HEADER = "First name,Last name,Email,Phone,Street,Postcode,City"
# Hans's wife: the same surname, address and landline, another first name and email.
GRETA = "Greta,Zwiebelhaus,greta@example.org,030 1234567,Lindenweg 5,10115,Berlin"
STRANGER = "Mia,Nowak,mia@example.net,,,,"
C1 = RecordRef(CUSTOMERS, 1)


def household(store: Store) -> None:
    store.update_settings(default_country="DE")
    store.add_customer("private", HANS)


def figures(counts: dict[str, int]) -> dict[str, int]:
    return {name: counts[name] for name in ("created", "duplicates", "queued")}


def shown_text(renderable) -> str:
    """A widget's content as text (however few lines the layout gives it now)."""
    console = Console(width=150, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def rows_file(tmp_path, *rows: str, name: str = "people.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_household_member_is_imported_and_queued_not_dropped(store, tmp_path):
    household(store)
    plan = plan_import(store, read_table(rows_file(tmp_path, GRETA, STRANGER)))
    assert plan.rows["_status"].to_list() == ["duplicate", "new"]
    assert figures(plan.counts()) == {"created": 2, "duplicates": 1, "queued": 1}
    entry = store.apply_batch(plan.batch())
    assert entry["summary"] == "Imported people.csv into sources: 2 new, 0 updated, 1 queued for review"
    assert sorted(s["first_name"] for s in store.sources()) == ["Greta", "Mia"]
    (queued,) = store.queued_pairs()
    greta = next(s for s in store.sources() if s["first_name"] == "Greta")
    assert (queued.pair.a, queued.pair.b) == (C1, RecordRef(SOURCES, greta["id"]))
    assert "same phone" in queued.pair.reasons and queued.label == f"import #{entry['id']}"
    assert queued.origin == f"{entry['summary']} (#{entry['id']})"


def test_undoing_the_import_drops_its_queued_pairs(store, tmp_path):
    household(store)
    plan = plan_import(store, read_table(rows_file(tmp_path, GRETA)))
    store.apply_batch(plan.batch())
    assert len(store.queued_pairs()) == 1
    store.undo()
    assert store.queued_pairs() == [] and list(store.sources()) == []


def test_not_a_duplicate_or_a_merge_takes_a_pair_out_of_the_queue(store, tmp_path):
    household(store)
    store.apply_batch(plan_import(store, read_table(rows_file(tmp_path, GRETA))).batch())
    (queued,) = store.queued_pairs()
    store.mark_distinct(queued.pair.a, queued.pair.b)
    assert store.queued_pairs() == []
    store.undo()
    assert len(store.queued_pairs()) == 1
    store.merge_source_into(queued.pair.b.id, C1.id)
    assert store.queued_pairs() == []


def test_the_matcher_finds_a_likely_duplicate_no_identity_names(store, tmp_path):
    """Hans typed again with another email and no phone: only the matcher knows him."""
    household(store)
    plan = plan_import(store, read_table(rows_file(tmp_path, "Hanns,Zwiebelhaus,h.z@example.org,,Lindenweg 5,10115,Berlin")))
    assert plan.rows["_status"].to_list() == ["duplicate"] and plan.rows["_note"][0].startswith("likely customer C-000001 (")
    store.apply_batch(plan.batch())
    (queued,) = store.queued_pairs()
    assert queued.pair.a == C1 and queued.pair.score >= 0.5 and queued.pair.reasons


def test_a_write_of_more_rows_than_the_matcher_checks_is_checked_by_its_identities_alone(store, tmp_path, monkeypatch):
    """Beyond MATCHED_ROWS new rows the matcher is not asked (one record at a time, it would
    hold a large import up); the sweep compares what identities do not name."""
    from store.domain import review_queue

    household(store)
    monkeypatch.setattr(review_queue, "MATCHED_ROWS", 1)
    plan = plan_import(store, read_table(rows_file(tmp_path, "Hanns,Zwiebelhaus,h.z@example.org,,Lindenweg 5,10115,Berlin",
                                                   "Eva,Zwiebelhaus,eva@example.org,+49 30 1234567,Lindenweg 5,10115,Berlin")))
    assert plan.rows["_status"].to_list() == ["new", "duplicate"]  # the identity check still names the household member


def test_rows_of_one_file_sharing_a_phone_are_both_written_and_paired(store, tmp_path):
    store.update_settings(default_country="DE")
    plan = plan_import(store, read_table(rows_file(tmp_path, GRETA, "Hans,Zwiebelhaus,hans@example.com,030 1234567,,,")))
    assert plan.rows["_status"].to_list() == ["new", "duplicate"] and plan.rows["_note"][1] == "same phone as row 2"
    store.apply_batch(plan.batch())
    (queued,) = store.queued_pairs()
    assert {queued.pair.a, queued.pair.b} == {RecordRef(SOURCES, 1), RecordRef(SOURCES, 2)}


def test_skip_leaves_likely_duplicates_out_and_keep_writes_key_matches_too(store, tmp_path):
    household(store)
    path = rows_file(tmp_path, GRETA, "Hans,Zwiebelhaus,HANS@example.com,,,,")
    skip = plan_import(store, read_table(path), target="private", duplicates="skip")
    assert skip.rows["_status"].to_list() == ["duplicate", "skipped"]
    assert skip.counts()["created"] == 0 and skip.counts()["queued"] == 0
    queue = plan_import(store, read_table(path), target="private")
    assert queue.rows["_status"].to_list() == ["duplicate", "skipped"]  # the key (email) matched: skipped as ever
    keep = plan_import(store, read_table(path), target="private", duplicates="keep")
    assert keep.rows["_status"].to_list() == ["duplicate", "duplicate"] and keep.counts()["queued"] == 2
    store.apply_batch(keep.batch())
    assert store.stats()["customers"] == 3
    assert {(q.pair.a, q.pair.b) for q in store.queued_pairs()} == {(C1, RecordRef(CUSTOMERS, 2)), (C1, RecordRef(CUSTOMERS, 3))}


def test_keep_pairs_each_repeat_of_a_key_with_its_first_sound_row(store, tmp_path):
    """A row repeating an earlier row's key is paired with the first row holding it that was
    not refused (a row with a refused cell is nobody to pair with)."""
    from store.domain.batches import ROW

    path = rows_file(tmp_path, "Ada,Lovelace,ada@example.org,4111 1111 1111 1111,,,",  # (a card number: refused)
                     "Ada,Byron,ADA@example.org,,,,", STRANGER, "Ada,King,ada@example.org,,,,", "Mia,N.,mia@example.net,,,,")
    keep = plan_import(store, read_table(path), target="private", duplicates="keep")
    assert keep.rows["_status"].to_list() == ["error", "new", "new", "duplicate", "duplicate"]
    assert keep.likely == {3: [(ROW, 1, None, ("same email",))], 4: [(ROW, 2, None, ("same email",))]}


def test_a_row_without_the_key_repeating_an_earlier_sound_row_whole_is_a_duplicate(store, tmp_path):
    path = rows_file(tmp_path, "Jo,Doe,,030 1,4111 1111 1111 1111,,",  # (a card number: refused, nobody to repeat)
                     "Jo,Doe,,030 1,4111 1111 1111 1111,,", "Jo,Doe,,030 1,Hauptstr. 1,,", "Jo,Doe,jo@example.org,030 1,Hauptstr. 1,,",
                     "Jo,Doe,,030 1,Hauptstr. 1,,", "Jo,Doe,,030 1,Hauptstr. 2,,")
    plan = plan_import(store, read_table(path), duplicates="skip")
    assert plan.rows["_status"].to_list() == ["error", "error", "new", "new", "duplicate", "new"]
    assert plan.rows["_note"][4] == "same as an earlier row"


def test_keep_is_refused_but_with_mode_create(store, tmp_path):
    from importers import PlanError

    with pytest.raises(PlanError, match="--duplicates keep writes key matches as new records: only with --mode create, not upsert"):
        plan_import(store, read_table(rows_file(tmp_path, GRETA)), mode="upsert", duplicates="keep")


def test_the_commits_lock_spares_queued_rows_and_refuses_a_clean_row_taken_meanwhile(store, store_path, tmp_path):
    household(store)
    other = Store(store_path, user="colleague")
    try:
        planned = plan_import(other, read_table(rows_file(tmp_path, GRETA, STRANGER)))
        store.add_source({"first_name": "Mia", "last_name": "Nowak", "email": "mia@example.net"})
        with pytest.raises(ConcurrentChange, match="1 of the 2 records to create now match a customer or prospect by email"):
            other.apply_batch(planned.batch())
        alone = plan_import(other, read_table(rows_file(tmp_path, GRETA, name="greta.csv")))
        store.add_source({"first_name": "Otto", "last_name": "Zwiebelhaus", "phone": "030 1234567"})
        other.apply_batch(alone.batch())  # Greta shares the phone on purpose: written and queued
        assert [q.pair.b for q in other.queued_pairs()] == [RecordRef(SOURCES, 3)]
    finally:
        other.close()


def test_the_command_line_queues_skips_and_lists_queued_pairs_first(tmp_path):
    db = tmp_path / "s" / "custdesk.json"
    with Store(db) as store:
        household(store)
        store.add_customer("private", {"first_name": "Anna", "last_name": "Schmidt", "email": "anna@example.com"})
        store.add_customer("private", {"first_name": "Anna", "last_name": "Schmidt", "email": "ANNA@example.com"})
    path = rows_file(tmp_path, GRETA)
    skipped = custdesk("--db", db, "import", path, "--duplicates", "skip", "--json")
    assert skipped.returncode == 0, skipped.stderr
    assert figures(json.loads(skipped.stdout)) == {"created": 0, "duplicates": 1, "queued": 0}
    done = custdesk("--db", db, "import", path)
    assert done.returncode == 0, done.stderr
    assert "1 duplicate (1 queued for review)" in done.stdout
    listed = json.loads(custdesk("--db", db, "duplicates", "--json").stdout)
    assert listed[0]["a"] == "C-000001" and listed[0]["b"] == "prospect #1" and listed[0]["queued"].startswith("Imported people.csv")
    assert {"C-000002", "C-000003"} == {listed[1]["a"], listed[1]["b"]} and listed[1]["queued"] is None
    text = custdesk("--db", db, "duplicates").stdout.splitlines()
    assert "[queued: Imported people.csv" in text[0] and "queued" not in text[1]


async def test_the_review_screen_shows_queued_pairs_first_with_where_they_came_from(tmp_path):
    with Store(tmp_path / "t" / "custdesk.json", user="tester") as store:
        household(store)
        store.add_customer("private", {"first_name": "Anna", "last_name": "Schmidt", "email": "anna@example.com"})
        store.add_customer("private", {"first_name": "Anna", "last_name": "Schmidt", "email": "ANNA@example.com"})
        entry = store.apply_batch(plan_import(store, read_table(rows_file(tmp_path, GRETA))).batch())
        app = CustdeskApp(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("D")
            await settle(app, pilot)
            assert isinstance(app.screen, DuplicatesScreen)
            first = table(app).row(0)
            assert first["reasons"].startswith(f"queued by import #{entry['id']}: same phone")
            assert "queued by " not in table(app).row(1)["reasons"]
            await pilot.press("g")
            assert "queued by Imported people.csv" in rendered(app.screen.query_one("#pair"))
            await pilot.press("n")
            await settle(app, pilot)
            assert store.queued_pairs() == []


# -- sync ---------------------------------------------------------------------------------------------
def test_a_sync_reports_and_queues_a_prospect_that_is_likely_a_customer(store, tmp_path):
    from accounting_files import PEOPLE, xero

    from importers.sync import read_export

    store.update_settings(default_country="DE")
    muller = store.add_customer("corporate", {"company": "Müller & Söhne", "first_name": "Jürgen", "last_name": "Müller",
                                              "phone": "+49301234567", "city": "Berlin"})
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    export = read_export(path)
    report = store.sync(export.profile.name, path.name, export.digest, export.records, ids_issued=export.profile.ids_issued)
    assert report.counts()["likely_duplicates"] == 1 and report.created == 3
    (likely,) = report.likely
    prospect = next(s for s in store.sources() if s["external_id"] == "10001")
    assert (likely["id"], likely["prospect"], likely["customer"]) == ("10001", f"prospect #{prospect['id']}", muller["number"])
    assert "same phone" in likely["reasons"]
    (queued,) = store.queued_pairs()
    assert (queued.pair.a, queued.pair.b) == (RecordRef(CUSTOMERS, muller["id"]), RecordRef(SOURCES, prospect["id"]))
    assert queued.label.startswith("sync #") and "1 likely duplicate(s) queued for review" in queued.origin
    store.undo()
    assert store.queued_pairs() == []


def test_a_file_synced_already_is_not_matched_again(store, tmp_path, monkeypatch):
    from accounting_files import PEOPLE, xero

    from importers.sync import read_export

    store.add_customer("private", {"first_name": "Ayşe", "last_name": "Yılmaz", "email": "AYSE@ornek.com.tr"})
    export = read_export(xero(tmp_path / "Contacts.csv", PEOPLE))
    checked: list[str] = []
    real = store.check_source
    monkeypatch.setattr(store, "check_source", lambda fields: checked.append(fields.get("external_id")) or real(fields))
    first = store.sync(export.profile.name, "Contacts.csv", export.digest, export.records, ids_issued=True)
    assert first.created == 3 and first.counts()["likely_duplicates"] == 1
    store.discard([next(s["id"] for s in store.sources() if s["external_id"] == "10003")])
    before = len(checked)
    again = store.sync(export.profile.name, "Contacts.csv", export.digest, export.records, ids_issued=True)
    # The discarded prospect's record is not checked (nor matched): the run is skipped at once.
    assert again.skipped and len(checked) == before


def test_the_sync_command_says_which_prospect_is_likely_which_customer(tmp_path):
    from accounting_files import PEOPLE, xero

    db = tmp_path / "s" / "custdesk.json"
    with Store(db) as store:
        store.update_settings(default_country="DE")
        store.add_customer("private", {"first_name": "Ayşe", "last_name": "Yılmaz", "email": "AYSE@ornek.com.tr"})
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    done = custdesk("--db", db, "sync", path)
    assert done.returncode == 0, done.stderr
    assert "1 likely duplicate(s) of a customer, queued for review (custdesk duplicates)" in done.stdout
    assert "(10002) prospect #2 likely C-000001: " in done.stdout and "same email" in done.stdout
    as_json = custdesk("--db", db, "duplicates", "--json")
    assert json.loads(as_json.stdout)[0]["queued"].startswith("Synced Contacts.csv (xero)")


async def test_the_import_screen_shows_whom_a_queued_row_likely_is_and_imports_it(tmp_path):
    with Store(tmp_path / "t" / "custdesk.json", user="tester") as store:
        household(store)
        app = CustdeskApp(store)
        async with app.run_test(size=(160, 50)) as pilot:  # (the row's detail under the list)
            await pilot.press("i")
            app.screen.query_one("#path").value = str(rows_file(tmp_path, GRETA))
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert "1 duplicate (1 queued for review)" in rendered(app.screen.query_one("#summary"))
            await pilot.press("g")
            detail = shown_text(app.screen.query_one("#row-detail").content)
            assert "likely (queued)" in detail and "C-000001: same phone" in detail
            await pilot.press("n")  # a file of one likely duplicate still has a row to write
            await settle(app, pilot)
            assert [s["first_name"] for s in store.sources()] == ["Greta"] and len(store.queued_pairs()) == 1

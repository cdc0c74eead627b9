"""Accounting sync: every profile recognised without a mapping, by its accounting id;
idempotent runs; new, changed, removed and archived records; conflicts after a local
edit; the customer a synced prospect became; undo; the command line and its watch loop."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from accounting_files import DATEV_PEOPLE, PEOPLE, WRITERS, datev, quickbooks_xlsx, xero
from helpers import ROOT, contents, custdesk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.sync import SyncError, profiles, read_export
from store import Store


def people_for(profile: str) -> list[dict]:
    return DATEV_PEOPLE if profile == "datev" else PEOPLE


def sync(store: Store, path, profile=None, **kwargs):
    export = read_export(path, profile)
    return store.sync(export.profile.name, path.name, export.digest, export.records, ids_issued=export.profile.ids_issued,
                      **kwargs)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_profile_is_recognised_and_lands_in_the_source_list(store, tmp_path, name):
    write, file_name = WRITERS[name]
    path = write(tmp_path / file_name, people_for(name))
    export = read_export(path)
    assert export.profile.name == name and len(export.records) == 3
    person = export.records[1]
    assert person.kind == ("corporate" if name in ("xero", "sage", "exact") else "private")  # (those keep no person flag)
    store.update_settings(default_country="US")  # every phone carries its row's own country
    report = sync(store, path)
    assert (report.created, report.errors) == (3, [])
    prospects = {s["origin"]["id"]: s for s in store.sources()}
    berlin = prospects[export.records[0].id]
    assert berlin["company"] == "Müller & Söhne GmbH" and berlin["phone"] == "+49301234567" and berlin["city"] == "Berlin"
    assert berlin["external_id"] == export.records[0].id and berlin["origin"]["profile"] == name
    if name not in ("quickbooks",):  # (QuickBooks keeps no VAT id)
        assert berlin["vat_id"] == "DE123456788"
    other = prospects[person.id]
    expected_phone = "+492219876543" if name == "datev" else "+902125551234"
    assert other["phone"] == expected_phone
    archived = prospects[export.records[2].id]["origin"]["archived"]
    assert archived is (name not in ("datev", "sage", "freshbooks"))  # (those export no archived flag)


def test_quickbooks_xlsx_and_datev_encoding(store, tmp_path):
    export = read_export(quickbooks_xlsx(tmp_path / "customers.xlsx", PEOPLE))
    assert export.profile.name == "quickbooks" and export.records[2].archived
    export = read_export(datev(tmp_path / "EXTF.csv", DATEV_PEOPLE))
    assert export.records[1].fields["first_name"] == "Jörg" and export.records[1].fields["street"] == "Domstraße 1"


def test_a_file_no_profile_knows_is_refused_in_one_line(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("Name,E-Mail\nAda,ada@example.com\n", encoding="utf-8")
    with pytest.raises(SyncError, match=r"leads.csv: not an accounting export custdesk recognises \(datev, exact"):
        read_export(path)
    with pytest.raises(SyncError, match="not a Xero contacts"):
        read_export(path, "xero")
    with pytest.raises(SyncError, match="no sync profile 'sap'"):
        read_export(path, "sap")


def test_the_same_file_twice_changes_nothing_and_a_changed_one_updates(store, tmp_path):
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    before = contents(store)
    again = sync(store, path)
    assert again.skipped and contents(store) == before  # not even a journal entry
    changed = [{**PEOPLE[0], "city": "Potsdam", "postcode": "14467"}, PEOPLE[1], PEOPLE[2],
               {**PEOPLE[0], "id": "10004", "company": "Neu GmbH", "email": "neu@example.de"}]
    report = sync(store, xero(path, changed))
    assert (report.created, report.updated, report.unchanged, report.removed) == (1, 1, 2, 0)
    assert {s["company"]: s["city"] for s in store.sources()}["Müller & Söhne GmbH"] == "Potsdam"
    report = sync(store, xero(path, changed[:2] + changed[3:]))  # 10003 gone from the export
    assert report.removed == 1
    gone = next(s for s in store.sources() if s["origin"]["id"] == "10003")
    assert gone["origin"]["removed"] is True  # flagged, not deleted


def test_a_local_edit_wins_and_a_clash_is_a_conflict(store, tmp_path):
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    source = next(s for s in store.sources() if s["origin"]["id"] == "10001")
    customer = store.activate(source["id"], "corporate", {"city": "Spandau", "email": "einkauf@mueller.de"})
    assert customer["origin"]["id"] == "10001" and customer["external_id"] == "10001"
    changed = [{**PEOPLE[0], "city": "Potsdam", "phone": "030 7654321"}, *PEOPLE[1:]]
    report = sync(store, xero(path, changed))
    now = store.customer(customer["id"])
    assert now["phone"] == "+49307654321"  # changed there, untouched here: taken
    assert now["city"] == "Spandau" and now["email"] == "einkauf@mueller.de"  # edited here: kept
    assert report.conflicts == [{"id": "10001", "number": customer["number"], "field": "city", "here": "Spandau",
                                 "there": "Potsdam"}]  # (the email did not change there: no conflict)
    assert sum(1 for _ in store.sources()) == 2  # not created again
    runs = store.sync_runs()
    assert runs[0]["conflicts"] == report.conflicts and runs[0]["counts"]["updated"] == 1


def test_a_run_is_one_undoable_entry_and_a_dry_run_writes_nothing(store, tmp_path):
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    before = contents(store)
    report = sync(store, path, dry_run=True)
    assert report.created == 3 and contents(store) == before
    sync(store, path)
    assert sum(1 for _ in store.sources()) == 3
    store.undo()
    assert sum(1 for _ in store.sources()) == 0
    assert sync(store, path).created == 3  # the undone run does not count as synced


def test_records_with_errors_are_listed_and_the_rest_synced(store, tmp_path):
    bad = {**PEOPLE[1], "id": "10009", "email": "not-an-email", "phone": ""}
    report = sync(store, xero(tmp_path / "Contacts.csv", [PEOPLE[0], bad]))
    assert report.created == 1 and report.errors[0]["id"] == "10009" and "email" in report.errors[0]["message"]


def test_the_command_line_prints_the_counts_and_exits_as_import(store_path, tmp_path):
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    done = custdesk("--db", store_path, "sync", path, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"profile": "xero", "file": "Contacts.csv", "rows": 3, "created": 3, "updated": 0,
                                       "unchanged": 0, "removed": 0, "conflicts": 0, "errors": 0, "likely_duplicates": 0,
                                       "already_synced": False}
    listed = custdesk("sync", "--profiles")
    assert all(name in listed.stdout for name in profiles())
    assert len({len(line) - len(line.split(None, 1)[1]) for line in listed.stdout.splitlines()}) == 1  # titles line up
    other = tmp_path / "leads.csv"
    other.write_text("Name\nAda\n", encoding="utf-8")
    refused = custdesk("--db", store_path, "sync", other)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    bad = xero(tmp_path / "Bad.csv", [{**PEOPLE[1], "id": "9", "email": "x", "phone": ""}])
    assert custdesk("--db", store_path, "sync", bad).returncode == 1


def test_the_watch_loop_syncs_what_is_dropped_once_and_stops_on_sigterm(store_path, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    code = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"
    process = subprocess.Popen([sys.executable, "-c", code, "--db", str(store_path), "sync", "--watch", str(folder),
                                "--interval", "0.1", "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ})
    try:
        xero(folder / "Contacts.csv", PEOPLE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with Store(store_path) as store:
                if sum(1 for _ in store.sources()) == 3:
                    break
            time.sleep(0.1)
        time.sleep(0.5)  # more looks at the same file: not synced again
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("watching") and lines[-1] == "stopped"
    runs = [json.loads(line) for line in lines[1:-1]]
    assert [(r["file"], r["created"]) for r in runs] == [("Contacts.csv", 3)]


async def test_the_sync_screen_lists_runs_with_conflicts_and_undoes_one(store, tmp_path):
    from helpers import SIZE, rendered, settle

    from tui.app import CustdeskApp
    from tui.screens.modals import ConfirmScreen
    from tui.screens.sync import SyncScreen

    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    source = next(s for s in store.sources() if s["origin"]["id"] == "10001")
    customer = store.activate(source["id"], "corporate", {"city": "Spandau"})
    sync(store, xero(path, [{**PEOPLE[0], "city": "Potsdam", "phone": "030 7654321"}, *PEOPLE[1:]]))
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert "xero: Contacts.csv" in app.screen.query_one("RecordTable").render_line(1).text  # where it came from
        await pilot.press("y")
        assert isinstance(app.screen, SyncScreen)
        runs = app.screen.query_one("#runs")
        assert runs.row_count == 2
        shown = rendered(app.screen.query_one("#run-detail"))
        assert "1 updated" in shown and "Conflict" in shown and "Spandau" in shown and "Potsdam" in shown
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert store.customer(customer["id"])["phone"] == "+49301234567"  # the run's update undone
        assert any("undone" in str(cell) for cell in runs.get_row_at(0))  # (its state, beside the file)


async def test_activating_a_synced_prospect_takes_the_kind_its_export_says(store, tmp_path):
    from helpers import SIZE

    from tui.app import CustdeskApp
    from tui.screens.modals import CustomerForm

    write, name = WRITERS["odoo"]
    sync(store, write(tmp_path / name, [{**PEOPLE[1], "company": "Yılmaz Danışmanlık"}]))  # a person who works for a firm
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "a")
        assert isinstance(app.screen, CustomerForm) and app.screen.kind == "private"  # not corporate for its company
        assert app.screen.query_one("#f-company").value == "Yılmaz Danışmanlık"


def test_hostile_exports_are_refused_in_one_line(tmp_path):
    from store.base.errors import StoreError

    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps([{f"c{i}": "x" for i in range(3000)}]))
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"QueryResponse": {"Customer": [{"Id": "1", "DisplayName": "x" * 40_000}]}}))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42")
    for path, problem in ((deep, "nested deeper"), (wide, "3,000 columns"), (huge, "over 32,767 characters"),
                          (fifo, "not a regular file"), (scalar, "no list of records")):
        with pytest.raises(StoreError) as refused:
            read_export(path)
        assert str(refused.value).startswith(f"{path}: ") and problem in str(refused.value), str(refused.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.text(max_size=30), min_size=5, max_size=5), max_size=8))
def test_any_cells_under_a_known_header_are_records_or_a_refusal(tmp_path, cells):
    from store.base.errors import StoreError

    path = tmp_path / "Contacts.csv"
    header = ["*ContactName", "EmailAddress", "AccountNumber", "POAddressLine1", "TaxNumber"]
    with path.open("w", encoding="utf-8", newline="") as out:
        __import__("csv").writer(out).writerows([header, *cells])
    try:
        export = read_export(path)
    except StoreError as err:
        assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
    else:
        assert all(record.id and record.kind == "corporate" for record in export.records)


def test_a_full_name_splits_as_the_import_splits_it(store, tmp_path):
    import polars as pl

    from importers.plan import _split_names

    names = ["Ada  King\tLovelace", "Ada", "Grace Brewster Hopper"]
    people = [{**PEOPLE[1], "id": str(i), "company": "", "first": "", "last": "", "email": f"p{i}@example.com"} for i in range(3)]
    path = tmp_path / "customers.json"
    data = {"QueryResponse": {"Customer": [{"Id": p["id"], "DisplayName": n, "PrimaryEmailAddr": {"Address": p["email"]}}
                                           for p, n in zip(people, names, strict=True)]}}
    path.write_text(json.dumps(data), encoding="utf-8")
    synced = [(r.fields["first_name"], r.fields["last_name"]) for r in read_export(path).records]
    imported = _split_names(pl.DataFrame({"full_name": names})).select("first_name", "last_name").rows()
    assert synced == imported

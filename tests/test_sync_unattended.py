"""Unattended sync (issue 24): any JSON export is records or one refusal naming the file;
the watcher reports a file it cannot sync once (stderr and a failed run in the Sync runs
screen), skips it until its content changes and goes on with the rest, until a signal;
a file name that is not UTF-8 is imported, synced and exported, shown and journaled by
one rule; a card number never reaches stdout, the journal or the raw row."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from accounting_files import PEOPLE, xero, zoho
from helpers import ROOT, contents, custdesk, stored_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.sync import read_export
from store import Store
from store.base.errors import StoreBusy, StoreError
from store.base.text import path_text

QBO_SIGNATURE = {"Id": "1", "DisplayName": "Ada Lovelace", "PrimaryEmailAddr": {"Address": "ada@example.com"}}
PAN = "4111111111111111"  # Luhn-valid, a test card number


def qbo(path, customers: list[dict] | str) -> object:
    """A QuickBooks query response; `customers` as objects, or as JSON text written as it is."""
    items = customers if isinstance(customers, str) else json.dumps(customers)
    path.write_text('{"QueryResponse": {"Customer": ' + items + "}}", encoding="utf-8")
    return path


def sync(store: Store, path, **kwargs):
    export = read_export(path)
    return store.sync(export.profile.name, path.name, export.digest, export.records, ids_issued=export.profile.ids_issued,
                      **kwargs)


def test_an_index_key_a_huge_number_and_nan_are_data(store, tmp_path):
    digits = "9" * 4_301  # over Python's int max-str-digits: json.loads would raise ValueError
    path = qbo(tmp_path / "odd.json", '[{"Id": 7, "DisplayName": "Ada", "PrimaryEmailAddr": {"Address": "ada@example.com"}, '
                                      f'"_index": "mine", "_index (2)": "also mine", "Balance": {digits}, "Rate": 1e400, '
                                      '"Limit": NaN, "": "no name"}]')
    export = read_export(path)
    assert [r.id for r in export.records] == ["7"]
    raw = export.records[0].raw
    # (the file's own keys, named as a CSV header of those names is)
    assert raw["_index (2)"] == "mine" and raw["_index (2) (2)"] == "also mine" and raw["(column 9)"] == "no name"
    assert raw["Balance"] == digits and raw["Rate"] == "1e400" and raw["Limit"] == "NaN"
    assert export.records[0].row == 1
    assert sync(store, path).created == 1


@pytest.mark.parametrize(("text", "problem"), [
    ('[{"Id": "1", "DisplayName": "A\\ud800", "PrimaryEmailAddr": {"Address": "a@example.com"}}]',
     "record 1, 'DisplayName': a \\u escape that is no character"),
    ('[{"Id": "1", "\\udc80": "x"}]', "record 1, '\\x80': a \\u escape that is no character"),
    ('[{"Id": "1", "x": ["\\ud800"]}]', "a \\u escape that is no character"),
    ('[{"Id": "1", "' + "k" * 40_000 + '": "x"}]', "a key or value holds over 32,767 characters"),
    ('[{"Id": "1"}, 5]', "no list of records"),
    ('[{"Id": "1"', "not valid JSON"),
])
def test_a_json_export_that_cannot_be_data_is_one_refusal_naming_the_file(tmp_path, text, problem):
    path = qbo(tmp_path / "Customers.json", text)
    with pytest.raises(StoreError) as refused:
        read_export(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message, message


# JSON as exports and attackers write it: odd keys, surrogates, huge numbers, NaN, nesting.
_KEYS = st.one_of(st.sampled_from(["", "_index", "Id", "DisplayName", "PrimaryEmailAddr", "Address", "a.b", "*", "^x$",
                                   "\x00", "\x1b[31m", "\ud800", "4111 1111 1111 1111"]),
                  st.text(max_size=8))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=12), st.sampled_from(["\ud800", "\udfff", "BIGINT", "HUGEFLOAT", PAN]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)
_RECORD = st.builds(lambda base, extra: {**base, **extra},
                    st.sampled_from([QBO_SIGNATURE, {}, {"Id": "", "DisplayName": "x", "PrimaryEmailAddr": {"Address": ""}}]),
                    st.dictionaries(_KEYS, _VALUES, max_size=5))
_DOCUMENTS = st.one_of(_VALUES, st.lists(_RECORD, max_size=4),
                       st.builds(lambda items: {"QueryResponse": {"Customer": items}}, st.lists(_RECORD, max_size=4)))


def _json_text(document: object) -> str:
    # (json.dumps cannot write a 5,000-digit int or 1e400: stand-ins, swapped for the literal)
    return json.dumps(document).replace('"BIGINT"', "9" * 5_000).replace('"HUGEFLOAT"', "1e400")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_DOCUMENTS)
def test_any_json_shape_is_records_or_one_refusal(store, tmp_path, document):
    path = tmp_path / "Customers.json"
    path.write_text(_json_text(document), encoding="utf-8")
    try:
        export = read_export(path)
        report = store.sync(export.profile.name, path.name, export.digest, export.records,
                            ids_issued=export.profile.ids_issued, dry_run=True)
    except StoreError as err:
        assert str(err).startswith((f"{path}: ", "Customers.json: ")) and "\n" not in str(err), str(err)
    else:
        assert report.rows == len(export.records) and all(r.id for r in export.records)
        for record in export.records:
            json.dumps(record.raw, ensure_ascii=False).encode("utf-8")  # what the store keeps: no lone surrogate in it
            cells = json.dumps({k: v for k, v in record.raw.items() if v != record.id})  # (QuickBooks issues its ids)
            assert PAN not in cells and "4111 1111 1111 1111" not in cells


# -- the watcher ----------------------------------------------------------------

def _watch(store_path, folder) -> subprocess.Popen:
    code = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"
    return subprocess.Popen([sys.executable, "-c", code, "--db", str(store_path), "sync", "--watch", str(folder),
                             "--interval", "0.1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    try:
        process.send_signal(signal.SIGTERM)
        return process.communicate(timeout=30)
    finally:
        process.kill()


def _failed_runs(store_path) -> list[dict]:
    with Store(store_path) as store:
        return [run for run in store.sync_runs() if run["failed"]]


def _prospects(store_path) -> int:
    with Store(store_path) as store:
        return sum(1 for _ in store.sources())


def test_the_watcher_reports_a_bad_file_once_and_syncs_the_rest_until_a_signal(store_path, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    qbo(folder / "a-surrogate.json", '[{"Id": "1", "DisplayName": "A\\ud800", "PrimaryEmailAddr": {"Address": "a@example.com"}}]')
    (folder / "b-broken.json").write_text('{"QueryResponse": ', encoding="utf-8")
    xero(folder / "c-twice.csv", [PEOPLE[0], PEOPLE[0]])  # one accounting id twice: the file's fault, found by the store
    xero(folder / "d-Contacts.csv", PEOPLE)  # sorted after the bad ones
    Store(store_path).close()
    process = _watch(store_path, folder)
    try:
        _until(lambda: len(_failed_runs(store_path)) == 3 and _prospects(store_path) == 3)
        time.sleep(0.5)  # more looks at the same files: nothing reported again
        os.utime(folder / "b-broken.json", ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, the same content
        time.sleep(0.5)
        (folder / "b-broken.json").write_text("[1, 2]", encoding="utf-8")  # changed, still bad: reported again
        _until(lambda: len(_failed_runs(store_path)) == 4)
        qbo(folder / "b-broken.json", [{**QBO_SIGNATURE, "Id": "20001"}])  # fixed: synced
        _until(lambda: _prospects(store_path) == 4)
    finally:
        out, err = _stop(process)
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "stopped" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 4, err
    assert lines[0].startswith("a-surrogate.json: record 1, 'DisplayName': a \\u escape that is no character")
    assert lines[1].startswith("b-broken.json: not valid JSON") and lines[3].startswith("b-broken.json: no list of records")
    assert lines[2].startswith("c-twice.csv: accounting id '10001' appears twice")
    assert all(line.endswith("; not synced until it changes") for line in lines)
    failed = {(run["file"], run["reason"].split(" (")[0]) for run in _failed_runs(store_path)}
    assert failed == {("a-surrogate.json", "record 1, 'DisplayName': a \\u escape that is no character"),
                      ("b-broken.json", "not valid JSON"), ("b-broken.json", "no list of records in this JSON file"),
                      ("c-twice.csv", "accounting id '10001' appears twice")}

    process = _watch(store_path, folder)  # a restart (systemd): the failures are known, nothing said again
    said: list[str] = []
    reader = threading.Thread(target=lambda: [said.append(line) for line in process.stdout or ()], daemon=True)
    reader.start()
    try:
        _until(lambda: sum("synced already" in line for line in said) == 2)  # b and d: every file looked at
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    reader.join(timeout=10)
    err = process.stderr.read() if process.stderr else ""
    assert process.returncode == 0 and err == "", err
    assert len(_failed_runs(store_path)) == 4


def test_no_exception_from_one_file_ends_the_loop_and_a_signal_still_does(store, tmp_path, monkeypatch, capsys):
    import importers.sync
    from cli.sync import _Watcher

    folder = tmp_path / "drop"
    folder.mkdir()
    xero(folder / "a-Contacts.csv", PEOPLE[:1])
    xero(folder / "b-Contacts.csv", PEOPLE[1:])
    real = importers.sync.read_export
    trouble: dict[str, BaseException] = {"a-Contacts.csv": ZeroDivisionError("division by zero")}

    def read_export(path, profile=None, *, data=None):
        if path.name in trouble:
            raise trouble[path.name]
        return real(path, profile, data=data)
    monkeypatch.setattr(importers.sync, "read_export", read_export)
    watcher = _Watcher(store, None, False, [])
    watcher.look(folder)
    watcher.look(folder)  # (a file is synced once its size held still for one look)
    assert [s["origin"]["id"] for s in store.sources()] == ["10002", "10003"]  # the one after it went on
    err = capsys.readouterr().err.splitlines()
    assert err == ["a-Contacts.csv: cannot be synced (ZeroDivisionError: division by zero); not synced until it changes"]
    assert [(r["file"], r["failed"]) for r in store.sync_runs()] == [("b-Contacts.csv", False), ("a-Contacts.csv", True)]

    busy = [StoreBusy("the store is busy (another custdesk holds it)")]
    real_sync = store.sync

    def sync_once_busy(*args, **kwargs):
        if busy:
            raise busy.pop()
        return real_sync(*args, **kwargs)
    monkeypatch.setattr(store, "sync", sync_once_busy)
    del trouble["a-Contacts.csv"]
    xero(folder / "a-Contacts.csv", [{**PEOPLE[0], "city": "Potsdam"}])
    for _ in range(3):  # changed: seen, busy (tried again at the next look), synced
        watcher.look(folder)
    out = capsys.readouterr()
    assert out.err.splitlines() == ["a-Contacts.csv: not synced now (the store is busy (another custdesk holds it)); trying again"]
    assert "a-Contacts.csv (xero): 1 rows, 1 new" in out.out

    trouble["a-Contacts.csv"] = KeyboardInterrupt()  # a signal is not one file's failure
    xero(folder / "a-Contacts.csv", [{**PEOPLE[0], "city": "Spandau"}])
    watcher.look(folder)
    with pytest.raises(KeyboardInterrupt):
        watcher.look(folder)


def test_what_stands_in_an_exports_place_is_said_once_and_never_blocks_the_loop(store, tmp_path, capsys):
    from cli.sync import _Watcher

    folder = tmp_path / "drop"
    folder.mkdir()
    os.mkfifo(folder / "a-pipe.csv")  # (opened to read, a FIFO blocks until someone writes)
    (folder / "b-folder.csv").mkdir()
    (folder / "c-dangling.csv").symlink_to(folder / "gone")
    (folder / "d-loop.csv").symlink_to(folder / "d-loop.csv")
    (folder / "e-zero.csv").symlink_to("/dev/zero")
    xero(folder / "f-Contacts.csv", PEOPLE)
    watcher = _Watcher(store, None, False, [])
    looked = threading.Event()

    def looks() -> None:
        for _ in range(4):
            watcher.look(folder)
        looked.set()
    threading.Thread(target=looks, daemon=True).start()
    assert looked.wait(60), "a look blocked on what is not a file"
    said = capsys.readouterr().err.splitlines()
    assert said == [
        "a-pipe.csv: is not a regular file (a pipe, a device or a socket); not synced until it changes",
        "b-folder.csv: is a folder, not a file; not synced until it changes",
        "c-dangling.csv: no such file; not synced until it changes",
        "d-loop.csv: cannot be read (too many levels of symbolic links); not synced until it changes",
        "e-zero.csv: is not a regular file (a pipe, a device or a socket); not synced until it changes"]
    assert len(list(store.sources())) == 3  # the export after them synced
    assert sorted(r["file"] for r in store.sync_runs() if r["failed"]) == \
        ["a-pipe.csv", "b-folder.csv", "c-dangling.csv", "d-loop.csv", "e-zero.csv"]
    (folder / "b-folder.csv").rmdir()
    xero(folder / "b-folder.csv", [{**PEOPLE[0], "city": "Potsdam"}])  # a file in its place now: synced
    watcher.look(folder)
    watcher.look(folder)
    assert capsys.readouterr().err == ""
    assert [s["city"] for s in store.sources() if s["origin"]["id"] == "10001"] == ["Potsdam"]


async def test_the_sync_runs_screen_shows_a_failed_run_with_its_file_and_reason(store, tmp_path):
    from helpers import SIZE, rendered

    from tui.app import CustdeskApp
    from tui.screens.sync import SyncScreen

    sync(store, xero(tmp_path / "Contacts.csv", PEOPLE))
    assert store.record_failed_sync(os.fsdecode(b"kunden-\xe9.json"), "ab12", "not valid JSON (Expecting value, line 1)")
    assert not store.record_failed_sync(os.fsdecode(b"kunden-\xe9.json"), "ab12", "not valid JSON (Expecting value, line 1)")
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "y")
        assert isinstance(app.screen, SyncScreen)
        runs = app.screen.query_one("#runs")
        assert runs.row_count == 2
        row = [str(cell) for cell in runs.get_row_at(0)]
        assert row[-2:] == ["kunden-\\xe9.json", "failed"] and row[2] == ""  # no counts for a run that did not happen
        shown = rendered(app.screen.query_one("#run-detail"))
        assert "kunden-\\xe9.json: not valid JSON (Expecting value, line 1)" in shown
        await pilot.press("u")
        assert isinstance(app.screen, SyncScreen)  # nothing to undo


# -- one path-to-text rule ---------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_imported_synced_and_exported(store_path, tmp_path):
    folder = os.fsencode(tmp_path)
    shown = "kunden-\\xe9␛[31m.csv"
    source = xero(tmp_path / os.fsdecode(b"kunden-\xe9\x1b[31m.csv"), PEOPLE)

    imported = custdesk("--db", store_path, "import", source, "--country", "DE")
    assert imported.returncode == 0, imported.stderr
    assert f"{shown}: 3 rows → 3 new" in imported.stdout and "\x1b" not in imported.stdout + imported.stderr

    synced = custdesk("--db", store_path, "sync", source)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith(f"{shown} (xero): 3 rows, 3 new")

    with Store(store_path) as store:
        origins = sorted(s["origin"]["file"] for s in store.sources())
        assert origins == [shown] * 6
        store.add_customer("corporate", {"company": "Analytical Engines GmbH", "email": "ada@example.com"})
    out = os.fsdecode(folder + b"/out-\xe9.csv")
    exported = custdesk("--db", store_path, "export", out)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == f"exported 1 customers to {path_text(out)}\n" and "out-\\xe9.csv" in exported.stdout
    assert os.path.exists(out)
    with Store(store_path) as store:
        summaries = [entry["summary"] for entry in store.journal()]
        assert summaries[0] == f"Exported 1 customer(s) as csv to {path_text(out)}"
        assert f"Synced {shown} (xero): 3 new, 0 updated, 0 removed, 0 conflict(s), 0 error(s)" in summaries
        assert f"Imported {shown} into sources: 3 new, 0 updated" in summaries
        assert [e["target"] for e in contents(store)["exports"].values()] == [path_text(out)]

    missing = custdesk("--db", store_path, "sync", os.fsdecode(folder + b"/nicht-\xfc.csv"))
    assert missing.returncode == 2 and missing.stderr.splitlines() == [f"custdesk: {path_text(folder)}/nicht-\\xfc.csv: no such file"]


def test_the_path_rule_shows_undecodable_bytes_and_controls(tmp_path):
    assert path_text(os.fsdecode(b"/tmp/kunden-\xe9.csv")) == "/tmp/kunden-\\xe9.csv"
    assert path_text(b"a\x1b]52;c;x\x07\xff") == "a␛]52;c;x␇\\xff"
    assert path_text(tmp_path / "Contacts.csv") == str(tmp_path / "Contacts.csv")


# -- card numbers ----------------------------------------------------------------

def test_a_card_number_as_a_typed_accounting_id_is_refused_masked_and_kept_nowhere(store_path, tmp_path):
    path = xero(tmp_path / "Contacts.csv", [{**PEOPLE[0], "id": PAN}, PEOPLE[1]])
    done = custdesk("--db", store_path, "sync", path)
    assert done.returncode == 1 and PAN not in done.stdout + done.stderr
    assert "1 new" in done.stdout and "row 2 (4111••••••••1111): the accounting id looks like a card number" in done.stdout
    spaced = xero(tmp_path / "Spaced.csv", [{**PEOPLE[0], "id": "4111 1111 1111 1111"}])
    assert custdesk("--db", store_path, "sync", spaced, "--json").returncode == 1
    with Store(store_path) as store:
        run = store.sync_runs()[1]
        assert run["errors"] == [{"id": "4111••••••••1111", "row": 2, "field": "external_id",
                                  "message": "the accounting id looks like a card number; card numbers are not stored"}]
        assert PAN not in json.dumps(store.journal(), ensure_ascii=False)
    assert all(PAN.encode() not in data and b"4111 1111 1111 1111" not in data for data in stored_bytes(store_path).values())


def test_an_issued_id_stays_whole_and_a_card_in_a_header_or_cell_is_masked(store, tmp_path):
    zoho_id = "4600000000026043"  # Luhn-valid, issued by Zoho: its key, not a card
    assert read_export(zoho(tmp_path / "Contacts.csv", [{**PEOPLE[0], "id": zoho_id[8:]}])).profile.ids_issued  # (Zoho's prefix)
    report = sync(store, tmp_path / "Contacts.csv")
    assert report.created == 1 and next(store.sources())["external_id"] == zoho_id

    path = qbo(tmp_path / "customers.json", [{**QBO_SIGNATURE, "Id": "77", PAN: "card as a key", "Notes": f"paid {PAN}",
                                              "Card": {PAN: "nested"}}])
    assert sync(store, path).created == 1
    raw = next(s for s in store.sources() if s["external_id"] == "77")["raw"]
    assert raw["4111••••••••1111"] == "card as a key" and raw["Card.4111••••••••1111"] == "nested"
    assert raw["Notes"] == "paid 4111••••••••1111"
    assert PAN not in json.dumps(raw)


def test_a_card_number_as_an_import_header_is_masked_on_stdout_and_in_the_raw_row(store_path, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(f"Name,Email,{PAN},4111 1111 1111 1111,4111••••••••1111\nAda Lovelace,ada@example.com,x,y,z\n",
                    encoding="utf-8")
    done = custdesk("--db", store_path, "import", path)
    assert done.returncode == 0, done.stderr
    assert "  4111••••••••1111 → (kept in the raw row only)" in done.stdout and PAN not in done.stdout + done.stderr
    with Store(store_path) as store:
        assert next(store.sources())["raw"] == {"Name": "Ada Lovelace", "Email": "ada@example.com", "4111••••••••1111": "x",
                                                "4111 •••• •••• 1111": "y", "4111••••••••1111 (2)": "z"}
    assert all(PAN.encode() not in data for data in stored_bytes(store_path).values())


def test_every_command_prints_a_store_config_or_picture_path_by_the_one_rule(tmp_path):
    from PIL import Image

    folder = os.fsdecode(os.fsencode(tmp_path) + b"/l\xe4den")
    os.mkdir(folder)
    db = os.path.join(folder, "custdesk.json")
    with Store(db) as store:
        number = store.add_customer("corporate", {"company": "Analytical Engines GmbH", "email": "ada@example.com"})["number"]
    picture = os.path.join(folder, os.fsdecode(b"ada-\xff.png"))
    Image.new("RGB", (8, 8), "red").save(picture, format="PNG")

    stats = custdesk("--db", db, "stats")
    assert stats.returncode == 0 and stats.stdout.splitlines()[0] == path_text(db) and "l\\xe4den" in stats.stdout
    set_picture = custdesk("--db", db, "picture", number, picture)
    assert set_picture.returncode == 0, set_picture.stderr
    assert set_picture.stdout == f"{number}: picture set from {path_text(picture)}\n" and "ada-\\xff.png" in set_picture.stdout
    config = custdesk("config", "path", env={"CUSTDESK_CONFIG_DIR": folder})
    assert config.returncode == 0 and config.stdout == path_text(os.path.join(folder, "config.toml")) + "\n"


def test_an_export_or_template_refused_names_its_path_by_the_one_rule(store_path, tmp_path):
    Store(store_path).close()
    nowhere = os.fsdecode(os.fsencode(tmp_path) + b"/fehlt-\xe9/out.csv")
    for args in (("--db", store_path, "export", nowhere), ("template", nowhere)):
        refused = custdesk(*args)
        assert refused.returncode == 2
        assert refused.stderr == f"custdesk: {path_text(nowhere)}: folder {path_text(os.path.dirname(nowhere))} does not exist\n"


def test_sync_of_several_files_refuses_a_bad_one_in_one_line_and_syncs_the_rest(store_path, tmp_path):
    bad = qbo(tmp_path / "a-bad.json", '[{"Id": "1", "DisplayName": "\\ud800"}]')
    good = xero(tmp_path / "b-Contacts.csv", PEOPLE)
    done = custdesk("--db", store_path, "sync", bad, good)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"custdesk: {bad}: record 1, 'DisplayName': a \\u escape that is no character "
                                        "(a lone surrogate); not a customer export"]
    assert done.stdout.startswith("b-Contacts.csv (xero): 3 rows, 3 new")

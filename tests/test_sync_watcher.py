"""Unattended sync (issue 24): the watcher reports a file it cannot sync once (stderr and a
failed run in the Sync runs screen), skips it until its content changes and goes on with the
rest, until a signal; no exception from one file and nothing standing in an export's place
(a pipe, a folder, a dangling or looping link, a device) ends or blocks the loop."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from accounting_files import PEOPLE, xero
from helpers import ROOT
from sync_exports import QBO_SIGNATURE, qbo, sync

from store import Store
from store.base.errors import StoreBusy


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

    def read_export(path, profile=None, *, data=None, encoding=None):
        if path.name in trouble:
            raise trouble[path.name]
        return real(path, profile, data=data, encoding=encoding)
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
        assert row[-2:] == ["failed", "kunden-\\xe9.json"] and row[2] == ""  # no counts for a run that did not happen
        shown = rendered(app.screen.query_one("#run-detail"))
        assert "kunden-\\xe9.json: not valid JSON (Expecting value, line 1)" in shown
        await pilot.press("u")
        assert isinstance(app.screen, SyncScreen)  # nothing to undo

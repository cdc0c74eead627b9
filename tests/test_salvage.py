"""A damaged store: every command refuses in one line naming `custdesk repair`, and repair
keeps every intact record in a new whole store, with the damaged files kept beside it.

Each byte position class of the store's files is damaged by one flipped byte (the table
of contents, the framing around the tables, each table, the change log, the columns
file) and what repair keeps is checked document by document against the store as it was."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import company, person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from store import Store, StoreError
from store.engine import open_engine
from store.schema import SCHEMA

NAME = "custdesk.json"
FILES = (NAME, NAME + ".log", NAME + ".columns")


def _build(folder: Path) -> Path:
    """A store of every kind of record, folded into its file, then two commits in its log."""
    path = folder / NAME
    with Store(path) as s:
        ids = [s.add_customer("private", person(i))["id"] for i in range(1, 6)]
        firm = s.add_customer("corporate", company(7))["id"]
        s.add_department(firm, {"name": "Purchasing", "email": "buy@example.com"})
        s.add_department(firm, {"name": "Sales"})
        s.add_contact(firm, {"first_name": "Grace", "last_name": "Hopper"})
        s.add_source({"first_name": "Alan", "last_name": "Turing", "email": "alan@example.com"})
        s.save_template("hello", "email", "Hi", "Hello {{ customer.first_name }}")
        s.compact()
        s.add_customer("private", person(8))  # customer 7, in the log
        s.set_tags([ids[0]], add=["vip"])  # in the log
    return path


class Files(dict[str, bytes]):
    """The store's files by name (shown short: hypothesis prints its arguments)."""

    def __repr__(self) -> str:
        return f"<the files of a store: {', '.join(self)}>"


class Documents(dict[str, dict[int, dict]]):
    def __repr__(self) -> str:
        return "<the documents of that store>"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Files:
    folder = tmp_path_factory.mktemp("pristine")
    _build(folder)
    return Files({name: (folder / name).read_bytes() for name in FILES})


def _tables(path: Path) -> dict[str, dict[int, dict]]:
    engine = open_engine(path, SCHEMA, create=False)
    try:
        return {table: dict(rows) for table, rows in engine.tables.items()}
    finally:
        engine.close()


@pytest.fixture(scope="module")
def expected(pristine, tmp_path_factory) -> Documents:
    folder = tmp_path_factory.mktemp("expected")
    for name, data in pristine.items():
        (folder / name).write_bytes(data)
    return Documents(_tables(folder / NAME))


def _copy(pristine: dict[str, bytes], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in pristine.items():
        (folder / name).write_bytes(data)
    return folder / NAME


def _flip(path: Path, at: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= mask
    path.write_bytes(bytes(data))


# -- where each class of byte is, in the pristine files -------------------------------------
def _line(data: bytes, table: str, doc_id: int) -> int:
    """Where document `doc_id` of `table` starts: its `"<id>":{` line."""
    return data.index(b'\n"%d":{' % doc_id, data.index(b'\n"%s":{' % table.encode())) + 1


def _value(table: str, doc_id: int, field: str) -> Callable[[bytes], int]:
    """The second character of a text field's value in a document."""
    def at(data: bytes) -> int:
        return data.index(b'"%s":"' % field.encode(), _line(data, table, doc_id)) + len(field) + 5
    return at


def _toc_digit(data: bytes) -> int:
    """The last digit of the departments' checksum in the table of contents."""
    return data.index(b"]", data.index(b'"departments":[')) - 1


CASES: dict[str, tuple[str, Callable[[bytes], int], set[tuple[str, int]], set[tuple[str, int]]]] = {
    # name: (file, where, documents lost, documents kept as read: a changed value no witness covers)
    "toc: a checksum's digit": (NAME, _toc_digit, set(), set()),
    "toc: its own text": (NAME, lambda data: data.index(b'"generation"') + 3, set(), set()),
    "framing: the comma after customers": (NAME, lambda data: data.index(b'},\n"sources":{') + 1, set(), set()),
    "customers: a letter of a name": (NAME, _value("customers", 3, "first_name"), {("customers", 3)}, set()),
    "customers: the brace of a document": (NAME, lambda data: _line(data, "customers", 4) + 4, {("customers", 4)},
                                           set()),
    "sources: a letter of an email": (NAME, _value("sources", 1, "email"), {("sources", 1)}, set()),
    "departments: a letter of a name": (NAME, _value("departments", 1, "name"), set(), {("departments", 1)}),
    "departments: a digit of an id": (NAME, lambda data: _line(data, "departments", 2) + 1, {("departments", 2)},
                                      set()),
    "contacts: a letter of a name": (NAME, _value("contacts", 1, "last_name"), set(), {("contacts", 1)}),
    "templates: a letter of a body": (NAME, _value("templates", 1, "body"), set(), {("templates", 1)}),
    "journal: a letter of a summary": (NAME, _value("journal", 3, "summary"), set(), {("journal", 3)}),
    "_meta: a digit of a counter": (NAME, lambda data: data.index(b'"counters":{"customers":') + 24, set(), set()),
    "log: the first commit after the snapshot": (NAME + ".log", lambda data: 40, {("customers", 7), ("journal", 12)},
                                                 set()),
}

# Every command that reads or writes the store (serve, the app: below).
COMMANDS = [["stats"], ["stats", "--json"], ["export", "{out}"], ["undo"], ["log"], ["imports"], ["duplicates"],
            ["history", "C-000001"], ["obfuscate", "--inactive-days", "400", "--dry-run"], ["mail", "templates", "list"],
            ["sync", "conflicts"], ["import", "{csv}"], ["picture", "C-000001", "--remove"],
            ["migrate", "{db}", "{other}"], ["demo", "--customers", "1", "--no-tui"]]


def _run(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def _every_command_refuses(path: Path) -> None:
    folder = path.parent
    (folder / "in.csv").write_text("Name,Email\nEve,eve@example.com\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.endswith(".lock")}
    fill = {"{out}": str(folder / "out.csv"), "{csv}": str(folder / "in.csv"), "{db}": str(path),
            "{other}": str(folder / "other" / NAME)}
    for command in COMMANDS:
        code, out, err = _run(path, *(fill.get(arg, arg) for arg in command))
        assert code == 2 and out == "", (command, out, err)
        assert len(err.splitlines()) == 1 and "custdesk repair" in err and "Traceback" not in err, (command, err)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.endswith(".lock")}
    assert after == before  # refusing wrote nothing


@pytest.mark.parametrize("case", CASES)
def test_one_flipped_byte_is_refused_everywhere_and_repair_keeps_every_intact_record(case, pristine, expected,
                                                                                       tmp_path):
    file, where, lost, as_read = CASES[case]
    path = _copy(pristine, tmp_path / "store")
    _flip(path.with_name(file), where(pristine[file]))
    _every_command_refuses(path)

    code, out, err = _run(path, "repair")
    assert code == 0, err
    lines = out.splitlines()
    assert "a new store was written from every intact record" in lines[0]
    for table, rows in expected.items():
        kept = len(rows) - sum(1 for t, _ in lost if t == table)
        assert any(line.split()[:3] == [table, f"{kept:,}", "kept"] for line in lines), (table, out)
    moved = [Path(line.rsplit(" ", 1)[1]) for line in lines if "the damaged file is kept as" in line]
    assert sorted(p.name.split(".damaged-")[0] for p in moved) == sorted(FILES)
    for aside in moved:  # each file as it was before the repair, the damaged one with its flipped byte
        original = aside.name.split(".damaged-")[0]
        assert (aside.read_bytes() == pristine[original]) == (original != file), original

    repaired = _tables(path)
    for table, rows in expected.items():
        assert set(repaired[table]) == set(rows) - {i for t, i in lost if t == table}, table
        for doc_id, doc in repaired[table].items():
            if (table, doc_id) not in as_read and table != "_meta":
                assert doc == rows[doc_id], (table, doc_id)
    assert _run(path, "stats")[0] == 0
    assert "nothing to repair" in _run(path, "repair")[1]


def test_repair_says_how_many_of_what_a_damaged_table_lost(pristine, tmp_path):
    path = _copy(pristine, tmp_path / "store")
    _flip(path, _value("customers", 3, "first_name")(pristine[NAME]))
    report = json.loads(_run(path, "repair", "--json")[1])
    assert report["damage"] == ["table 'customers'"]
    assert report["tables"]["customers"] == {"state": "damaged", "kept": 6, "lost": 1, "restored_from_log": 0,
                                             "unwitnessed": 0, "witnessed": list(SCHEMA.columns["customers"])}
    assert report["tables"]["departments"] == {"state": "intact", "kept": 2, "lost": 0, "restored_from_log": 0,
                                               "unwitnessed": 0, "witnessed": []}


def test_a_lost_document_a_later_commit_wrote_again_is_restored_from_the_log(pristine, tmp_path):
    path = _copy(pristine, tmp_path / "store")
    _flip(path, _value("customers", 1, "first_name")(pristine[NAME]))  # customer 1 is tagged in the log
    report = json.loads(_run(path, "repair", "--json")[1])
    assert report["tables"]["customers"]["lost"] == 0 and report["tables"]["customers"]["restored_from_log"] == 1
    assert _tables(path)["customers"][1]["tags"] == ["vip"]


def test_a_damaged_meta_document_never_gives_a_number_twice(pristine, expected, tmp_path):
    path = _copy(pristine, tmp_path / "store")
    path.with_name(NAME + ".log").write_bytes(b"")  # (else the log's commits hold the meta document again)
    data = pristine[NAME]
    at = data.index(b'"counters":{"customers":') + 24
    assert data[at:at + 1] == b"6"
    _flip(path, at, 0x02)  # the counter of customer numbers now says 4: C-000005 and C-000006 would be given again
    assert _run(path, "repair")[0] == 0
    with Store(path) as s:
        numbers = {c["number"] for c in s.customers()}
        assert s.add_customer("private", person(9))["number"] not in numbers


def test_a_damaged_columns_file_is_rebuilt_from_the_documents_and_loses_nothing(pristine, expected, tmp_path):
    """The columns file holds only copies of the documents' fields, checked by its own checksums:
    a damaged one is never used, and is rebuilt at the next open (nothing to refuse), or by repair."""
    columns = pristine[NAME + ".columns"]
    at = columns.index(b"PAR1") + 40  # inside the first table's Parquet data
    path = _copy(pristine, tmp_path / "repaired")
    _flip(path.with_name(NAME + ".columns"), at)
    code, out, _err = _run(path, "repair")
    assert code == 0 and "the columns file" in out.splitlines()[0]
    repaired = _tables(path)
    assert {t: rows for t, rows in repaired.items() if t != "_meta"} == {t: r for t, r in expected.items() if t != "_meta"}
    meta, before = repaired["_meta"][1], expected["_meta"][1]
    assert (meta["next_ids"], meta["counters"], meta["tallies"]) == (before["next_ids"], before["counters"], before["tallies"])
    opened = _copy(pristine, tmp_path / "opened")
    _flip(opened.with_name(NAME + ".columns"), at)
    assert json.loads(_run(opened, "stats", "--json")[1])["customers"] == 7
    code, _out, _err = _run(opened, "export", str(tmp_path / "out.csv"))
    assert code == 0 and len((tmp_path / "out.csv").read_text().splitlines()) == 8
    assert "nothing to repair" in _run(opened, "repair")[1]  # the open rebuilt it


def test_repair_on_an_intact_store_says_so_and_changes_nothing(pristine, tmp_path):
    path = _copy(pristine, tmp_path / "store")
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    code, out, _err = _run(path, "repair")
    assert code == 0 and out.strip().endswith("nothing to repair: every table, the change log and the columns file "
                                              "check out; nothing was changed")
    assert {p.name: p.read_bytes() for p in path.parent.iterdir() if not p.name.endswith(".lock")} == \
        {k: v for k, v in before.items() if not k.endswith(".lock")}


def _read_only(folder: Path) -> Callable[[], None]:
    """Make `folder` read-only even for root (immutable), and return how to undo it."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return lambda: folder.chmod(0o700)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode != 0:
        pytest.skip("root, and chattr +i is not available here: no folder is read-only for this test")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_repair_refuses_in_one_line_when_the_damaged_files_cannot_be_moved_aside(pristine, tmp_path):
    path = _copy(pristine, tmp_path / "store")
    _flip(path, _value("customers", 3, "first_name")(pristine[NAME]))
    path.with_name(NAME + ".lock").touch()  # (as beside any store that was ever opened)
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    undo = _read_only(path.parent)
    try:
        code, out, err = _run(path, "repair")
    finally:
        undo()
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "could not move the damaged files aside" in err and "nothing was changed" in err
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before


async def test_the_app_stops_on_a_damaged_table_naming_repair(pristine, tmp_path):
    from tui.app import CustdeskApp

    path = _copy(pristine, tmp_path / "store")
    _flip(path, _value("departments", 1, "name")(pristine[NAME]))
    app = CustdeskApp(Store(path, verify=False))
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == 2 and isinstance(app.refusal, StoreError)
    assert "table 'departments' is damaged" in str(app.refusal) and "custdesk repair" in str(app.refusal)


def test_serve_refuses_a_damaged_store_before_it_listens(pristine, tmp_path):
    from helpers import custdesk

    path = _copy(pristine, tmp_path / "store")
    _flip(path, _value("departments", 1, "name")(pristine[NAME]))
    with socket.socket() as probe:  # a free port on loopback (refused before it would be listened on)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = custdesk("--db", str(path), "serve", "--host", "127.0.0.1", "--port", str(port), timeout=60)
    assert result.returncode == 2 and "custdesk repair" in result.stderr and len(result.stderr.splitlines()) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from([NAME, NAME + ".log"]), where=st.floats(0, 1, exclude_max=True),
       mask=st.integers(1, 255))
def test_any_flipped_byte_repair_never_crashes_invents_a_record_or_loses_one_outside_the_damage(
        pristine, expected, tmp_path, file, where, mask):
    folder = tmp_path / f"h{abs(hash((file, where, mask)))}"
    path = _copy(pristine, folder)
    _flip(path.with_name(file), int(where * len(pristine[file])), mask)
    code, out, err = _run(path, "repair", "--json")
    assert code == 0, err
    report = json.loads(out)
    repaired = _tables(path)
    changed = set()
    for table, rows in repaired.items():
        was = expected[table]
        lost = set(was) - set(rows)
        for doc_id, doc in rows.items():
            if table == "_meta" or was.get(doc_id) == doc:
                continue
            # Kept as read: a changed value no witness covers, or, in a table without one, a
            # changed digit of its id; never a document that was not there.
            assert doc_id in was or (table not in SCHEMA.columns and doc in [was[i] for i in lost]), (table, doc_id)
            changed.add((table, doc_id))
        # One byte damages at most two documents (a newline flipped joins two lines).
        assert len(lost) <= 2, (table, lost)
    assert len(changed) <= 1, changed
    if not report["intact"]:
        assert {Path(p).name.split(".damaged-")[0] for p in report["backups"]} == set(FILES)
    shutil.rmtree(folder)

"""The store opens only what it can prove whole, never writes at open, and is repaired
keeping every intact record; links and output paths never destroy its files."""
from __future__ import annotations

import json
import os
import threading

import pytest
from helpers import contents, custdesk, person

from exporters.customers import export_customers
from importers import plan_import, read_table
from store import ConcurrentChange, Store, StoreCorrupt, StoreError
from store.admin.repair import repair_store


def _store_with_log(store_path, n: int = 5) -> dict:
    with Store(store_path) as s:
        for i in range(1, n + 1):
            s.add_customer("private", person(i))
        return contents(s)


def _log(store_path):
    return store_path.with_name(store_path.name + ".log")


def _files(store_path) -> dict:
    return {p.name: p.read_bytes() for p in store_path.parent.iterdir()}


def test_a_damaged_log_line_with_intact_lines_after_it_refuses_to_open_and_changes_nothing(store_path):
    _store_with_log(store_path)
    log = _log(store_path)
    data = bytearray(log.read_bytes())
    second = data.index(b"\n") + 40
    data[second] ^= 0x20  # one flipped bit inside the second commit
    log.write_bytes(bytes(data))
    before = _files(store_path)
    with pytest.raises(StoreCorrupt, match=r"change log is damaged at byte [\d,]+; nothing was changed: run 'custdesk repair'"):
        Store(store_path)
    assert _files(store_path) == before


def test_a_torn_last_append_is_still_a_crash_remnant_not_damage(store_path):
    expected = _store_with_log(store_path)
    with open(_log(store_path), "ab") as log:
        log.write(b"123 deadbeef {\"seq\"")  # a crash mid-append: no newline
    with Store(store_path) as s:
        assert contents(s) == expected


def test_repair_keeps_every_intact_record_and_says_what_it_dropped(store_path):
    _store_with_log(store_path, 6)
    log = _log(store_path)
    lines = log.read_bytes().split(b"\n")
    lines[2] = lines[2][:20] + b"X" + lines[2][21:]  # damage the third commit
    log.write_bytes(b"\n".join(lines))
    report = repair_store(store_path)
    assert report["kept"] == 5 and len(report["dropped"]) == 1 and report["missing_commits"] == [[3, 3]]
    assert all(os.path.exists(p) for p in report["backups"])
    with Store(store_path) as s:
        numbers = sorted(c["first_name"] for c in s.customers())
    # The third customer's commit is lost; every other one is kept.
    assert numbers == ["Ada1", "Ada2", "Ada4", "Ada5", "Ada6"]


def test_the_repair_command_prints_its_report(store_path):
    _store_with_log(store_path, 3)
    log = _log(store_path)
    log.write_bytes(log.read_bytes().replace(b"Ada2", b"Ada?"))  # the checksum no longer matches
    refused = custdesk("--db", str(store_path), "stats")
    assert refused.returncode == 2 and "custdesk repair" in refused.stderr and "Traceback" not in refused.stderr
    fixed = custdesk("--db", str(store_path), "repair", "--json")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["kept"] == 2
    assert json.loads(custdesk("--db", str(store_path), "stats", "--json").stdout)["customers"] == 2


@pytest.mark.parametrize("damage", ["delete", "empty"])
def test_a_missing_or_emptied_store_file_beside_its_log_refuses(store_path, damage):
    expected = _store_with_log(store_path)
    if damage == "delete":
        store_path.unlink()
    else:
        store_path.write_bytes(b"")
    with pytest.raises(StoreCorrupt, match="nothing was changed"):
        Store(store_path)
    assert not store_path.exists() or store_path.read_bytes() == b""  # no open wrote anything
    repair_store(store_path)
    with Store(store_path) as s:
        assert contents(s)["customers"] == expected["customers"]  # the log held every commit


def test_a_store_reached_through_a_link_keeps_its_files_beside_the_real_one(tmp_path):
    real = tmp_path / "real" / "custdesk.json"
    _store_with_log(real, 2)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with Store(link) as s:
        assert s.customer_count() == 2
        s.add_customer("private", person(3))
        s.compact()
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert not (tmp_path / "link.json.log").exists()
    with Store(real) as s:
        assert s.customer_count() == 3


def test_a_link_planted_at_the_log_path_is_never_written_through(store_path, tmp_path):
    _store_with_log(store_path, 1)
    with Store(store_path) as s:
        s.compact()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    log = _log(store_path)
    log.unlink()
    log.symlink_to(victim)
    with Store(store_path) as s, pytest.raises(StoreError, match="could not save"):
        s.add_customer("private", person(2))
    assert victim.read_text() == "precious"


def test_outputs_never_overwrite_the_store_or_the_imported_file(store, store_path, tmp_path):
    store.add_customer("private", person(1))
    link = tmp_path / "out.csv"
    link.symlink_to(store_path)
    with pytest.raises(StoreError, match="must not overwrite"):
        export_customers(store, link)
    source = tmp_path / "in.csv"
    source.write_text("Name,Email\nAda,broken\n")
    plan = plan_import(store, read_table(source))
    with pytest.raises(StoreError, match="in.csv, which the error log must not overwrite"):
        plan.write_error_log(tmp_path / "sub" / ".." / "in.csv")
    with pytest.raises(StoreError, match="must not overwrite"):
        plan.write_error_log(store_path.with_name(store_path.name + ".log"), store.files())
    assert source.read_text() == "Name,Email\nAda,broken\n"
    with Store(store_path) as again:
        assert again.customer_count() == 1


def test_two_imports_of_one_file_at_once_create_each_record_once(store_path, tmp_path):
    Store(store_path).close()
    f = tmp_path / "same.csv"
    f.write_text("Name,Email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(200)))
    first, second = Store(store_path), Store(store_path)
    plans = [plan_import(s, read_table(f)) for s in (first, second)]  # both planned before either commits
    outcomes = []

    def commit(s, plan):
        try:
            s.apply_batch(plan.batch())
            outcomes.append("imported")
        except ConcurrentChange as refusal:
            outcomes.append(str(refusal))
    threads = [threading.Thread(target=commit, args=pair) for pair in zip((first, second), plans, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[0].startswith("200 of the 200 records to create now match a customer or prospect by email")
    assert outcomes.count("imported") == 1
    with Store(store_path) as s:
        assert len(list(s.sources())) == 200


def _committed_states(store_path) -> list[dict]:
    """A store folded into its file, then four commits in the log; the state after each."""
    states = []
    with Store(store_path) as s:
        for i in range(1, 4):
            s.add_customer("private", person(i))
        s.compact()
        states.append(contents(s))
        for i in range(4, 8):
            s.add_customer("private", person(i)) if i % 2 else s.set_tags([1], add=[f"t{i}"])
            states.append(contents(s))
    return states


@pytest.mark.parametrize("suffix", ["", ".log", ".columns"])
def test_every_damage_to_every_file_is_refused_in_one_line_or_shows_a_committed_state(store_path, tmp_path, suffix):
    states = _committed_states(store_path)
    pristine = {p.name: p.read_bytes() for p in store_path.parent.iterdir() if not p.name.endswith(".lock")}
    target = store_path.name + suffix
    size = len(pristine[target])
    damages = [("delete", None), ("empty", None)]
    damages += [("truncate", at) for at in range(0, size, max(1, size // 40))]
    damages += [("flip", at) for at in range(0, size, max(1, size // 40))]
    outcomes = {"refused": 0, "opened": 0}
    for kind, at in damages:
        folder = tmp_path / f"{kind}-{at}-{suffix or 'json'}"
        folder.mkdir()
        for name, data in pristine.items():
            (folder / name).write_bytes(data)
        damaged = folder / target
        if kind == "delete":
            damaged.unlink()
        elif kind == "empty":
            damaged.write_bytes(b"")
        elif kind == "truncate":
            damaged.write_bytes(pristine[target][:at])
        else:
            data = bytearray(pristine[target])
            data[at] ^= 0x01
            damaged.write_bytes(bytes(data))
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        try:
            with Store(folder / store_path.name) as s:
                state = contents(s)
        except StoreError as refusal:
            assert "\n" not in str(refusal) and str(folder) in str(refusal), (kind, at, str(refusal))
            assert {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.endswith(".lock")} == \
                {k: v for k, v in before.items() if not k.endswith(".lock")}, (kind, at)  # refusing wrote nothing
            outcomes["refused"] += 1
            continue
        expected = [states[-1]] if suffix == ".columns" else states
        assert state in expected, (kind, at)
        outcomes["opened"] += 1
    assert outcomes["refused"] + outcomes["opened"] == len(damages)


def test_a_link_planted_at_the_lock_path_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    store_path = tmp_path / "s" / "custdesk.json"
    Store(store_path).close()  # (a store that exists: a missing one is refused before its lock is looked at)
    (store_path.parent / "custdesk.json.lock").unlink()
    (store_path.parent / "custdesk.json.lock").symlink_to(victim)
    result = custdesk("--db", str(store_path), "undo")  # (opening takes the lock; stats reads without it)
    assert result.returncode == 2 and "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert victim.read_text() == "precious"


def _damaged_in_customers(store_path) -> None:
    """A store whose customers table has one flipped byte (its columns file intact)."""
    with Store(store_path) as s:
        for i in range(1, 6):
            s.add_customer("private", person(i))
        s.compact()
    data = store_path.read_bytes()
    # (the first "Ada3" is the customer's: the journal's history of it comes after)
    store_path.write_bytes(data.replace(b'"Ada3"', b'"Ade3"', 1))


def test_of_two_damaged_tables_the_first_in_the_file_is_named(store_path):
    """The tables' checksums are summed side by side; the refusal still names the first
    damaged table in the file, whichever sum ends first."""
    _damaged_in_customers(store_path)
    data = store_path.read_bytes()
    assert data.index(b'\n"customers":') < data.index(b'\n"journal":')
    store_path.write_bytes(data.replace(b'"Ada4"', b'"Ade4"'))  # (the customer, and the journal's history of it)
    for _ in range(5):
        with pytest.raises(StoreCorrupt, match="table 'customers' is damaged"):
            Store(store_path)
    result = custdesk("--db", str(store_path), "stats")
    assert result.returncode == 2 and "table 'customers' is damaged" in result.stderr


def test_a_store_opened_unverified_refuses_when_checked_or_read(store_path):
    _damaged_in_customers(store_path)
    with pytest.raises(StoreCorrupt, match="table 'customers' is damaged"):
        Store(store_path)  # checked at open, as every command opens it
    store = Store(store_path, verify=False)  # the app: the first screen from the columns file
    assert store.stats()["customers"] == 5
    with pytest.raises(StoreCorrupt, match=r"custdesk.json: table 'customers' is damaged \(its checksum does not match\)"):
        store.verify()
    with pytest.raises(StoreCorrupt, match="table 'customers' is damaged"):
        store.customer(3)  # never the flipped value


async def test_the_app_stops_on_a_damaged_store_after_its_first_screen(store_path):
    from tui.app import CustdeskApp

    _damaged_in_customers(store_path)
    app = CustdeskApp(Store(store_path, verify=False))
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == 2 and isinstance(app.refusal, StoreCorrupt)
    assert "table 'customers' is damaged" in str(app.refusal)

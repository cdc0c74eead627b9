"""log and history read from the store file without opening it: the same answers as the open
store, from the snapshot and the change log after it; text quoting a number is not taken
for it, and a damaged store is refused as by every command."""
from __future__ import annotations

from click.testing import CliRunner
from helpers import company, person

from cli.main import cli
from store import Store
from store.views.journal import quick_history


def busy_store(path) -> Store:
    """Entries in the snapshot (a compaction) and after it in the change log: added, edited,
    merged away, a department, an undo."""
    store = Store(path, user="tester")
    a = store.add_customer("corporate", company(1, city="Berlin"))
    b = store.add_customer("private", person(2, city="Leipzig"))
    store.compact()
    store.edit_customer(a["id"], {"city": "Köln"})
    store.add_department(a["id"], {"name": "Einkauf", "city": "Bonn"})
    store.merge_into(a["id"], b["id"], {"city": "other"})
    store.deactivate([a["id"]])
    store.undo()
    return store


def test_the_files_answer_as_the_open_store(tmp_path):
    store = busy_store(tmp_path / "s.json")
    files = quick_history(store.location)
    assert files is not None
    assert files.log() == store.log()
    assert files.log(limit=2) == store.log(limit=2)
    for number in ("C-000001", "C-000002"):  # (the second merged away: found in the journal)
        customer_id = store.customer_id(number)
        assert files.customer_id(number) == customer_id
        assert files.history(customer_id) == store.history(customer_id)
        assert files.log(customer_id) == store.log(customer_id)


def test_a_number_is_found_by_the_field_it_is_in_not_by_text_that_quotes_it(tmp_path):
    store = busy_store(tmp_path / "s.json")
    quoting = store.add_customer("private", person(3, notes='copied from "number":"C-000001" and {"number":"C-000001"}'))
    store.compact()  # (its line in the snapshot's text, the quote inside it)
    renumbered = store.edit_customer(quoting["id"], {"number": "K-77"})  # (in the log after it)
    files = quick_history(store.location)
    assert files.customer_id("C-000001") == store.customer_id("C-000001") == 1
    assert files.customer_id("K-77") == renumbered["id"]
    assert files.history(renumbered["id"]) == store.history(renumbered["id"])
    (tmp_path / "s.json.columns").unlink()  # (not needed: nothing is read from it)
    assert quick_history(store.location).customer_id("K-77") == renumbered["id"]


def test_a_damaged_store_is_refused_naming_repair(tmp_path):
    store = busy_store(tmp_path / "s.json")
    store.close()
    data = bytearray((tmp_path / "s.json").read_bytes())
    data[data.index(b"Analytical") + 3] ^= 0x20
    (tmp_path / "s.json").write_bytes(bytes(data))
    for command in (["log"], ["history", "C-000001"]):
        out = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.json"), *command])
        assert out.exit_code == 2 and "custdesk repair" in out.output and out.output.count("\n") == 1


def test_no_store_file_is_no_answer_and_the_command_says_so(tmp_path):
    assert quick_history(tmp_path / "none.json") is None
    out = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.json"), "log"])
    assert out.exit_code == 2 and "no store at" in out.output


def test_a_reader_that_stops_reading_is_no_error(tmp_path):
    """`custdesk log | head -1`: the rest goes nowhere, and nothing is said on stderr."""
    import subprocess
    import sys

    with Store(tmp_path / "s.json") as store:
        for n in range(1000):  # (over 64 KB of lines: more than a pipe holds)
            store.add_customer("private", person(n))
    code = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"
    run = subprocess.Popen([sys.executable, "-c", code, "--db", str(tmp_path / "s.json"), "log"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert run.stdout.readline().startswith(b"#1000")
    run.stdout.close()
    assert run.wait(timeout=60) == 141 and run.stderr.read() == b""

"""`custdesk sync conflicts` and `custdesk sync resolve` (issue 27), as a user types them:
a conflict listed and settled both ways, a run settled at once, the refusals one line
each with nothing written; a run's files and options as before the subcommands."""
import json

from click.testing import CliRunner
from helpers import contents
from sync_exports import conflicted

from cli.main import cli
from store import Store


def run(store_path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(store_path), *args], prog_name="custdesk")
    return result.exit_code, result.stdout, result.stderr


def test_the_command_line_lists_and_settles_a_conflict_both_ways(store_path, tmp_path):
    with Store(store_path) as store:
        customer, path = conflicted(store, tmp_path)
        run_id = store.sync_runs()[0]["id"]
    number = customer["number"]
    code, out, _ = run(store_path, "sync", "conflicts")
    assert code == 0 and out.splitlines() == [
        f"{number}  Müller & Söhne GmbH  city: here Radebeul, accounting Meißen  (run #{run_id} Contacts.csv, "
        f"{json.loads(run(store_path, 'sync', 'conflicts', '--json')[1])[0]['when']})"]
    code, out, _ = run(store_path, "sync", "conflicts", "--json")
    listed = json.loads(out)
    assert [{k: c[k] for k in ("number", "name", "field", "here", "accounting", "run", "file")} for c in listed] == [
        {"number": number, "name": "Müller & Söhne GmbH", "field": "city", "here": "Radebeul", "accounting": "Meißen",
         "run": run_id, "file": "Contacts.csv"}]
    code, out, _ = run(store_path, "sync", "resolve", number, "city", "here")
    assert code == 0 and out.startswith(f"Kept city of {number}: Radebeul (accounting has Meißen); custdesk undo --entry ")
    assert run(store_path, "sync", "conflicts")[1] == "no open sync conflicts\n"
    assert run(store_path, "undo")[0] == 0
    code, out, _ = run(store_path, "sync", "resolve", number, "city", "accounting")
    assert code == 0 and out.startswith(f"Took accounting's city for {number}: Meißen (was Radebeul)")
    assert run(store_path, "sync", "conflicts", "--json")[1] == "[]\n"
    with Store(store_path) as store:
        assert store.customer(customer["id"])["city"] == "Meißen"
    assert run(store_path, "sync", "--profiles")[0] == 0  # a run's options as before
    assert run(store_path, "sync", str(path), "--json")[0] == 0


def test_the_command_line_settles_a_run_and_refuses_in_one_line(store_path, tmp_path):
    with Store(store_path) as store:
        customer, _ = conflicted(store, tmp_path)
        run_id = store.sync_runs()[0]["id"]
        before = contents(store)
    number = customer["number"]
    for args, message in (
            (("C-999999", "city", "here"), "no customer numbered C-999999"),
            ((number, "phone", "here"), f"customer {number} has no open sync conflict on phone (open: city)"),
            ((number, "city", "here", "--rev", str(customer["rev"] - 1)), f"customer {number} was changed by someone else"),
            ((number, "city", "there"), "a conflict is settled by 'accounting' or 'here', not 'there'"),
            ((number, "city"), "give NUMBER FIELD accounting|here, or --run ENTRY accounting|here"),
            (("--run", "9999", "here"), "no sync run #9999"),
            (("--run", str(run_id), number, "here"), "give NUMBER FIELD accounting|here, or --run ENTRY accounting|here")):
        code, out, err = run(store_path, "sync", "resolve", *args)
        assert code == 2 and out == "" and message in err and len(err.splitlines()) == 1, (args, err)
    with Store(store_path) as store:
        assert contents(store) == before
    code, out, _ = run(store_path, "sync", "resolve", "--run", str(run_id), "accounting")
    assert code == 0 and out.startswith(f"Settled 1 conflict(s) of sync run #{run_id} (Contacts.csv): took accounting's values")
    with Store(store_path) as store:
        assert store.customer(customer["id"])["city"] == "Meißen"

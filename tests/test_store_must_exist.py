"""Only an explicit create makes a store (issue 24): every other command, given a location
that holds no store (a mistyped --db, a wrong migrate source, an empty database),
refuses in one line, exit 2, and leaves nothing behind: no folder, lock, log or table."""
from __future__ import annotations

import json
from pathlib import Path

import click
import psycopg
import pytest
from accounting_files import PEOPLE, xero
from click.testing import CliRunner

from cli.common import CREATING_COMMANDS
from cli.main import cli
from store import NoStore, Store

# Every command that works on an existing store, with arguments that would otherwise run it.
NEEDS_A_STORE = {
    "stats": ["stats"],
    "export": ["export", "{tmp}/out.csv"],
    "undo": ["undo"],
    "obfuscate": ["obfuscate", "--inactive-days", "30"],
    "picture": ["picture", "C-000001", "--remove"],
    "repair": ["repair"],
    "duplicates": ["duplicates"],
    "log": ["log"],
    "history": ["history", "C-000001"],
    "sync conflicts": ["sync", "conflicts"],
    "sync resolve": ["sync", "resolve", "C-000001", "city", "here"],
    "imports": ["imports"],
    "imports mappings": ["imports", "mappings"],
    "imports forget": ["imports", "forget", "0123456789ab"],
    "mail templates list": ["mail", "templates", "list"],
    "mail templates add": ["mail", "templates", "add", "hello", "--body", "{tmp}/body.txt"],
    "mail templates show": ["mail", "templates", "show", "hello"],
    "mail templates remove": ["mail", "templates", "remove", "hello"],
    "mail send": ["mail", "send", "--template", "hello", "--outbox", "{tmp}/outbox"],
    "settings show": ["settings", "show"],
    "settings set": ["settings", "set", "shop_name", "Kahve Evi"],
}
# Commands that open no store at all.
STORELESS = {"config path", "config show", "template"}
# `migrate` names its own stores: its source must exist, its target is made.
OWN_LOCATIONS = {"migrate"}


def leaf_commands(group: click.Group, prefix: str = "") -> set[str]:
    """Every command that runs: a group that also runs by itself (`sync FILE`) counts as one."""
    found = set()
    context = click.Context(group)
    for name in group.list_commands(context):  # (the commands a lazy group loads when asked)
        command = group.get_command(context, name)
        assert command is not None, name
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found |= leaf_commands(command, path + " ") | ({path} if command.invoke_without_command else set())
        else:
            found.add(path)
    return found


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="custdesk")
    return result.exit_code, result.stdout, result.stderr


def everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_every_command_is_known_to_create_or_to_refuse_a_missing_store():
    # A new command must be put in one of these lists (and so be tested below) before it ships.
    assert leaf_commands(cli) == set(NEEDS_A_STORE) | STORELESS | OWN_LOCATIONS | CREATING_COMMANDS


@pytest.mark.parametrize("command", sorted(NEEDS_A_STORE))
def test_a_command_on_a_mistyped_store_file_refuses_and_creates_nothing(tmp_path, command):
    (tmp_path / "body.txt").write_text("Dear {{ customer.first_name }}")
    before = everything_under(tmp_path)
    missing = tmp_path / "typo" / "custdesk.json"
    code, out, err = run("--db", str(missing), *(a.format(tmp=tmp_path) for a in NEEDS_A_STORE[command]))
    assert (code, out, err) == (2, "", f"custdesk: no store at {missing}\n")
    assert everything_under(tmp_path) == before  # no folder, no .lock, no .log, no export


@pytest.mark.parametrize("command", ["stats", "export"])
def test_without_db_the_default_store_is_not_made_by_a_command_that_needs_one(tmp_path, command):
    code, _out, err = run(*(a.format(tmp=tmp_path) for a in NEEDS_A_STORE[command]))
    assert code == 2 and err == f"custdesk: no store at {tmp_path / 'data' / 'custdesk.json'}\n"
    assert not (tmp_path / "data").exists()


def test_migrate_from_a_mistyped_source_refuses_and_makes_no_target(tmp_path):
    code, out, err = run("migrate", str(tmp_path / "sorce.json"), str(tmp_path / "new" / "target.json"))
    assert (code, out, err) == (2, "", f"custdesk: no store at {tmp_path / 'sorce.json'}\n")
    assert everything_under(tmp_path) == set()


def test_migrate_into_a_new_target_and_demo_and_import_create_their_store(tmp_path):
    source = tmp_path / "demo" / "custdesk.json"
    assert run("--db", str(source), "demo", "--customers", "3", "--no-tui")[0] == 0
    assert run("migrate", str(source), str(tmp_path / "moved" / "custdesk.json"))[0] == 0
    (tmp_path / "people.csv").write_text("Email,First name,Last name\nada@example.com,Ada,Lovelace\n")
    imported = tmp_path / "imported" / "custdesk.json"
    assert run("--db", str(imported), "import", str(tmp_path / "people.csv"))[0] == 0
    for made in (tmp_path / "moved" / "custdesk.json", imported):
        assert made.is_file() and run("--db", str(made), "stats", "--json")[0] == 0
    assert (tmp_path / "moved").stat().st_mode & 0o777 == 0o700  # a folder made for a store is the owner's


def test_an_import_whose_file_is_refused_makes_no_store(tmp_path):
    code, _out, err = run("--db", str(tmp_path / "new" / "custdesk.json"), "import", str(tmp_path / "typo.csv"))
    assert (code, err) == (2, f"custdesk: {tmp_path / 'typo.csv'}: no such file\n")
    assert everything_under(tmp_path) == set()


def test_a_sync_of_a_mistyped_file_or_folder_makes_no_store(tmp_path):
    db = str(tmp_path / "new" / "custdesk.json")
    code, _out, err = run("--db", db, "sync", str(tmp_path / "typo.csv"))
    assert (code, err) == (2, f"custdesk: {tmp_path / 'typo.csv'}: no such file\n")
    code, _out, err = run("--db", db, "sync", "--watch", str(tmp_path / "exports"))
    assert (code, err) == (2, f"custdesk: {tmp_path / 'exports'}: not a folder\n")
    assert everything_under(tmp_path) == set()


@pytest.mark.parametrize("command", ["import", "sync"])
def test_a_dry_run_into_a_store_not_made_yet_plans_against_an_empty_one_and_makes_nothing(tmp_path, command):
    (tmp_path / "in").mkdir()
    people = xero(tmp_path / "in" / "Contacts.csv", PEOPLE)
    db = tmp_path / "new" / "custdesk.json"
    code, out, err = run("--db", str(db), command, "--dry-run", "--json", str(people))
    assert code == 0 and "no store" not in err, err
    assert json.loads(out)["created"] == len(PEOPLE)  # every record new, as into a new store
    assert everything_under(tmp_path) == {people.parent, people}


def test_the_store_api_refuses_a_missing_store_only_when_asked_to(tmp_path):
    with pytest.raises(NoStore, match="no store at"):
        Store(tmp_path / "none" / "custdesk.json", create=False)
    assert everything_under(tmp_path) == set()
    Store(tmp_path / "made" / "custdesk.json").close()
    Store(tmp_path / "made" / "custdesk.json", create=False).close()  # once made, it opens


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]


@pytest.mark.parametrize("command", sorted(set(NEEDS_A_STORE) - {"repair"}))  # (repair: a server has no files)
def test_a_database_without_a_store_is_no_store_and_gets_no_tables(pg_database, tmp_path, command):
    (tmp_path / "body.txt").write_text("Dear {{ customer.first_name }}")
    url = f"{pg_database}&password=secret"
    code, out, err = run("--db", url, *(a.format(tmp=tmp_path) for a in NEEDS_A_STORE[command]))
    assert (code, out) == (2, "")
    assert err == f"custdesk: no store at {pg_database}&password=***\n"
    assert _tables(pg_database) == []


def test_migrate_from_an_empty_database_refuses_and_a_made_store_opens(pg_database, tmp_path):
    code, _out, err = run("migrate", pg_database, str(tmp_path / "target.json"))
    assert code == 2 and err == f"custdesk: no store at {pg_database}\n" and not (tmp_path / "target.json").exists()
    Store(pg_database).close()
    assert run("--db", pg_database, "stats", "--json")[0] == 0

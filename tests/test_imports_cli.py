"""`custdesk import` remembering a confirmed mapping, and `custdesk imports` (runs, mappings,
forget), run as a user would through the command line (CliRunner) on a real store file."""
from __future__ import annotations

import json

from click.testing import CliRunner

from cli.main import cli
from store import Store

HEADER = "Kundennr,Vorname,Nachname,Mail,Bemerkung X\n"
MAPS = ("--map", "Kundennr=external_id", "--map", "Bemerkung X=notes")


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="custdesk")
    return result.exit_code, result.stdout, result.stderr


def month(tmp_path, name, rows, header=HEADER):
    path = tmp_path / name
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def test_a_monthly_file_imported_twice_takes_the_remembered_mapping(store_path, tmp_path):
    jan = month(tmp_path, "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"])
    code, out, err = run("--db", store_path, "import", jan, "--into", "private", *MAPS)
    assert code == 0, err
    assert "mapping remembered for the next file with these headers" in out
    feb = month(tmp_path, "feb.csv", ["K2,Alan,Turing,alan@example.org,new customer\n"])
    dry_code, dry, _ = run("--db", store_path, "import", feb, "--into", "private", "--dry-run")
    assert dry_code == 0 and "mapping remembered from jan.csv (" in dry
    code, out, err = run("--db", store_path, "import", feb, "--into", "private")
    assert code == 0, err
    assert "feb.csv: mapping remembered from jan.csv (" in out and "(ignore it with --no-remembered-mapping)" in out
    assert "  Bemerkung X → notes (remembered)" in out and "mapping remembered for the next file" not in out
    with Store(store_path) as store:
        alan = next(c for c in store.customers() if c["email"] == "alan@example.org")
        assert (alan["external_id"], alan["notes"]) == ("K2", "new customer")
    # --json: the counts stay one object on stdout; the remembered mapping is said on stderr.
    mar = month(tmp_path, "mar.csv", ["K3,Grace,Hopper,grace@example.org,\n"])
    code, out, err = run("--db", store_path, "import", mar, "--into", "private", "--json")
    assert code == 0 and json.loads(out)["created"] == 1 and "mar.csv: mapping remembered from jan.csv (" in err

    code, out, _ = run("--db", store_path, "imports")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].startswith("#3 ") and "mar.csv into private, create by email: 1 created, 0 updated, 0 skipped, 0 errors" in lines[0]
    assert lines[2].endswith("undo: custdesk undo --entry 1")
    runs = json.loads(run("--db", store_path, "imports", "--json")[1])
    assert [(r["id"], r["file"], r["undo"], r["counts"]["created"]) for r in runs] == [
        (3, "mar.csv", "undoable", 1), (2, "feb.csv", "undoable", 1), (1, "jan.csv", "undoable", 1)]
    assert {"sheet", "target", "mode", "key", "user", "at", "mapping"} <= set(runs[0])


def test_ignore_forget_and_explicit_mapping_wins(store_path, tmp_path):
    jan = month(tmp_path, "jan.csv", ["K1,Ada,Lovelace,ada@example.org,vip\n"])
    assert run("--db", store_path, "import", jan, "--into", "private", *MAPS)[0] == 0
    feb = month(tmp_path, "feb.csv", ["Turing,K2,alan@example.org,Alan,x\n"], header="Nachname,KUNDENNR,mail,Vorname,Bemerkung X\n")
    code, out, _ = run("--db", store_path, "import", feb, "--into", "private", "--dry-run", "--no-remembered-mapping")
    assert code == 0 and "remembered" not in out and "  KUNDENNR → external_id" not in out
    code, out, _ = run("--db", store_path, "import", feb, "--into", "private", "--dry-run", "--map", "Bemerkung X=-")
    assert "mapping remembered from jan.csv" in out  # the same headers in another order
    assert "  Bemerkung X → (kept in the raw row only)" in out and "  KUNDENNR → external_id (remembered)" in out

    code, out, _ = run("--db", store_path, "imports", "mappings", "--json")
    [mapping] = json.loads(out)
    assert mapping["file"] == "jan.csv" and mapping["columns"]["Bemerkung X"] == "notes" and mapping["target"] == "private"
    code, out, _ = run("--db", store_path, "imports", "mappings")
    assert out.splitlines()[0].startswith(f"{mapping['id']} into private: mapping remembered from jan.csv (")
    assert "  Bemerkung X → notes" in out
    code, out, _ = run("--db", store_path, "imports", "forget", mapping["id"])
    assert code == 0 and out.startswith(f"forgot {mapping['id']}, the mapping remembered from jan.csv")
    assert json.loads(run("--db", store_path, "imports", "mappings", "--json")[1]) == []
    code, out, _ = run("--db", store_path, "import", feb, "--into", "private", "--dry-run")
    assert "remembered" not in out
    code, _, err = run("--db", store_path, "imports", "forget", mapping["id"])
    assert code == 2 and err.strip() == f"custdesk: no remembered mapping '{mapping['id']}' (custdesk imports mappings lists them)"


def test_hostile_headers_do_not_break_the_listings(store_path, tmp_path):
    long = "N" * 20_000
    path = tmp_path / "evil.csv"
    path.write_text(f'"\x1b]52;c;aGk=\x07Kundennr","{long}",Mail,"[red]Name[/red]"\nK1,x,ada@example.org,Ada Lovelace\n',
                    encoding="utf-8")
    code, out, err = run("--db", store_path, "import", path, "--into", "private", "--map", f"{long}=notes",
                         "--map", "[red]Name[/red]=full_name")
    assert code == 0, err
    assert "\x1b" not in out
    code, out, _ = run("--db", store_path, "imports", "mappings")
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert max(len(line) for line in out.splitlines()) < 400 and "[red]Name[/red] → full_name" in out
    [mapping] = json.loads(run("--db", store_path, "imports", "mappings", "--json")[1])
    assert mapping["columns"][long] == "notes"
    code, out, _ = run("--db", store_path, "import", path, "--into", "private", "--dry-run")
    assert "mapping remembered from evil.csv" in out

"""`custdesk import` and `custdesk template` exactly as SPEC §4 has them."""
import json

from helpers import contents, custdesk, run_python
from openpyxl import load_workbook

from store import Store

KEYS = {"rows", "created", "updated", "unchanged", "skipped", "errors", "warnings", "duplicates", "queued"}




def test_import_json_and_dry_run(store_path, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("Name,Email\nAda Lovelace,ada@example.com\nGrace Hopper,grace@example.com\n")
    dry = custdesk("--db", store_path, "import", f, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "skipped": 0,
                                      "errors": 0, "warnings": 0, "duplicates": 0, "queued": 0}
    assert Store(store_path).stats()["sources"] == 0
    real = custdesk("--db", store_path, "import", f, "--into", "private")
    assert real.returncode == 0 and "2 new" in real.stdout and "custdesk undo --entry" in real.stdout
    assert "  Name → full_name" in real.stdout and "  Email → email" in real.stdout
    again = custdesk("--db", store_path, "import", f, "--into", "private", "--json")
    assert json.loads(again.stdout)["skipped"] == 2


def test_row_errors_exit_1_and_write_nothing(store_path, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("Name,Email\nAda,broken\nGrace,grace@example.com\n")
    out = tmp_path / "errors.csv"
    with Store(store_path) as s:
        before = contents(s)
    result = custdesk("--db", store_path, "import", f, "--json", "--errors", out)
    assert result.returncode == 1
    assert set(json.loads(result.stdout)) == KEYS and json.loads(result.stdout)["errors"] == 1
    assert "row,column,value,message,severity" in out.read_text(encoding="utf-8-sig")
    with Store(store_path) as s:
        assert contents(s) == before
    human = custdesk("--db", store_path, "import", f)
    assert human.returncode == 1 and "row 2, Email: 'broken' is not a valid email address" in human.stderr
    assert "nothing written" in human.stderr
    skip = custdesk("--db", store_path, "import", f, "--skip-invalid", "--json")
    assert skip.returncode == 0
    with Store(store_path) as s:
        assert [p["email"] for p in s.sources()] == ["grace@example.com"]


def test_unreadable_file_and_usage_errors_exit_2_with_one_line(store_path, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for args, message in ([(empty,), "the file is empty"], [(tmp_path / "missing.csv",), "no such file"],
                          [(empty, "--map", "broken"), 'write it as "Header=field"'],
                          [(empty, "--mode", "replace"), "Invalid value for '--mode'"]):
        result = custdesk("--db", store_path, "import", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


def test_undo_reverts_an_import(store_path, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("Name,Email\nAda Lovelace,ada@example.com\n")
    custdesk("--db", store_path, "import", f)
    result = custdesk("--db", store_path, "undo", "--entry", "1")
    assert result.returncode == 0 and "undid #1: Imported p.csv into sources" in result.stdout
    assert Store(store_path).stats()["sources"] == 0
    assert custdesk("--db", store_path, "undo").returncode == 2


def test_templates_reimport_cleanly(store_path, tmp_path):
    for target in ("sources", "corporate", "private"):
        for suffix in ("csv", "xlsx"):
            out = tmp_path / f"{target}.{suffix}"
            made = custdesk("template", out, "--into", target)
            assert made.returncode == 0, made.stderr
            result = custdesk("--db", store_path, "import", out, "--into", target, "--dry-run", "--json")
            assert result.returncode == 0, (target, suffix, result.stderr)
            counts = json.loads(result.stdout)
            assert (counts["rows"], counts["created"], counts["errors"], counts["warnings"]) == (1, 1, 0, 0), (target, suffix)
    sheet = load_workbook(tmp_path / "corporate.xlsx").active
    assert sheet["A1"].value == "Company *" and sheet["A1"].font.bold
    assert custdesk("template", tmp_path / "t.pdf").returncode == 2


def test_importers_do_not_load_textual():
    result = run_python("import sys, importers, importers.templates\nassert 'textual' not in sys.modules")
    assert result.returncode == 0, result.stderr

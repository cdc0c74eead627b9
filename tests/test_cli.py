"""The command line: stats, demo, export, and its errors."""
import csv
import json

from helpers import custdesk, person
from openpyxl import load_workbook

from store import Store


def test_stats_json_on_an_empty_store(store_path):
    Store(store_path).close()
    result = custdesk("--db", str(store_path), "stats", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"customers": 0, "active": 0, "inactive": 0,
                                         "corporate": 0, "private": 0, "sources": 0}


def test_a_mistyped_command_is_told_the_commands_it_may_mean(tmp_path):
    """The commands load when they run; their names are known before (help, "Did you mean")."""
    result = custdesk("--db", tmp_path / "none.json", "imp")
    assert result.returncode == 2
    assert "No such command 'imp'. (Did you mean one of: 'import', 'imports'?)" in result.stderr
    assert "  import      Import customers or prospects" in custdesk("--help").stdout


def test_db_from_the_environment(store_path):
    with Store(store_path) as s:
        s.add_customer("private", person(1))
    result = custdesk("stats", "--json", env={"CUSTDESK_DB": str(store_path)})
    assert json.loads(result.stdout)["customers"] == 1


def test_demo_builds_a_realistic_store(store_path):
    result = custdesk("--db", str(store_path), "demo", "--customers", "300", "--no-tui")
    assert result.returncode == 0, result.stderr
    with Store(store_path) as s:
        stats = s.stats()
        assert stats["customers"] == 300 and stats["corporate"] > 30 and stats["private"] > 100
        assert stats["inactive"] > 0 and stats["sources"] == 30
        customers = list(s.customers())
        assert {c["country"] for c in customers} >= {"DE", "TR", "US"}
        corporate = [c for c in customers if c["kind"] == "corporate"]
        assert all(s.children(c["id"], "departments") and s.children(c["id"], "contacts") for c in corporate)
        kinds_with_history = {t for c in customers for t, n in s.related_counts(c["id"]).items() if n}
        assert {"orders", "invoices", "tasks", "conversations"} <= kinds_with_history
        assert any(c.get("tags") for c in customers)
        assert all(p["origin"]["file"] and p["raw"] for p in s.sources())
    again = custdesk("--db", str(store_path), "demo", "--no-tui")
    assert again.returncode == 2 and "already holds data" in again.stderr


def test_export_defuses_formulas_and_logs_on_each_customer(store_path, tmp_path):
    with Store(store_path) as s:
        s.add_customer("private", person(1, first_name="=HYPERLINK(\"http://x\")", notes="@SUM(A1)", city="-2+3"))
        s.add_customer("private", person(2))
    out_csv, out_xlsx, out_vcf = tmp_path / "c.csv", tmp_path / "c.xlsx", tmp_path / "c.vcf"
    for out in (out_csv, out_xlsx, out_vcf):
        result = custdesk("--db", str(store_path), "export", str(out))
        assert result.returncode == 0, result.stderr
        assert "exported 2 customers" in result.stdout
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig")))
    assert rows[0]["first_name"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["notes"] == "'@SUM(A1)" and rows[0]["city"] == "'-2+3"
    assert rows[1]["email"] == "ada2@example.com"
    sheet = load_workbook(out_xlsx).active
    cells = [c.value for c in sheet[2]]
    assert "=HYPERLINK(\"http://x\")" in cells and sheet.cell(1, 1).value == "number"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    vcf = out_vcf.read_text()
    assert vcf.count("BEGIN:VCARD") == 2 and "EMAIL:ada2@example.com" in vcf
    with Store(store_path) as s:
        logged = s.children(1, "exports")
        assert [e["format"] for e in logged] == ["csv", "xlsx", "vcf"]


def test_errors_are_one_line_and_exit_2(store_path, tmp_path):
    Store(store_path).close()
    bad_format = custdesk("--db", str(store_path), "export", str(tmp_path / "c.pdf"))
    assert bad_format.returncode == 2
    assert bad_format.stderr.strip().splitlines() == [f"custdesk: {tmp_path / 'c.pdf'}: cannot export to '.pdf'; use .csv, .xlsx or .vcf"]
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\xff\xfe not json")
    corrupt = custdesk("--db", str(junk), "stats")
    assert corrupt.returncode == 2 and len(corrupt.stderr.strip().splitlines()) == 1
    assert "not a custdesk store" in corrupt.stderr and "Traceback" not in corrupt.stderr
    usage = custdesk("--db", str(store_path), "frobnicate")
    assert usage.returncode == 2

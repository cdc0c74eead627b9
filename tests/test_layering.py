"""The core never imports the UI (DESIGN.md, convention 1)."""
from helpers import run_python


def test_store_does_not_load_textual():
    code = ("import sys, store, importers.demo, exporters.customers, store.rules.validation\n"
            "assert 'textual' not in sys.modules, 'store imported textual'")
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_help_loads_no_heavy_library():
    """`custdesk --help` (and any command's help) answers before polars, faker or Textual load."""
    code = ("import sys\nfrom cli import main\nsys.argv = ['custdesk', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = {'polars', 'faker', 'phonenumbers', 'textual', 'openpyxl'} & set(sys.modules)\n"
            "assert not heavy, sorted(heavy)")
    for args in (["--help"], ["import", "--help"], ["mail", "send", "--help"]):
        result = run_python(code, *args)
        assert result.returncode == 0, result.stderr


def test_opening_the_app_loads_no_library_only_writes_need():
    """The first screen waits for neither openpyxl (export), Jinja2 (templates), rapidfuzz
    (duplicates) nor Faker (obfuscation): they load when first used."""
    code = ("import sys\nimport tui.app\n"
            "late = {'openpyxl', 'jinja2', 'rapidfuzz', 'faker'} & set(sys.modules)\n"
            "assert not late, sorted(late)")
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_a_file_synced_already_loads_no_rule_library(tmp_path):
    """A sync that finds its file synced already judges no value: the store opens, and the
    answer comes, without phonenumbers, email-validator or nameparser (each loads at the
    first value it judges)."""
    from helpers import custdesk

    export, store = tmp_path / "Contacts.csv", tmp_path / "custdesk.json"
    export.write_text("*ContactName,AccountNumber,EmailAddress,PhoneNumber,POCountry\n"
                      "Konto GmbH,A-1,konto@example.de,030 1234567,DE\nAda Lovelace,A-2,ada@example.com,,GB\n")
    assert custdesk("--db", store, "sync", export).returncode == 0
    code = ("import sys\nfrom cli import main\nsys.argv = ['custdesk', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
            "loaded = {'phonenumbers', 'email_validator', 'nameparser'} & set(sys.modules)\n"
            "assert not loaded, sorted(loaded)")
    result = run_python(code, "--db", str(store), "sync", str(export))
    assert result.returncode == 0, result.stderr
    assert "synced already" in result.stdout

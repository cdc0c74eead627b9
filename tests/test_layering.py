"""The core never imports the UI (DESIGN.md, convention 1)."""
from helpers import run_python


def test_store_does_not_load_textual():
    code = ("import sys, store, importers.demo, exporters.customers, store.rules.validation\n"
            "assert 'textual' not in sys.modules, 'store imported textual'")
    result = run_python(code)
    assert result.returncode == 0, result.stderr

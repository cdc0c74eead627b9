"""Exports show every value as typed: a phone keeps its `+` with no apostrophe; a CSV cell a
spreadsheet would run gets one; a workbook holds text cells, never a formula."""
from __future__ import annotations

import csv
import io
import re

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from international import people
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from exporters.customers import COLUMNS, export_customers, write_csv, write_xlsx
from store import StoreError

PAYLOADS = ("=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+1+1", "-2+3", "+A1", "-cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1", "=1")
# A workbook would read these as error values; a CSV cell shows them as typed.
ERRORS = ("#N/A", "#REF!")
PHONES = ("+4930123456", "+44 20 7946 0958", "+1 (555) 010-9999", "+90 216 444 55 66", "+33.1.42.68.53.00", "-12.5",
          "+49/30/1234-567", "0216 444 55 66")


def _would_run(text: str) -> bool:
    """What Excel/LibreOffice run in a CSV cell: = @ tab CR first, or a sign before anything but a number."""
    if text[:1] in ("=", "@", "\t", "\r"):
        return True
    return text[:1] in ("+", "-") and re.search(r"[^0-9 ./()\-]", text[1:]) is not None


def _csv_cells(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))[1:]


def _workbook_cells(path) -> list[list[tuple[object, str]]]:
    """(value, data type) of each cell below the header, as openpyxl reads them."""
    sheet = load_workbook(path).active
    return [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows(min_row=2)]


def _calamine_cells(path) -> list[list[str]]:
    """The cells as the importer's reader (calamine) reads them, which undoes OOXML's _xHHHH_ escapes."""
    grid = pl.read_excel(path, engine="calamine", has_header=False, infer_schema_length=0, drop_empty_rows=False)
    return [[v or "" for v in row] for row in grid.slice(1).iter_rows()]


def test_phones_of_every_country_leave_in_csv_and_xlsx_exactly_as_stored(store, tmp_path):
    for n, p in enumerate(people(21)):
        store.add_customer("private", {"first_name": p.first, "last_name": p.last, "email": p.email, "phone": p.phone,
                                       "mobile": p.phone_truth, "country": p.region, "notes": f"call {n}"})
    stored = {c["number"]: (c["phone"], c["mobile"]) for c in store.customers()}
    assert len({p for p, _ in stored.values()} | {m for _, m in stored.values()}) >= 21
    assert all(p.startswith("+") for pair in stored.values() for p in pair)
    export_customers(store, tmp_path / "c.csv")
    export_customers(store, tmp_path / "c.xlsx")
    number, phone, mobile = COLUMNS.index("number"), COLUMNS.index("phone"), COLUMNS.index("mobile")
    from_csv = {row[number]: (row[phone], row[mobile]) for row in _csv_cells(tmp_path / "c.csv")}
    from_xlsx = {row[number][0]: (row[phone][0], row[mobile][0]) for row in _workbook_cells(tmp_path / "c.xlsx")}
    assert from_csv == stored and from_xlsx == stored
    assert all(t == "s" for row in _workbook_cells(tmp_path / "c.xlsx") for v, t in row if v is not None)


def test_formula_payloads_are_defused_in_csv_and_inert_text_in_xlsx(store, tmp_path):
    customer = store.add_customer("private", {"first_name": "=HYPERLINK(\"http://x\")", "last_name": "-2+3",
                                              "email": "eve@example.com", "notes": "@SUM(A1)", "city": "+A1"})
    export_customers(store, tmp_path / "c.csv")
    export_customers(store, tmp_path / "c.xlsx")
    (row,) = _csv_cells(tmp_path / "c.csv")
    got = {col: row[COLUMNS.index(col)] for col in ("first_name", "last_name", "notes", "city", "phone")}
    assert got == {"first_name": "'=HYPERLINK(\"http://x\")", "last_name": "'-2+3", "notes": "'@SUM(A1)", "city": "'+A1",
                   "phone": ""}
    (cells,) = _workbook_cells(tmp_path / "c.xlsx")
    for col in ("first_name", "last_name", "notes", "city"):
        assert cells[COLUMNS.index(col)] == (customer[col], "s")


@pytest.mark.parametrize("text", PAYLOADS + ERRORS + PHONES)
def test_each_payload_is_defused_only_when_a_spreadsheet_would_run_it(tmp_path, text):
    write_csv(tmp_path / "c.csv", [[[text] * len(COLUMNS)]])
    write_xlsx(tmp_path / "c.xlsx", [[[text] * len(COLUMNS)]])
    (row,) = _csv_cells(tmp_path / "c.csv")
    assert row[0] == ("'" + text if text in PAYLOADS else text)
    (cells,) = _workbook_cells(tmp_path / "c.xlsx")
    assert {(unescape(v), t) for v, t in cells} == {(text, "s")}


def test_a_cell_longer_than_a_workbook_holds_is_refused_not_cut(tmp_path):
    with pytest.raises(StoreError, match=r"customer K-1's notes holds 32,768 characters, more than a workbook cell holds \(32,767\)"):
        write_xlsx(tmp_path / "c.xlsx", [[["K-1"] + [""] * (len(COLUMNS) - 2) + ["n" * 32_768]]])
    assert not (tmp_path / "c.xlsx").exists()


def _row(text: str) -> list[str]:
    """A customer numbered K-1 with `text` in every other column."""
    return ["K-1"] + [text] * (len(COLUMNS) - 1)


def test_characters_no_xml_holds_reach_a_workbook_as_symbols(tmp_path):
    write_xlsx(tmp_path / "c.xlsx", [[_row("a\x07b\ufffe\uffff")]])
    ((_, (value, kind), *_),) = _workbook_cells(tmp_path / "c.xlsx")
    assert (value, kind) == ("a␇b\ufffd\ufffd", "s")


# Text a store can hold but what XML cannot (C0 controls other than tab and line breaks, U+FFFE/U+FFFF).
TEXT = st.text(st.characters(exclude_categories=("Cs",),
                             exclude_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"]),
               max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
@example(text="_x0041_")
@example(text="a\r\nb\rc")
@example(text="=1+1")
@example(text="#DIV/0!")
@example(text=" ")
def test_any_text_reads_back_from_xlsx_identical_and_never_as_a_formula(tmp_path, text):
    write_xlsx(tmp_path / "p.xlsx", [[_row(text)]])
    ((number, *cells),) = _workbook_cells(tmp_path / "p.xlsx")
    assert number == ("K-1", "s") and all(t == "s" for v, t in cells if v is not None)
    assert {unescape(v or "") for v, _ in cells} == {text}
    if text.strip():  # (calamine reads a cell of spaces alone as empty)
        assert _calamine_cells(tmp_path / "p.xlsx") == [_row(text)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(TEXT, st.sampled_from(PAYLOADS + ERRORS + PHONES),
                      st.tuples(st.sampled_from("=+-@\t\r"), TEXT).map("".join)))
def test_any_text_reads_back_from_csv_identical_or_defused_only_when_it_would_run(tmp_path, text):
    write_csv(tmp_path / "p.csv", [[_row(text)]])
    assert _csv_cells(tmp_path / "p.csv") == [_row("'" + text if _would_run(text) else text)]

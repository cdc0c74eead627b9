"""Hostile and odd files: each is read, or refused in one line naming the file; never a crash,
never a row lost or two rows merged. Property-based: any bytes, any workbook, any cell text."""
from __future__ import annotations

import os
import zipfile

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from importers import UnreadableFile, plan_import, read_table
from importers.limits import MAX_CELL_CHARS
from store import Store, StoreError


def test_a_lone_cr_ends_a_row_as_a_newline_does(store, tmp_path):
    f = tmp_path / "mac.csv"
    f.write_bytes(b"Name,Email\rAda,ada@example.com\rGrace,grace@example.com\r\nAlan,alan@example.com\n")
    table = read_table(f)
    assert table.frame["Name"].to_list() == ["Ada", "Grace", "Alan"]
    assert plan_import(store, table).counts()["created"] == 3


def test_a_quoted_line_break_stays_in_its_cell(tmp_path):
    f = tmp_path / "notes.csv"
    f.write_bytes(b'Name,Email,Notes\r\nAda,ada@example.com,"first\rsecond"\r\nAlan,alan@example.com,x\r\n')
    table = read_table(f)
    assert table.frame["Notes"].to_list() == ["first\nsecond", "x"] and not table.ragged


def test_a_cell_over_the_limit_is_refused_in_one_line(tmp_path):
    f = tmp_path / "huge.csv"
    f.write_text("Name,Email\nAda," + "x" * 200_000 + "\n")
    with pytest.raises(UnreadableFile, match=rf"huge.csv: column 'Email' holds a cell over {MAX_CELL_CHARS:,} characters"):
        read_table(f)


def test_a_header_named_like_an_internal_column_is_kept_apart(store, tmp_path):
    f = tmp_path / "index.csv"
    f.write_text("_index,Name,Email\n7,Ada,ada@example.com\n")
    table = read_table(f)
    assert "_index (2)" in table.columns and table.frame["_index (2)"].to_list() == ["7"]
    assert plan_import(store, table).counts()["created"] == 1


@pytest.mark.parametrize("make,message", [
    (lambda p: p.mkdir(), "is a folder, not a file"),
    (os.mkfifo, "is not a regular file"),
])
def test_what_is_not_a_file_says_what_it_is(tmp_path, make, message):
    path = tmp_path / "x.csv"
    make(path)
    with pytest.raises(UnreadableFile, match=message):
        read_table(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_says_so(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("Name,Email\nAda,ada@example.com\n")
    path.chmod(0)
    with pytest.raises(UnreadableFile, match="permission denied"):
        read_table(path)


def _xlsx_with(path, sheet_xml: bytes, shared: bytes | None = None):
    """A minimal workbook written by hand, to say what no spreadsheet program would."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                      b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                      b'<Default Extension="xml" ContentType="application/xml"/>'
                      b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                      b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      + (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>' if shared else b"")
                      + b"</Types>")
        book.writestr("_rels/.rels", b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                      b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels", b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                      + (b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>' if shared else b"")
                      + b"</Relationships>")
        book.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared:
            book.writestr("xl/sharedStrings.xml", shared)
    return path


def test_a_workbook_claiming_a_cell_at_the_last_row_and_column_is_refused_before_parsing(tmp_path):
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
             b'</sheetData></worksheet>')
    path = _xlsx_with(tmp_path / "bomb.xlsx", sheet)
    assert path.stat().st_size < 4096
    with pytest.raises(UnreadableFile, match=r"bomb.xlsx: a sheet spans A1:XFD1048576: 1,048,576 rows × 16,384 columns"):
        read_table(path)


def test_a_workbook_holding_one_huge_string_is_refused_before_parsing(tmp_path):
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>')
    shared = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
              + b"A" * 5_000_000 + b"</t></si></sst>")
    path = _xlsx_with(tmp_path / "string.xlsx", sheet, shared)
    assert path.stat().st_size < 100_000  # compresses to almost nothing
    with pytest.raises(UnreadableFile, match="string.xlsx: a cell holds over 32,767 characters"):
        read_table(path)


# -- any input: a table or a one-line refusal, and a plan or a StoreError --------------------
def _read_and_plan(store: Store, path) -> None:
    try:
        table = read_table(path)
    except UnreadableFile as refusal:
        assert str(refusal).startswith(str(path)) and "\n" not in str(refusal)
        return
    try:
        plan_import(store, table)
    except StoreError as refusal:
        assert "\n" not in str(refusal)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
@example(b'""\x01",\x01')  # a header the csv module and polars split apart
@example(b'""\x01",\x01\nAda,ada@example.com\n')
def test_any_bytes_as_a_csv(store, tmp_path, data):
    path = tmp_path / "any.csv"
    path.write_bytes(data)
    _read_and_plan(store, path)


cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell_text, min_size=1, max_size=6), min_size=1, max_size=8),
       st.sampled_from([",", ";", "\t", "|"]), st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_table_as_a_csv_keeps_its_rows(store, tmp_path, rows, delimiter, line_end):
    import csv
    import io
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=line_end).writerows(rows)
    path = tmp_path / "table.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    _read_and_plan(store, path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(alphabet="abcé xyz\r\n,\"", min_size=1, max_size=12),
                          st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True)), min_size=1, max_size=12),
       st.sampled_from(["\n", "\r\n", "\r"]))
def test_every_row_of_a_customer_file_is_read_whatever_its_line_ends(tmp_path, people, line_end):
    import csv
    import io
    buffer = io.StringIO(newline="")
    # Quoted cells, as spreadsheet programs write them (an unquoted lone CR is a row end, as in Excel).
    writer = csv.writer(buffer, lineterminator=line_end, quoting=csv.QUOTE_ALL)
    writer.writerow(["Name", "Email"])
    writer.writerows(people)
    path = tmp_path / "people.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    table = read_table(path)
    # Quoted line breaks stay in their cell (a CR inside a cell becomes a newline); no row is merged or split.
    assert table.frame["Email"].to_list() == [email for _, email in people]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                                   cell_text.map(lambda t: "".join(c for c in t if c.isprintable()))),
                         min_size=1, max_size=5), min_size=1, max_size=6),
       st.integers(0, 5), st.integers(0, 3))
def test_any_workbook_shape(store, tmp_path, rows, skip_rows, skip_cols):
    book = Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1 + skip_rows):
        for c, value in enumerate(row, start=1 + skip_cols):
            sheet.cell(row=r, column=c, value=value)
    path = tmp_path / "any.xlsx"
    book.save(path)
    _read_and_plan(store, path)


def test_a_file_mixing_utf8_with_windows_1252_is_refused_not_garbled(tmp_path):
    f = tmp_path / "mixed.csv"
    f.write_bytes("Name,Email\nJürgen,j@example.com\n".encode() + "Müller,m@example.com\n".encode("cp1252"))
    with pytest.raises(UnreadableFile, match=r"mixed.csv: mixes UTF-8 with another encoding \(row 3 is not UTF-8\)"):
        read_table(f)


def test_shift_jis_is_refused_and_western_typography_in_1252_is_not(tmp_path):
    from faker import Faker
    fake = Faker("ja_JP")
    fake.seed_instance(4)
    japanese = tmp_path / "japan.csv"
    japanese.write_bytes(("Name,Email\n" + "".join(f"{fake.name()},p{i}@example.jp\n" for i in range(5))).encode("shift_jis"))
    with pytest.raises(UnreadableFile, match="unknown text encoding"):
        read_table(japanese)
    western = tmp_path / "west.csv"
    text = "Name,Email,Notes\nJosé Müller,jose@example.es,don’t “quote” – … €5\n"
    western.write_bytes(text.encode("cp1252"))
    assert read_table(western).frame["Notes"].to_list() == ["don’t “quote” – … €5"]


def test_a_hidden_sheet_is_imported_only_when_named(tmp_path):
    book = Workbook()
    hidden = book.active
    hidden.title, hidden.sheet_state = "Old", "hidden"
    hidden.append(["Name", "Email"])
    hidden.append(["Ghost", "ghost@example.com"])
    shown = book.create_sheet("Kunden")
    shown.append(["Name", "Email"])
    shown.append(["Ada", "ada@example.com"])
    book.save(tmp_path / "book.xlsx")
    table = read_table(tmp_path / "book.xlsx")
    assert table.sheet == "Kunden" and table.frame["Name"].to_list() == ["Ada"]
    assert read_table(tmp_path / "book.xlsx", "Old").frame["Name"].to_list() == ["Ghost"]
    for row in shown.iter_rows():  # the visible sheet emptied: the data is only in the hidden one
        for cell in row:
            cell.value = None
    book.save(tmp_path / "only-hidden.xlsx")
    with pytest.raises(UnreadableFile, match=r"any visible sheet holds no data \(hidden sheets: Old; name one with --sheet\)"):
        read_table(tmp_path / "only-hidden.xlsx")


@pytest.mark.parametrize("header", ["*", "^.*$", "^()()$"])
def test_a_header_polars_would_read_as_a_pattern_is_one_column(store, tmp_path, header):
    f = tmp_path / "pattern.csv"
    f.write_text(f"Name,Email,{header}\nAda,ada@example.com,4111 1111 1111 1111\n")
    table = read_table(f)
    assert f"{header} (2)" in table.columns
    plan = plan_import(store, table)
    assert [i.column for i in plan.issues] == [f"{header} (2)"]  # the card number in that column, and only there


def test_a_file_wider_than_a_customer_file_is_refused(tmp_path):
    f = tmp_path / "wide.csv"
    f.write_text(",".join(f"c{i}" for i in range(2500)) + "\n" + ",".join("x" for _ in range(2500)) + "\n")
    with pytest.raises(UnreadableFile, match="wide.csv: 2,500 columns, more than a customer file has"):
        read_table(f)


def test_a_file_the_user_may_not_read_says_so_even_for_root(tmp_path, monkeypatch):
    path = tmp_path / "secret.csv"
    path.write_text("Name,Email\nAda,ada@example.com\n")
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    with pytest.raises(UnreadableFile, match="secret.csv: cannot be read \\(permission denied\\)"):
        read_table(path)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet='ab ;"\n', max_size=5), min_size=0, max_size=6), min_size=1, max_size=10),
       st.booleans())
def test_ragged_rows_found_line_by_line_are_those_the_csv_module_finds(records, quote_all):
    import csv
    import io

    from importers.reading import _ragged_records, _ragged_rows

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n",
               quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows([["h1", "h2", "h3"], *records])
    body = buffer.getvalue()
    assert _ragged_rows(body, ";", 3, 1) == _ragged_records(body, ";", 3, 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet='ab ;"', max_size=8), min_size=1, max_size=10))
@example(['ab"x;y"cd;e;f'])  # a quote inside an unquoted field is text: 4 fields, not 3
def test_ragged_rows_of_malformed_lines_are_those_the_csv_module_finds(lines):
    from importers.reading import _ragged_records, _ragged_rows

    body = "h1;h2;h3\n" + "\n".join(lines)  # quotes in the middle of fields, unclosed, across lines
    assert _ragged_rows(body, ";", 3, 1) == _ragged_records(body, ";", 3, 1)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='ab ;"\n', min_size=1, max_size=80), st.integers(1, 4))
@example('"h\n1";h2\n"x\ny";"\n"\na"b;c\n"d;e\n', 2)  # records across lines, a quote that is text, then one that opens
@example('h1;h2\na;"b\nc;d', 2)  # a quote left open to the end of the file
def test_ragged_rows_of_any_text_are_those_the_csv_module_finds(body, width):
    from unittest.mock import patch

    from importers import reading

    expected = reading._ragged_records(body, ";", width, 4)
    for at_once in (reading.LINES_AT_ONCE, 1, 5):  # (a large file's lines are split a part at a time)
        with patch.object(reading, "LINES_AT_ONCE", at_once):
            assert reading._ragged_rows(body, ";", width, 4) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(cell_text, min_size=1, max_size=5),
       st.lists(st.lists(cell_text, min_size=5, max_size=5), min_size=1, max_size=6))
@example(["*", "^a$", "", "E-Mail", 'q"\\\x01'], [["x", "", "y\n\u2028", "", "z 😀"], ["", "", "", "", ""]])
def test_each_prospect_keeps_its_own_file_row_whatever_the_headers_and_cells(tmp_path_factory, headers, rows):
    """A prospect's raw row goes to the store as the file's cells and is written as text with
    its document: any header (a polars pattern, quotes, control characters, repeated, empty)
    and any cell come back as read, the empty ones left out, each on its own prospect."""
    import csv
    import io

    folder = tmp_path_factory.mktemp("raw")
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(
        [["E-Mail", *headers], *([f"p{n}@example.org", *cells[:len(headers)]] for n, cells in enumerate(rows))])
    path = folder / "leads.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    try:
        table = read_table(path)
    except UnreadableFile:
        return  # (refused in one line: the reading tests' concern)
    assume(table.columns[0] == "E-Mail")  # (another row taken for the header: the reading tests' concern)
    read = {int(r["_index"]) + table.header_row + 1: {c: r[c] for c in table.columns if r[c] != ""}
            for r in table.frame.iter_rows(named=True)}
    with Store(folder / "custdesk.json", user="tester") as store:
        plan = plan_import(store, table)
        if plan.writes():
            store.apply_batch(plan.batch())  # (rows with errors left out, as --skip-invalid)
        kept = {s["origin"]["row"]: s["raw"] for s in store.sources()}
    assert len(kept) == plan.counts()["created"] and all(raw == read[row] for row, raw in kept.items())

"""Any customer file to a table of text: encoding, delimiter, sheet, header row.

CSV/TSV go through `polars.read_csv`, spreadsheets through `polars.read_excel`
(calamine). Every cell is read as text, so postcodes and phone numbers keep
their leading zeros. Python's csv module only counts each record's fields,
which polars cannot report, to warn about rows longer or shorter than the
header.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from store.base.errors import UnreadableInput
from store.base.files import read_regular, size_text
from store.base.text import printable
from store.rules.validation import mask_cards

from . import encodings
from .limits import MAX_CELL_CHARS, MAX_FILE_BYTES, LimitExceeded, check_shape, check_xlsx
from .mapping import match_field

# Columns the importer adds to a file's own: a header of that name is renamed.
RESERVED_COLUMNS = frozenset({"_index"})
# The csv module refuses longer fields; what it refuses is refused, in one line.
csv.field_size_limit(MAX_CELL_CHARS + 1)

HEADER_SEARCH_ROWS = 20
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
DELIMITERS = (",", ";", "\t", "|")
LINES_AT_ONCE = 1 << 20  # characters of a text file split into lines at a time (`_lines`)

# The file cannot be read as a customer table; the message names the file. (The store's
# refusal of an unreadable file: a pipe, a device or a file too large is refused alike.)
UnreadableFile = UnreadableInput
# What names the files to import or sync in a refusal of their size.
WHAT = "a file to import"


@dataclass
class RaggedRow:
    row: int
    fields: int


@dataclass
class SheetData:
    """One table read from a file: unique column names and text cells."""

    path: Path
    columns: list[str]
    frame: pl.DataFrame
    header_row: int  # 1-based row of the header in the file or sheet
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    ragged: list[RaggedRow] = field(default_factory=list[Any])


def read_table(path: Path, sheet: str | None = None, *, data: bytes | None = None,
               encoding: str | None = None) -> SheetData:
    """Read a .csv/.tsv/.xlsx/.xls/.ods/.vcf file; raises UnreadableFile with a one-line reason.
    `data`: the file's bytes, read already (a sync hashes exactly what it reads). The file
    is read once, after its size was checked (`MAX_FILE_BYTES`); every parser reads those bytes.
    `encoding`: a text file's, when it is known (else it is detected)."""
    path = Path(path)
    if data is None:
        data = read_input(path)
    suffix = path.suffix.lower()
    try:
        if suffix in SHEET_SUFFIXES:
            if suffix in (".xlsx", ".xlsm"):
                check_xlsx(io.BytesIO(data))
            return _read_workbook(path, sheet, data)
        if sheet is not None:
            raise UnreadableFile(f"{path}: --sheet applies to spreadsheets, and this is a {suffix or 'text'} file")
        if suffix == ".vcf":
            from .vcard import read_vcards  # (it imports this module)

            return read_vcards(path, data)
        return _read_text(path, data, encoding)
    except MemoryError:
        raise UnreadableFile(f"{path}: {size_text(len(data))} is more than this machine's memory can read "
                             "at once; split the file") from None
    except LimitExceeded as err:
        raise UnreadableFile(f"{path}: {err}") from None
    except csv.Error as err:
        reason = (f"a cell holds over {MAX_CELL_CHARS:,} characters; not a customer file"
                  if "field larger than field limit" in str(err) else f"not a readable CSV file ({err})")
        raise UnreadableFile(f"{path}: {reason}") from None


def read_input(path: Path) -> bytes:
    """The bytes of a customer file, read once, after what it is and its size were looked at
    (a regular file of at most `MAX_FILE_BYTES`); else one line saying what it is instead."""
    return read_regular(path, MAX_FILE_BYTES, WHAT)


# -- text files -----------------------------------------------------------------
def decode(path: Path, raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was written in: `encoding` if given, else UTF-8 or UTF-16 (with a
    BOM, or UTF-16 without one), else the one European code page that reads it as plausible text
    (`importers.encodings`); a file no code page reads so, or several do differently, is refused."""
    if encoding is not None:
        return _decode_named(path, raw, encoding)
    if raw.startswith(codecs.BOM_UTF8):
        return _decode_as(path, raw[3:], "utf-8"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(path, raw, "utf-16"), "utf-16"
    if b"\x00" in raw[:4096]:
        return _decode_utf16_without_bom(path, raw)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        bad_at = err.start
    try:
        found = encodings.choose(raw)
    except encodings.EncodingUnknown as unknown:
        if any(_reads_as_utf8(word) for word in encodings.high_words(raw)):
            raise UnreadableFile(f"{path}: mixes UTF-8 with another encoding (row {_row_at(raw, bad_at)} is not UTF-8); "
                                 "save it all as UTF-8") from None
        row = _row_at(raw, raw.find(unknown.word)) if unknown.word else 1
        raise UnreadableFile(f"{path}: unknown text encoding ({printable(unknown.detail)}, row {row}); save it as UTF-8, "
                             f"or name its encoding with --encoding {_option_value(unknown.suggestion)}") from None
    return raw.decode(found), found


def _reads_as_utf8(word: bytes) -> bool:
    """Whether a word of a file that is not UTF-8 is UTF-8 on its own, and plausible so."""
    try:
        return encodings.word_flaw(word.decode("utf-8")) is None
    except UnicodeDecodeError:
        return False


def _decode_named(path: Path, raw: bytes, name: str) -> tuple[str, str]:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise UnreadableFile(f"{path}: --encoding {printable(name)} names no text encoding "
                             f"(e.g. {', '.join(_option_value(c) for c in encodings.CODE_PAGES[:4])})") from None
    named = encodings.title(codec)
    codec = "utf-8-sig" if codec == "utf-8" else codec  # (a BOM is no part of the first header)
    try:
        return raw.decode(codec), codec
    except UnicodeDecodeError as err:
        raise UnreadableFile(f"{path}: not {named}: row {_row_at(raw, err.start)} holds byte "
                             f"0x{raw[err.start]:02X}, which it does not define") from None
    except LookupError:  # a codec that is no text encoding (base64, rot13 …)
        raise UnreadableFile(f"{path}: --encoding {printable(name)} is not a text encoding") from None


def _decode_utf16_without_bom(path: Path, raw: bytes) -> tuple[str, str]:
    """UTF-16 without a BOM: ASCII text has every other byte zero (the second in little-endian); else binary."""
    head = raw[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    codec = "utf-16-le" if odd > len(head) // 4 and not even else "utf-16-be" if even > len(head) // 4 and not odd else None
    if codec is not None and len(raw) % 2 == 0:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            text = ""
        if text and not any(c < " " and c not in "\t\r\n" for c in text[:65536]) and \
                not any(encodings.word_flaw(w) for w in text[:65536].split() if not w.isascii()):
            return text, codec
    raise UnreadableFile(f"{path}: binary data, not a CSV file")


def _row_at(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, max(offset, 0)) + 1


def _option_value(encoding: str | None) -> str:
    """How --encoding names a code page ('windows-1250'), or NAME."""
    return encodings.title(encoding).lower() if encoding else "NAME"


def _decode_as(path: Path, raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise UnreadableFile(f"{path}: not {encodings.title(encoding)} although it starts with its byte order mark "
                             f"(row {_row_at(raw, err.start)}); save it as UTF-8") from None


def how_read(table: SheetData) -> str | None:
    """How a text file was read, as the import says it: "read as Windows-1250, ';'-separated"."""
    if table.encoding is None:
        return None
    separated = {None: "", "\t": ", tab-separated"}.get(table.delimiter, f", '{table.delimiter}'-separated")
    return f"read as {encodings.title(table.encoding)}{separated}"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number of fields."""
    sample = text[:65536]
    best, best_score = ",", (-1, 0)
    for delimiter in DELIMITERS:
        widths = [len(r) for r in _records(sample, delimiter, HEADER_SEARCH_ROWS) if any(c.strip() for c in r)]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    try:
        for record in reader:
            out.append(record)
            if limit is not None and len(out) >= limit:
                break
    except csv.Error:
        pass  # a sample may end inside a quoted field
    return out


def _read_text(path: Path, raw: bytes, encoding: str | None = None) -> SheetData:
    if not raw.strip():
        raise UnreadableFile(f"{path}: the file is empty")
    text, encoding = decode(path, raw, encoding)
    # Every reader splits rows at \n: a lone CR (old Mac files, some exports) or a
    # CRLF becomes \n first, so polars and the csv module see the same rows.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
    head = _records(text[:65536], delimiter, HEADER_SEARCH_ROWS)
    check_shape(max((len(r) for r in head), default=0), text.count("\n"))
    header_index = find_header(path, head)
    offset = _offset_of_record(text, delimiter, header_index)
    body = text[offset:]
    columns = unique_names(head[header_index])
    frame = _parse_body(path, body, delimiter, columns)
    ragged = _ragged_rows(body, delimiter, len(head[header_index]), header_index + 1)
    del text, body  # (up to 4 bytes a character: not held while the rows are finished)
    # The columns polars read the rows into (a header whose quotes the two parsers read
    # apart, '""\x01",\x01': one column to polars, two to the csv module).
    return _finish(SheetData(path, frame.columns, frame, header_index + 1, None, encoding, delimiter, ragged))


def _offset_of_record(text: str, delimiter: str, index: int) -> int:
    """Character offset where record `index` starts (records may span lines)."""
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in io.StringIO(text, newline=""):
            consumed += len(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    for _ in range(index):
        next(reader)  # the reader pulls no line beyond the record it returns
    return consumed


def _parse_body(path: Path, body: str, delimiter: str, columns: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_csv(body.encode("utf-8"), separator=delimiter, has_header=True, infer_schema=False,
                            truncate_ragged_lines=True, empty_string_is_null=False, quote_char='"')
    except pl.exceptions.PolarsError as err:
        raise UnreadableFile(f"{path}: not a readable CSV file ({str(err).splitlines()[0]})") from None
    frame.columns = columns[: frame.width] + [f"(column {i + 1})" for i in range(len(columns), frame.width)]
    return frame


def _ragged_rows(body: str, delimiter: str, width: int, header_row: int) -> list[RaggedRow]:
    """The records (after the header) whose number of fields is not the header's."""
    ends_with_newline = body.endswith("\n") or not body  # (the newline ending the last record starts no line)
    frame = _lines(body).to_frame().with_columns(
        pl.col("line").str.count_matches('"', literal=True).alias("quotes"),
        (pl.col("line").str.count_matches(delimiter, literal=True) + 1).alias("fields"))
    # A line continues the record before it while the quotes before it are odd in number (a
    # quoted field holds the line break). The records so read are taken only if the csv
    # module ends each quoted one where they do (`_quoted_ragged`): a quote inside an
    # unquoted field is text to it, and such a file is read by it whole instead.
    inside = (pl.col("quotes").cum_sum() - pl.col("quotes")) % 2 == 1
    frame = frame.with_columns((~inside).cum_sum().alias("record"), ((pl.col("quotes") > 0) | inside).alias("quoted"))
    quoted = frame.filter(pl.col("quoted"))
    last_open = not ends_with_newline and frame["quoted"][-1]  # (no line break to add after the file's last line)
    ragged = _quoted_ragged(quoted, delimiter, width, header_row, last_open) if quoted.height else []
    if ragged is None:
        return _ragged_records(body, delimiter, width, header_row)
    # A record without quotes is one line, its fields counted by its delimiters; a line that
    # does not add up is looked at closer (empty trailing fields are no loss).
    suspects = frame.filter(~pl.col("quoted") & (pl.col("record") > 1) & (pl.col("fields") != width) & (pl.col("line") != ""))
    ragged += [found for line, record in suspects.select("line", "record").iter_rows()
               for found in _ragged_records(line, delimiter, width, header_row + record - 2, skip_header=False)]
    return sorted(ragged, key=lambda found: found.row)


def _lines(body: str) -> pl.Series:
    """The lines of `body` (split at \\n; none after a last \\n), split `LINES_AT_ONCE`
    characters at a time: a million lines as str objects at once took 0.3 GB."""
    parts, start = [], 0
    while start < len(body):
        end = body.find("\n", start + LINES_AT_ONCE)
        end = len(body) if end < 0 else end + 1
        lines = body[start:end].split("\n")
        if lines[-1] == "":  # (the part ends with its last line's newline)
            lines.pop()
        parts.append(pl.Series("line", lines, dtype=pl.String))
        start = end
    return pl.concat(parts) if parts else pl.Series("line", [], dtype=pl.String)


def _quoted_ragged(quoted: pl.DataFrame, delimiter: str, width: int, header_row: int, last_open: bool) -> list[RaggedRow] | None:
    """The ragged ones of the records holding quotes ((line, record) of their lines, in order),
    read by the csv module; None if it ends any of them elsewhere than at its last line."""
    spans = quoted.group_by("record", maintain_order=True).len()
    lines = [line + "\n" for line in quoted["line"]]
    if last_open:
        lines[-1] = lines[-1][:-1]
    else:  # a line after the last record: read into it, were that record left open
        lines.append("\n")
    reader = csv.reader(lines, delimiter=delimiter)
    ragged, read = [], 0
    for record, count in spans.iter_rows():
        fields = next(reader, None)
        read += count
        if fields is None or reader.line_num != read:
            return None
        if record > 1 and _is_ragged(fields, width):
            ragged.append(RaggedRow(header_row + record - 1, len(fields)))
    return ragged if list(reader) == ([] if last_open else [[]]) else None


def _ragged_records(body: str, delimiter: str, width: int, header_row: int, *, skip_header: bool = True) -> list[RaggedRow]:
    ragged = []
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    if skip_header:
        next(reader, None)
    for index, record in enumerate(reader):
        if _is_ragged(record, width):
            ragged.append(RaggedRow(header_row + 1 + index, len(record)))
    return ragged


def _is_ragged(fields: list[str], width: int) -> bool:
    """Whether a record has not the header's fields (a blank line, or empty fields past them, are no loss)."""
    return len(fields) != width and bool(fields) and not (len(fields) > width and not any(fields[width:]))


# -- spreadsheets -----------------------------------------------------------------
def _read_workbook(path: Path, sheet: str | None, source: bytes) -> SheetData:
    import fastexcel  # (workbooks only: ~2 ms of every text file's import otherwise)

    try:
        reader = fastexcel.read_excel(source)
        names = reader.sheet_names
        hidden = {n for n in names if reader.load_sheet(n, n_rows=1, header_row=None).visible != "visible"}
    except Exception as err:  # fastexcel raises its own types for every kind of broken file
        raise UnreadableFile(f"{path}: not a readable {path.suffix.lower()} workbook ({_first_line(err)})") from None
    if sheet is not None and sheet not in names:
        raise UnreadableFile(f"{path}: no sheet named '{sheet}' (sheets: {', '.join(names)})")
    # A hidden sheet is read only when named: what the person does not see is not imported unasked.
    for name in [sheet] if sheet is not None else [n for n in names if n not in hidden]:
        # Blank rows are kept so that row numbers match what the spreadsheet shows.
        grid = pl.read_excel(source, sheet_name=name, engine="calamine", has_header=False, infer_schema_length=0,
                             raise_if_empty=False, drop_empty_rows=False, drop_empty_cols=False)
        if grid.height and any(grid[c].drop_nulls().len() for c in grid.columns):
            return _table_from_grid(path, name, grid, source)
    where = f"sheet '{sheet}'" if sheet is not None else "any visible sheet"
    also = f" (hidden sheets: {', '.join(sorted(hidden))}; name one with --sheet)" if sheet is None and hidden else ""
    raise UnreadableFile(f"{path}: {where} holds no data{also}")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _table_from_grid(path: Path, sheet: str, grid: pl.DataFrame, data: bytes) -> SheetData:
    check_shape(grid.width, grid.height)
    grid = grid.with_columns(pl.all().cast(pl.String).fill_null(""))
    head = [list(r) for r in grid.head(HEADER_SEARCH_ROWS).iter_rows()]
    header_index = find_header(path, head, sheet)
    columns = unique_names(head[header_index])
    frame = grid.slice(header_index + 1)
    frame.columns = columns
    return _finish(SheetData(path, columns, frame, first_row(path, sheet, data) + header_index, sheet=sheet))


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="\$?[A-Z]+\$?(\d+)')
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def first_row(path: Path, sheet: str, data: bytes) -> int:
    """The spreadsheet row where the sheet's cells start.

    calamine leaves out wholly empty leading rows; an .xlsx sheet says where
    its cells start in its <dimension>, so row numbers can match what the
    spreadsheet shows. Other formats (and sheets without one) count from 1.
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return 1
    from xml.etree import ElementTree  # (workbooks only)

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
            sheets = ElementTree.fromstring(book.read("xl/workbook.xml")).find("m:sheets", ns)
            rel_id = next(s.get(_RELS) for s in (sheets if sheets is not None else ()) if s.get("name") == sheet)
            rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
            target = next(t for r in rels if r.get("Id") == rel_id and (t := r.get("Target")) is not None)
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with book.open(member) as xml:
                found = _DIMENSION.search(xml.read(4096))
    except (KeyError, StopIteration, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return 1
    return int(found.group(1)) if found else 1


# -- shared ---------------------------------------------------------------------------
def find_header(path: Path, head: list[list[str]], sheet: str | None = None) -> int:
    """Index of the header among the first rows: the row naming most known fields,
    else the first row as wide as the table whose cells are all distinct text."""
    filled = [[c.strip() for c in row if c and c.strip()] for row in head]
    if not any(filled):
        raise UnreadableFile(f"{path}: the file is empty")
    width = max(len(f) for f in filled)
    known = [sum(1 for c in cells if match_field(c) is not None) for cells in filled]
    if max(known) >= 2 or (max(known) == 1 and width == 1):
        return known.index(max(known))
    for index, cells in enumerate(filled):
        if len(cells) >= max(2, width // 2) and len(set(cells)) == len(cells) and not any(_is_number(c) for c in cells):
            return index
    where = f" of sheet '{sheet}'" if sheet else ""
    raise UnreadableFile(f"{path}: no header row found in the first {HEADER_SEARCH_ROWS} rows{where}")


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d.,\s]+", text))


def unique_names(header: list[str]) -> list[str]:
    """Header names made unique and never empty: 'Phone', 'Phone (2)', '(column 7)'; a card
    number in a header masked, so that no report, error log, screen or raw row shows it."""
    names: list[str] = []
    for index, name in enumerate(header):
        base = mask_cards((name or "").strip()) or f"(column {index + 1})"
        candidate, n = base, 1
        # polars reads a column name "*" as every column and one between ^ and $ as a regex:
        # such a header gets a suffix too, so that pl.col(name) means that column alone.
        while candidate in names or candidate in RESERVED_COLUMNS or candidate == "*" or \
                (candidate.startswith("^") and candidate.endswith("$")):
            n += 1
            candidate = f"{base} ({n})"
        names.append(candidate)
    return names


def _finish(table: SheetData) -> SheetData:
    # (only what changes is copied: a million rows' every column, twice, took 0.2 GB)
    frame = table.frame
    frame = frame.with_columns(column.fill_null("") for column in frame.iter_columns() if column.null_count())
    blank = frame.select(pl.all_horizontal(pl.col(table.columns).str.strip_chars() == "")).to_series()
    frame = frame.with_row_index("_index").with_columns(pl.col("_index").cast(pl.Int64))
    if blank.any():
        frame = frame.filter(~blank)
    if frame.height == 0:
        raise UnreadableFile(f"{table.path}: the file has a header row but no data rows")
    longest = frame.select(pl.col(table.columns).str.len_chars().max()).row(0, named=True)
    too_long = [c for c in table.columns if (longest[c] or 0) > MAX_CELL_CHARS]
    if too_long:
        raise UnreadableFile(f"{table.path}: column '{too_long[0]}' holds a cell over {MAX_CELL_CHARS:,} characters; not a customer file")
    table.frame = frame
    return table

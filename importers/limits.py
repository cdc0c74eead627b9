"""What a customer file may hold, checked before a parser allocates for it.

calamine sizes its grid by a sheet's <dimension> and reads every shared
string whole: a 2 KB workbook claiming a cell at XFD1048576 or holding one
300 MB string would take the process down before any check of ours ran. So an
.xlsx is looked at from its zip directory and a streaming scan of its XML
first; each limit broken is one refusal line naming the file.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import BinaryIO

# The size of a file to import or sync, looked at before it is read: 1,000,000 rows of 50
# realistic customer columns weigh 433 MB as UTF-8 CSV (866 MB as UTF-16, more as JSON).
MAX_FILE_BYTES = 2 * 1024 ** 3
MAX_CELL_CHARS = 32_767  # Excel's own limit: anything longer is not a customer field
MAX_CELLS = 50_000_000  # rows × columns of one sheet's grid (1M rows of 50 columns)
MAX_COLUMNS = 2_000  # a customer file has tens of columns; an export of every field a few hundred
MAX_ROWS = 10_000_000  # ten times the largest store custdesk is built for
MAX_UNZIPPED = 2 * 1024 ** 3  # all members of a workbook, decompressed
# A text node can hold at most MAX_CELL_CHARS characters: in XML that is at most
# 6 bytes a character (a 4-byte letter, or an entity such as &#x1F600;... counted
# generously), so a longer run of bytes without a '<' is a cell over the limit.
_MAX_TEXT_BYTES = 10 * MAX_CELL_CHARS
_CHUNK = 1 << 20
# Anchored on '<': the regex engine jumps from one '<' to the next instead of trying every
# byte as the start of a run (which made the scan quadratic in each run's length).
_LONG_TEXT = re.compile(rb"<[^<]{%d}" % (_MAX_TEXT_BYTES + 1))
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?"')


class LimitExceeded(ValueError):
    """The file breaks one of the limits; the message says which."""


def check_shape(columns: int, rows: int) -> None:
    """Refuse a table wider or longer than a customer file is."""
    if columns > MAX_COLUMNS:
        raise LimitExceeded(f"{columns:,} columns, more than a customer file has (at most {MAX_COLUMNS:,})")
    if rows > MAX_ROWS:
        raise LimitExceeded(f"{rows:,} rows, more than custdesk imports at once (at most {MAX_ROWS:,}); split the file")


def check_xlsx(source: Path | BinaryIO) -> None:
    """Refuse an .xlsx/.xlsm (a path, or its bytes) that would make the parser allocate without bound."""
    try:
        with zipfile.ZipFile(source) as book:
            members = book.infolist()
            unzipped = sum(m.file_size for m in members)
            if unzipped > MAX_UNZIPPED:
                raise LimitExceeded(f"it unpacks to {unzipped / 1024 ** 3:.1f} GiB (more than {MAX_UNZIPPED // 1024 ** 3} GiB)")
            for member in members:
                name = member.filename
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _check_dimension(book, name)
                if name == "xl/sharedStrings.xml" or (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    _check_text_runs(book, name)
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile):
        return  # not a zip we can look into: the workbook reader gives its own refusal


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _check_dimension(book: zipfile.ZipFile, name: str) -> None:
    with book.open(name) as xml:
        found = _DIMENSION.search(xml.read(4096))
    if found is None:
        return
    first_col, first_row, last_col, last_row = found.groups()
    last_col, last_row = last_col or first_col, last_row or first_row
    columns = _column_number(last_col) - _column_number(first_col) + 1
    rows = int(last_row) - int(first_row) + 1
    if columns * rows > MAX_CELLS:
        ref = found.group(0).split(b'"')[1].decode()
        raise LimitExceeded(f"a sheet spans {ref}: {rows:,} rows × {columns:,} columns, more than a customer file "
                            f"holds ({MAX_CELLS:,} cells)")


def _check_text_runs(book: zipfile.ZipFile, name: str) -> None:
    """A streaming look for a text node longer than any cell may be."""
    carry = b"<"  # the text run still open, from its '<' (the file's start counts as one)
    with book.open(name) as xml:
        while chunk := xml.read(_CHUNK):
            data = carry + chunk
            if _LONG_TEXT.search(data):
                raise LimitExceeded(f"a cell holds over {MAX_CELL_CHARS:,} characters; not a customer file")
            carry = data[data.rfind(b"<"):]

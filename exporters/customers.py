"""Customers out to CSV, XLSX and vCard; every export is logged on the customers."""
from __future__ import annotations

import base64
import csv
import glob
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from store import Store
from store.base.bulk import Progress
from store.base.errors import StoreError
from store.base.files import abandoned_temp_files, atomic_write, refuse_overwrite
from store.base.text import path_text, printable
from store.model import Customer

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

COLUMNS = ("number", "kind", "active", "company", "headquarters", "first_name", "last_name", "email", "phone",
           "mobile", "street", "postcode", "city", "country", "vat_id", "external_id", "tags", "obfuscate_enabled",
           "email_marketing", "sms_marketing", "notes")
FORMATS = ("csv", "xlsx", "vcf")
WRITING = "writing customers"  # what an export's progress says it does
# What a spreadsheet runs when a CSV cell starts with it (OWASP, "CSV Injection"): a formula
# (= + - @) or, after a leading tab or CR that it skips, whatever follows.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number or a phone number (+49 30 1234-567, -12.5, +1 (555) 010/99): no letter, no
# cell reference, no function, nothing to run; a spreadsheet shows it as typed or as its value.
_NUMBER_LIKE = re.compile(r"[+-][0-9 ./()-]*")
XLSX_CELL_CHARS = 32_767  # an .xlsx cell holds at most this many characters (Excel's limit)
XLSX_ROWS = 1_048_576  # and a sheet this many rows
# Customers read and written at a time: an export holds a chunk, however many it writes.
CHUNK = 2_000
# OOXML writes CR (which XML reads as LF) as _x000D_ (ECMA-376 ST_Xstring), and so the "_" of
# text that looks like such an escape as _x005F_.
_XLSX_ESCAPED = re.compile(r"\r|_(?=x[0-9A-Fa-f]{4}_)")
# No XML holds the noncharacters U+FFFE and U+FFFF, nor does any reader undo their escape.
_NONCHARACTERS = re.compile("[\ufffe\uffff]")


def cell_text(value: object) -> str:
    """A field as the text of one exported cell: yes/no, a list comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return str(value)


def defuse(value: object) -> str:
    """A field as CSV text a spreadsheet shows as typed: a cell it would run as a formula
    (`=1+1`, `@SUM(A1)`, `-2+3`, `+A1`) gets a leading apostrophe; a phone number does not."""
    text = value if isinstance(value, str) else cell_text(value)  # (an export's cells are text already)
    if text.startswith(_FORMULA_STARTS) and not _NUMBER_LIKE.fullmatch(text):
        return "'" + text
    return text


def _rows(store: Store, customers: list[Customer]) -> list[list[str]]:
    headquarters = store.headquarters_of(c["id"] for c in customers)
    return [[cell_text(headquarters.get(c["id"]) if col == "headquarters" else c.get(col)) for col in COLUMNS]
            for c in customers]


def write_csv(path: Path, chunks: Iterable[list[list[str]]], ready: Callable[[], None] | None = None) -> None:
    """The rows, a chunk at a time, as a CSV file in place of `path` once all are written
    (and `ready` has run: `atomic_write`)."""
    def fill(fd: int) -> None:
        with open(fd, "w", encoding="utf-8-sig", newline="", closefd=False) as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for rows in chunks:
                writer.writerows([defuse(cell) for cell in row] for row in rows)

    atomic_write(path, fill, ready)


def write_xlsx(path: Path, chunks: Iterable[list[list[str]]], ready: Callable[[], None] | None = None) -> None:
    """The rows, a chunk at a time, as a workbook in place of `path` once all are written
    and `ready` has run (openpyxl's write-only sheet keeps them in a temporary file, not in memory)."""
    # Here, not at the top: an import uses `defuse` and should not wait for openpyxl (0.2 s).
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")

    def text_cell(text: str, column: str, number: str) -> str | Cell:
        # Characters XML cannot hold at all (openpyxl refuses the controls) are shown as symbols.
        text = _NONCHARACTERS.sub("\ufffd", ILLEGAL_CHARACTERS_RE.sub(lambda m: printable(m.group()), text))
        text = _XLSX_ESCAPED.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
        if len(text) > XLSX_CELL_CHARS:  # openpyxl would cut it short without a word
            raise StoreError(f"{path_text(path)}: customer {printable(number)}'s {column} holds {len(text):,} characters, more than a "
                             f"workbook cell holds ({XLSX_CELL_CHARS:,}); export to .csv or .vcf")
        if not text.startswith(("=", "#")):
            return text
        # openpyxl reads a str starting with = as a formula and one like #N/A as an error: this is text.
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell

    def fill(fd: int) -> None:  # (a refusal midway leaves no file: the temporary one is dropped)
        try:
            sheet.append(list(COLUMNS))
            for rows in chunks:
                for row in rows:
                    sheet.append([text_cell(cell, column, row[0]) for cell, column in zip(row, COLUMNS, strict=True)])
        except BaseException:
            # The sheet's rows so far wait in openpyxl's own temporary file: end them and drop it.
            sheet.close()
            sheet._writer.cleanup()
            raise
        with open(fd, "wb", closefd=False) as out:
            book.save(out)

    atomic_write(path, fill, ready)


def _vcard_escape(value: object) -> str:
    """RFC 6350 §3.4 escaping; a line break of any kind (CR, LF, CRLF) is `\\n`, so data
    can never start a property line of its own; other control characters are dropped."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _VCARD_CONTROL.sub("", text.replace(",", "\\,").replace(";", "\\;"))


_VCARD_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FOLD_AT = 75  # octets, RFC 6350 §3.2


def _fold(line: str) -> str:
    """A content line folded at 75 octets (CRLF and a space), never inside a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= _FOLD_AT:
        return line
    parts, start, limit = [], 0, _FOLD_AT
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, _FOLD_AT - 1  # continuation lines start with the folding space
    return "\r\n ".join(parts)


def vcard(customer: Mapping[str, Any], photo: tuple[bytes, str] | None = None) -> str:
    """One vCard 4.0; `photo` (bytes, media type) goes in PHOTO as a data URI."""
    e = _vcard_escape
    full = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p) or customer.get("company") or ""
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{e(full)}",
             f"N:{e(customer.get('last_name'))};{e(customer.get('first_name'))};;;",
             f"UID:urn:custdesk:{e(customer.get('number'))}"]
    if customer.get("company"):
        lines.append(f"ORG:{e(customer['company'])}")
    if customer.get("email"):
        lines.append(f"EMAIL:{e(customer['email'])}")
    for kind, key in (("work", "phone"), ("cell", "mobile")):
        if customer.get(key):
            lines.append(f"TEL;TYPE={kind}:{e(customer[key])}")
    if any(customer.get(k) for k in ("street", "city", "postcode", "country")):
        lines.append(f"ADR:;;{e(customer.get('street'))};{e(customer.get('city'))};;{e(customer.get('postcode'))};{e(customer.get('country'))}")
    if customer.get("tags"):
        lines.append("CATEGORIES:" + ",".join(_vcard_escape(t) for t in customer["tags"]))
    if customer.get("notes"):
        lines.append(f"NOTE:{e(customer['notes'])}")
    if photo is not None:
        data, media_type = photo
        lines.append(f"PHOTO:data:{media_type};base64,{base64.b64encode(data).decode('ascii')}")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)


def export_customers(store: Store, out: Path, ids: Iterable[int] | None = None,
                     progress: Progress | None = None) -> int:
    """Write customers (all, or those of `ids` that still exist) to `out` by its suffix, by
    customer number; returns the count. They are read and written `CHUNK` at a time (from a
    server: ten million of them in the memory of a few thousand), `progress` told after each."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise StoreError(f"{path_text(out)}: cannot export to '.{fmt}'; use .csv, .xlsx or .vcf")
    if not out.parent.is_dir():
        raise StoreError(f"{path_text(out)}: folder {path_text(out.parent)} does not exist")
    refuse_overwrite(out, store.files(), "export")
    for stale in abandoned_temp_files(out.parent, glob.escape(out.name)):  # (an export killed midway: its part-written file)
        stale.unlink(missing_ok=True)
    order = store.customer_order(ids)
    if fmt == "xlsx" and len(order) >= XLSX_ROWS:
        raise StoreError(f"{path_text(out)}: {len(order):,} customers are more rows than a workbook sheet holds "
                         f"({XLSX_ROWS - 1:,} and the header); export to .csv or .vcf")
    written = array("q")
    chunks = _chunks(store, order, written, progress)

    def logged() -> None:  # (before the file takes its place: no file out that its customers' log lacks)
        store.log_export(written, fmt, str(out))

    if fmt == "vcf":
        _write_vcards(store, out, chunks, logged)
    elif fmt == "csv":
        write_csv(out, (_rows(store, customers) for customers in chunks), logged)
    else:
        write_xlsx(out, (_rows(store, customers) for customers in chunks), logged)
    return len(written)


def _chunks(store: Store, order: pl.Series, written: array[int], progress: Progress | None) -> Iterator[list[Customer]]:
    """The customers of `order` that still exist, `CHUNK` at a time, their ids added to
    `written`; `progress` told as they begin and after each chunk."""
    total = len(order)
    if progress is not None:
        progress(WRITING, 0, total)
    for start in range(0, total, CHUNK):
        customers = store.customers_of(order.slice(start, CHUNK).to_list())
        yield customers
        written.extend(c["id"] for c in customers)
        if progress is not None:
            progress(WRITING, min(start + CHUNK, total), total)


def _write_vcards(store: Store, out: Path, chunks: Iterable[list[Customer]], ready: Callable[[], None]) -> None:
    def fill(fd: int) -> None:
        with open(fd, "w", encoding="utf-8", newline="", closefd=False) as text:
            for customers in chunks:
                text.writelines(vcard(c, store.picture(c["id"]) if c.get("picture") else None) for c in customers)

    atomic_write(out, fill, ready)

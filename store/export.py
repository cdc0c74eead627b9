"""Customers out to CSV, XLSX and vCard; every export is logged on the customers."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable

from openpyxl import Workbook

from .errors import StoreError
from .storage import atomic_write_bytes, refuse_overwrite
from .store import Store

COLUMNS = ("number", "kind", "active", "company", "headquarters", "first_name", "last_name", "email", "phone",
           "mobile", "street", "postcode", "city", "country", "vat_id", "external_id", "tags", "obfuscate_enabled",
           "notes")
FORMATS = ("csv", "xlsx", "vcf")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: object) -> str:
    """Text a spreadsheet shows as typed: a leading `= + - @` would run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _rows(store: Store, customers: Iterable[dict]) -> list[list[str]]:
    headquarters = {d["customer_id"]: d["name"] for d in store.all_headquarters()}
    return [[defuse(headquarters.get(c["id"]) if col == "headquarters" else c.get(col)) for col in COLUMNS]
            for c in customers]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8-sig"))


def _write_xlsx(path: Path, rows: list[list[str]]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _vcard_escape(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")


def vcard(customer: dict) -> str:
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
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def export_customers(store: Store, out: Path, customers: list[dict] | None = None) -> int:
    """Write customers (all, or the given ones) to `out` by its suffix; returns the count."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise StoreError(f"{out}: cannot export to '.{fmt}'; use .csv, .xlsx or .vcf")
    if not out.parent.is_dir():
        raise StoreError(f"{out}: folder {out.parent} does not exist")
    refuse_overwrite(out, store.files(), "export")
    chosen = list(store.customers()) if customers is None else customers
    chosen.sort(key=lambda c: c["number"])
    if fmt == "vcf":
        atomic_write_bytes(out, "".join(vcard(c) for c in chosen).encode("utf-8"))
    elif fmt == "csv":
        _write_csv(out, _rows(store, chosen))
    else:
        _write_xlsx(out, _rows(store, chosen))
    store.log_export([c["id"] for c in chosen], fmt, str(out))
    return len(chosen)

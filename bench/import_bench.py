"""Import figures (for bench/run.py): a realistic file (fixed seed) read,
planned and committed, each phase beside a bare polars read of the same file.

    python bench/import_bench.py ROWS FOLDER [--xlsx]   # in a fresh process: one JSON object
"""
from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
from common import best_of, clock
from openpyxl import Workbook

from importers import plan_import, read_table
from importers.demo import DemoBuilder
from store import Store  # first: sets polars' allocator options, as the app runs with them

HEADER = ["Vorname", "Nachname", "Firma", "E-Mail", "Telefon", "Straße", "PLZ", "Ort", "Land", "Tags"]


def as_typed(phone: str) -> str:
    # What people type: German numbers nationally ("030 1234567", the store's
    # country is DE), the others internationally with spaces ("+90 532 1234567").
    if phone.startswith("+49"):
        rest = phone[3:]
        return f"0{rest[:3]} {rest[3:]}"
    return f"{phone[:3]} {phone[3:6]} {phone[6:]}"


def rows(n: int) -> list[list[str]]:
    builder = DemoBuilder(seed=11)
    out = []
    for i in range(n):
        record, _ = builder.person(i)
        company = builder.rng.choice(builder.pools[0].company) if i % 3 == 0 else ""
        out.append([record["first_name"], record["last_name"], company, record["email"], as_typed(record["phone"]),
                    record["street"], record["postcode"], record["city"], record["country"], "messe-2026" if i % 7 == 0 else ""])
    return out


def write_files(folder: Path, n: int, xlsx: bool) -> tuple[Path, Path | None]:
    data = rows(n)
    csv_path = folder / f"customers_{n}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(data)
    if not xlsx:
        return csv_path, None
    xlsx_path = folder / f"customers_{n}.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Kunden")
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    book.save(xlsx_path)
    return csv_path, xlsx_path


FULL_NAME_HEADER = ["Name", "Firma", "E-Mail", "Telefon", "Straße", "PLZ", "Ort", "Land", "USt-IdNr.", "Tags"]


def german_vat_id(n: int) -> str:
    """A valid German VAT id (its check digit by ISO 7064 MOD 11,10), a different one for each n."""
    body = str(10_000_000 + (n * 7919) % 89_999_999)
    product = 10
    for digit in body:
        total = (int(digit) + product) % 10 or 10
        product = (2 * total) % 11
    return f"DE{body}{(11 - product) % 10}"


def write_full_name_csv(folder: Path, n: int) -> Path:
    """The same people as `rows`, their name in one column ("Ayşe Yılmaz": split on import) and
    a company's VAT id beside its name (checked on import), as an export of a shop system has them."""
    path = folder / f"customers_full_names_{n}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(FULL_NAME_HEADER)
        for i, (first, last, company, *rest, tags) in enumerate(rows(n)):
            writer.writerow([f"{first} {last}", company, *rest, german_vat_id(i) if company else "", tags])
    return path


def measure(path: Path, folder: Path, reference) -> dict[str, tuple[str, str]]:
    """Read, plan and commit `path` into an empty store; each phase with the bare read beside it."""
    bare = best_of(reference)
    table, read_time = clock(lambda: read_table(path))
    store = Store(folder / f"{path.stem}_{path.suffix[1:]}.json")
    store.update_settings(default_country="DE")
    plan, plan_time = clock(lambda: plan_import(store, table, target="private"))
    _, commit_time = clock(lambda: store.apply_batch(plan.batch()))
    counts = plan.counts()
    store.close()
    total = read_time + plan_time + commit_time
    kind = path.suffix[1:].upper()
    reader = "polars.read_csv" if kind == "CSV" else "polars.read_excel"
    return {
        f"import {kind}: read (encoding, header, parse)": (f"{read_time:.2f} s", f"bare {reader} {bare:.2f} s"),
        f"import {kind}: validate + plan": (f"{plan_time:.2f} s", f"{counts['created']:,} new, {counts['warnings']:,} warnings"),
        f"import {kind}: commit into an empty store": (f"{commit_time:.2f} s", ""),
        f"import {kind}: total": (f"{total:.2f} s", f"{total / bare:.0f}x bare {reader}"),
    }


def import_figures(n: int, folder: Path, xlsx: bool) -> dict[str, tuple[str, str]]:
    csv_path, xlsx_path = write_files(folder, n, xlsx)
    figures = measure(csv_path, folder, lambda: pl.read_csv(csv_path, separator=";", infer_schema=False))
    if xlsx_path:
        figures |= measure(xlsx_path, folder, lambda: pl.read_excel(xlsx_path, engine="calamine", infer_schema_length=0))
    return figures


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(import_figures(int(sys.argv[1]), Path(sys.argv[2]), "--xlsx" in sys.argv)))

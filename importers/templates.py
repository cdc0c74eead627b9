"""Sample import files: the expected headers and one example row per target."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font

from store.storage import atomic_write_bytes

from .plan import PlanError, TARGETS

REQUIRED_MARK = " *"
# (header, example value, required) per target; headers are what the mapping knows.
_PERSON = [
    ("First name", "Ada", False), ("Last name", "Lovelace", True), ("Email", "ada@example.com", True),
    ("Phone", "+44 20 7946 0958", False), ("Mobile", "", False), ("Street", "12 Analytical Row", False),
    ("Postcode", "NW1 6XE", False), ("City", "London", False), ("Country", "GB", False),
]
COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "sources": [("Company", "Engines Ltd", False), *_PERSON, ("VAT id", "", False), ("External id", "CRM-1001", False),
                ("Notes", "Met at the trade fair", False)],
    "corporate": [("Company", "Engines Ltd", True), ("Department", "Purchasing", False),
                  ("Contact person", "Charles Babbage", False), *_PERSON, ("VAT id", "GB123456789", False),
                  ("Customer number", "", False), ("External id", "ACC-1001", False), ("Tags", "wholesale, vip", False),
                  ("Notes", "", False)],
    "private": [*_PERSON, ("Customer number", "", False), ("External id", "", False), ("Tags", "newsletter", False),
                ("Notes", "", False)],
}
REACH_NOTE = "Email or phone: at least one of them is required."


def header_row(target: str) -> list[str]:
    return [name + (REQUIRED_MARK if required else "") for name, _, required in COLUMNS[target]]


def write_template(out: Path, target: str = "sources") -> None:
    """A .csv or .xlsx file with the headers (required ones marked *) and one example row."""
    if target not in TARGETS:
        raise PlanError(f"--into must be one of {', '.join(TARGETS)}, not '{target}'")
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise PlanError(f"{out}: a template is written as .csv or .xlsx, not '{suffix or 'no suffix'}'")
    if not out.parent.is_dir():
        raise PlanError(f"{out}: folder {out.parent} does not exist")
    headers = header_row(target)
    example = [value for _, value, _ in COLUMNS[target]]
    if suffix == ".csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerows([headers, example])
        atomic_write_bytes(out, buffer.getvalue().encode("utf-8-sig"))
        return
    book = Workbook()
    sheet = book.active
    sheet.title = target
    sheet.append(headers)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = max(12, len(cell.value) + 2)
        if cell.value.startswith("Email"):
            cell.comment = Comment(REACH_NOTE, "custdesk")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write_bytes(out, buffer.getvalue())

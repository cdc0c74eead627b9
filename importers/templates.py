"""Sample import files: the expected headers and one example row per target."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from store.base.files import atomic_write_bytes
from store.base.text import path_text
from store.model import ImportTarget

from .plan import PlanError, import_target

REQUIRED_MARK = " *"
# What a header says of its column (SPEC §3): required, one of a group of which
# at least one is required, or optional.
REQUIRED, NAME, REACH, OPTIONAL = "required", "name", "reach", ""
# (header, example value, rule) per target; headers are what the mapping knows.
_PERSON = [
    ("First name", "Ada", NAME), ("Last name", "Lovelace", NAME), ("Email", "ada@example.com", REACH),
    ("Phone", "+44 20 7946 0958", REACH), ("Mobile", "", REACH), ("Street", "12 Analytical Row", OPTIONAL),
    ("Postcode", "NW1 6XE", OPTIONAL), ("City", "London", OPTIONAL), ("Country", "GB", OPTIONAL),
]
# A customer's marketing answers: yes, no, or empty for never asked.
_CONSENT = [("Email marketing", "yes", OPTIONAL), ("SMS marketing", "", OPTIONAL)]
COLUMNS: dict[ImportTarget, list[tuple[str, str, str]]] = {
    "sources": [("Company", "Engines Ltd", NAME), *_PERSON, ("VAT id", "", OPTIONAL),
                ("External id", "CRM-1001", OPTIONAL), ("Notes", "Met at the trade fair", OPTIONAL)],
    "corporate": [("Company", "Engines Ltd", REQUIRED), ("Headquarters", "Engines Ltd London", OPTIONAL),
                  ("Department", "Purchasing", OPTIONAL), ("Contact person", "Charles Babbage", OPTIONAL),
                  *[(h, v, OPTIONAL if rule == NAME else rule) for h, v, rule in _PERSON],
                  ("VAT id", "GB980780684", OPTIONAL), ("Customer number", "", OPTIONAL),
                  ("External id", "ACC-1001", OPTIONAL), ("Tags", "wholesale, vip", OPTIONAL),
                  ("Obfuscate when inactive", "yes", OPTIONAL), *_CONSENT, ("Notes", "", OPTIONAL)],
    "private": [("Company", "", NAME), *_PERSON, ("Customer number", "", OPTIONAL), ("External id", "", OPTIONAL),
                ("Tags", "newsletter", OPTIONAL), ("Obfuscate when inactive", "yes", OPTIONAL), *_CONSENT, ("Notes", "", OPTIONAL)],
}
REACH_NOTE = "Email, phone or mobile: at least one of them is required."


def header_row(target: ImportTarget) -> list[str]:
    groups = {rule: [name for name, _, r in COLUMNS[target] if r == rule] for rule in (NAME, REACH)}

    def header(name: str, rule: str) -> str:
        if rule == REQUIRED:
            return name + REQUIRED_MARK
        if rule in groups:
            return f"{name} (one of: {' / '.join(sorted(groups[rule], key=_GROUP_ORDER.index))})"
        return name
    return [header(name, rule) for name, _, rule in COLUMNS[target]]


_GROUP_ORDER = ["First name", "Last name", "Company", "Email", "Phone", "Mobile"]


def write_template(out: Path, target: str = "sources") -> None:
    """A .csv or .xlsx file with the headers (required ones marked *) and one example row."""
    into = import_target(target)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise PlanError(f"{path_text(out)}: a template is written as .csv or .xlsx, not '{suffix or 'no suffix'}'")
    if not out.parent.is_dir():
        raise PlanError(f"{path_text(out)}: folder {path_text(out.parent)} does not exist")
    headers = header_row(into)
    example = [value for _, value, _ in COLUMNS[into]]
    if suffix == ".csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerows([headers, example])
        atomic_write_bytes(out, buffer.getvalue().encode("utf-8-sig"))
        return
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = into
    sheet.append(headers)
    sheet.append(example)
    for column, header in enumerate(headers, 1):
        cell = sheet.cell(row=1, column=column)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = max(12, len(header) + 2)
        if header.startswith(("Email", "Phone", "Mobile")):
            cell.comment = Comment(REACH_NOTE, "custdesk")
    sheet.freeze_panes = "A2"
    workbook = io.BytesIO()
    book.save(workbook)
    atomic_write_bytes(out, workbook.getvalue())

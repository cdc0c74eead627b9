"""Accounting exports: recognising them by their headers and reading their records.

A profile is data (`importers/profiles/NAME.toml`, one small file each): the columns
an export must have (`required`, and for DATEV the first line's `preamble`), the
column(s) holding the accounting id, what makes a record a company or a person
(`kind`), what marks it archived, and which column feeds which store field. Every
other column a profile names is optional: an export without it is read all the same.

Headers are matched normalised (`header_key`): case, `*` (Xero's mark of a column its
import requires), spaces and punctuation aside, so `*ContactName`, `ContactName` and
`contact name` are one column. Where vendors name one column differently (DATEV's
format versions, Zoho's customer and contact exports), a list names each variant.

A field is fed by a column, by the first filled of several, or by a prefixed value
(`{ prefix = ..., value = ... }`: DATEV's EU-Land + EU-UStID make a VAT id; a country
without a number is no VAT id).
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from store.base.errors import StoreError
from store.base.text import path_text, printable
from store.domain.sync import SyncRecord
from store.rules.validation import mask_cards

from .limits import MAX_CELL_CHARS, LimitExceeded, check_shape
from .reading import SheetData, UnreadableFile, decode, read_input, read_table, unique_names

PROFILES_DIR = Path(__file__).with_name("profiles")
KINDS = ("corporate", "private")
# A `\ud800` escape decodes to a lone surrogate: no character, and nothing can encode it later.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NOT_A_LETTER = re.compile(r"[\W_]+")


class SyncError(StoreError):
    """An export that cannot be synced (one line: the file and the problem)."""


def header_key(header: str) -> str:
    """A header as profiles match it: case, `*`, spaces and punctuation aside."""
    return _NOT_A_LETTER.sub("", header.casefold())


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    required: tuple[Any, ...]  # each a column, or a list of one column's names in the vendors' variants
    id_columns: tuple[str, ...]
    fields: Mapping[str, Any]
    kind: Any = "corporate"
    archived: Mapping[str, Any] | None = None
    preamble: tuple[Any, ...] = ()  # marks of the first line, each a text or a list of alternatives
    json_records: tuple[str, ...] = ()
    ids_issued: bool = False  # the accounting system issues the ids: never typed, never a card number

    def missing(self, columns: list[str]) -> list[str]:
        """The required columns `columns` lacks (each by its first name)."""
        present = {header_key(c) for c in columns}
        return [_names(need)[0] for need in self.required if not any(header_key(n) in present for n in _names(need))]

    def share(self, columns: list[str]) -> float:
        """The share of the columns this profile names that `columns` has."""
        named = {header_key(n) for n in self.named()}
        return len(named & {header_key(c) for c in columns}) / len(named)

    def named(self) -> list[str]:
        """Every column this profile names: required, id, kind, archived and fields."""
        rules = [rule["column"] for rule in (self.kind, self.archived) if isinstance(rule, Mapping)]
        return _names([*self.required, *self.id_columns, *rules, *self.fields.values()])

    def marked(self, first_line: str) -> bool:
        """Whether a file's first line holds every mark of the preamble."""
        return all(any(mark in first_line for mark in _names(marks)) for marks in self.preamble)


def _names(spec: Any) -> list[str]:
    """The column names (or marks) a spec gives: one, a list, or a prefixed value's parts."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, Mapping):
        return [*_names(spec["prefix"]), *_names(spec["value"])]
    return [name for part in spec for name in _names(part)]


@cache
def profiles() -> dict[str, Profile]:
    """Every profile, by name."""
    found = {}
    for path in sorted(PROFILES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        found[data["name"]] = Profile(
            name=data["name"], title=data["title"], required=tuple(data["required"]), id_columns=tuple(data["id"]),
            fields=data["fields"], kind=data.get("kind", "corporate"), archived=data.get("archived"),
            preamble=tuple(data.get("preamble", ())), json_records=tuple(data.get("json_records", ())),
            ids_issued=data.get("ids_issued", False))
    return found


@dataclass(frozen=True)
class Export:
    """One accounting export read: its profile, its records and its content's hash."""

    path: Path
    profile: Profile
    records: list[SyncRecord]
    digest: str


def read_export(path: Path, profile_name: str | None = None, *, data: bytes | None = None,
                encoding: str | None = None) -> Export:
    """Read `path`, recognise its profile (or use `profile_name`), and map its records.
    `data`: the file's bytes, read already (`read_input`); `encoding`: a text file's, as the
    user named it (else detected)."""
    # (read once: the hash names exactly the content synced, even if the file is replaced meanwhile)
    raw = read_input(path) if data is None else data
    table = _read_json(path, raw, encoding) if path.suffix.lower() == ".json" else read_table(path, data=raw, encoding=encoding)
    profile = _chosen(path, raw, table, profile_name)
    missing = profile.missing(table.columns)
    if missing:
        raise SyncError(f"{path_text(path)}: not a {profile.title} export (profile {profile.name}): "
                        f"no column '{missing[0]}', which it requires")
    return Export(path, profile, _records(path, profile, table), hashlib.sha256(raw).hexdigest())


def recognise(path: Path, raw: bytes, columns: list[str]) -> Profile | None:
    """The profile whose required columns (and first line) the export has, the one requiring
    most where several do; else the one whose columns it has the most of, if half of them:
    its refusal then names the column missing."""
    first_line = raw[:4096].split(b"\n", 1)[0].decode("latin-1")
    marked = [p for p in profiles().values() if p.marked(first_line)]
    complete = [p for p in marked if not p.missing(columns)]
    if complete:
        return max(complete, key=lambda p: (len(p.required) + len(p.preamble)))
    # (a vendor's file lacking a column it requires is that vendor's, told what is missing, not
    # "unknown": the profile naming the largest share of its columns, if at least half)
    share = {p.name: p.share(columns) for p in marked}
    near = max(marked, key=lambda p: share[p.name], default=None)
    return near if near is not None and share[near.name] >= 0.5 else None


def _chosen(path: Path, raw: bytes, table: SheetData, profile_name: str | None) -> Profile:
    if profile_name is not None:
        if profile_name not in profiles():
            raise SyncError(f"no sync profile '{profile_name}' (custdesk sync --profiles lists them)")
        return profiles()[profile_name]
    profile = recognise(path, raw, table.columns)
    if profile is None:
        raise SyncError(f"{path_text(path)}: not an accounting export custdesk recognises ({', '.join(profiles())}); "
                        "give --profile NAME, or import it with a mapping (custdesk import)")
    return profile


def _read_json(path: Path, raw: bytes, encoding: str | None) -> SheetData:
    """An API response (a list of objects, or one under a known key), flattened:
    {"BillAddr": {"City": "Leeds"}} becomes the column BillAddr.City."""
    text, encoding = decode(path, raw, encoding)
    try:
        # Numbers (and NaN, Infinity) kept as the file writes them: an id of 4,301 digits
        # or 1e400 is text like any other, not a number Python refuses or makes `inf`.
        data = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as err:
        raise UnreadableFile(f"{path_text(path)}: not valid JSON ({err.msg}, line {err.lineno})") from None
    except RecursionError:
        raise UnreadableFile(f"{path_text(path)}: JSON nested deeper than any export is") from None
    items = data
    for key in (key for profile in profiles().values() for key in profile.json_records):
        found: Any = data
        for part in key.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if isinstance(found, list):
            items = found
            break
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UnreadableFile(f"{path_text(path)}: no list of records in this JSON file")
    try:
        rows = [_flatten(item) for item in items]
    except RecursionError:
        raise UnreadableFile(f"{path_text(path)}: JSON nested deeper than any export is") from None
    columns = list(dict.fromkeys(c for row in rows for c in row))
    try:
        check_shape(len(columns), len(rows))
    except LimitExceeded as err:
        raise UnreadableFile(f"{path_text(path)}: {err}") from None
    _check_texts(path, rows)
    # (named as a file's header is: a key named as a column the reader adds (`_index`), or
    # holding a card number, gets a suffix or a mask, and the file's own value stays data)
    names = dict(zip(columns, unique_names(columns), strict=True))
    rows = [{names[c]: value for c, value in row.items()} for row in rows]
    columns = list(names.values())
    frame = pl.DataFrame({c: [row.get(c, "") for row in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String))
    frame = frame.with_row_index("_index").with_columns(pl.col("_index").cast(pl.Int64))
    return SheetData(path, columns, frame, 0, None, encoding)


def _check_texts(path: Path, rows: list[dict[str, str]]) -> None:
    """Every key and value a text a customer export could hold, or one line saying which is not."""
    for number, row in enumerate(rows, start=1):
        for key, value in row.items():
            if len(key) > MAX_CELL_CHARS or len(value) > MAX_CELL_CHARS:
                raise UnreadableFile(f"{path_text(path)}: a key or value holds over {MAX_CELL_CHARS:,} characters; "
                                     "not a customer export")
            if _SURROGATE.search(key) or _SURROGATE.search(value):
                raise UnreadableFile(f"{path_text(path)}: record {number}, '{printable(key)}': a \\u escape that is no "
                                     "character (a lone surrogate); not a customer export")


def _flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = "" if value is None else str(value)
    return flat


def _records(path: Path, profile: Profile, table: SheetData) -> list[SyncRecord]:
    frame = table.frame
    # (a profile's column is the file's first whose header is the same once normalised)
    by_key: dict[str, str] = {}
    for column in table.columns:
        by_key.setdefault(header_key(column), column)

    def cell(row: Mapping[str, Any], column: str) -> str:
        found = by_key.get(header_key(column))
        return str(row.get(found) or "").strip() if found is not None else ""

    records = []
    for row in frame.iter_rows(named=True):
        line = int(row["_index"]) + table.header_row + 1
        id_column = next((c for c in profile.id_columns if cell(row, c)), None)
        account_id = cell(row, id_column) if id_column else ""
        if not account_id:
            raise SyncError(f"{path_text(path)}: row {line} has no accounting id ({' / '.join(profile.id_columns)})")
        fields = {name: _field(spec, row, cell) for name, spec in profile.fields.items()}
        _split_full_name(fields)
        # (the row as the file has it, but a card number in a cell or a header is masked; the id is
        # the store's to judge: kept where the system issued it, else a card number is refused)
        id_header = by_key[header_key(id_column)] if id_column else None
        raw = {c: _text(row.get(c)) if c == id_header else mask_cards(_text(row.get(c))) for c in table.columns if _text(row.get(c))}
        records.append(SyncRecord(id=account_id, kind=_kind(profile, row, cell), fields=fields, row=line,
                                  archived=_archived(profile, row, cell), raw=raw))
    return records


def _text(value: Any) -> str:
    return str(value or "").strip()


def _field(spec: Any, row: Mapping[str, Any], cell: Any) -> str | None:
    if isinstance(spec, Mapping):
        return _prefixed(_field(spec["prefix"], row, cell), _field(spec["value"], row, cell))
    return next((cell(row, c) for c in _names(spec) if cell(row, c)), None)


def _prefixed(prefix: str | None, value: str | None) -> str | None:
    """A value with its prefix (a country before its VAT number): none without a value, and
    the prefix once where the value starts with it already. The VAT id is the store's to judge."""
    if not value:
        return None
    if not prefix or value.upper().startswith(prefix.upper()):
        return value
    return prefix + value


def _split_full_name(fields: dict[str, str | None]) -> None:
    """A full name feeds first and last name where the export has no such columns
    filled and it is not simply the company's name (QuickBooks' DisplayName, Odoo's name)."""
    full = fields.pop("full_name", None)
    if not full or fields.get("first_name") or fields.get("last_name") or full == fields.get("company"):
        return
    from store.rules.names import split_full_name  # (nameparser: only for an export with a name to split)

    fields["first_name"], fields["last_name"] = split_full_name(full)


def _kind(profile: Profile, row: Mapping[str, Any], cell: Any) -> str:
    """What the record is: its column's value (`values`, matched without case), else whether
    the column is filled (`filled`), else the first of `by_filled` whose columns hold a name
    (DATEV's "keine Angabe"), else `empty`."""
    rule = profile.kind
    if isinstance(rule, str):
        return rule
    value = _field(rule["column"], row, cell) or ""
    values = {k.casefold(): v for k, v in rule.get("values", {}).items()}
    if value.casefold() in values:
        return str(values[value.casefold()])
    if value and "filled" in rule:
        return str(rule["filled"])
    decided = next((choice["kind"] for choice in rule.get("by_filled", ()) if _field(choice["columns"], row, cell)), None)
    return str(decided or rule.get("empty", "corporate"))


def _archived(profile: Profile, row: Mapping[str, Any], cell: Any) -> bool:
    rule = profile.archived
    return rule is not None and (_field(rule["column"], row, cell) or "").casefold() in {v.casefold() for v in rule["values"]}

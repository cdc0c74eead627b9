"""A read file judged against the store, row by row, before anything is written.

Every row gets one status: new, update (with field-level old → new),
unchanged, skipped (the mode excludes it), duplicate (likely someone the store
or an earlier row holds: importers.judge) or error; warnings ride along. A
likely duplicate is written and its pairs queued for review unless the import's
key matched (`duplicates`: "queue", "skip", "keep"). The plan commits through
the store's one batch call: all or nothing, one journal entry.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import polars as pl

from exporters.customers import defuse
from store import Batch, Store, StoreError
from store.base.bulk import paused_gc
from store.base.files import atomic_write_bytes, refuse_overwrite
from store.base.text import path_text
from store.domain.batches import ROW, Queued
from store.domain.import_runs import MAPPING, RUN, RememberedMapping, run_details
from store.model import CORPORATE, CUSTOMER_FIELDS, PERSON_FIELDS, SOURCES, ImportTarget, Severity
from store.rules.mappings import columns_for, mapping_record
from store.rules.regions import is_region
from store.rules.validation_frame import Checked, card_issues, checked_frame

from .country_guess import CountrySuggestion, suggest_country
from .file_region import FileRegion, file_region
from .judge import POLICIES, Target, judge_rows, store_fields
from .mapping import ColumnMapping, map_columns, sources_by_field
from .reading import SheetData

TARGETS: tuple[ImportTarget, ...] = get_args(ImportTarget)
HQ_ADDRESS = ("street", "postcode", "city", "country")
MODES = ("create", "update", "upsert")
KEYS = ("email", "number", "external_id", "vat_id", "phone")
MULTI_VALUE_FIELDS = ("email", "phone", "mobile")


class PlanError(StoreError):
    """The import cannot be planned as asked (a usage problem, not a row problem)."""


def import_target(text: str) -> ImportTarget:
    """What an import writes into, named as the user typed it (--into)."""
    for target in TARGETS:
        if text == target:
            return target
    raise PlanError(f"--into must be one of {', '.join(TARGETS)}, not '{text}'")


@dataclass
class RowIssue:
    row: int
    column: str
    value: str | None
    message: str
    severity: Severity


@dataclass
class ImportPlan:
    table: SheetData
    mappings: list[ColumnMapping]
    target: ImportTarget
    mode: str
    key: str
    rows: pl.DataFrame  # cleaned fields + _index, _row, _status, _match, _note, _queued (a duplicate written and queued)
    issues: list[RowIssue]
    diffs: dict[int, dict[str, tuple[object, object]]] = field(default_factory=dict)
    country: str | None = None  # --country: the region of phones whose row names none
    checked: Checked | None = None  # the proof that `rows` were cleaned under the store's rules
    suggestion: CountrySuggestion | None = None  # a better --country, when the phones say so
    file_region: FileRegion | None = None  # the file's own country, read in instead of the default
    duplicates: str = "queue"  # what becomes of a likely duplicate (judge.POLICIES)
    likely: dict[int, list[Target]] = field(default_factory=dict)  # row position -> whom a duplicate likely is
    overrides: dict[str, str | None] = field(default_factory=dict)  # the columns the user mapped now (review, --map)
    remembered: RememberedMapping | None = None  # the mapping confirmed for files of these headers, applied

    @property
    def region(self) -> str | None:
        """The region phones are read in where a row names none (None: the store's default)."""
        return self.country or (self.file_region.region if self.file_region else None)

    def count(self, status: str) -> int:
        return int((self.rows["_status"] == status).sum())

    def counts(self) -> dict[str, int]:
        """The figures `import --json` prints."""
        return {
            "rows": self.rows.height,
            "created": self.count("new") + self.queued_count(),
            "updated": self.count("update"),
            "unchanged": self.count("unchanged"),
            "skipped": self.count("skipped"),
            "errors": self.count("error"),
            "warnings": sum(1 for i in self.issues if i.severity == "warning"),
            "duplicates": self.count("duplicate"),
            "queued": self.queued_count(),
        }

    def queued_count(self) -> int:
        """Likely duplicates written and queued for review."""
        return int(self.rows["_queued"].sum())

    def writes(self) -> bool:
        """Whether committing writes anything: a new, changed or queued row."""
        return bool(self.count("new") or self.count("update") or self.queued_count())

    @property
    def blocked(self) -> bool:
        return self.count("error") > 0

    def batch(self) -> Batch:
        """Creates and updates of the plan's new and update rows (error rows left out)."""
        present = [f for f in store_fields(self.target) if f in self.rows.columns]
        numbered = self.rows.with_row_index("_position")
        written = (pl.col("_status") == "new") | pl.col("_queued")
        # (every row, as most imports into a store write: the frames handed on as they are, not copied)
        every = bool(self.rows.select(written.all()).item())
        new = numbered if every else numbered.filter(written)
        proof = (self.checked if every else self.checked.take(new["_position"].to_list())) if self.checked else None
        children = self._children(new) if self.target == CORPORATE else []
        rows, creates = None, []
        if any(children):
            creates = self._creates(new, present, proof)
            for record, owned in zip(creates, children, strict=True):
                if owned:
                    record["children"] = owned
        else:  # handed over as a frame: the store inserts it column-wise
            rows = new.select(present)
            if self.target == SOURCES:
                rows = rows.with_columns(self._origin(new), self._raw(None if every else new["_index"]))
        updates = [(int(r["_match"]), {f: new_value for f, (_old, new_value) in self.diffs[r["_index"]].items()})
                   for r in self.rows.filter(pl.col("_status") == "update").select("_index", "_match").to_dicts()]
        where = path_text(self.table.path.name) + (f" (sheet {self.table.sheet})" if self.table.sheet else "")
        queued = self._queued(new["_position"].to_list())
        return Batch(self.target, creates=creates, rows=rows, updates=updates, country=self.region, unique_key=self.key,
                     new_identities=True, checked=proof, queued=queued, details=self._run_details(),
                     summary=f"Imported {where} into {self.target}: {new.height} new, {len(updates)} updated"
                             + (f", {len({q.position for q in queued})} queued for review" if queued else ""))

    def confirmed_mapping(self) -> dict[str, object] | None:
        """The mapping committing this plan remembers for files of its headers: one the user
        confirmed (a column mapped now, or the remembered one taken again); None when every
        column was mapped automatically."""
        if not self.overrides and self.remembered is None:
            return None
        # Taken again unchanged, it is still the one confirmed with the earlier file.
        origin = self.remembered.origin() if self.remembered is not None and not self.overrides else None
        return mapping_record(self.target, [(m.column, m.field) for m in self.mappings], origin)

    def _run_details(self) -> dict[str, Any]:
        """What the import's journal entry keeps: the run, and the mapping it confirmed."""
        details: dict[str, Any] = {RUN: run_details(self.table.path.name, self.table.sheet, self.target, self.mode, self.key,
                                                    self.counts())}
        mapping = self.confirmed_mapping()
        if mapping is not None:
            details[MAPPING] = mapping
        return details

    def _queued(self, written: list[int]) -> list[Queued]:
        """The pairs of the written rows the plan queued, by their positions among the creates (an
        earlier row that is not written is no one to pair with)."""
        create_of = {pos: at for at, pos in enumerate(written)}
        return [Queued(create_of[pos], table, create_of[other] if table == ROW else other, score, reasons)
                for pos, targets in self.likely.items() if pos in create_of
                for table, other, score, reasons in targets if table != ROW or other in create_of]

    @staticmethod
    def _creates(new: pl.DataFrame, present: list[str], proof: Checked | None) -> list[dict[str, Any]]:
        """The new rows' field values (empty fields are left out when stored). The proof's own
        rows, copied, when there is one: the store reads the same, so they are built once."""
        proven = proof.values(present) if proof is not None else None
        if proof is None or proven is None:
            return new.select(present).to_dicts()
        creates = [dict(values) for values in proven]
        rest = [f for f in present if f not in proof.frame.columns]  # not cleaned by the check (a number)
        if rest:
            for record, extra in zip(creates, new.select(rest).iter_rows(named=True), strict=True):
                record.update(extra)
        return creates

    def _origin(self, new: pl.DataFrame) -> pl.Expr:
        """Where each prospect came from: the file, its sheet, the row."""
        return pl.struct(pl.lit(path_text(self.table.path.name)).alias("file"), pl.lit(self.table.sheet, dtype=pl.String).alias("sheet"),
                         pl.lit(new["_row"]).alias("row")).alias("origin")

    def _raw(self, indexes: pl.Series | None) -> pl.Series:
        """The file's row of each prospect, its cells as a struct (the store leaves empty ones
        out), in `indexes`' order (None: every row)."""
        cells = self.table.frame
        if indexes is not None:  # (both in the file's order)
            cells = cells.filter(pl.col("_index").is_in(indexes.implode()))
        return cells.select(pl.col(self.table.columns)).to_struct("raw")

    def _children(self, new: pl.DataFrame) -> list[dict[str, Any]]:
        has = [c for c in ("headquarters", "department", "contact_first", "contact_last", *HQ_ADDRESS) if c in new.columns]
        if not has:
            return [{} for _ in range(new.height)]
        out = []
        for r in new.select(has).to_dicts():
            children: dict[str, list[dict[str, Any]]] = {}
            if r.get("headquarters"):
                # The company's address is its headquarters' address.
                children["departments"] = [{"name": r["headquarters"], "headquarters": True,
                                            **{f: r.get(f) for f in HQ_ADDRESS if r.get(f)}}]
            if r.get("department") and r.get("department") != r.get("headquarters"):
                children.setdefault("departments", []).append({"name": r["department"]})
            if r.get("contact_first") or r.get("contact_last"):
                children["contacts"] = [{"first_name": r.get("contact_first"), "last_name": r.get("contact_last")}]
            out.append(children)
        return out

    def write_error_log(self, out: Path, protected: Iterable[Path] = ()) -> int:
        """Errors and warnings as CSV (row, column, value, message, severity); returns how many.
        Never over the imported file or a `protected` one (the store's files)."""
        refuse_overwrite(out, [self.table.path, *protected], "error log")
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["row", "column", "value", "message", "severity"])
        for issue in self.issues:
            writer.writerow([issue.row, defuse(issue.column), defuse(issue.value), defuse(issue.message), issue.severity])
        atomic_write_bytes(out, buffer.getvalue().encode("utf-8-sig"))
        return len(self.issues)


# -- building a plan -------------------------------------------------------------
def plan_import(store: Store, table: SheetData, *, target: str = SOURCES, mode: str = "create", key: str = "email",
                overrides: dict[str, str | None] | None = None, country: str | None = None,
                duplicates: str = "queue", remembered: bool = True) -> ImportPlan:
    """`country`: the region of phones whose row names no country (None: the store's default);
    `duplicates`: what becomes of a likely duplicate (queue: written and queued for review;
    skip: left out; keep: even a key match is written as a new record and queued);
    `overrides`: columns mapped by the user (they win over a remembered mapping, column by
    column); `remembered`: apply the mapping remembered for files of these headers, if any."""
    into = import_target(target)
    for name, value, allowed in (("--mode", mode, MODES), ("--key", key, KEYS), ("--duplicates", duplicates, POLICIES)):
        if value not in allowed:
            raise PlanError(f"{name} must be one of {', '.join(allowed)}, not '{value}'")
    if duplicates == "keep" and mode != "create":
        raise PlanError(f"--duplicates keep writes key matches as new records: only with --mode create, not {mode}")
    country = (country or "").strip().upper() or None
    if country is not None and not is_region(country):
        raise PlanError(f"--country must be an ISO 3166 code of two letters (DE, TR, FR …), not '{country}'")
    memory = store.remembered_mapping(into, table.columns) if remembered else None
    mappings = map_columns(table.columns, overrides, columns_for(memory.columns, table.columns) if memory else None)
    by_field = sources_by_field(mappings)
    if not by_field:
        raise PlanError(f"{table.path}: no column is a customer field ({', '.join(table.columns[:8])}"
                        f"{' …' if len(table.columns) > 8 else ''}); map one with --map \"Header=field\"")
    if mode != "create" and key not in by_field:
        raise PlanError(f"{table.path}: --key {key}: no column is mapped to {key}; map one with --map \"Header={key}\"")
    settings = store.settings
    kind = None if into == SOURCES else into
    fields = _field_frame(table.frame, by_field, into)
    person = [f for f in (PERSON_FIELDS if into == SOURCES else CUSTOMER_FIELDS) if f in fields.columns]
    own = None if country else file_region(fields, table.columns, settings["default_country"])
    region = country or (own.region if own else settings["default_country"])
    cleaned, found, checked = checked_frame(fields.select(person), kind=kind, allow_private=settings["allow_private_customers"],
                                            default_country=region)
    # A row holding a card number anywhere is refused (a prospect keeps its raw row): the
    # columns not judged as a field above (unmapped, a full name before it is split …) too.
    judged = {column for f in person for column in by_field.get(f, ())}
    raw_cards = card_issues(table.frame, [c for c in table.columns if c not in judged])
    found = pl.concat([found, raw_cards]).sort("index", maintain_order=True)
    rows = pl.concat([table.frame.select("_index"), cleaned, fields.drop(person)], how="horizontal").with_columns(
        (pl.col("_index") + table.header_row + 1).alias("_row"))
    plan = ImportPlan(table, mappings, into, mode, key, rows, [], country=country, checked=checked, duplicates=duplicates,
                      overrides=dict(overrides or {}), remembered=memory, file_region=own)
    plan.suggestion = suggest_country(rows, fields, region)
    # The typed cells of the fields a matched row writes; a new row is judged by its cleaned
    # ones, so an import that only creates lets them go first (a million rows': 0.1 GB).
    cells = None if mode == "create" else fields.select([f for f in store_fields(into) if f in fields.columns])
    del fields
    with paused_gc():  # a verdict per row: 1M objects, no cycles among them
        row_issues = judge_rows(store, plan, found, cells)
    file_rows = plan.rows["_row"].to_list()
    plan.issues = [RowIssue(file_rows[pos], (by_field.get(i.field) or [i.field])[0], None if i.value is None else str(i.value),
                            i.message, i.severity)
                   for pos, i in row_issues]
    plan.issues += [RowIssue(r.row, "(row)", None, f"row has {r.fields} fields but the header has {len(table.columns)}; "
                             "check the columns of this row", "warning")
                    for r in table.ragged]
    plan.issues.sort(key=lambda i: i.row)
    return plan


def _clean(column: str) -> pl.Expr:
    # Undo the leading ' that spreadsheet exports (ours too) put before = + - @.
    return pl.col(column).str.strip_chars().str.replace(r"^'([=+\-@])", "$1").replace("", None)


def _first_value(cell: str | None) -> list[str]:
    """A multi-value cell's values: JSON arrays ([{"value": …}] or […]) and `:::`-joined text."""
    if cell is None:
        return []
    if cell.startswith("["):
        try:
            items = json.loads(cell)
        except ValueError:
            items = None
        if isinstance(items, list):
            values = [i.get("value") if isinstance(i, dict) else i for i in items]
            return [str(v).strip() for v in values if v not in (None, "")]
    return [part.strip() for part in cell.split(":::") if part.strip()]


def _field_frame(frame: pl.DataFrame, by_field: dict[str, list[str]], target: ImportTarget) -> pl.DataFrame:
    """One text column per mapped field: the first non-empty of its columns."""
    fields = frame.select([pl.coalesce([_clean(c) for c in cols]).alias(f) for f, cols in by_field.items()])
    extra_notes: list[pl.Expr] = []
    for name in MULTI_VALUE_FIELDS:
        if name in fields.columns and fields[name].str.contains(r"^\[|:::").fill_null(False).any():
            values = fields[name].map_elements(_first_value, return_dtype=pl.List(pl.String), skip_nulls=True)
            fields = fields.with_columns(values.list.first().alias(name))
            extra_notes.append(pl.when(values.list.len() > 1).then(
                pl.lit(f"Other {name}: ") + values.list.slice(1).list.join(", ")))
    if "tags" in fields.columns:
        fields = fields.with_columns(pl.col("tags").str.replace_all(":::", ",").str.replace_all(r"(^|,)\s*\*\s*", "$1"))
    if "street2" in fields.columns:
        fields = fields.with_columns(pl.concat_str(_cols(fields, "street", "street2"), separator=", ", ignore_nulls=True)
                                     .replace("", None).alias("street")).drop("street2")
    fields = _split_names(fields)
    for name, label in (("headquarters", "Headquarters"), ("department", "Department")):
        if name in fields.columns and target != CORPORATE:
            extra_notes.append(pl.lit(f"{label}: ") + pl.col(name))
    if extra_notes:
        fields = fields.with_columns(pl.concat_str([*_cols(fields, "notes"), *extra_notes], separator="\n",
                                                   ignore_nulls=True).replace("", None).alias("notes"))
    return fields


def _cols(frame: pl.DataFrame, *names: str) -> list[pl.Expr]:
    return [pl.col(n) for n in names if n in frame.columns]


def _split_names(fields: pl.DataFrame) -> pl.DataFrame:
    """First and last name from a full name (and a contact person's name) by the store's
    rule (store.rules.names), where the row has neither."""
    for name in ("first_name", "last_name"):
        if name not in fields.columns:
            fields = fields.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    for source in ("full_name", "contact_name"):
        if source in fields.columns:
            from store.rules.names import split_full_names  # (nameparser: loaded for files with full names only)

            parts = split_full_names(fields[source], companies=source == "full_name")
            fields = _names_from(fields, source, parts)
            if source == "contact_name":  # a company's contact person, kept as such too
                fields = fields.with_columns(parts["first_name"].alias("contact_first"), parts["last_name"].alias("contact_last"))
    return fields.drop([c for c in ("full_name", "contact_name") if c in fields.columns])


def _names_from(fields: pl.DataFrame, source: str, parts: pl.DataFrame) -> pl.DataFrame:
    """The rows with neither name take `source`'s `parts`. A full name that is a company's
    (a legal form: "Müller GmbH") is no person's: it is the company, where the row names none."""
    empty = fields["first_name"].is_null() & fields["last_name"].is_null()
    named = fields.with_columns(pl.when(empty).then(parts[n]).otherwise(pl.col(n)).alias(n) for n in ("first_name", "last_name"))
    company = empty & fields[source].is_not_null() & parts["first_name"].is_null() & parts["last_name"].is_null()
    if not company.any():
        return named
    return named.with_columns(pl.coalesce([*_cols(named, "company"), pl.when(company).then(pl.col(source))]).alias("company"))

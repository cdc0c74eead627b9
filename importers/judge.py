"""Each planned row judged against the store and the rest of its file.

A row is judged as what it will write: a new record as its cleaned cells, a
matched record (update, upsert) as the stored record with the row's non-empty
cells laid over it, through the store's own single-record check — the one the
commit runs — so a dry run and the real run see the same rows refused. A row
that would create a record whose email, phone or VAT id already belongs to a
customer or a prospect, or to an earlier row, or that the matcher (store.matching)
finds likely the same as a stored record, is a likely duplicate and says whose: it is
written and queued for review (`duplicates="queue"`), left out ("skip"), and with
"keep" even a row matching a record on the import's key is written and queued. A
customer number already taken is an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from store import FieldIssue, Store
from store.domain.batches import ROW
from store.domain.review_queue import MATCHED_ROWS, matcher_checks
from store.model import CUSTOMER_FIELDS, CUSTOMERS, PERSON_FIELDS, SOURCES, ImportTarget, prospect_name
from store.rules.keys import identity_column, normalise_key
from store.rules.validation import IDENTITY_FIELDS, number_error
from store.rules.vat import compact as vat_compact

if TYPE_CHECKING:
    from .plan import ImportPlan

# Fields whose value names one person or company (mobile is looked up as a
# phone): a second record with the same is a duplicate. A phone counts only
# in E.164 (store.rules.keys.identity_column): "0", "n/a" and the like, kept as
# typed, would make strangers duplicates.
DUPLICATE_FIELDS = tuple(IDENTITY_FIELDS)
NUMBER_TAKEN = "customer number {} is already used by another customer"
POLICIES = ("queue", "skip", "keep")  # what becomes of a likely duplicate (`import --duplicates`)
Target = tuple[str, int, "float | None", tuple[str, ...]]  # (table or ROW, id or row position, score, reasons)


@dataclass
class Verdict:
    status: str
    match: int | None = None
    note: str | None = None
    field: str | None = None  # for an error note: the field it is about (an issue of the row)
    # A likely duplicate: whom it likely is (a stored record, or ROW and an earlier row's position),
    # and whether the import's key said so (then written only with --duplicates keep).
    targets: tuple[Target, ...] = ()
    by_key: bool = False


def store_fields(target: ImportTarget) -> tuple[str, ...]:
    return PERSON_FIELDS if target == SOURCES else (*CUSTOMER_FIELDS, "number")


def key_values(frame: pl.DataFrame, key: str) -> pl.Series:
    """Column `key` of `frame` as the store's indexes normalise it, named "key"; a phone only
    in E.164: a number kept as typed names nobody."""
    return identity_column(key, frame[key]).rename("key")


def judge_rows(store: Store, plan: ImportPlan, found: pl.DataFrame, cells: pl.DataFrame | None) -> list[tuple[int, FieldIssue]]:
    """Set every row's status, match and note, and the plan's diffs; return (position, issue) of every row issue.
    `cells`: the rows' typed cells of the fields they write, which a row matching a record
    lays over it (None in mode create: no row updates one)."""
    judge = _Judge(store, plan)
    rows = plan.rows
    issues_at: dict[int, list[FieldIssue]] = {}
    for i in found.iter_rows(named=True):
        issues_at.setdefault(i["index"], []).append(FieldIssue(i["field"], i["value"], i["message"], i["severity"]))
    has_key = plan.key in rows.columns
    # (a column, not a list: a million keys as str objects held 80 MB through the judging)
    keys = key_values(rows, plan.key) if has_key else pl.repeat(None, rows.height, dtype=pl.String, eager=True).rename("key")
    held = store.lookup_held(judge.table, plan.key, keys) if has_key else {}

    def matches(pos: int) -> list[int]:
        return held.get(pos, [])

    # A value refused in a cell makes the row an error whatever it matches (but the VAT id
    # its record holds already: judged against it); a record-level error (no name, no way
    # to reach) may be mended by the stored record it updates.
    cell_errors = {pos for pos, here in issues_at.items() if any(i.severity == "error" and i.value is not None for i in here)
                   and not judge.keeps_stored_vat(here, matches(pos))}
    repeats = _repeats(rows, keys, cell_errors)
    new = Verdict("new")  # most rows: shared, never changed in place
    verdicts = [new] * rows.height
    # Only these rows need more than "new" (in update mode every row: unmatched ones are skipped).
    special = range(rows.height) if plan.mode == "update" else sorted(
        {*issues_at, *repeats, *held})
    for pos in special:
        verdict = judge.skipped(matches(pos))
        if verdict is not None:  # (a row the mode leaves out is not judged: its cells say nothing)
            verdicts[pos] = verdict
            continue
        if pos in cell_errors:
            verdict = Verdict("error")
        elif pos in repeats:
            earlier = repeats[pos]
            verdict = Verdict("duplicate", None, f"same {plan.key} as an earlier row" if earlier is not None else "same as an earlier row",
                              targets=() if earlier is None else ((ROW, earlier, None, (f"same {plan.key}",)),), by_key=True)
        else:
            is_error = any(i.severity == "error" for i in issues_at.get(pos, ()))
            verdict = judge.matched(matches(pos), is_error and not (matches(pos) and plan.mode != "create"))
            if verdict is None and matches(pos):
                assert cells is not None, "a row matching a record in mode create is skipped, never an update"
                verdict = judge.update(pos, matches(pos)[0], cells, issues_at)
        verdicts[pos] = verdict or new
    judge.new_rows(verdicts)
    judge.matcher(verdicts)
    queued = [v.status == "duplicate" and bool(v.targets) and (plan.duplicates == "keep" or (plan.duplicates == "queue" and not v.by_key))
              for v in verdicts]
    plan.likely = {pos: list(v.targets) for pos, v in enumerate(verdicts) if v.status == "duplicate" and v.targets}
    plan.rows = rows.with_columns(pl.Series("_status", [v.status for v in verdicts], dtype=pl.String),
                                  pl.Series("_match", [v.match for v in verdicts], dtype=pl.Int64),
                                  pl.Series("_note", [v.note for v in verdicts], dtype=pl.String),
                                  pl.Series("_queued", queued, dtype=pl.Boolean))
    issues = [(pos, i) for pos, here in issues_at.items() if verdicts[pos].status != "skipped" for i in here]
    return issues + [(pos, FieldIssue(v.field, None, v.note, "error")) for pos, v in enumerate(verdicts)
                     if v.status == "error" and v.note and v.field]


def _repeats(rows: pl.DataFrame, keys: pl.Series, errors: set[int]) -> dict[int, int | None]:
    """Each sound row whose key (or, keyless, whole content) an earlier sound row has, with
    the first such row's position where the key names it (column-wise: a dict of a million
    keys took 0.1 GB)."""
    frame = keys.rename("key").to_frame().with_row_index("pos").with_columns(
        ~pl.col("pos").is_in(sorted(errors)).alias("ok"))
    # (windowed over the keys held more than once alone: over a million keys, one group each, it held 0.1 GB)
    keyed = frame.filter(pl.col("ok") & pl.col("key").is_not_null()).filter(pl.col("key").is_duplicated()).with_columns(
        pl.col("pos").min().over("key").alias("first"))
    later = keyed.filter(pl.col("first") < pl.col("pos")).select("pos", "first")
    repeats: dict[int, int | None] = dict(later.iter_rows())
    keyless = frame.select(pl.col("ok") & pl.col("key").is_null()).to_series()
    if keyless.any():  # (whole rows compared only where there is no key: a million rows' content hashed took 0.1 GB)
        person = [c for c in rows.columns if not c.startswith("_")]
        first = rows.select(person).filter(keyless).select(pl.struct(person).is_first_distinct()).to_series()
        repeats.update(dict.fromkeys(keyless.arg_true().filter(~first).to_list()))
    return repeats


class _Judge:
    """What judging one plan's rows needs: the store, the target and the mode."""

    def __init__(self, store: Store, plan: ImportPlan) -> None:
        self.store, self.plan = store, plan
        self.table = SOURCES if plan.target == SOURCES else CUSTOMERS

    def matched(self, found: list[int], is_error: bool) -> Verdict | None:
        """The verdict a key match decides alone, or None when the row may be new or an update."""
        key, mode = self.plan.key, self.plan.mode
        if len(found) > 1:
            return Verdict("error", None, f"{key} matches {len(found)} existing records; merge them first or choose another key", key)
        if found and mode == "create" and self.plan.duplicates == "keep":
            return Verdict("duplicate", found[0], f"{key} belongs to {self._holder_name(self.table, found[0])} (written anyway: keep)",
                           targets=((self.table, found[0], None, (f"same {key}",)),), by_key=True)
        skipped = self.skipped(found)
        if skipped is not None:
            return skipped
        if is_error:
            return Verdict("error")
        return None

    def skipped(self, found: list[int]) -> Verdict | None:
        """The verdict of a row the mode leaves out: one that exists (create), one that does not (update)."""
        key, mode = self.plan.key, self.plan.mode
        if found and len(found) == 1 and mode == "create" and self.plan.duplicates != "keep":
            return Verdict("skipped", found[0], f"{key} exists already (mode create)")
        if not found and mode == "update":
            return Verdict("skipped", None, f"no existing record with this {key} (mode update)")
        return None

    def keeps_stored_vat(self, here: list[FieldIssue], found: list[int]) -> bool:
        """The row's only refused cells are the VAT id its one matching record holds already
        (stored before VAT ids were checked): `update` judges it as an edit of that record,
        where an unchanged old id is a warning, so writing a file back is not refused."""
        refused = [i for i in here if i.severity == "error" and i.value is not None]
        if self.plan.mode == "create" or len(found) != 1 or any(i.field != "vat_id" for i in refused):
            return False
        old = self.store.record(self.table, found[0]).get("vat_id")
        return isinstance(old, str) and all(vat_compact(str(i.value)) == vat_compact(old) for i in refused)

    def update(self, pos: int, match: int, cells: pl.DataFrame, issues_at: dict[int, list[FieldIssue]]) -> Verdict:
        """A matched row judged as the record it will leave: stored values with its cells over them."""
        current = self.store.record(self.table, match)
        wanted = store_fields(self.plan.target)
        row_cells = {f: v for f, v in cells.row(pos, named=True).items() if f in wanted and v not in (None, "")}
        merged = {**current, **row_cells}
        if self.table == SOURCES:
            cleaned, merged_issues = self.store.check_source(merged, self.plan.region, stored=current)
        else:
            cleaned, merged_issues = self.store.check_customer(current["kind"], merged, self.plan.region, stored=current)
        # The row answers for what it writes and for the whole record's rules, not for old warnings.
        issues_at[pos] = [i for i in merged_issues if i.field in row_cells or (i.value is None and i.severity == "error")]
        if any(i.severity == "error" for i in issues_at[pos]):
            return Verdict("error", match)
        diff = _diff(current, cleaned, row_cells)
        if "number" in diff and number_error(str(diff["number"][1]).upper()):
            return Verdict("error", match, number_error(str(diff["number"][1]).upper()), "number")
        if "number" in diff:
            number = diff["number"][1]
            held = [i for i in self.store.lookup(CUSTOMERS, "number", [normalise_key("number", number)])[0] if i != match]
            if held:
                return Verdict("error", match, NUMBER_TAKEN.format(number) + f" ({self.store.customer(held[0])['number']})", "number")
        if not diff:
            return Verdict("unchanged", match)
        self.plan.diffs[int(self.plan.rows["_index"][pos])] = diff
        return Verdict("update", match)

    def new_rows(self, verdicts: list[Verdict]) -> None:
        """Rows that would create a record: a taken customer number is an error, a known identity a duplicate."""
        # (only the columns judged here: filtered, every column of a million rows is copied)
        judged = [c for c in ("_row", "number", *DUPLICATE_FIELDS) if c in self.plan.rows.columns]
        rows = self.plan.rows.select(judged).with_row_index("_pos")
        candidates = rows.filter(pl.Series([v.status == "new" for v in verdicts], dtype=pl.Boolean))
        if "number" in candidates.columns and self.table == CUSTOMERS:
            refused = self._numbers(candidates)
            for pos, verdict in refused.items():
                verdicts[pos] = verdict
            candidates = candidates.filter(~pl.col("_pos").is_in(list(refused)))
        for pos, (note, target) in self._duplicates(candidates).items():
            verdicts[pos] = Verdict("duplicate", None, note, targets=(target,))

    def matcher(self, verdicts: list[Verdict]) -> None:
        """The matcher's judgement of the rows it checks (`MATCHED_ROWS`: every new row and every
        row sharing an identity with a record when they are that few, else the latter when they
        are, else none: the sweep compares them later): a new row it finds
        likely the same as a stored record becomes a likely duplicate; a row already one by an
        identity gets the matcher's score and reasons for that record (its other likely
        records with them)."""
        from store.matching import matches_among

        shared = [p for p, v in enumerate(verdicts) if v.status == "duplicate" and any(t[0] != ROW for t in v.targets)]
        fresh = sum(v.status == "new" for v in verdicts)  # (counted first: a million new rows' positions took 36 MB)
        checked = sorted([*shared, *(p for p, v in enumerate(verdicts) if v.status == "new")]) if len(shared) + fresh <= MATCHED_ROWS else (
            shared if len(shared) <= MATCHED_ROWS else [])
        if not matcher_checks(len(checked)):
            return
        fields = [c for c in store_fields(self.plan.target) if c in self.plan.rows.columns]
        records = self.plan.rows.select(fields).with_row_index("_pos").filter(pl.col("_pos").is_in(checked))
        found_for = matches_among(self.store, self.table, records.drop("_pos").to_dicts(), limit=3)
        for pos, pairs in zip(records["_pos"].to_list(), found_for, strict=True):
            if not pairs:
                continue
            found: list[Target] = [(p.a.table, p.a.id, p.score, p.reasons) for p in pairs]
            verdict = verdicts[pos]
            if verdict.status == "new":
                best = pairs[0]
                verdicts[pos] = Verdict("duplicate", None, f"likely {self._holder_name(best.a.table, best.a.id)} "
                                        f"({best.score:.2f}: {'; '.join(best.reasons)})", targets=tuple(found))
                continue
            scored = {(t[0], t[1]): t for t in found}
            targets = [scored.pop((t[0], t[1]), t) for t in verdict.targets]
            verdicts[pos] = Verdict(verdict.status, verdict.match, verdict.note, verdict.field,
                                    (*targets, *scored.values()), verdict.by_key)

    def _numbers(self, candidates: pl.DataFrame) -> dict[int, Verdict]:
        """Customer numbers another customer, or an earlier row, has already."""
        frame = candidates.select("_pos", "_row", "number", key_values(candidates, "number")).filter(pl.col("key").is_not_null())
        frame = frame.with_columns(pl.col("_row").min().over("key").alias("first"))
        held = self.store.first_holders(CUSTOMERS, "number", frame["key"])
        out = {}
        for (pos, row, number, _key, first), holder in zip(frame.iter_rows(), held, strict=True):
            if number_error(number.upper()):
                out[pos] = Verdict("error", None, number_error(number.upper()), "number")
            elif holder is not None:
                out[pos] = Verdict("error", None, NUMBER_TAKEN.format(number) + f" ({self.store.customer(holder)['number']})", "number")
            elif first < row:
                out[pos] = Verdict("error", None, NUMBER_TAKEN.format(number) + f" (row {first})", "number")
        return out

    def _duplicates(self, candidates: pl.DataFrame) -> dict[int, tuple[str, Target]]:
        """Note and target per row whose email, phone or VAT id a customer, a prospect or an earlier row has."""
        present = [f for f in DUPLICATE_FIELDS if f in candidates.columns]
        if not present or candidates.height == 0:
            return {}
        # Each identity's keys apart (phone: of the phone and the mobile), in DUPLICATE_FIELDS
        # order: all in one frame, filtered by identity and then by what was noted, a million
        # rows' keys were copied twice (0.1 GB more while they were looked up).
        by_identity = {field: pl.concat([candidates.select("_pos", "_row", key_values(candidates, f))
                                         for f in present if IDENTITY_FIELDS[f] == field]).filter(pl.col("key").is_not_null())
                       for field in dict.fromkeys(IDENTITY_FIELDS[f] for f in present)}
        notes: dict[int, tuple[str, Target]] = {}
        for field, of_field in by_identity.items():
            for table in (SOURCES, CUSTOMERS):  # a customer, if any, is the one to name
                holders = pl.Series(self.store.first_holders(table, field, of_field["key"]), dtype=pl.Int64)
                held = of_field.select("_pos").with_columns(holders.alias("holder")).filter(pl.col("holder").is_not_null())
                for pos, holder in held.iter_rows():  # (the few held: the million keys' positions as ints took 36 MB)
                    if pos not in notes or table == CUSTOMERS:
                        notes[pos] = (f"{field} belongs to {self._holder_name(table, holder)}", (table, holder, None, (f"same {field}",)))
        noted = pl.Series(list(notes), dtype=pl.Int64).implode()
        for field, of_field in by_identity.items():  # (a field at a time: the windows of all at once took 0.4 GB more at a million rows)
            # (over the keys held more than once alone: windows over a million keys, one group each, held 0.3 GB)
            repeated = of_field.filter(~pl.col("_pos").is_in(noted)).filter(pl.col("key").is_duplicated())
            earlier = repeated.with_columns(
                pl.col("_row").min().over("key").alias("first"),
                pl.col("_pos").min().over("key").alias("first_pos")).filter(pl.col("first") < pl.col("_row"))
            for pos, first, first_pos in earlier.select("_pos", "first", "first_pos").iter_rows():
                notes.setdefault(pos, (f"same {field} as row {first}", (ROW, first_pos, None, (f"same {field}",))))
        return notes

    def _holder_name(self, table: str, holder: int) -> str:
        return f"customer {self.store.customer(holder)['number']}" if table == CUSTOMERS else prospect_name(self.store.source(holder))


def _diff(current: dict[str, Any], cleaned: dict[str, Any], cells: dict[str, Any]) -> dict[str, tuple[object, object]]:
    """Old → new of the fields the row fills; an empty cell never erases a stored value."""
    changes = {}
    for name, cell in cells.items():
        new = cleaned.get(name, cell)
        if name == "tags":
            new = list(dict.fromkeys([*(current.get("tags") or []), *(new or [])]))
        if new != current.get(name):
            changes[name] = (current.get(name), new)
    return changes

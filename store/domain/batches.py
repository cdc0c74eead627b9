"""Batches: many creates and updates in one commit (imports, the demo); the import runs
and the mappings they remember (store.domain.import_runs)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from store.base.errors import ConcurrentChange, FieldIssue, NotFound, RuleViolation, ValidationFailed
from store.base.text import printable
from store.domain import import_runs, journal
from store.domain.import_runs import ImportRun, RememberedMapping
from store.domain.records import Records
from store.domain.review_queue import queued_details
from store.domain.session import Session, private_fields
from store.engine import Transaction
from store.model import (
    CHILD_TABLES,
    CONTACTS,
    CORPORATE,
    CUSTOMER_FIELDS,
    CUSTOMERS,
    DEPARTMENTS,
    JOURNAL,
    PERSON_FIELDS,
    PRIVATE,
    RELATED_KINDS,
    SOURCES,
    JournalEntry,
    format_number,
    singular,
)
from store.rules import consent
from store.rules.keys import identity_column, key_column
from store.rules.mappings import header_key, mapping_id
from store.rules.validation import IDENTITY_FIELDS
from store.rules.validation_frame import Checked, clean_frame, frame_from_records, text_frame

PROGRESS_EVERY = 2000
BATCH_TARGETS = (SOURCES, CORPORATE, PRIVATE)
ROW = "row"  # a queued create's other record is another create of the same batch


@dataclass(frozen=True)
class Queued:
    """A create written although it likely is someone else (an import's likely duplicate):
    the pair is queued for review with the batch's journal entry (store.domain.review_queue)."""

    position: int            # the create's position in the batch (0-based)
    table: str               # the other record's table, or ROW: another create of this batch
    other: int               # its id, or (ROW) that create's position
    score: float | None      # the matcher's, or None when only an identity check named the pair
    reasons: tuple[str, ...]


@dataclass
class Batch:
    """Many creates/updates committed in one atomic write (the import's commit).

    `target` is "sources", "corporate" or "private". A create is a record of
    field values; it may carry `origin` and `raw` (source entries), `active`,
    and `children`: {table: [docs]} created with it (departments, contacts,
    orders …). An update is (document id, changed fields).
    """

    target: str
    creates: list[dict[str, Any]] = field(default_factory=list[Any])
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list[Any])
    summary: str = ""
    action: str = "import"
    # The region phones without a country of their own are read in (`import
    # --country`); None: the store's default country.
    country: str | None = None
    # The field that makes a record the same as a stored one (the import's key):
    # a create whose value is held by the time of the commit refuses the batch.
    unique_key: str | None = None
    # The creates were judged to name nobody the store holds (an import's plan): one whose
    # email, phone or VAT id a customer or prospect holds by the time of the commit refuses
    # the batch, as the same import planned after that holder would have named it a duplicate.
    new_identities: bool = False
    # The proof (from `validation_frame.checked_frame`) that the creates' fields were
    # cleaned and judged, one row per create: spares a second check when the rules
    # it ran under are still the store's; the fields are then taken from it.
    checked: Checked | None = None
    # Refused unless the store holds no customer and no prospect (demo data never
    # mixes with real records); checked under the lock.
    into_empty_store: bool = False
    # The creates as one frame instead of `creates` (an import's hand-off: no dict per
    # record), for records without children: a column per field; customers may carry
    # `number`, prospects carry `origin` and `raw` (structs; `raw`: the file's row, its empty cells
    # left out when stored: `insert_rows(objects=)`).
    rows: pl.DataFrame | None = None
    # Creates written on purpose although they share an identity or the key with a record
    # (queued for review): the commit's check of taken keys and identities leaves them be.
    queued: list[Queued] = field(default_factory=list[Queued])
    # Kept on the journal entry (an import's run and the mapping it confirmed: store.domain.import_runs).
    details: dict[str, Any] = field(default_factory=dict[str, Any])

    def __post_init__(self) -> None:
        if self.rows is not None and self.creates:
            raise RuleViolation("a batch's creates are records or rows, not both")

    @property
    def create_count(self) -> int:
        return self.rows.height if self.rows is not None else len(self.creates)

class Batches:
    """Batches committed whole (an import's, the demo's); the imports run and the mappings remembered."""

    def __init__(self, session: Session, records: Records) -> None:
        self.session, self.records = session, records

    def apply_batch(self, batch: Batch, progress: Callable[[int, int], None] | None = None) -> JournalEntry:
        """Commit many creates and updates in one atomic write and one journal entry.

        Every record obeys the same rules as a single add/edit; one bad record
        refuses the whole batch. Returns the journal entry (undo it to revert).
        `progress(done, total)` is called every PROGRESS_EVERY records.
        """
        if batch.target not in BATCH_TARGETS:
            raise RuleViolation(f"import target must be one of {', '.join(BATCH_TARGETS)}, not '{batch.target}'")
        table = SOURCES if batch.target == SOURCES else CUSTOMERS
        cleaned = self._clean_batch(batch)
        stamp, source = journal.now(), self._consent_source(batch)
        with self.session.db.transaction() as tx:
            if batch.into_empty_store and (self.session.db.tables[CUSTOMERS] or self.session.db.tables[SOURCES]):
                raise RuleViolation(f"{self.session.where}: the store already holds data; "
                                    f"{batch.action} data goes into a new store (use --db)")
            self._refuse_taken_keys(table, batch, cleaned)
            total = batch.create_count + len(batch.updates)
            ids: list[int] = []
            if batch.rows is not None:
                ids = self._insert_rows(tx, batch, cleaned, stamp, source)
                if progress:
                    progress(batch.create_count, total)
            position = 0
            try:
                for position, (record, values) in enumerate(zip(batch.creates, cleaned.to_dicts() if batch.creates else [],
                                                                strict=True), 1):
                    ids.append(self._batch_create(tx, batch.target, record, values, stamp, source))
                    if progress and position % PROGRESS_EVERY == 0:
                        progress(position, total)
                for position, (doc_id, changes) in enumerate(batch.updates, batch.create_count + 1):
                    self._batch_update(tx, table, doc_id, changes, batch.country, source)
                    if progress and position % PROGRESS_EVERY == 0:
                        progress(position, total)
            except (ValidationFailed, RuleViolation, NotFound) as err:
                # Name the record, so the user can find it among thousands.
                err.args = (f"record {position}: {err}",)
                raise
            summary = batch.summary or (f"{batch.action.capitalize()}ed {batch.create_count} new and {len(batch.updates)} "
                                        f"updated record(s) into {batch.target}")
            details = {**batch.details, **queued_details(_queued_pairs(table, batch.queued, ids))}
            entry = self.session.write_entry(tx, batch.action, summary, details=details)
        return entry

    def import_runs(self) -> list[ImportRun]:
        """Every import, newest first: its file, sheet, target, mode, key, counts, who, when, undo."""
        return list(import_runs.import_runs(self.session.db.tables[JOURNAL]))

    def remembered_mappings(self) -> list[RememberedMapping]:
        """The mappings users confirmed, one per shape of file, newest first."""
        return list(import_runs.remembered(self.session.db.tables[JOURNAL]))

    def remembered_mapping(self, target: str, headers: Iterable[str]) -> RememberedMapping | None:
        """The mapping remembered for a file of these headers imported into `target`, if any."""
        key = header_key(target, headers)
        return next((m for m in import_runs.remembered(self.session.db.tables[JOURNAL]) if m.id == key), None)

    def forget_mapping(self, which: str) -> RememberedMapping:
        """Forget a remembered mapping (by the id `remembered_mappings` gives); journaled.
        The next file of its shape is mapped automatically again."""
        key = mapping_id(which)
        with self.session.db.transaction() as tx:
            found = next((m for m in import_runs.remembered(tx.table(JOURNAL)) if m.id == key), None)
            if found is None:
                raise NotFound(f"no remembered mapping '{printable(which)}' (custdesk imports mappings lists them)")
            self.session.write_entry(tx, import_runs.FORGET, f"Forgot the {found.message()}",
                                     details={import_runs.FORGETS: found.id})
        return found

    def _refuse_taken_keys(self, table: str, batch: Batch, cleaned: pl.DataFrame) -> None:
        """Under the lock: records the plan found new must still be new. Two imports at once
        would otherwise both create every record, or each create a person the other has."""
        taken = pl.repeat(False, batch.create_count, dtype=pl.Boolean, eager=True)
        queued = pl.repeat(False, batch.create_count, dtype=pl.Boolean, eager=True).scatter([q.position for q in batch.queued], True)
        found_by: list[str] = []
        for tables, name, values in self._keys_to_check(table, batch, cleaned):
            held = [self.session.db.indexes.holds(t, IDENTITY_FIELDS.get(name, name), values) for t in tables]
            if not any(any(found) for found in held):  # (an import into a new store: nothing to look at twice)
                continue
            hits = pl.Series([any(found) for found in zip(*held, strict=True)], dtype=pl.Boolean) & ~queued
            if hits.any():
                taken |= hits
                found_by.append(name)
        if found_by:
            raise ConcurrentChange(f"{int(taken.sum()):,} of the {batch.create_count:,} records to create now match a customer "
                                   f"or prospect by {', '.join(dict.fromkeys(found_by))} (added meanwhile by someone else?); "
                                   "nothing was imported: check the file again")

    def _keys_to_check(self, table: str, batch: Batch, cleaned: pl.DataFrame) -> Iterator[tuple[tuple[str, ...], str, pl.Series]]:
        """(tables, field, each create's key) that must hold none of the creates."""
        key = batch.unique_key
        if key is not None and (batch.rows is None or key in batch.rows.columns):
            given = batch.rows[key] if batch.rows is not None else pl.Series(
                [None if (v := record.get(key)) is None else str(v) for record in batch.creates], dtype=pl.String)
            yield (table,), key, key_column(key, given)
        if batch.new_identities:
            for name in (f for f in IDENTITY_FIELDS if f in cleaned.columns):
                yield (SOURCES, CUSTOMERS), name, identity_column(name, cleaned[name])

    def _clean_batch(self, batch: Batch) -> pl.DataFrame:
        """Every create's fields cleaned and judged at once (polars); the first error refuses all."""
        sources = batch.target == SOURCES
        fields = PERSON_FIELDS if sources else CUSTOMER_FIELDS
        kind = None if sources else batch.target
        settings = self.session.settings_now()
        allow_private, country = settings["allow_private_customers"], batch.country or settings["default_country"]
        checked = batch.checked
        if checked is not None and checked.settings == (kind, allow_private, country) and checked.frame.height == batch.create_count:
            values = checked.columns(fields)
            if values is not None:
                return values
        given = text_frame(batch.rows, fields) if batch.rows is not None else frame_from_records(batch.creates, fields)
        frame, issues = clean_frame(given, kind=kind, allow_private=allow_private, default_country=country)
        errors = issues.filter(pl.col("severity") == "error")
        if errors.height:
            first = errors.row(0, named=True)
            failed = ValidationFailed([FieldIssue(first["field"], first["value"], first["message"], "error")])
            failed.args = (f"record {first['index'] + 1}: {failed}",)
            raise failed
        return frame

    def _consent_source(self, batch: Batch) -> str:
        """What the batch's marketing answers are stamped as coming from: "import of leads.csv"."""
        run = batch.details.get(import_runs.RUN)
        return f"import of {run['file']}" if run else f"{batch.action} by {self.session.user}"

    def _insert_rows(self, tx: Transaction, batch: Batch, values: pl.DataFrame, stamp: str, source: str) -> list[int]:
        """The batch's `rows` inserted column-wise: the documents `_batch_create` would write, one
        frame for all (`values`: their cleaned fields). Returns their ids."""
        rows = batch.rows
        assert rows is not None
        origin = [rows["origin"]] if "origin" in rows.columns else []
        if batch.target == SOURCES:
            origin = origin or [pl.Series("origin", [{"file": None}] * rows.height)]
            raw = [rows["raw"]] if "raw" in rows.columns else []
            return tx.insert_rows(SOURCES, values.with_columns(*origin, *raw, pl.lit(stamp).alias("imported_at")), objects=("raw",))
        wanted = rows["number"].to_list() if "number" in rows.columns else [None] * rows.height
        flag = pl.col("obfuscate_enabled").ne_missing(False) if "obfuscate_enabled" in values.columns else pl.lit(True)
        docs = values.with_columns(
            flag.alias("obfuscate_enabled"), _consent_column(values, stamp, source), pl.lit(batch.target).alias("kind"),
            pl.Series("number", self.records.take_numbers(tx, wanted), dtype=pl.String), pl.lit(True).alias("active"),
            pl.lit(stamp).alias("created_at"), pl.lit(stamp).alias("updated_at"), *origin)
        return tx.insert_rows(CUSTOMERS, docs)

    def _batch_create(self, tx: Transaction, target: str, record: dict[str, Any], values: dict[str, Any], stamp: str,
                      source: str) -> int:
        if target == SOURCES:
            return tx.insert(SOURCES, self.records.source_doc(record, values, stamp))
        customer_id, _doc = self.records.insert_customer(tx, target, values, record, active=record.get("active", True), stamp=stamp,
                                                         source=source)
        for table, docs in (record.get("children") or {}).items():
            if table not in CHILD_TABLES:
                raise RuleViolation(f"'{table}' is not a kind of related record")
            for doc in docs:
                tx.insert(table, self._batch_child(tx, table, customer_id, doc))
        return customer_id

    def _batch_child(self, tx: Transaction, table: str, customer_id: int, doc: Mapping[str, Any]) -> dict[str, Any]:
        if table == DEPARTMENTS:
            return self.records.department_doc(customer_id, doc, bool(doc.get("headquarters")))
        if table == CONTACTS:
            return self.records.contact_doc(customer_id, doc, None)
        child = {**doc, "customer_id": customer_id}
        if table in RELATED_KINDS:
            child["number"] = format_number(RELATED_KINDS[table].prefix, tx.next_counter(table))
        return child

    def _batch_update(self, tx: Transaction, table: str, doc_id: int, changes: Mapping[str, Any], country: str | None,
                      source: str) -> None:
        current = tx.get(table, doc_id)
        if current is None:
            raise NotFound(f"{singular(table)} #{doc_id} was deleted meanwhile")
        changes = private_fields(changes)
        if table == SOURCES:
            tx.put(SOURCES, doc_id, {**current, **self.records.clean_source({**current, **changes}, country, current)})
            return
        cleaned = self.records.validated_customer(current["kind"], {**current, **changes}, country, current)
        number = self.records.take_number(tx, changes.get("number", current["number"]), doc_id)
        stamp = journal.now()
        tx.put(CUSTOMERS, doc_id, {**current, **cleaned, "number": number, "updated_at": stamp,
                                   consent.RECORD: consent.stamped(current, cleaned, at=stamp, source=source)})


def _consent_column(values: pl.DataFrame, stamp: str, source: str) -> pl.Expr:
    """`consent.stamped` of new customers, column-wise: each channel a row answers gets
    the time and source (a file's cells never set them); no answer at all, None."""
    given = [(channel, pl.col(field).is_not_null()) for channel, field in consent.FIELDS.items() if field in values.columns]
    if not given:
        return pl.lit(None).alias(consent.RECORD)
    when = pl.struct(at=pl.lit(stamp), source=pl.lit(source))
    channels = pl.struct(*(pl.when(answered).then(when).alias(channel) for channel, answered in given))
    return pl.when(pl.any_horizontal(answered for _, answered in given)).then(channels).alias(consent.RECORD)


def _queued_pairs(table: str, queued: list[Queued], ids: list[int]) -> Iterator[tuple[str, int, str, int, float | None, tuple[str, ...]]]:
    """The batch's queued pairs by the ids its creates got."""
    for q in queued:
        other = (table, ids[q.other]) if q.table == ROW else (q.table, q.other)
        yield table, ids[q.position], *other, q.score, q.reasons

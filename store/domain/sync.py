"""Accounting sync: an accounting system's customer export kept in step with the store.

Each record is known by (profile, its accounting id). The id is kept as the
record's `external_id` (what the field means: the accounting system's id) and,
with the values last synced, in its `origin`, which activation carries over to
the customer. A run:

- creates a prospect for an id not seen before; one whose email, phone or VAT id
  a customer holds, or that the duplicate matcher finds likely a customer, is
  reported (`likely`) and its pairs queued for review (store.domain.review_queue);
- updates the prospect, or the customer it became, for the fields the profile
  maps (the fields the accounting system owns), each only where it was not
  edited here since the last sync; where it was, and the accounting system
  changed it too, the field is a conflict: listed, nothing overwritten;
- flags a record archived in the accounting system, or gone from the export
  since the profile's last run, as such (never deletes it): an export is the
  accounting system's whole list, whatever its file is named (Monday's
  export-2026-12-01.csv, Tuesday's export-2026-12-02.csv);
- is one journaled, undoable transaction, whose entry keeps the run's counts,
  conflicts, the file's hash (the content the profile's last run synced is not
  synced again) and the ids it held (to see next time which are gone).

A conflict stays open until it is settled, taking the accounting value or keeping
ours (store.domain.sync_conflicts); a kept value is not a conflict again until
accounting changes it again.

A record whose accounting id is a card number typed into an id people type is
refused like any record the rules refuse, shown masked: the id would otherwise
be printed, journaled and kept in full. A file that cannot be synced at all is
a failed run (`record_failed_sync`): listed with the runs, once per content.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from store.base.errors import FieldIssue, RuleViolation
from store.base.text import path_text, printable
from store.domain import journal
from store.domain.distinct import PROSPECT_NAME
from store.domain.matcher import Matcher
from store.domain.records import Records
from store.domain.review_queue import customers_holding, matcher_checks, queued_details
from store.domain.session import Session
from store.domain.sync_conflicts import Settling, Side, SyncConflict, marked, with_mark
from store.engine import Transaction
from store.model import CUSTOMERS, JOURNAL, SOURCES, JournalEntry
from store.rules.validation import accounting_id_error, errors_of, mask_cards

SYNC = "sync"
SYNC_FAILED = "sync_failed"


@dataclass(frozen=True)
class SyncRecord:
    """One record of an accounting export, its fields named as the store names them."""

    id: str
    kind: str  # corporate / private: what it becomes when activated
    fields: Mapping[str, str | None]
    row: int
    archived: bool = False
    raw: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SyncReport:
    profile: str
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # A created prospect likely a customer: {"id", "row", "prospect", "customer" (its number), "score", "reasons"}.
    likely: list[dict[str, Any]] = field(default_factory=list)
    skipped: bool = False  # the file's content was synced already
    entry_id: int | None = None

    def counts(self) -> dict[str, Any]:
        """What `sync --json` prints."""
        return {"profile": self.profile, "file": self.file, "rows": self.rows, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed,
                "conflicts": len(self.conflicts), "errors": len(self.errors), "likely_duplicates": len(self.likely),
                "already_synced": self.skipped}


class _DryRun(Exception):
    """Rolls a dry run back."""


class Sync:
    """Accounting sync runs (see the module's docstring)."""

    def __init__(self, session: Session, records: Records, matcher: Matcher) -> None:
        self.session, self.records, self.matcher = session, records, matcher
        self.settling = Settling(session, records, self._synced_doc, SYNC)

    def sync_runs(self) -> list[dict[str, Any]]:
        """Every sync run, newest first: its journal entry with counts and conflicts, or
        (`failed`) the file and why it could not be synced."""
        return [{**entry, "id": doc_id, "failed": entry.get("action") == SYNC_FAILED}
                for doc_id, entry in journal.newest(self.session.db.tables[JOURNAL], _is_run)]

    def sync_conflicts(self, run: int | None = None) -> list[SyncConflict]:
        """Every conflict still open: the latest report of each (customer, field), newest run
        first; or those sync run `run` (its journal entry) reported that are still open."""
        return self.settling.open_conflicts(run)

    def resolve_conflict(self, number: str, field: str, side: Side, *, expected_rev: int | None = None) -> JournalEntry:
        """Settle customer `number`'s open conflict on `field`: take the accounting value
        (`accounting`, cleaned and judged as an edit) or keep ours (`here`); one undoable
        entry. `expected_rev`: refused if the customer changed since it was shown."""
        return self.settling.resolve(number, field, side, expected_rev)

    def resolve_run_conflicts(self, entry_id: int, side: Side, *, expected_revs: Mapping[int, int] | None = None) -> JournalEntry:
        """Settle every open conflict of sync run `entry_id` the same way, in one undoable entry;
        `expected_revs` (customer id → revision, as shown) refuses if one changed since."""
        return self.settling.resolve_run(entry_id, side, expected_revs)

    def record_failed_sync(self, file: str, digest: str | None, reason: str) -> bool:
        """Keep a file that could not be synced as a failed run (its name, the one-line
        reason, its content's hash), unless the file's latest run is this same failure:
        an unattended sync reports a bad file once, not at every look or restart.
        True when recorded."""
        file, reason = path_text(file), printable(reason)
        with self.session.db.transaction() as tx:
            latest = next(journal.newest(self.session.db.tables[JOURNAL], lambda e: _is_run(e) and e.get("file") == file), None)
            if latest is not None and latest[1].get("action") == SYNC_FAILED and latest[1].get("digest") == digest:
                return False
            self.session.write_entry(tx, SYNC_FAILED, f"Could not sync {file}: {reason}",
                          details={"file": file, "digest": digest, "reason": reason})
        return True

    def sync(self, profile: str, file: str, digest: str, records: Sequence[SyncRecord], *, ids_issued: bool = False,
             dry_run: bool = False) -> SyncReport:
        """Apply one export's records (see the module's docstring); `digest` is the file's hash;
        `ids_issued`: the accounting system issues its ids (never typed, so never a card number)."""
        file = path_text(file)
        report = SyncReport(profile, file, rows=len(records))
        seen: set[str] = set()
        records, refused = _without_card_ids(records, ids_issued)
        for record in records:
            if record.id in seen:
                raise RuleViolation(f"{file}: accounting id '{record.id}' appears twice (row {record.row}); the file is not one export")
            seen.add(record.id)
        known = self._last_run(profile)
        # A file synced already is not matched: its run is skipped below (under the lock).
        matched = None if known is not None and known.get("digest") == digest else self._matched(profile, records)
        try:
            with self.session.db.transaction() as tx:
                last = self._last_run(profile)
                if last is not None and last.get("digest") == digest:
                    report.skipped, report.unchanged = True, report.rows
                    return report
                if matched is None:  # (its run was undone meanwhile, by someone else)
                    matched = self._matched(profile, records)
                stamp = journal.now()
                report.errors += refused
                for record in records:
                    self._sync_record(tx, profile, file, record, stamp, report, matched.get(record.id, {}))
                gone = [i for i in (last or {}).get("ids", []) if i not in seen]
                for account_id in gone:
                    report.removed += self._flag(tx, profile, account_id, "removed")
                if dry_run:
                    raise _DryRun()
                if last is not None:  # only the profile's latest run keeps its ids
                    tx.put(JOURNAL, last["id"], {k: v for k, v in last.items() if k not in ("id", "ids")})
                entry = self.session.write_entry(tx, SYNC, _summary(report), details={
                    "profile": profile, "file": file, "digest": digest, "ids": sorted(seen),
                    "counts": {k: v for k, v in report.counts().items() if k not in ("profile", "file", "already_synced")},
                    "conflicts": report.conflicts, "errors": report.errors[:100],
                    **queued_details((SOURCES, p["prospect_id"], CUSTOMERS, p["customer_id"], p["score"], p["reasons"])
                                     for p in report.likely)})
                report.entry_id = entry["id"]
        except _DryRun:
            pass
        return report

    def _last_run(self, profile: str) -> dict[str, Any] | None:
        """The profile's latest sync run not undone, from whichever file."""
        for doc_id, entry in journal.newest(self.session.db.tables[JOURNAL], _is_sync):
            if entry.get("profile") == profile and not entry.get("undone"):
                return {**entry, "id": doc_id}
        return None

    def _synced_doc(self, profile: str, account_id: str) -> tuple[str, int, dict[str, Any]] | None:
        """The prospect or customer this accounting record became, if any."""
        for table in (SOURCES, CUSTOMERS):
            for doc_id in sorted(self.session.db.indexes.find(table, "external_id", account_id)):
                doc = self.session.db.tables[table][doc_id]
                origin = doc.get("origin") or {}
                if origin.get("profile") == profile and origin.get("id") == account_id:
                    return table, doc_id, doc
        return None

    def _matched(self, profile: str, records: Sequence[SyncRecord]) -> dict[str, dict[int, tuple[float, tuple[str, ...]]]]:
        """The matcher's customers (score, reasons) for each record a run would create, when
        the matcher checks them (`matcher_checks`; else the identity check alone: `customers_holding`).
        Before the run's lock: the matcher reads the store as committed."""
        fresh = [r for r in records if self._synced_doc(profile, r.id) is None]
        if not matcher_checks(len(fresh)):
            return {}
        checked = []
        for record in fresh:
            cleaned, issues = self.records.check_source({**record.fields, "external_id": record.id})
            if not errors_of(issues):
                checked.append((record.id, cleaned))
        found_for = self.matcher.matches_among(SOURCES, [cleaned for _, cleaned in checked], limit=3)
        return {account_id: {p.a.id: (p.score, p.reasons) for p in pairs if p.a.table == CUSTOMERS}
                for (account_id, _), pairs in zip(checked, found_for, strict=True)}

    def _sync_record(self, tx: Transaction, profile: str, file: str, record: SyncRecord, stamp: str, report: SyncReport,
                     matched: Mapping[int, tuple[float, tuple[str, ...]]]) -> None:
        incoming = {**record.fields, "external_id": record.id}
        owned = tuple(incoming)
        found = self._synced_doc(profile, record.id)
        origin = {"profile": profile, "file": file, "row": str(record.row), "id": record.id, "kind": record.kind,
                  "archived": record.archived}
        if found is None:
            cleaned, issues = self.records.check_source(incoming)
            if errors_of(issues):
                report.errors.append(_error(record, issues))
                return
            synced = {f: cleaned.get(f) for f in owned}
            prospect = tx.insert(SOURCES, self.records.source_doc({"origin": {**origin, "synced": synced}, "raw": dict(record.raw)},
                                                           cleaned, stamp))
            report.created += 1
            self._likely(tx, record, prospect, cleaned, matched, report)
            return
        table, doc_id, doc = found
        checked, issues = self.records.check_source({**doc, **incoming}, stored=doc)
        if errors_of(issues):
            report.errors.append(_error(record, issues))
            return
        changes, synced, conflicts = three_way(owned, checked, doc)
        report.conflicts += [{"id": record.id, "number": doc.get("number"), **c} for c in conflicts]
        new_origin = with_mark({**(doc.get("origin") or {}), **origin, "synced": synced, "removed": False}, marked(conflicts))
        if not changes and new_origin == doc.get("origin"):
            report.unchanged += 1
            return
        if record.archived and not (doc.get("origin") or {}).get("archived"):
            report.removed += 1
        updated = {**doc, **changes, "origin": new_origin}
        if table == CUSTOMERS:
            cleaned, issues = self.records.check_customer(doc["kind"], updated, stored=doc)
            if errors_of(issues):
                report.errors.append(_error(record, issues))
                return
            updated = {**updated, **cleaned, "updated_at": stamp}
        tx.put(table, doc_id, updated)
        if changes:
            report.updated += 1
        else:
            report.unchanged += 1

    def _likely(self, tx: Transaction, record: SyncRecord, prospect: int, cleaned: Mapping[str, Any],
                matched: Mapping[int, tuple[float, tuple[str, ...]]], report: SyncReport) -> None:
        """Report (and queue) the customers a new prospect likely is: those holding its email,
        phone or VAT id, and the matcher's."""
        held = customers_holding(self.session.db.indexes, cleaned)
        for customer_id in sorted({*held, *matched}):
            doc = tx.get(CUSTOMERS, customer_id)
            if doc is None:
                continue
            score, reasons = matched.get(customer_id, (None, tuple(held.get(customer_id, ()))))
            report.likely.append({"id": record.id, "row": record.row, "prospect": PROSPECT_NAME.format(prospect),
                                  "customer": doc["number"], "score": score, "reasons": list(reasons),
                                  "prospect_id": prospect, "customer_id": customer_id})

    def _flag(self, tx: Transaction, profile: str, account_id: str, flag: str) -> int:
        found = self._synced_doc(profile, account_id)
        if found is None or (found[2].get("origin") or {}).get(flag):
            return 0
        table, doc_id, doc = found
        tx.put(table, doc_id, {**doc, "origin": {**doc["origin"], flag: True}})
        return 1


def _is_sync(entry: Mapping[str, Any]) -> bool:
    return entry.get("action") == SYNC


def _is_run(entry: Mapping[str, Any]) -> bool:
    return entry.get("action") in (SYNC, SYNC_FAILED)


def three_way(owned: tuple[str, ...], incoming: Mapping[str, Any], doc: Mapping[str, Any]) -> tuple[
        dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(changes to make, values synced now, conflicts) for the fields the accounting system
    owns: a field it changed since the last sync takes the new value where it was not
    edited here since; where it was edited here too, it is a conflict and stays."""
    last = (doc.get("origin") or {}).get("synced") or {}
    changes, synced, conflicts = {}, dict(last), []
    for name in owned:
        new, before, here = incoming.get(name), last.get(name), doc.get(name)
        if new == before:
            continue  # not changed in accounting: what is here stays
        if here in (before, new):
            synced[name] = new
            if here != new:
                changes[name] = new
        else:
            conflicts.append({"field": name, "here": here, "there": new})
    return changes, synced, conflicts


def _without_card_ids(records: Sequence[SyncRecord], issued: bool) -> tuple[list[SyncRecord], list[dict[str, Any]]]:
    """The records to sync, and the refusals of those whose accounting id is a card number (masked)."""
    kept, refused = [], []
    for record in records:
        error = accounting_id_error(record.id, issued=issued)
        if error is None:
            kept.append(record)
        else:
            refused.append({"id": mask_cards(record.id), "row": record.row, "field": "external_id", "message": error})
    return kept, refused


def _error(record: SyncRecord, issues: list[FieldIssue]) -> dict[str, Any]:
    first = errors_of(issues)[0]
    return {"id": record.id, "row": record.row, "field": first.field, "message": str(first)}


def _summary(report: SyncReport) -> str:
    likely = f", {len(report.likely)} likely duplicate(s) queued for review" if report.likely else ""
    return (f"Synced {report.file} ({report.profile}): {report.created} new, {report.updated} updated, "
            f"{report.removed} removed, {len(report.conflicts)} conflict(s), {len(report.errors)} error(s){likely}")

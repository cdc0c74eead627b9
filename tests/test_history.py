"""History: the journal read back store-wide (`log`) and per customer (`history`), field by
field, and obfuscation's promise kept in it (the old values survive nowhere)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from helpers import company, person, stored_bytes
from sync_exports import conflicted

from cli.main import cli
from importers.plan import plan_import
from importers.reading import read_table
from store import NotFound, RuleViolation, Store
from store.domain import edits, journal
from store.domain.history import parse_since
from store.matching.pairs import RecordRef
from store.model import CUSTOMERS


def changes_of(events: list, field: str) -> list[tuple]:
    return [(c["old"], c["new"], e["user"], e["action"]) for e in events for c in e["changes"] if c["field"] == field]


def test_an_edit_is_in_the_customers_history_field_by_field_with_who_when_and_entry(store):
    customer = store.add_customer("private", person(1, city="Berlin"))
    store.edit_customer(customer["id"], {"city": "München", "email": "ada.new@example.com"}, expected_rev=customer["rev"])
    events = store.history(customer["id"])
    assert [e["what"] for e in events] == ["created", "changed"]
    assert changes_of(events, "city") == [(None, "Berlin", "tester", "add"), ("Berlin", "München", "tester", "edit")]
    assert changes_of(events, "email")[-1][:2] == ("ada1@example.com", "ada.new@example.com")
    edit = events[-1]
    assert edit["entry"] == store.journal(1)[0]["id"] and edit["summary"] == f"Edited customer {customer['number']}"
    assert datetime.fromisoformat(edit["at"]) <= datetime.now().astimezone()
    assert not any(c["field"] in ("rev", "updated_at") for e in events for c in e["changes"])


def test_related_records_are_in_their_customers_history_named_by_record(store):
    owner = store.add_customer("corporate", company(1))
    department = store.add_department(owner["id"], {"name": "Einkauf", "city": "Köln"})
    store.edit_department(department["id"], {"city": "Bonn"})
    events = store.history(owner["id"])
    moved = [c for e in events for c in e["changes"] if c["record"] == f"department #{department['id']}"]
    assert ("city", "Köln", "Bonn") in [(c["field"], c["old"], c["new"]) for c in moved]
    assert ("customer_id", None, owner["number"]) in [(c["field"], c["old"], c["new"]) for c in moved]
    assert store.history(store.add_customer("private", person(2))["id"])[0]["what"] == "created"


def test_the_log_lists_every_entry_newest_first_with_numbers_counts_and_state(store):
    a = store.add_customer("private", person(1))
    b = store.add_customer("private", person(2))
    store.deactivate([a["id"], b["id"]])
    entries = store.log()
    assert [e["action"] for e in entries] == ["deactivate", "add", "add"]
    newest = entries[0]
    assert newest["customers"] == [a["number"], b["number"]] and newest["counts"] == {"customer": 2}
    assert newest["state"] == "undoable" and entries[1]["state"] == ""
    store.undo()
    assert store.log()[1]["state"] == "undone" and store.log()[0]["action"] == "undo"
    assert [e["id"] for e in store.log(a["id"])] == [e["id"] for e in store.log() if a["number"] in e["customers"]]
    assert len(store.log(limit=2)) == 2


def test_since_keeps_the_entries_from_that_moment_on_and_a_wrong_date_is_refused():
    assert parse_since("2026-12-03").tzinfo is not None
    assert parse_since("2026-12-03T10:00+01:00").utcoffset() == timedelta(hours=1)
    with pytest.raises(RuleViolation, match="'yesterday' is not a date"):
        parse_since("yesterday")


def test_since_filters_the_log(store):
    store.add_customer("private", person(1))
    assert len(store.log(since=datetime.now().astimezone() - timedelta(minutes=5))) == 1
    assert store.log(since=datetime.now().astimezone() + timedelta(minutes=5)) == []


def test_a_merged_away_customer_is_found_by_its_number_and_its_history_says_so(store):
    keep = store.add_customer("private", person(1, city=None))
    other = store.add_customer("private", person(2, city="Leipzig"))
    store.merge_into(keep["id"], other["id"], {"city": "other"})
    assert store.customer_id(other["number"]) == other["id"]
    gone = store.history(other["id"])
    assert gone[-1]["action"] == "merge" and gone[-1]["what"] == "deleted"
    assert changes_of(store.history(keep["id"]), "city")[-1][:2] == (None, "Leipzig")
    with pytest.raises(NotFound, match="no customer numbered C-999999"):
        store.customer_id("C-999999")


def test_obfuscation_leaves_which_fields_changed_and_nothing_of_before(store):
    customer = store.add_customer("corporate", company(7, city="Radebeul", street="Meißner Str. 7"))
    other = store.add_customer("private", person(8))
    store.add_department(customer["id"], {"name": "Vertrieb Lovelace", "city": "Dresden"})
    store.edit_customer(customer["id"], {"city": "Dresden-Neustadt"}, expected_rev=customer["rev"])
    store.mark_distinct(RecordRef(CUSTOMERS, customer["id"]), RecordRef(CUSTOMERS, other["id"]))
    store.obfuscate(customer["id"])
    events = store.history(customer["id"])
    assert events[-1]["what"] == "obfuscated"
    assert all(c["hidden"] and c["old"] is None and c["new"] is None for e in events for c in e["changes"])
    assert "city" in [c["field"] for c in events[1]["changes"]]  # which field changed is kept
    everything = json.dumps(store.log()) + json.dumps(events)
    for secret in ("Radebeul", "Dresden-Neustadt", "Meißner", "ada7@example.com", "Analytical Engines 7"):
        assert secret not in everything
        assert not any(secret.encode() in data for data in stored_bytes(store.location).values()), secret
    # the other customer of the "not duplicates" mark keeps its own history
    assert store.history(other["id"])[0]["changes"][0]["hidden"] is False


def test_an_import_names_the_customers_it_created(store, tmp_path):
    monthly = tmp_path / "monthly.csv"
    monthly.write_text("First name,Last name,Email\n" + "".join(f"P{i},Q,p{i}@example.org\n" for i in range(3)))
    store.apply_batch(plan_import(store, read_table(monthly), target="private").batch())
    created = list(store.customers())
    entry = store.log()[0]
    assert entry["action"] == "import" and entry["counts"] == {"customer": 3}
    assert all(store.history(c["id"])[0]["entry"] == entry["id"] for c in created)
    assert {store.history(c["id"])[0]["what"] for c in created} == {"created"}


def test_a_bulk_change_over_the_cap_keeps_its_counts_not_its_values(store, monkeypatch):
    customers = [store.add_customer("private", person(n)) for n in range(3)]
    monkeypatch.setattr(edits, "EDITS_UP_TO", 2)
    store.deactivate([c["id"] for c in customers])
    assert store.log()[0]["counts"] == {"customer": 3}
    assert store.history(customers[0]["id"])[-1]["action"] == "deactivate"  # named while listed
    assert store.history(customers[0]["id"])[-1]["changes"] == []
    # too many to list: the entry names them as runs of ids, and each finds it
    monkeypatch.setattr(journal, "LIST_CUSTOMERS_UP_TO", 2)
    store.reactivate([c["id"] for c in customers])
    assert store.log()[0]["customers"] == [] and store.log()[0]["counts"] == {"customer": 3}
    assert [store.history(c["id"])[-1]["action"] for c in customers] == ["reactivate"] * 3
    assert store.history(customers[1]["id"])[-1]["what"] == "changed"


# -- the command line -------------------------------------------------------------------------

def run(store: Store, *args: str):
    return CliRunner().invoke(cli, ["--db", str(store.location), *args], catch_exceptions=False)


def test_log_and_history_on_the_command_line_text_and_json(store):
    customer = store.add_customer("private", person(1, city="Berlin"))
    store.edit_customer(customer["id"], {"city": "Köln"}, expected_rev=customer["rev"])
    out = run(store, "log")
    assert out.exit_code == 0
    first, second = out.output.splitlines()
    assert first.startswith("#2") and "edit" in first and f"Edited customer {customer['number']}" in first
    assert "tester" in second and customer["number"] in second
    rows = [json.loads(line) for line in run(store, "log", "--json").output.splitlines()]
    assert rows[0]["action"] == "edit" and rows[0]["customers"] == [customer["number"]]
    text = run(store, "history", customer["number"]).output
    assert "city: Berlin → Köln" in text and "#2 edit" in text
    changes = [json.loads(line) for line in run(store, "history", customer["number"], "--json").output.splitlines()]
    city = [c for c in changes if c["field"] == "city"]
    assert [(c["old"], c["new"], c["who"], c["entry"]) for c in city] == [(None, "Berlin", "tester", 1), ("Berlin", "Köln", "tester", 2)]
    assert {"field", "old", "new", "who", "when", "entry"} <= set(city[0])
    assert run(store, "log", "--customer", customer["number"], "--limit", "1").output.startswith("#2")


def test_the_command_line_refuses_a_wrong_date_or_number_in_one_line(store):
    bad_date = run(store, "log", "--since", "last week")
    assert bad_date.exit_code == 2 and bad_date.output.strip().count("\n") == 0
    assert "--since: 'last week' is not a date" in bad_date.output
    unknown = run(store, "history", "C-424242")
    assert unknown.exit_code == 2 and "no customer numbered C-424242" in unknown.output


def test_obfuscating_a_customer_with_a_sync_conflict_leaves_neither_value_anywhere(store, tmp_path):
    (tmp_path / "exports").mkdir()
    customer, _export = conflicted(store, tmp_path / "exports")
    store.obfuscate(customer["id"])
    everything = json.dumps(store.log()) + json.dumps(store.history(customer["id"])) + json.dumps(store.sync_runs())
    everything += json.dumps(store.customer(customer["id"]), default=str)
    for secret in ("Radebeul", "Meißen", "Müller & Söhne"):
        assert secret not in everything, secret
        assert not any(secret.encode() in data for data in stored_bytes(store.location).values()), secret


def test_the_policy_run_forgets_every_customer_it_obfuscates_and_no_other(store):
    gone = [store.add_customer("private", person(n, city=f"Stadt{n}")) for n in range(3)]
    kept = store.add_customer("private", person(9, city="Bleibstadt"))
    for customer in gone:
        store.edit_customer(customer["id"], {"notes": f"Notiz {customer['number']}"})
    store.deactivate([c["id"] for c in gone])
    assert len(store.obfuscate_inactive(0)["obfuscated"]) == 3
    for customer in gone:
        assert all(c["hidden"] for e in store.history(customer["id"]) for c in e["changes"])
    assert "Bleibstadt" in json.dumps(store.history(kept["id"]))
    stored = b"".join(stored_bytes(store.location).values())
    assert not any(f"Stadt{n}".encode() in stored or f"Notiz C-00000{n + 1}".encode() in stored for n in range(3))

"""The batch commit the import uses: all or nothing, one journal entry, revertible."""
import pytest
from helpers import company, contents, person

from store import Batch, RuleViolation, ValidationFailed


def test_batch_creates_and_updates_in_one_entry_and_reverts_exactly(store):
    existing = store.add_customer("private", person(1))
    before = contents(store)
    entry = store.apply_batch(Batch("private", creates=[person(2), person(3, tags="vip")],
                                    updates=[(existing["id"], {"city": "Bonn", "email": "ADA1.NEW@example.com"})],
                                    summary="Imported people.csv"))
    assert store.customer_count() == 3
    assert store.customer(existing["id"])["email"] == "ada1.new@example.com"
    assert entry["summary"] == "Imported people.csv" and entry["undoable"]
    assert [e["action"] for e in store.journal()].count("import") == 1
    store.undo(entry["id"])
    assert contents(store) == before


def test_one_bad_record_refuses_the_whole_batch(store):
    before = contents(store)
    with pytest.raises(ValidationFailed, match="record 3: email: 'broken' is not a valid email address"):
        store.apply_batch(Batch("sources", creates=[person(1), person(2), person(3, email="broken")]))
    assert contents(store) == before
    assert store.journal() == []


def test_batch_into_corporate_with_children(store):
    record = company(1, children={"departments": [{"name": "Headquarters", "headquarters": True}],
                                  "contacts": [{"first_name": "Grace", "email": "grace@example.com"}],
                                  "orders": [{"title": "Chairs", "status": "completed"}]})
    store.apply_batch(Batch("corporate", creates=[record]))
    (c,) = store.customers()
    assert store.related_counts(c["id"])["departments"] == 1
    assert store.children(c["id"], "orders")[0]["number"] == "O-000001"
    assert store.add_related("orders", c["id"], {})["number"] == "O-000002"


def test_batch_refuses_unknown_target_and_duplicate_numbers(store):
    with pytest.raises(RuleViolation, match="import target must be one of"):
        store.apply_batch(Batch("customers"))
    with pytest.raises(RuleViolation, match="record 2: customer number C-9 is already used"):
        store.apply_batch(Batch("private", creates=[person(1, number="C-9"), person(2, number="C-9")]))
    assert store.customer_count() == 0


def test_revert_of_an_import_refused_after_later_edits(store):
    entry = store.apply_batch(Batch("private", creates=[person(1)]))
    (c,) = store.customers()
    store.edit_customer(c["id"], {"city": "Bonn"})
    with pytest.raises(Exception, match="changed since"):
        store.undo(entry["id"])
    assert store.customer_count() == 1


def test_batch_reports_progress(store):
    seen = []
    records = [person(n) for n in range(4500)]
    store.apply_batch(Batch("sources", creates=records), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2000, 4500), (4000, 4500)]

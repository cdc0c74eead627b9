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


def _proof(records, kind="private", country=None, allow_private=True):
    from store.model import CUSTOMER_FIELDS
    from store.rules.validation_frame import checked_frame, frame_from_records
    return checked_frame(frame_from_records(records, CUSTOMER_FIELDS), kind=kind, allow_private=allow_private,
                         default_country=country)[2]


def test_no_caller_can_forge_the_proof_of_a_check():
    import polars as pl

    from store.rules.validation_frame import Checked
    with pytest.raises(TypeError, match="only checked_frame vouches"):
        Checked(pl.DataFrame({"email": ["broken"]}), ("private", True, None), frozenset(), seal=object())


def test_a_proven_batch_stores_the_checked_values_not_records_edited_after_the_check(store):
    records = [person(1), person(2)]
    proof = _proof(records)
    records[1]["email"] = "not an address"  # changed after the check: the proof's value is stored
    store.apply_batch(Batch("private", creates=records, checked=proof))
    assert sorted(c["email"] for c in store.customers()) == ["ada1@example.com", "ada2@example.com"]


def test_a_proof_under_other_rules_or_with_errors_is_checked_again(store):
    store.update_settings(allow_private_customers=False)
    with pytest.raises(ValidationFailed, match="record 1: company"):
        store.apply_batch(Batch("private", creates=[person(1)], checked=_proof([person(1)])))  # proven while allowed
    broken = [person(1, email="broken")]
    with pytest.raises(ValidationFailed, match="record 1: email"):
        store.apply_batch(Batch("corporate", creates=broken, checked=_proof(broken, kind="corporate", allow_private=False)))
    assert store.customer_count() == 0

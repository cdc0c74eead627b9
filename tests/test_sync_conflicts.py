"""Sync conflicts settled (issue 27): the open conflicts across runs; one taken from
accounting or kept here, journaled and undone; a kept value not reported again until
accounting changes it; a run's conflicts settled at once; the refusals, each one line
that writes nothing, whatever words are given."""
import pytest
from accounting_files import PEOPLE, xero
from helpers import contents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_exports import conflicted, sync

from store import Store
from store.base.errors import ConcurrentChange, NotFound, RuleViolation, StoreError

BERLIN, ISTANBUL = PEOPLE[0], PEOPLE[1]


def test_an_open_conflict_is_listed_with_both_values_and_the_run_that_reported_it(store, tmp_path):
    customer, _ = conflicted(store, tmp_path)
    run = store.sync_runs()[0]
    assert store.sync_conflicts() == [{
        "customer_id": customer["id"], "rev": customer["rev"], "number": customer["number"], "name": "Müller & Söhne GmbH",
        "field": "city", "here": "Radebeul", "accounting": "Meißen", "profile": "xero", "account_id": "10001",
        "run": run["id"], "file": "Contacts.csv", "at": run["at"]}]


def test_taking_the_accounting_value_writes_it_and_undo_opens_the_conflict_again(store, tmp_path):
    customer, path = conflicted(store, tmp_path)
    entry = store.resolve_conflict(customer["number"], "city", "accounting")
    assert entry["action"] == "sync_resolve" and entry["undoable"]
    assert entry["summary"] == f"Took accounting's city for {customer['number']}: Meißen (was Radebeul)"
    now = store.customer(customer["id"])
    assert now["city"] == "Meißen" and now["origin"]["synced"]["city"] == "Meißen" and now["origin"]["conflicts"] == {}
    assert store.sync_conflicts() == []
    store.undo()
    assert store.customer(customer["id"])["city"] == "Radebeul"
    assert [(c["field"], c["here"], c["accounting"]) for c in store.sync_conflicts()] == [("city", "Radebeul", "Meißen")]
    store.resolve_conflict(customer["number"].lower(), "city", "accounting")  # (a number as typed)
    report = sync(store, xero(path, [{**BERLIN, "city": "Meißen", "phone": "030 7654321"}, *PEOPLE[1:]]))
    assert report.conflicts == [] and store.customer(customer["id"])["phone"] == "+49307654321"


def test_a_kept_value_is_not_reported_again_until_accounting_changes_it_again(store, tmp_path):
    customer, path = conflicted(store, tmp_path)
    entry = store.resolve_conflict(customer["number"], "city", "here")
    assert entry["summary"] == f"Kept city of {customer['number']}: Radebeul (accounting has Meißen)"
    assert store.customer(customer["id"])["city"] == "Radebeul" and store.sync_conflicts() == []
    again = sync(store, xero(path, [{**BERLIN, "city": "Meißen", "phone": "030 7654321"}, *PEOPLE[1:]]))
    assert again.conflicts == [] and store.sync_conflicts() == []  # the same accounting value: settled
    assert store.customer(customer["id"])["city"] == "Radebeul"
    changed = sync(store, xero(path, [{**BERLIN, "city": "Dresden", "phone": "030 7654321"}, *PEOPLE[1:]]))
    assert [(c["field"], c["here"], c["there"]) for c in changed.conflicts] == [("city", "Radebeul", "Dresden")]
    assert [(c["here"], c["accounting"]) for c in store.sync_conflicts()] == [("Radebeul", "Dresden")]


def test_a_conflict_accounting_gives_up_is_no_longer_open(store, tmp_path):
    customer, path = conflicted(store, tmp_path)
    sync(store, xero(path, PEOPLE))  # back to Berlin there: what is here stays, nothing to settle
    assert store.sync_conflicts() == [] and store.customer(customer["id"])["city"] == "Radebeul"
    store.edit_customer(customer["id"], {"city": "Meißen"})
    sync(store, xero(path, [{**BERLIN, "city": "Meißen"}, *PEOPLE[1:]]))  # the same value on both sides
    assert store.sync_conflicts() == []


def test_refusals_are_one_line_and_write_nothing(store, tmp_path):
    customer, _ = conflicted(store, tmp_path)
    before = contents(store)
    with pytest.raises(NotFound, match=r"^no customer numbered C-999999$"):
        store.resolve_conflict("C-999999", "city", "here")
    with pytest.raises(RuleViolation, match=rf"^customer {customer['number']} has no open sync conflict on phone \(open: city\)$"):
        store.resolve_conflict(customer["number"], "phone", "accounting")
    with pytest.raises(ConcurrentChange, match=rf"^customer {customer['number']} was changed by someone else"):
        store.resolve_conflict(customer["number"], "city", "accounting", expected_rev=customer["rev"] - 1)
    with pytest.raises(RuleViolation, match=r"^a conflict is settled by 'accounting' or 'here', not 'there'$"):
        store.resolve_conflict(customer["number"], "city", "there")
    assert contents(store) == before


def test_an_accounting_value_the_rules_refuse_is_refused_naming_the_field(store, tmp_path):
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    source = next(s for s in store.sources() if s["origin"]["id"] == "10001")
    customer = store.activate(source["id"], "corporate", {"email": "einkauf@mueller.de", "phone": None})
    sync(store, xero(path, [{**BERLIN, "email": ""}, *PEOPLE[1:]]))  # accounting drops the email: ours is the only way to reach
    assert [(c["field"], c["accounting"]) for c in store.sync_conflicts()] == [("email", None)]
    before = contents(store)
    with pytest.raises(RuleViolation, match=rf"^customer {customer['number']}: accounting's email cannot be taken \(email: "):
        store.resolve_conflict(customer["number"], "email", "accounting")
    assert contents(store) == before
    store.resolve_conflict(customer["number"], "email", "here")
    assert store.customer(customer["id"])["email"] == "einkauf@mueller.de" and store.sync_conflicts() == []


def test_a_runs_conflicts_are_settled_at_once_and_undone_at_once(store, tmp_path):
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    sources = {s["origin"]["id"]: s for s in store.sources()}
    berlin = store.activate(sources["10001"]["id"], "corporate", {"city": "Radebeul"})
    istanbul = store.activate(sources["10002"]["id"], "corporate", {"city": "Ankara", "street": "Atatürk Blv. 1"})
    sync(store, xero(path, [{**BERLIN, "city": "Meißen"}, {**ISTANBUL, "city": "İzmir", "street": "Kordon 2"}, PEOPLE[2]]))
    run = store.sync_runs()[0]["id"]
    assert sorted((c["number"], c["field"]) for c in store.sync_conflicts()) == [
        (berlin["number"], "city"), (istanbul["number"], "city"), (istanbul["number"], "street")]
    before = contents(store)
    with pytest.raises(ConcurrentChange, match=f"^customer {istanbul['number']} was changed"):
        store.resolve_run_conflicts(run, "accounting", expected_revs={istanbul["id"]: istanbul["rev"] - 1})
    assert contents(store) == before
    entry = store.resolve_run_conflicts(run, "accounting")
    assert entry["summary"] == f"Settled 3 conflict(s) of sync run #{run} (Contacts.csv): took accounting's values"
    assert (store.customer(berlin["id"])["city"], store.customer(istanbul["id"])["street"]) == ("Meißen", "Kordon 2")
    assert store.sync_conflicts() == []
    with pytest.raises(RuleViolation, match=rf"^sync run #{run} has no open conflicts$"):
        store.resolve_run_conflicts(run, "here")
    store.undo()
    assert len(store.sync_conflicts()) == 3 and store.customer(istanbul["id"])["city"] == "Ankara"
    store.resolve_run_conflicts(run, "here")
    assert store.sync_conflicts() == [] and store.customer(istanbul["id"])["city"] == "Ankara"
    with pytest.raises(NotFound, match=r"^no sync run #9999 "):
        store.resolve_run_conflicts(9999, "here")


def test_an_undone_run_takes_its_conflicts_with_it(store, tmp_path):
    conflicted(store, tmp_path)
    run = store.sync_runs()[0]["id"]
    store.undo(run)
    assert store.sync_conflicts() == []
    with pytest.raises(RuleViolation, match=rf"^sync run #{run} was undone: its conflicts went with it$"):
        store.resolve_run_conflicts(run, "accounting")


def test_settled_conflicts_stay_settled_in_the_store_file(store_path, tmp_path):
    with Store(store_path) as store:
        customer, _ = conflicted(store, tmp_path)
        store.resolve_conflict(customer["number"], "city", "here")
    with Store(store_path) as reopened:
        assert reopened.sync_conflicts() == [] and reopened.customer(customer["id"])["city"] == "Radebeul"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.sampled_from(["C-000001", " c-000001 ", "C-999999"]) | st.text(max_size=12),
       field=st.sampled_from(["city", "phone"]) | st.text(max_size=12),
       side=st.sampled_from(["accounting", "here"]) | st.text(max_size=12))
def test_any_words_settle_the_conflict_or_are_refused_in_one_line(store, tmp_path, number, field, side):
    if not store.sync_runs():  # (the store is the test's, shared by its examples)
        conflicted(store, tmp_path)
    before = contents(store)
    try:
        entry = store.resolve_conflict(number, field, side)
    except StoreError as err:
        assert "\n" not in str(err) and contents(store) == before
    else:
        assert (number.strip().upper(), field, side in ("accounting", "here")) == ("C-000001", "city", True)
        assert store.sync_conflicts() == []
        store.undo(entry["id"])
        assert len(store.sync_conflicts()) == 1


def test_a_conflict_a_run_reported_before_runs_marked_them_is_still_settled(store, tmp_path):
    customer, path = conflicted(store, tmp_path)
    with store.parts.session.db.transaction() as tx:  # the customer as a run before this rule left it: no mark
        doc = tx.get("customers", customer["id"])
        tx.put("customers", customer["id"], {**doc, "origin": {k: v for k, v in doc["origin"].items() if k != "conflicts"}})
    assert [(c["field"], c["accounting"]) for c in store.sync_conflicts()] == [("city", "Meißen")]
    store.resolve_conflict(customer["number"], "city", "here")
    assert store.sync_conflicts() == []
    assert sync(store, xero(path, [{**BERLIN, "city": "Meißen", "phone": "030 7654321"}, *PEOPLE[1:]])).conflicts == []

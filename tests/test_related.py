"""Orders, offers, tickets, tasks … and the inactive-customer rule (seed 004)."""
import pytest
from helpers import company, person

from store import RuleViolation


@pytest.mark.parametrize("kind", ["orders", "offers", "contracts", "tickets"])
def test_inactive_customer_cannot_get_new_business(store, kind):
    c = store.add_customer("private", person(1))
    store.deactivate([c["id"]])
    with pytest.raises(RuleViolation, match=f"C-000001 is inactive: it cannot get a new {kind[:-1]}"):
        store.add_related(kind, c["id"], {"title": "x"})
    assert store.children(c["id"], kind) == []
    store.reactivate([c["id"]])
    assert store.add_related(kind, c["id"], {"title": "x"})["customer_id"] == c["id"]


def test_inactive_customer_may_still_get_tasks_and_invoices(store):
    c = store.add_customer("private", person(1))
    store.deactivate([c["id"]])
    assert store.add_related("tasks", c["id"], {"title": "Call back"})["status"] == "open"
    assert store.add_related("invoices", c["id"], {"title": "Final", "amount": 10})["status"] == "unpaid"


def test_related_records_get_numbers_and_statuses(store):
    c = store.add_customer("corporate", company(1))
    o1 = store.add_related("orders", c["id"], {"title": "Chairs", "amount": 120.5})
    o2 = store.add_related("orders", c["id"], {"title": "Desks"})
    assert (o1["number"], o2["number"], o1["status"]) == ("O-000001", "O-000002", "new")
    with pytest.raises(RuleViolation, match="status must be one of"):
        store.add_related("orders", c["id"], {"status": "lost"})
    with pytest.raises(RuleViolation, match="not a related record kind"):
        store.add_related("pets", c["id"], {})


def test_mark_task_done(store):
    c = store.add_customer("private", person(1))
    task = store.add_related("tasks", c["id"], {"title": "Send price list"})
    assert store.complete_task(task["id"])["status"] == "done"


def test_conversations_and_export_log(store):
    c = store.add_customer("private", person(1))
    store.log_conversation(c["id"], {"channel": "email", "subject": "Hello", "direction": "out"})
    store.log_export([c["id"]], "csv", "/tmp/out.csv")
    assert [x["subject"] for x in store.children(c["id"], "conversations")] == ["Hello"]
    assert [(x["format"], x["user"]) for x in store.children(c["id"], "exports")] == [("csv", "tester")]


def test_deactivate_many_and_refuse_when_nothing_changes(store):
    ids = [store.add_customer("private", person(n))["id"] for n in range(3)]
    assert store.deactivate(ids) == 3
    assert all(not store.customer(i)["active"] and store.customer(i)["deactivated_at"] for i in ids)
    with pytest.raises(RuleViolation, match="already inactive"):
        store.deactivate(ids)

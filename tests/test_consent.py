"""Marketing consent per channel: the store's verb, its journal, and campaigns skipping a no."""
from __future__ import annotations

import pytest

from store.base.errors import NotFound, RuleViolation
from store.store import Store


@pytest.fixture
def ada(store: Store) -> dict:
    return store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                                          "mobile": "+44 7700 900123"})


def test_an_opt_out_is_kept_with_its_time_and_source_and_journaled(store: Store, ada: dict) -> None:
    changed = store.set_marketing(ada["id"], "email", False, source="one-click unsubscribe (campaign #3)")

    assert changed["email_marketing"] is False
    assert "sms_marketing" not in changed
    stamp = changed["marketing_consent"]["email"]
    assert stamp["source"] == "one-click unsubscribe (campaign #3)"
    assert stamp["at"] >= ada["created_at"]
    assert "sms" not in changed["marketing_consent"]
    assert store.journal(1)[0]["summary"] == (f"Customer {ada['number']} opted out of email marketing "
                                              "(one-click unsubscribe, campaign #3)")
    assert store.journal(1)[0]["customer_ids"] == [ada["id"]]


def test_the_same_answer_again_writes_nothing(store: Store, ada: dict) -> None:
    first = store.set_marketing(ada["id"], "sms", True, source="sign-up form")
    entries = len(store.journal())

    again = store.set_marketing(ada["id"], "sms", True, source="form by tester")

    assert again == first
    assert len(store.journal()) == entries


def test_changing_the_answer_stamps_the_new_source(store: Store, ada: dict) -> None:
    store.set_marketing(ada["id"], "sms", True, source="sign-up form")
    changed = store.set_marketing(ada["id"], "sms", False, source="form by tester")

    assert changed["sms_marketing"] is False
    assert changed["marketing_consent"]["sms"]["source"] == "form by tester"
    assert store.journal(1)[0]["summary"] == f"Customer {ada['number']} opted out of SMS marketing (form by tester)"
    reopened = Store(store.location, user="other")
    try:
        assert reopened.customer(ada["id"])["marketing_consent"] == changed["marketing_consent"]
    finally:
        reopened.close()


@pytest.mark.parametrize(("channel", "allowed", "source", "refusal"), [
    ("fax", False, "form", "marketing channel must be email or sms, not 'fax'"),
    ("email", None, "form", "a marketing answer is yes or no (True or False), not None"),
    ("email", False, "", "a consent's source must be one printable line"),
    ("email", False, "form\nby mallory", "a consent's source must be one printable line"),
])
def test_a_wrong_request_is_refused_and_writes_nothing(store: Store, ada: dict, channel, allowed, source, refusal) -> None:
    entries = len(store.journal())
    with pytest.raises(RuleViolation, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        store.set_marketing(ada["id"], channel, allowed, source=source)
    assert len(store.journal()) == entries
    assert "email_marketing" not in store.customer(ada["id"])


def test_a_missing_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        store.set_marketing(99, "email", False, source="one-click unsubscribe (campaign #1)")


def test_a_campaign_skips_who_opted_out_of_its_channel_only(store: Store, ada: dict) -> None:
    grace = store.add_customer("private", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
                                           "mobile": "+44 7700 900456"})
    store.set_marketing(ada["id"], "email", False, source="one-click unsubscribe (campaign #1)")
    store.set_marketing(grace["id"], "sms", False, source="form by tester")

    email_to, email_skipped = store.recipients("email", [ada["id"], grace["id"]])
    sms_to, sms_skipped = store.recipients("sms", [ada["id"], grace["id"]])

    assert [c["number"] for c in email_to] == [grace["number"]]
    assert email_skipped == [{"number": ada["number"], "reason": "opted out of email marketing"}]
    assert [c["number"] for c in sms_to] == [ada["number"]]
    assert sms_skipped == [{"number": grace["number"], "reason": "opted out of SMS marketing"}]


def test_a_customer_never_asked_is_still_reached(store: Store, ada: dict) -> None:
    reached, skipped = store.recipients("email", [ada["id"]])
    assert [c["id"] for c in reached] == [ada["id"]] and skipped == []

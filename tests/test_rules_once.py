"""Rules that the app and the command line both use, decided once in the store."""
import pytest
from helpers import company, person

from outreach.transports import Outbox, Smtp, smtp_from_spec, transport_for
from store import Batch, RuleViolation, StoreError
from store.rules.merging import default_choices, merged_fields


def test_one_key_switches_a_mixed_selection_by_deactivating_its_active_customers(store):
    a, b, c = (store.add_customer("private", person(n))["id"] for n in (1, 2, 3))
    store.deactivate([c])
    assert store.switch_active([a, b, c]) == ("deactivate", 2)
    assert store.switch_active([a, b, c]) == ("reactivate", 3)
    assert all(x["active"] for x in store.customers())
    assert store.next_undo()["summary"] == "Reactivated C-000001, C-000002, C-000003"


def test_merge_screen_defaults_and_the_store_merge_are_one_rule(store):
    keep = store.add_customer("corporate", company(1, city=None, tags=["a"], obfuscate_enabled=True))
    other = store.add_customer("corporate", company(2, city="Bonn", tags=["b"], obfuscate_enabled=False))
    choices = default_choices(keep, other)
    assert (choices["city"], choices["tags"], choices["email"], choices["obfuscate_enabled"]) == ("other", "both", "keep", "keep")
    merged = store.merge_into(keep["id"], other["id"])  # no choices: the defaults
    expected = merged_fields(keep, other, choices)
    assert (merged["city"], merged["tags"], merged["email"], merged["obfuscate_enabled"]) == \
           (expected["city"], expected["tags"], expected["email"], expected["obfuscate_enabled"]) == ("Bonn", ["a", "b"], keep["email"], True)


def test_campaign_audience_by_tag_kind_and_activity(store):
    a = store.add_customer("private", person(1, tags=["vip"]))["id"]
    b = store.add_customer("corporate", company(2, tags=["vip"]))["id"]
    c = store.add_customer("private", person(3, tags=["vip"]))["id"]
    store.deactivate([c])
    assert store.audience(tag="vip") == [a, b, c]
    assert store.audience(tag="vip", kind="private", active_only=True) == [a]
    reachable, skipped = store.recipients("email", [a, c])
    assert [r["id"] for r in reachable] == [a] and skipped == [{"number": "C-000003", "reason": "inactive"}]


@pytest.mark.parametrize("spec", ["mail.example.com", "smtp://:25", "host:port", "host:70000"])
def test_a_bad_smtp_spec_is_one_line_naming_it(spec):
    with pytest.raises(StoreError, match="write the SMTP server as HOST:PORT") as refused:
        smtp_from_spec(spec)
    assert spec in str(refused.value) and "\n" not in str(refused.value)


def test_smtp_specs_from_the_app_and_the_command_line_agree(monkeypatch, tmp_path):
    monkeypatch.setenv("CUSTDESK_SMTP_USER", "mailer")
    monkeypatch.setenv("CUSTDESK_SMTP_PASSWORD", "s3cret")
    typed, flag = transport_for("smtp://mail.example.com:587"), smtp_from_spec("mail.example.com:587")
    assert isinstance(typed, Smtp) and isinstance(flag, Smtp)
    assert (typed.host, typed.port, typed.starttls, typed.user, typed.password) == \
           (flag.host, flag.port, flag.starttls, flag.user, flag.password) == ("mail.example.com", 587, True, "mailer", "s3cret")
    assert smtp_from_spec("localhost:25").starttls is False
    assert smtp_from_spec("localhost:25", starttls=True, user="me").user == "me"
    outbox = transport_for(str(tmp_path / "new" / "outbox"))
    assert isinstance(outbox, Outbox) and outbox.folder.is_dir()


def test_demo_data_is_refused_by_the_store_once_it_holds_records(store):
    store.add_source(person(1))
    with pytest.raises(RuleViolation, match="already holds data; demo data goes into a new store"):
        store.apply_batch(Batch("private", creates=[person(2)], action="demo", into_empty_store=True))
    assert store.customer_count() == 0

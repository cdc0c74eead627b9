"""Delete, merge, obfuscate and undo: the rules and exact restoration."""
import pytest
from helpers import company, contents, person, stored_bytes

from store import ConcurrentChange, NothingToUndo, RuleViolation, ValidationFailed


def rich_customer(store, n):
    c = store.add_customer("corporate", company(n, tags=[f"t{n}"]))
    store.add_department(c["id"], {"name": "Headquarters"}, headquarters=True)
    store.add_contact(c["id"], {"first_name": f"Contact{n}", "email": f"contact{n}@example.com"})
    store.add_related("tickets", c["id"], {"title": f"Ticket {n}", "status": "closed"})
    store.log_conversation(c["id"], {"channel": "call", "subject": f"Call {n}"})
    return c


def test_delete_refused_while_linked_to_orders(store):
    c = store.add_customer("private", person(1))
    store.add_related("orders", c["id"], {"title": "Chairs", "status": "completed"})
    with pytest.raises(RuleViolation, match="C-000001 has 1 order\\(s\\): customers linked to orders cannot be deleted"):
        store.delete(c["id"])
    assert store.customer(c["id"])


def test_delete_removes_customer_and_everything_it_owns_and_undo_restores_exactly(store):
    c = rich_customer(store, 1)
    before = contents(store)
    store.delete(c["id"])
    assert store.customer_count() == 0
    assert all(not rows for t, rows in contents(store).items() if t not in ("settings",))
    assert store.next_undo()["summary"] == "Deleted customer C-000001"
    store.undo()
    assert contents(store) == before
    assert store.journal(1)[0]["summary"] == "Undid 'Deleted customer C-000001'"


def test_deactivate_undo_restores_exactly(store):
    ids = [store.add_customer("private", person(n))["id"] for n in range(3)]
    before = contents(store)
    store.deactivate(ids)
    store.undo()
    assert contents(store) == before


def test_merge_with_field_choices_moves_everything(store):
    a = rich_customer(store, 1)
    b = rich_customer(store, 2)
    store.add_related("orders", b["id"], {"title": "B's order"})
    store.edit_customer(a["id"], {"city": None})
    store.edit_customer(b["id"], {"city": "Leipzig"})
    merged = store.merge_into(a["id"], b["id"], {"email": "other", "company": "keep"})
    assert merged["email"] == "ada2@example.com"
    assert merged["company"] == "Analytical Engines 1 GmbH"
    assert merged["city"] == "Leipzig"  # empty on the kept one: taken from the other
    assert merged["tags"] == ["t1", "t2"]
    counts = store.related_counts(a["id"])
    # (two contacts more: the email and the phone not chosen, each its customer's)
    assert (counts["departments"], counts["contacts"], counts["tickets"], counts["orders"], counts["conversations"]) == (2, 4, 2, 1, 2)
    assert sum(d["headquarters"] for d in store.children(a["id"], "departments")) == 1
    assert store.find("customers", "number", b["number"]) == []
    assert store.journal(1)[0]["summary"] == ("Merged C-000002 into C-000001 (5 related record(s) moved; "
                                              "kept: ada1@example.com → contact 'Ada1 Lovelace'; "
                                              "kept: +493012340002 → contact 'Ada2 Lovelace')")


def test_merge_undo_restores_exactly(store):
    a, b = rich_customer(store, 1), rich_customer(store, 2)
    before = contents(store)
    store.merge_into(a["id"], b["id"], {"first_name": "other"})
    store.undo()
    assert contents(store) == before


def test_merge_keeps_the_email_and_phone_not_chosen_as_a_contact_of_a_corporate_customer(store):
    a = store.add_customer("corporate", company(1))
    b = store.add_customer("corporate", person(2, company="Engines Berlin", email="anna@x.de"))
    before = contents(store)
    merged = store.merge_into(a["id"], b["id"], {"phone": "other"})
    assert (merged["email"], merged["phone"]) == ("ada1@example.com", "+493012340002")
    kept = {(c["first_name"], c["last_name"], c.get("email"), c.get("phone"), c["role"])
            for c in store.children(a["id"], "contacts")}
    assert kept == {("Ada1", "Lovelace", None, "+493012340001", "from C-000001 (merged)"),
                    ("Ada2", "Lovelace", "anna@x.de", None, "from C-000002 (merged)")}
    assert "kept: anna@x.de → contact 'Ada2 Lovelace'" in store.journal(1)[0]["summary"]
    store.undo()
    assert contents(store) == before


def test_merge_keeps_the_email_and_phone_not_chosen_in_a_private_customers_notes(store):
    a = store.add_customer("private", person(1, notes="Prefers mail"))
    b = store.add_customer("private", person(2))
    before = contents(store)
    merged = store.merge_into(a["id"], b["id"])
    assert (merged["email"], merged["phone"]) == ("ada1@example.com", "+493012340001")
    assert merged["notes"] == "Prefers mail\nFrom C-000002 (Ada2 Lovelace), merged: email ada2@example.com, phone +493012340002"
    assert store.children(a["id"], "contacts") == []
    assert "kept: ada2@example.com, +493012340002 → notes" in store.journal(1)[0]["summary"]
    store.undo()
    assert contents(store) == before


def test_merge_sets_nothing_aside_when_the_values_are_the_same(store):
    a = store.add_customer("corporate", company(1, email="ada@example.com"))
    b = store.add_customer("corporate", company(2, email="ADA@Example.com", phone="+49 30 12340001"))
    store.merge_into(a["id"], b["id"])
    assert store.children(a["id"], "contacts") == []
    assert store.journal(1)[0]["summary"] == "Merged C-000002 into C-000001 (0 related record(s) moved)"


def test_merge_refusals(store):
    a = rich_customer(store, 1)
    p = store.add_customer("private", person(2))
    with pytest.raises(RuleViolation, match="merged with itself"):
        store.merge_into(a["id"], a["id"])
    with pytest.raises(RuleViolation, match="would be private but has departments"):
        store.merge_into(p["id"], a["id"])
    with pytest.raises(RuleViolation, match="must be 'keep' or 'other', not 'both'"):
        store.merge_into(a["id"], p["id"], {"email": "both"})
    store.update_settings(allow_private_customers=False)
    q = store.add_customer("private", company(3))
    with pytest.raises(ValidationFailed, match="company name is required"):
        store.merge_into(q["id"], p["id"], {"company": "other", "kind": "keep"})


def test_undo_refuses_when_records_changed_since(store):
    c = store.add_customer("private", person(1))
    store.deactivate([c["id"]])
    store.edit_customer(c["id"], {"city": "Bonn"})
    with pytest.raises(ConcurrentChange, match="cannot undo 'Deactivated C-000001': 1 record\\(s\\) changed since"):
        store.undo()
    assert store.customer(c["id"])["city"] == "Bonn"


def test_nothing_to_undo_and_undo_is_not_repeated(store):
    with pytest.raises(NothingToUndo):
        store.undo()
    c = store.add_customer("private", person(1))
    store.deactivate([c["id"]])
    store.undo()
    with pytest.raises(NothingToUndo):
        store.undo()  # adding a customer is not a destructive action


def test_obfuscate_refused_while_open_business(store):
    c = store.add_customer("private", person(1))
    store.add_related("orders", c["id"], {"title": "Chairs", "status": "processing"})
    store.add_related("offers", c["id"], {"title": "Offer", "status": "sent"})
    with pytest.raises(RuleViolation, match="open orders, offers or tickets \\(O-000001, OF-000001\\)"):
        store.obfuscate(c["id"])
    assert store.customer(c["id"])["email"] == "ada1@example.com"


def test_obfuscate_replaces_personal_data_and_leaves_no_trace(store, store_path):
    secret = {"first_name": "Zebulon", "last_name": "Quartermaine", "email": "zebulon.q@secret-mail.example",
              "phone": "+4930999888777", "street": "Geheimweg 13", "company": "Quartermaine Holdings",
              "notes": "Zebulon likes tea"}
    c = store.add_customer("corporate", secret)
    store.add_contact(c["id"], {"first_name": "Zebulon", "last_name": "Junior", "email": "zeb.jr@secret-mail.example"})
    store.add_department(c["id"], {"name": "HQ", "email": "hq@secret-mail.example"}, headquarters=True)
    store.log_conversation(c["id"], {"channel": "email", "subject": "Zebulon's complaint"})
    store.add_related("orders", c["id"], {"title": "Chairs", "status": "completed"})
    store.edit_customer(c["id"], {"city": "Quartermaine-City"})
    store.deactivate([c["id"]])  # undo data now holds the old values too
    store.add_source({"first_name": "Other", "email": "other@example.com"})  # more log traffic

    result = store.obfuscate(c["id"])
    assert result["number"] == c["number"] and result["obfuscated_at"]
    assert result["email"] != secret["email"] and result["first_name"] != "Zebulon"
    assert store.children(c["id"], "conversations") == []
    assert len(store.children(c["id"], "orders")) == 1
    for name, data in stored_bytes(store_path).items():
        for needle in (b"Zebulon", b"Quartermaine", b"secret-mail", b"+4930999888777", b"Geheimweg"):
            assert needle not in data, f"{needle!r} survived in {name}"
    with pytest.raises(RuleViolation, match="already obfuscated"):
        store.obfuscate(c["id"])


def test_obfuscation_is_not_undoable_and_purges_older_undo_data(store):
    c = store.add_customer("private", person(1))
    store.deactivate([c["id"]])
    store.obfuscate(c["id"])
    with pytest.raises(NothingToUndo):
        store.undo()
    entry = next(e for e in store.journal() if e["action"] == "deactivate")
    assert entry["purged"] and entry.get("changes") is None and not entry["undoable"]


@pytest.mark.parametrize("choice,tags", [("both", ["t1", "t2"]), ("keep", ["t1"]), ("other", ["t2"])])
def test_merge_tag_choices(store, choice, tags):
    a, b = rich_customer(store, 1), rich_customer(store, 2)
    assert store.merge_into(a["id"], b["id"], {"tags": choice})["tags"] == tags

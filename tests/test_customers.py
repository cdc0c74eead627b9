"""Adding and editing customers, departments and contacts; settings."""
import pytest
from helpers import company, person

from store import ConcurrentChange, NotFound, RuleViolation, Store, ValidationFailed


def test_add_private_customer_gets_a_number_and_clean_fields(store):
    store.update_settings(default_country="DE")
    c = store.add_customer("private", person(1, email=" ADA1@Example.com ", phone="030 1234567"))
    assert c["number"] == "C-000001"
    assert c["kind"] == "private" and c["active"] is True
    assert c["email"] == "ada1@example.com"
    assert c["phone"] == "+49301234567"
    assert store.add_customer("private", person(2))["number"] == "C-000002"


def test_invalid_customer_is_refused_and_nothing_written(store):
    with pytest.raises(ValidationFailed, match="email: 'nope' is not a valid email address"):
        store.add_customer("private", person(1, email="nope"))
    with pytest.raises(ValidationFailed, match="an email or a phone number is required"):
        store.add_customer("private", {"first_name": "Ada"})
    assert store.customer_count() == 0
    assert store.journal() == []


def test_corporate_needs_a_company_and_so_does_private_when_not_allowed(store):
    with pytest.raises(ValidationFailed, match="a corporate customer needs a company name"):
        store.add_customer("corporate", person(1))
    store.update_settings(allow_private_customers=False)
    with pytest.raises(ValidationFailed, match="private customers are not allowed"):
        store.add_customer("private", person(1))
    assert store.add_customer("private", company(1))["company"] == "Analytical Engines 1 GmbH"


def test_unknown_kind_and_setting_are_refused(store):
    with pytest.raises(RuleViolation, match="kind must be corporate or private"):
        store.add_customer("reseller", person(1))
    with pytest.raises(RuleViolation, match="unknown setting"):
        store.update_settings(colour="red")


def test_default_country_setting_drives_phone_normalisation(store):
    store.update_settings(default_country="TR")
    assert store.add_customer("private", person(1, phone="0532 123 45 67"))["phone"] == "+905321234567"


def test_customer_number_is_unique(store):
    store.add_customer("private", person(1, number="C-000777"))
    with pytest.raises(RuleViolation, match="C-000777 is already used"):
        store.add_customer("private", person(2, number="c-000777"))


def test_edit_customer_applies_rules_and_journals(store):
    c = store.add_customer("private", person(1))
    edited = store.edit_customer(c["id"], {"city": " Berlin ", "email": "NEW@example.com"})
    assert edited["city"] == "Berlin" and edited["email"] == "new@example.com"
    assert store.journal(1)[0]["summary"] == "Edited customer C-000001"
    assert store.journal(1)[0]["user"] == "tester"
    with pytest.raises(ValidationFailed):
        store.edit_customer(c["id"], {"email": "broken"})
    assert store.customer(c["id"])["email"] == "new@example.com"


def test_edit_of_a_stale_copy_is_refused(store):
    c = store.add_customer("private", person(1))
    store.edit_customer(c["id"], {"city": "Berlin"}, expected_rev=c["rev"])
    with pytest.raises(ConcurrentChange, match="changed by someone else"):
        store.edit_customer(c["id"], {"city": "Hamburg"}, expected_rev=c["rev"])
    assert store.customer(c["id"])["city"] == "Berlin"


def test_departments_and_contacts_only_for_corporate(store):
    corp = store.add_customer("corporate", company(1))
    priv = store.add_customer("private", person(2))
    hq = store.add_department(corp["id"], {"name": "Headquarters", "city": "Berlin"}, headquarters=True)
    sales = store.add_department(corp["id"], {"name": "Sales", "email": "Sales@Example.com"})
    assert sales["email"] == "sales@example.com"
    with pytest.raises(RuleViolation, match="already has a headquarters"):
        store.add_department(corp["id"], {"name": "Second HQ"}, headquarters=True)
    contact = store.add_contact(corp["id"], {"first_name": "Grace", "email": "grace@example.com"}, department_id=sales["id"])
    assert contact["department_id"] == sales["id"]
    with pytest.raises(RuleViolation, match="only corporate customers have departments"):
        store.add_department(priv["id"], {"name": "Sales"})
    with pytest.raises(RuleViolation, match="does not belong to this customer"):
        store.add_contact(corp["id"], {"first_name": "X", "email": "x@example.com"}, department_id=999)
    with pytest.raises(ValidationFailed, match="a department needs a name"):
        store.add_department(corp["id"], {"name": " "})
    store.edit_department(hq["id"], {"city": "Munich"})
    store.edit_contact(contact["id"], {"role": "Buyer", "department_id": None})
    assert [d.get("city") for d in store.children(corp["id"], "departments")] == ["Munich", None]
    assert store.child("contacts", contact["id"])["role"] == "Buyer"
    with pytest.raises(RuleViolation, match="cannot keep them"):
        store.edit_customer(corp["id"], {"kind": "private"})


def test_tags_on_many_customers(store):
    a = store.add_customer("private", person(1, tags="vip, newsletter"))
    b = store.add_customer("private", person(2))
    assert a["tags"] == ["vip", "newsletter"]
    assert store.set_tags([a["id"], b["id"]], add=["wholesale"], remove=["vip"]) == 2
    assert store.customer(a["id"])["tags"] == ["newsletter", "wholesale"]
    assert store.customer(b["id"])["tags"] == ["wholesale"]


def test_find_by_identifying_fields(store):
    c = store.add_customer("corporate", company(1, vat_id="DE 136.695.976", external_id="X-1"))
    assert [f["id"] for f in store.find("customers", "email", "ADA1@EXAMPLE.COM")] == [c["id"]]
    assert [f["id"] for f in store.find("customers", "vat_id", "de136695976")] == [c["id"]]
    assert [f["id"] for f in store.find("customers", "number", "c-000001")] == [c["id"]]
    assert [f["id"] for f in store.find("customers", "phone", c["phone"])] == [c["id"]]
    with pytest.raises(RuleViolation, match="not an identifying field"):
        store.find("customers", "city", "Berlin")


def test_stats(store):
    store.add_customer("corporate", company(1))
    c = store.add_customer("private", person(2))
    store.deactivate([c["id"]])
    store.add_source(person(3))
    assert store.stats() == {"customers": 2, "active": 1, "inactive": 1, "corporate": 1, "private": 1, "sources": 1}


def test_missing_customer_is_a_clear_not_found(store):
    with pytest.raises(NotFound, match="customer #42 does not exist"):
        store.customer(42)


def test_data_survives_reopening(store_path):
    with Store(store_path) as s:
        c = s.add_customer("corporate", company(1))
        s.add_department(c["id"], {"name": "Sales"})
    with Store(store_path) as s:
        assert s.customer(c["id"])["company"] == "Analytical Engines 1 GmbH"
        assert [d["name"] for d in s.children(c["id"], "departments")] == ["Sales"]
        assert s.add_customer("private", person(2))["number"] == "C-000002"

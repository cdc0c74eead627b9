"""The source list: prospects, activation, discard."""
import pytest
from helpers import contents, person

from store import NotFound, ValidationFailed


def test_prospect_keeps_origin_and_raw_row(store):
    raw = {"Name": "Ada Lovelace", "E-Mail": "ADA@example.com"}
    s = store.add_source({**person(1), "origin": {"file": "leads.xlsx", "sheet": "Leads", "row": 4}, "raw": raw})
    assert s["origin"] == {"file": "leads.xlsx", "sheet": "Leads", "row": 4}
    assert s["raw"] == raw
    assert s["imported_at"]


def test_activate_with_edits_makes_a_customer_and_removes_the_prospect(store):
    s = store.add_source({**person(1), "origin": {"file": "leads.xlsx", "row": 2}, "raw": {"a": "b"}})
    c = store.activate(s["id"], "corporate", {"company": "Engines Ltd", "city": "London"})
    assert (c["kind"], c["company"], c["city"], c["email"]) == ("corporate", "Engines Ltd", "London", "ada1@example.com")
    assert c["origin"] == {"file": "leads.xlsx", "row": 2}
    assert list(store.sources()) == []
    assert store.journal(1)[0]["summary"] == f"Activated prospect #{s['id']} as C-000001"


def test_activation_obeys_customer_rules(store):
    s = store.add_source(person(1))
    before = contents(store)
    with pytest.raises(ValidationFailed, match="corporate customer needs a company"):
        store.activate(s["id"], "corporate", {})
    assert contents(store) == before


def test_discard_and_missing_prospect(store):
    s = store.add_source(person(1))
    assert store.discard([s["id"]]) == 1
    with pytest.raises(NotFound, match="activated or discarded"):
        store.activate(s["id"], "private")


def test_prospect_needs_name_and_reach_and_no_card_numbers(store):
    with pytest.raises(ValidationFailed, match="a name or a company name is required"):
        store.add_source({"email": "x@example.com"})
    with pytest.raises(ValidationFailed, match="card number"):
        store.add_source(person(1, notes="paid with 4111 1111 1111 1111"))


@pytest.mark.parametrize("origin,company_name,kind", [
    ({"profile": "odoo", "kind": "private"}, "Yılmaz Danışmanlık", "private"),  # a person who works for a firm
    ({"profile": "datev", "kind": "corporate"}, "Müller GmbH", "corporate"),
    ({"file": "leads.xlsx", "row": 2}, "Engines Ltd", "corporate"),  # no kind said: a company name makes it corporate
    ({"file": "leads.xlsx", "row": 3}, None, "private"),
    ({"profile": "sage", "kind": "person"}, None, "private"),  # a kind the store does not know is not taken
])
def test_a_prospect_is_activated_as_the_kind_its_export_said_else_as_its_company_name_says(store, origin, company_name, kind):
    from store.domain.sources import activation_kind

    s = store.add_source({**person(1), "company": company_name, "origin": origin})
    assert activation_kind(store.source(s["id"])) == kind
    assert store.activate(s["id"], activation_kind(store.source(s["id"])))["kind"] == kind

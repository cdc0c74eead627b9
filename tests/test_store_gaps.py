"""Seed gaps in the store, the import and export, and the detail screen: the
obfuscation opt-out, headquarters, status changes of related records, a
return's detail, and a prospect that is already a customer."""
from __future__ import annotations

import csv

import pytest
from helpers import company, settle

from exporters.customers import export_customers
from importers import plan_import, read_table
from store import RuleViolation, ValidationFailed
from tui.app import CustdeskApp
from tui.screens.modals import ChoiceScreen, ConfirmScreen, CustomerForm, InfoScreen

SIZE = (160, 45)


def test_the_policy_run_passes_over_opted_out_customers_and_says_how_many(store):
    kept = store.add_customer("private", {"first_name": "Opted", "last_name": "Out", "email": "keep@example.com",
                                          "obfuscate_enabled": False})
    due = store.add_customer("private", {"first_name": "Due", "email": "due@example.com"})
    store.deactivate([kept["id"], due["id"]])
    report = store.obfuscate_inactive(0)
    assert report["obfuscated"] == [due["number"]] and report["opted_out"] == 1
    assert store.customer(kept["id"])["email"] == "keep@example.com"


def test_obfuscation_opt_out_imports_as_yes_or_no_in_several_languages_and_exports(store, tmp_path):
    f = tmp_path / "o.csv"
    f.write_text("Name,Email,Anonymisieren\nA,a@example.com,nein\nB,b@example.com,Evet\nC,c@example.com,\n"
                 "D,d@example.com,maybe\n")
    p = plan_import(store, read_table(f), target="private")
    assert [r["_status"] for r in p.rows.to_dicts()] == ["new", "new", "new", "error"]
    assert [i.message for i in p.issues] == ["'maybe' must be yes or no"]
    store.apply_batch(p.batch())
    flags = {c["email"]: c["obfuscate_enabled"] for c in store.customers()}
    assert flags == {"a@example.com": False, "b@example.com": True, "c@example.com": True}
    export_customers(store, tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig")))
    assert {r["email"]: r["obfuscate_enabled"] for r in rows} == {"a@example.com": "no", "b@example.com": "yes",
                                                                  "c@example.com": "yes"}
    with pytest.raises(ValidationFailed, match="must be yes or no"):
        store.add_customer("private", {"first_name": "E", "email": "e@example.com", "obfuscate_enabled": "perhaps"})


def test_headquarters_import_as_a_column_and_export(store, tmp_path):
    f = tmp_path / "hq.csv"
    f.write_text("Firma,Hauptsitz,Abteilung,E-Mail,Straße,Ort,Land\n"
                 "Acme GmbH,Acme Zentrale,Einkauf,info@acme.example,Hauptstr. 1,Berlin,Deutschland\n")
    store.apply_batch(plan_import(store, read_table(f), target="corporate").batch())
    (acme,) = store.customers()
    hq = store.headquarters(acme["id"])
    assert (hq["name"], hq["street"], hq["city"], hq["headquarters"]) == ("Acme Zentrale", "Hauptstr. 1", "Berlin", True)
    assert sorted(d["name"] for d in store.children(acme["id"], "departments")) == ["Acme Zentrale", "Einkauf"]
    store.edit_customer(acme["id"], {"obfuscate_enabled": False})
    export_customers(store, tmp_path / "out.csv")
    (row,) = csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig"))
    assert (row["headquarters"], row["obfuscate_enabled"]) == ("Acme Zentrale", "no")
    # The export imports again as it is.
    from store import Store
    with Store(tmp_path / "again" / "s.json") as again:
        again.apply_batch(plan_import(again, read_table(tmp_path / "out.csv"), target="corporate").batch())
        (copy,) = again.customers()
        assert copy["obfuscate_enabled"] is False and again.headquarters(copy["id"])["name"] == "Acme Zentrale"


def test_one_headquarters_at_a_time(store):
    acme = store.add_customer("corporate", company())
    first = store.add_department(acme["id"], {"name": "Old HQ"}, headquarters=True)
    second = store.add_department(acme["id"], {"name": "New HQ"})
    store.set_headquarters(second["id"])
    assert store.headquarters(acme["id"])["id"] == second["id"]
    assert store.child("departments", first["id"])["headquarters"] is False


def test_closing_an_open_offer_lets_obfuscation_proceed(store):
    acme = store.add_customer("corporate", company())
    offer = store.add_related("offers", acme["id"], {"title": "Engine", "status": "sent"})
    invoice = store.add_related("invoices", acme["id"], {"title": "Engine", "amount": 10.0})
    with pytest.raises(RuleViolation, match="open orders, offers or tickets"):
        store.obfuscate(acme["id"])
    store.set_status("offers", offer["id"], "declined")
    assert store.set_status("invoices", invoice["id"], "paid")["status"] == "paid"
    with pytest.raises(RuleViolation, match="status must be one of"):
        store.set_status("offers", offer["id"], "closed")
    assert store.obfuscate(acme["id"])["obfuscated_at"]


def test_a_prospect_that_is_a_customer_merges_into_it_and_undo_restores_both(store):
    customer = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com", "notes": "VIP"})
    source = store.add_source({"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.com",
                               "city": "London", "notes": "met at the fair"})
    assert [likely.customer["id"] for likely in store.customers_like_source(source["id"])] == [customer["id"]]
    merged = store.merge_source_into(source["id"], customer["id"])
    assert (merged["last_name"], merged["city"], merged["notes"]) == ("Lovelace", "London", "VIP\nmet at the fair")
    assert list(store.sources()) == []
    store.undo()
    assert store.customer(customer["id"]).get("city") is None and store.has_source(source["id"])


async def test_activating_a_prospect_that_is_a_customer_offers_the_merge(store):
    customer = store.add_customer("private", {"first_name": "Ada", "phone": "+442079460958"})
    store.add_source({"first_name": "Ada", "last_name": "Lovelace", "phone": "+442079460958", "city": "London"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "a")
        await settle(app, pilot)  # (the customers it likely is are looked for in a worker)
        assert isinstance(app.screen, ConfirmScreen)
        assert str(app.screen.message).startswith(f"This prospect is likely customer {customer['number']} Ada (same phone")
        await pilot.press("y")
        await pilot.pause()
    assert list(store.sources()) == [] and store.customer_count() == 1
    assert store.customer(customer["id"])["city"] == "London"


async def test_declining_the_merge_activates_as_usual(store):
    store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    store.add_source({"first_name": "Ada", "email": "ada@example.com"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "a")
        await settle(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, CustomerForm)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert store.customer_count() == 2 and list(store.sources()) == []


async def test_detail_sets_a_status_makes_headquarters_and_shows_a_return(store):
    acme = store.add_customer("corporate", company())
    store.add_related("orders", acme["id"], {"title": "Engine"})
    store.add_related("returns", acme["id"], {"title": "Broken cog", "amount": 12.5})
    store.add_department(acme["id"], {"name": "Purchasing"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        tabs = app.screen.query_one("#tabs")
        tabs.active = "tab-orders"
        await pilot.pause()
        await pilot.press("s")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "down", "down", "enter")  # new → … → cancelled
        await pilot.pause()
        tabs.active = "tab-departments"
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        tabs.active = "tab-returns"
        await pilot.pause()
        await pilot.press("i")
        assert isinstance(app.screen, InfoScreen)
        shown = dict(app.screen.fields)
        assert (shown["Title"], shown["Amount"], shown["Status"]) == ("Broken cog", "12.50", "requested")
        await pilot.press("escape")
    assert [o["status"] for o in store.children(acme["id"], "orders")] == ["cancelled"]
    assert store.headquarters(acme["id"])["name"] == "Purchasing"


async def test_the_form_switches_the_obfuscation_opt_out(store):
    ada = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert isinstance(app.screen, CustomerForm)
        app.screen.query_one("#f-obfuscate_enabled").value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert store.customer(ada["id"])["obfuscate_enabled"] is False


def test_a_contacts_phone_is_read_in_its_companys_country(store):
    store.update_settings(default_country="US")
    acme = store.add_customer("corporate", {"company": "Acme SARL", "email": "info@acme.example", "country": "France"})
    contact = store.add_contact(acme["id"], {"first_name": "Jeanne", "phone": "06 12 34 47 20"})
    department = store.add_department(acme["id"], {"name": "Berlin office", "phone": "030 1234567", "country": "DE"})
    assert (contact["phone"], department["phone"]) == ("+33612344720", "+49301234567")


def test_phones_kept_as_typed_make_no_likely_duplicates(store):
    from store.views.duplicates import likely_duplicates
    first = store.add_customer("private", {"first_name": "Ann", "last_name": "Alpha", "phone": "n/a", "email": "a@example.com"})
    store.add_customer("private", {"first_name": "Bob", "last_name": "Beta", "phone": "n/a", "email": "b@example.com"})
    assert likely_duplicates(store, first["id"]) == []

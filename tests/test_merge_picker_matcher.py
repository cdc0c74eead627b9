"""One matcher everywhere (issue 25): the merge picker's likely duplicates come with the
matcher's score and reasons, looked for in a worker; activating a prospect offers the
customer it likely is, by a shared email, phone or VAT id or by the matcher."""
import threading

import pytest
from helpers import SIZE, go_to_row, notices, settle
from textual.widgets import OptionList

import store.views.duplicates
from store.matching import RecordRef
from store.model import CUSTOMERS, SOURCES
from store.views.duplicates import likely_duplicates
from tui.app import CustdeskApp
from tui.screens.modals import ConfirmScreen, CustomerForm
from tui.screens.pick_customer import PickCustomer

BERLIN = {"street": "Hauptstraße 5", "postcode": "10115", "city": "Berlin", "country": "DE"}


def _muellers(store):
    """Jürgen Müller, and Juergen Mueller at the same address (another email): a likely pair."""
    a = store.add_customer("private", {"first_name": "Jürgen", "last_name": "Müller", "email": "jm@gmail.com", **BERLIN})
    b = store.add_customer("private", {"first_name": "Juergen", "last_name": "Mueller", "email": "juergen.mueller@web.de",
                                       "street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin"})
    store.add_customer("private", {"first_name": "Anna", "last_name": "Alpha", "email": "anna@example.org"})
    return a, b


def _listed(app) -> list[str]:
    """The picker's lines as the user reads them (one a customer, however it wraps)."""
    options = app.screen.query_one("#pick-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


@pytest.fixture
def held_suggestions(monkeypatch):
    """The picker's matcher held back until the test lets it go (a big store's first look takes seconds)."""
    go = threading.Event()
    real = store.views.duplicates.likely_duplicates

    def slow(*args, **kwargs):
        assert go.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(store.views.duplicates, "likely_duplicates", slow)
    yield go
    go.set()


# -- the merge picker ----------------------------------------------------------------------
async def test_the_picker_lists_the_likely_duplicate_with_its_score_and_reasons(store):
    a, b = _muellers(store)
    [likely] = likely_duplicates(store, a["id"])
    assert likely.customer["id"] == b["id"] and "same street and postcode" in likely.reasons
    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to_row(pilot, app, a["number"])
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, PickCustomer)
        text = " ".join(_listed(app))
        assert f"{b['number']}  Juergen Mueller  {likely.score:.0%}" in text
        assert "same street and postcode" in text and "Anna" not in text
        await pilot.press("enter", "enter")  # to the list, then its first line: the merge screen for the two
        await settle(app, pilot)
        assert (app.screen.keep_id, app.screen.other_id) == (a["id"], b["id"])


async def test_the_picker_opens_at_once_and_a_typed_search_is_not_overwritten(store, held_suggestions):
    a, b = _muellers(store)
    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to_row(pilot, app, a["number"])
        await pilot.press("m")
        assert isinstance(app.screen, PickCustomer)
        assert _listed(app) == ["looking for likely duplicates …"]
        await pilot.press(*"alpha")  # the search works while the matcher looks
        assert [line.split()[:3] for line in _listed(app)] == [["C-000003", "Anna", "Alpha"]]
        held_suggestions.set()
        await settle(app, pilot)
        assert [line.split()[:3] for line in _listed(app)] == [["C-000003", "Anna", "Alpha"]]
        await pilot.press(*["backspace"] * 5)  # nothing typed: the suggestions that came meanwhile
        assert b["number"] in _listed(app)[0]
        await pilot.press("escape")
        assert not isinstance(app.screen, PickCustomer)


async def test_a_customer_with_no_likely_duplicate_is_told_so(store):
    _muellers(store)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_row(pilot, app, "C-000003")  # Anna Alpha
        await pilot.press("m")
        await settle(app, pilot)
        assert _listed(app) == ["no likely duplicates: type to search"]
        await pilot.press("enter")  # nothing to pick: the search box keeps the focus
        assert isinstance(app.screen, PickCustomer) and app.screen.focused.id == "pick-query"


# -- activation -------------------------------------------------------------------------
def _anna(store):
    """Anna Müller, and a prospect Anna Mueller at her address with another phone and no email:
    no email, phone or VAT id in common, so only the matcher finds her."""
    store.update_settings(default_country="DE")
    customer = store.add_customer("private", {"first_name": "Anna", "last_name": "Müller", "email": "anna.mueller@example.com",
                                              "phone": "+49 30 1234567", **BERLIN})
    prospect = store.add_source({"first_name": "Anna", "last_name": "Mueller", "phone": "030 1234568",
                                 "street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin", "notes": "met at the fair"})
    return customer, prospect


def test_the_matcher_finds_the_customer_a_prospect_likely_is(store):
    customer, prospect = _anna(store)
    [likely] = store.customers_like_source(prospect["id"])
    assert likely.customer["id"] == customer["id"] and likely.score is not None and likely.score >= 0.5
    assert "same street and postcode" in likely.reasons and "phones one digit apart" in likely.reasons


def test_holders_of_the_prospects_email_phone_or_vat_id_come_first_with_their_reason(store):
    customer, _ = _anna(store)
    holder = store.add_customer("corporate", {"company": "Nordlicht GmbH", "email": "info@nordlicht.example", "vat_id": "DE136695976"})
    same_phone = store.add_customer("private", {"first_name": "Zoe", "last_name": "Zett", "phone": "+49 30 1234568"})
    other = store.add_source({"first_name": "Anna", "last_name": "Mueller", "phone": "030 1234568", "vat_id": "DE136695976",
                              "street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin"})
    found = store.customers_like_source(other["id"])
    assert [likely.customer["id"] for likely in found] == [same_phone["id"], holder["id"], customer["id"]]
    assert found[0].reasons[0] == "same phone" and found[1].reasons[0] == "same VAT id"
    assert found[2].score is not None and "same street and postcode" in found[2].reasons
    assert len(set(found[0].reasons)) == len(found[0].reasons)  # a reason the matcher gives too is said once


def test_a_customer_said_to_be_someone_else_is_not_offered(store):
    customer, prospect = _anna(store)
    holder = store.add_customer("private", {"first_name": "Zoe", "last_name": "Zett", "phone": "+49 30 1234568"})
    store.mark_distinct(RecordRef(SOURCES, prospect["id"]), RecordRef(CUSTOMERS, customer["id"]))
    store.mark_distinct(RecordRef(SOURCES, prospect["id"]), RecordRef(CUSTOMERS, holder["id"]))
    assert store.customers_like_source(prospect["id"]) == []
    store.undo()
    assert [likely.customer["id"] for likely in store.customers_like_source(prospect["id"])] == [holder["id"]]


def test_a_prospect_like_no_customer_is_like_none(store):
    _anna(store)
    stranger = store.add_source({"first_name": "Bert", "last_name": "Brecht", "email": "bb@example.com", "city": "Augsburg"})
    assert store.customers_like_source(stranger["id"]) == []


async def test_activating_offers_the_customer_only_the_matcher_finds_and_y_merges(store):
    customer, _ = _anna(store)
    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "a")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        message = str(app.screen.message)
        assert message.startswith(f"This prospect is likely customer {customer['number']} Anna Müller (same name, ")
        assert "phones one digit apart" in message and message.endswith("(n activates it as a new customer)")
        await pilot.press("y")
        await settle(app, pilot)
    assert list(store.sources()) == [] and store.customer_count() == 1
    assert store.customer(customer["id"])["notes"] == "met at the fair"


async def test_activating_a_prospect_like_no_customer_goes_to_the_form(store):
    _anna(store)
    store.add_source({"first_name": "Bert", "last_name": "Brecht", "email": "bb@example.com", "city": "Augsburg"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "G", "a")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomerForm) and app.screen.query_one("#f-last_name").value == "Brecht"


async def test_a_slow_look_before_activating_says_so_and_a_quick_one_does_not(store, monkeypatch):
    _anna(store)
    async with CustdeskApp(store).run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "a")
        await settle(pilot.app, pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)
        assert not any("Looking for" in text for text in notices(pilot.app))
    go = threading.Event()
    real = type(store).customers_like_source

    def slow(self, source_id):
        assert go.wait(30)
        return real(self, source_id)
    monkeypatch.setattr(type(store), "customers_like_source", slow)
    async with CustdeskApp(store).run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "a")
        await pilot.pause(0.8)
        assert any("Looking for the customers this prospect may already be" in text for text in notices(pilot.app))
        go.set()
        await settle(pilot.app, pilot)
        assert isinstance(pilot.app.screen, ConfirmScreen)

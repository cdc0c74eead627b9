"""The marketing answers in the app, by the keys a person presses: chosen on the customer
form (yes, no, not asked), shown on the detail with when and through what."""
from __future__ import annotations

from helpers import SIZE, go_to_row, rendered, settle
from textual.widgets import Select

from store.store import Store
from tui.app import CustdeskApp
from tui.screens.modals import CustomerForm


async def choose(pilot, screen: CustomerForm, select_id: str, moves: list[str]) -> None:
    """Tab to the choice, open it, move and pick."""
    select = screen.query_one(f"#{select_id}", Select)
    for _ in range(30):
        if select.has_focus:
            break
        await pilot.press("tab")
    assert select.has_focus
    await pilot.press("enter", *moves, "enter")
    await pilot.pause()


async def test_a_new_customer_gets_her_answers_from_the_form_stamped_by_the_user(store: Store) -> None:
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "tab", *"Engines Ltd", "tab", "tab", "tab", *"ada@example.com")
        screen = app.screen
        assert isinstance(screen, CustomerForm)
        assert screen.query_one("#f-email_marketing", Select).value == "not asked"
        await choose(pilot, screen, "f-email_marketing", ["up", "up"])  # not asked → no → yes
        await choose(pilot, screen, "f-sms_marketing", ["up"])  # not asked → no
        assert screen.query_one("#f-email_marketing", Select).value == "yes"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    [ada] = store.customers()
    assert (ada["email_marketing"], ada["sms_marketing"]) == (True, False)
    assert {stamp["source"] for stamp in ada["marketing_consent"].values()} == {"form by tester"}


async def test_the_form_takes_an_answer_back_to_not_asked(store: Store) -> None:
    ada = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com", "sms_marketing": True})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_row(pilot, app, ada["number"])
        await pilot.press("e")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CustomerForm)
        assert screen.query_one("#f-sms_marketing", Select).value == "yes"
        await choose(pilot, screen, "f-sms_marketing", ["down", "down"])  # yes → no → not asked
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    after = store.customer(ada["id"])
    assert after.get("sms_marketing") is None
    assert after["marketing_consent"]["sms"]["source"] == "form by tester"


async def test_the_detail_shows_each_answer_with_its_time_and_source(store: Store) -> None:
    ada = store.add_customer("private", {"first_name": "Ada", "email": "ada@example.com"})
    store.set_marketing(ada["id"], "email", False, source="one-click unsubscribe (campaign #3)")
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_row(pilot, app, ada["number"])
        await pilot.press("enter")
        await settle(app, pilot)
        shown = " ".join(rendered(app.screen.query_one("#main")).split())
    stamp = store.customer(ada["id"])["marketing_consent"]["email"]["at"]
    assert f"Email marketing no ({app.dates.shown(stamp)}, one-click unsubscribe (campaign #3))" in shown
    assert "SMS marketing not asked" in shown

"""The merge screen says beforehand where the email and phone not chosen go, and the
store holds them there after the merge (keys a person presses, the store checked)."""
from helpers import SIZE, contents, go_to_row, rendered, settle

from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.merge import MergeScreen


async def open_merge(pilot, app, number: str, partner: str) -> str:
    """The merge screen of `number` with the customer found by typing `partner`: what it shows."""
    await go_to_row(pilot, app, number)
    await pilot.press("m", *partner, "enter", "enter")
    await settle(app, pilot)
    assert isinstance(app.screen, MergeScreen)
    return rendered(app.screen.query_one("#merge"))


async def test_the_merge_screen_names_what_is_kept_and_the_store_keeps_it(shop):
    shop.edit_customer(2, {"phone": "+49 30 1234567"})
    before = contents(shop)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await open_merge(pilot, app, "C-000001", "Grace")
        assert "kept: grace@example.com → contact 'Grace Hopper'" in shown
        await pilot.press("enter", "y")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        [kept] = shop.children(1, "contacts")
        assert (kept["first_name"], kept["last_name"], kept["email"]) == ("Grace", "Hopper", "grace@example.com")
        assert shop.customer(1)["phone"] == "+49301234567"  # the kept customer had none: Grace's is taken
        await pilot.press("u", "y")
        await settle(app, pilot)
    assert contents(shop) == before


async def test_the_merge_screen_follows_the_choice_into_a_private_customers_notes(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert "kept: mal@example.com → notes" in await open_merge(pilot, app, "C-000002", "Mallory")
        await pilot.press(*["down"] * 4, "space")  # email: take Mallory's, Grace's is kept instead
        assert "kept: grace@example.com → notes" in rendered(app.screen.query_one("#merge"))
        await pilot.press("enter", "y")
        await settle(app, pilot)
    merged = shop.customer(2)
    assert merged["email"] == "mal@example.com"
    assert merged["notes"] == "From C-000002 (Grace Hopper), merged: email grace@example.com"

"""History in the app, driven by the keys a person presses: a customer's History tab shows
who changed which field from what to what; the palette's History lists the journal and
undoes an entry by its name after a yes."""
from helpers import SIZE, go_to_row, person, rendered, settle

from tui.app import CustdeskApp
from tui.screens.activity import ActivityScreen
from tui.screens.detail import DetailScreen
from tui.screens.modals import ConfirmScreen, InfoScreen


def shown(message) -> str:
    return message.plain if hasattr(message, "plain") else str(message)


async def test_the_history_tab_shows_each_field_changed_newest_first(store):
    customer = store.add_customer("private", person(1, city="Berlin"))
    store.edit_customer(customer["id"], {"city": "München"}, expected_rev=customer["rev"])
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_row(pilot, app, customer["number"])
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("left_square_bracket")  # from the first tab back round to the last: History
        await settle(app, pilot)
        assert app.screen.current_tab() == "history"
        history = app.screen.query_one("#table-history")
        text = rendered(history)
        assert "city" in text and "Berlin → München" in text and "tester" in text
        assert text.index("Edited customer") < text.index("Added private customer")  # newest first
        # a change made meanwhile shows at once
        store.edit_customer(customer["id"], {"city": "Köln"})
        app.after_change()
        await settle(app, pilot)
        assert "München → Köln" in rendered(history)
        assert app.screen.check_action("row_detail", ()) is False  # rows of history are not records


async def test_the_palette_opens_history_and_u_undoes_the_entry_named_after_a_yes(store):
    ada = store.add_customer("private", person(1))
    grace = store.add_customer("private", person(2))
    store.deactivate([ada["id"]])
    store.deactivate([grace["id"]])
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"History")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ActivityScreen)
        assert [e["action"] for e in screen.entries.values()] == ["deactivate", "deactivate", "add", "add"]
        await pilot.press("down")  # Ada's deactivation, not the newest
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert ada["number"] in shown(app.screen.message) and grace["number"] not in shown(app.screen.message)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen
        assert store.customer(ada["id"])["active"] and not store.customer(grace["id"])["active"]
        assert next(iter(screen.entries.values()))["action"] == "undo"
        # an entry undo cannot take back: `u` is off, `i` tells what it was
        await pilot.press("down", "down", "down", "down")
        await settle(app, pilot)
        assert screen.current()["action"] == "add" and screen.check_action("undo", ()) is None
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, InfoScreen) and ada["number"] in rendered(app.screen)

"""Keys typed at full speed, all posted to the app before it has handled the first (as a
terminal delivers a burst of typing, or a paste of keys): each still goes where the key
before it left the app, so a search is typed into the search box and a destructive key
acts on the customer the screen shows once the keys before it are handled."""
from helpers import SIZE, settle, table
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input

from store import Store
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.tables import CustomersScreen, SourcesScreen


def burst(app: CustdeskApp, *keys: str) -> None:
    """Post every key to the app at once, as the terminal driver does, waiting for nothing
    in between (Pilot.press waits for the app to go idle after each key)."""
    app.posted = app.keys.routed + len(keys)  # (what the gate will have routed once these are)
    for typed in keys:
        if len(typed) == 1:  # a character, as typed
            app.post_message(events.Key(_character_to_key(typed) if not typed.isalnum() else typed, typed))
        else:  # a key's name: escape, delete, enter …
            app.post_message(events.Key(typed, {"escape": "\x1b", "enter": "\r"}.get(typed)))


async def handled(app: CustdeskApp, pilot) -> None:
    """Until every key posted has been handled, and what the keys started has finished."""
    for _ in range(3000):  # 30 s at most
        if app.keys.routed >= app.posted and app.keys.idle:
            break
        await pilot.pause(0.01)
    await settle(app, pilot)


def customers(store: Store, count: int) -> None:
    for n in range(1, count + 1):
        store.add_customer("private", {"first_name": f"Person{n}", "last_name": "Example", "email": f"p{n}@example.com"})


async def test_a_delete_typed_right_after_a_search_deletes_the_customer_found(store):
    customers(store, 30)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("enter")  # the detail of C-000001, the table's first row
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 1
        burst(app, "escape", "/", *"C-000017", "escape", "delete", "y")
        await handled(app, pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert not store.has_customer(17) and store.has_customer(1)
        assert app.screen.query_one("#search", Input).value == "C-000017"
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["Deleted C-000017; u undoes"]
        assert table(app).row_count == 0  # the search still shows, and finds no one now


async def test_letters_typed_right_after_slash_on_the_source_list_go_into_the_search(store):
    store.add_source({"first_name": "Laura", "last_name": "Huber", "email": "laura@example.com"})
    store.add_source({"first_name": "Linus", "last_name": "Torvalds", "email": "linus@example.com"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p")
        burst(app, "/", *"au", "escape", "u", "u")  # `a` activates and `u` undoes on the list itself
        await handled(app, pilot)
        assert isinstance(app.screen, SourcesScreen)
        assert app.screen.query_one("#search", Input).value == "au"
        assert table(app).row_count == 1 and table(app).current_row()["name"] == "Laura Huber"
        assert len(list(store.sources())) == 2 and not list(store.customers())  # nothing activated
        await pilot.pause()
        # The two `u` after escape reached the list (nothing to undo: it says so), none before.
        assert [n.message for n in app._notifications].count("Nothing to undo") == 2


async def test_keys_typed_as_the_detail_closes_go_to_the_table_it_returns_to(store):
    customers(store, 5)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("j", "enter")
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 2
        burst(app, "escape", "j", "enter")  # back, the next row, open it
        await handled(app, pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 3
        burst(app, "escape", "delete", "y", "escape", "escape")  # back, delete the highlighted, and out
        await handled(app, pilot)
        assert isinstance(app.screen, CustomersScreen) and len(app.screen_stack) == 2
        assert not store.has_customer(3) and all(store.has_customer(n) for n in (1, 2, 4, 5))


async def test_details_opened_and_closed_at_full_speed(store):
    customers(store, 5)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        burst(app, *["enter", "escape", "j"] * 4, "enter")  # each detail closed before it has finished opening
        await handled(app, pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 5
        burst(app, "escape")
        await handled(app, pilot)
        assert isinstance(app.screen, CustomersScreen) and len(app.screen_stack) == 2

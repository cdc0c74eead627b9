"""The verbs on customers and prospects driven with the keys a person presses; the store is
checked after: activate, merge (and undo), deactivate, delete, obfuscate, edit, tag, export,
discard (and undo), d named after what it will do, u on a detail undoing that customer's last
action, a change made by another process appearing by itself."""
import threading
import time
from contextlib import contextmanager

import pytest
from helpers import SIZE, contents, go_to_row, notices, settle, table
from textual.widgets import Input, Label, Static

from store import Batch, StoreError
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.merge import MergeScreen
from tui.screens.modals import ConfirmScreen, CustomerForm, InfoScreen, WorkingScreen
from tui.screens.pick_customer import PickCustomer
from tui.screens.tables import SourcesScreen


async def test_activate_a_prospect(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p")
        assert isinstance(app.screen, SourcesScreen) and table(app).row_count == 1
        await pilot.press("a")
        await settle(app, pilot)  # (the customers it likely is are looked for in a worker)
        assert isinstance(app.screen, CustomerForm)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    linus = shop.find("customers", "email", "linus@example.com")[0]
    assert (linus["kind"], linus["company"], linus["origin"]["file"]) == ("corporate", "Transmeta", "leads.csv")
    assert list(shop.sources()) == []


async def test_merge_with_a_field_choice_and_undo(shop):
    before = contents(shop)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000001")
        await pilot.press("m")
        assert isinstance(app.screen, PickCustomer)
        await pilot.press(*"King", "enter", "enter")
        assert isinstance(app.screen, MergeScreen)
        await pilot.press("down", "space", "enter", "y")  # first name: take the other's
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen)
        kept = shop.customer(1)
        assert kept["first_name"] == "Augusta" and kept["company"] == "Analytical Engines"
        assert kept["tags"] == ["engines", "royal"]  # both customers' tags, unless a side is chosen
        assert not shop.has_customer(3)
        await pilot.press("u", "y")
        await settle(app, pilot)
    assert contents(shop) == before


async def test_deactivate_then_an_order_is_refused(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("d")
        await settle(app, pilot)
        assert shop.customer(2)["active"] is False
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("plus", *"Chairs", "enter")
        await settle(app, pilot)
        assert any("inactive: it cannot get a new order" in n for n in notices(app))
    assert shop.children(2, "orders") == []


def _slow_verbs(shop, monkeypatch) -> tuple[threading.Event, list[bool]]:
    """Verbs over more than two records run off the UI thread (`WORKING_FROM`); the store is
    had 0.3 s after it is asked for (another session's commit), and deactivating or
    activating waits for the event returned (set by the test), noting whether it ran on the
    UI thread."""
    from tui import verbs

    monkeypatch.setattr(verbs, "WORKING_FROM", 2)
    going, threads = threading.Event(), []
    switch, reserved = shop.switch_active, shop.reserved

    def slow(ids):
        threads.append(threading.current_thread() is threading.main_thread())
        going.wait(20)
        return switch(ids)

    @contextmanager
    def later(*args, **kwargs):
        time.sleep(0.3)
        with reserved(*args, **kwargs):
            yield

    monkeypatch.setattr(shop, "switch_active", slow)
    monkeypatch.setattr(shop, "reserved", later)
    return going, threads


async def _working_until(app, pilot, done) -> None:
    for _ in range(500):
        await pilot.pause(0.02)
        if done():
            return
    raise AssertionError(f"not so after 10 s: {app.screen_stack}")


@pytest.mark.parametrize("backend", ["json", "postgresql"])
async def test_a_verb_over_many_runs_off_the_screens_thread_saying_what_it_does(shop, monkeypatch):
    """Deactivating, tagging or undoing more than `WORKING_FROM` records (20 s for 55,000 at
    10,000,000 customers on a server) runs off the UI thread: the screen says what it does
    and counts the seconds meanwhile, and the keys typed from the verb's key on (while it
    waits for the store too) wait for its end, in order. One record's verb runs on the UI
    thread, as every verb over few does."""
    going, threads = _slow_verbs(shop, monkeypatch)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        # (all four shown; then, held, the selection cleared and a search typed)
        await pilot.press("asterisk", "d", "escape", "escape", "slash", *"hopper")
        await _working_until(app, pilot, lambda: isinstance(app.screen, WorkingScreen))
        assert str(app.screen.query_one(Label).render()) == "Deactivating or activating 4 customers …"
        taken = app.screen.query_one("#taken", Static)
        assert str(taken.render()).startswith("0 s;")
        await _working_until(app, pilot, lambda: not str(taken.render()).startswith("0 s;"))  # (its clock ticks)
        assert isinstance(app.screen, WorkingScreen) and shop.customer(2)["active"] is True
        taken, take = [], shop.take_changes

        def counted(*args):
            if not args:  # (the app's, which tells the screens; a selection's `held` on a server keeps its own)
                taken.append(1)
            return take(*args)
        monkeypatch.setattr(shop, "take_changes", counted)
        going.set()
        await _working_until(app, pilot, lambda: not isinstance(app.screen, WorkingScreen) and
                             app.screen.query_one("#search", Input).value == "hopper")
        await settle(app, pilot)
        assert taken == [1]  # (the screens told of the verb's changes once)
        assert threads == [False] and not any(shop.customer(n)["active"] for n in range(1, 5))
        assert any(n.startswith("Deactivated 4 customer(s)") for n in notices(app))
        assert table(app).row_count == 1
        app.clear_notifications()
        await pilot.press("escape", "space", "d")  # (one: on the UI thread, no screen of its own)
        await settle(app, pilot)
        assert threads == [False, True] and shop.customer(2)["active"] is True
        assert any(n.startswith("Reactivated 1 customer(s)") for n in notices(app))


async def test_a_second_verb_over_many_typed_meanwhile_waits_for_the_first(shop, monkeypatch):
    """`*` `d` `d`: the second `d`, typed while the first verb works, waits for its end, then
    runs: all four deactivated, then activated again, one verb at a time. A verb started
    meanwhile by no key (a flow's) waits for it too: the store's lock, the process's, would
    be had by both at once."""
    from tui.verbs import attempt

    going, threads = _slow_verbs(shop, monkeypatch)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("asterisk", "d", "d")
        await _working_until(app, pilot, lambda: isinstance(app.screen, WorkingScreen))
        attempt(app, shop.switch_active, [3])
        await pilot.pause(0.5)
        assert threads == [False] and sum(isinstance(s, WorkingScreen) for s in app.screen_stack) == 1
        going.set()
        await _working_until(app, pilot, lambda: len(threads) == 3 and not isinstance(app.screen, WorkingScreen))
        await settle(app, pilot)
        assert sorted(threads) == [False, False, True]  # (the flow's on the UI thread, before or after the second)
        assert app.working == 0 and not any(isinstance(s, WorkingScreen) for s in app.screen_stack)


async def test_a_screen_put_over_a_verbs_own_outlives_the_verb(shop, monkeypatch):
    """A screen put over a verb's own while it works (rows read meanwhile opening the first
    match) stays after the verb; the verb's screen goes once that one is closed."""
    going, _threads = _slow_verbs(shop, monkeypatch)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("asterisk", "d")
        await _working_until(app, pilot, lambda: isinstance(app.screen, WorkingScreen))
        app.push_screen(InfoScreen("Order", [("title", "Chairs")]))
        going.set()
        await _working_until(app, pilot, lambda: app.working == 0)
        await settle(app, pilot)
        assert not any(shop.customer(n)["active"] for n in range(1, 5))
        assert [type(s) for s in app.screen_stack[-2:]] == [WorkingScreen, InfoScreen]
        await pilot.press("escape")  # (the order's fields closed: the verb's screen goes too)
        await _working_until(app, pilot, lambda: not any(isinstance(s, WorkingScreen) for s in app.screen_stack))
        assert app.screen.query_one("RecordTable") is not None


async def test_a_verb_over_many_refused_says_why_once_its_screen_is_gone(shop, monkeypatch):
    from tui import verbs

    monkeypatch.setattr(verbs, "WORKING_FROM", 2)

    def refused(ids):
        raise StoreError("customers.json: the store is read-only")

    monkeypatch.setattr(shop, "switch_active", refused)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("asterisk", "d")
        await settle(app, pilot)
        assert not isinstance(app.screen, WorkingScreen)
        assert notices(app) == ["customers.json: the store is read-only"]
        await pilot.press("slash", *"king")  # (the keys go on as before)
        await settle(app, pilot)
        assert table(app).row_count == 1
    assert all(shop.customer(n)["active"] for n in range(1, 5))


async def test_delete_refused_with_orders_and_allowed_without(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000001")
        await pilot.press("delete", "y")
        await settle(app, pilot)
        assert shop.has_customer(1)
        assert any("customers linked to orders cannot be deleted" in n for n in notices(app))
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("delete", "y")
        await settle(app, pilot)
        assert not shop.has_customer(2) and table(app).row_count == 3


async def test_obfuscate_refused_and_allowed(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000001")
        await pilot.press("o", "y")
        await settle(app, pilot)
        assert shop.customer(1)["email"] == "ada@example.com"
        assert any("open orders, offers or tickets (OF-000001)" in n for n in notices(app))
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("o", "y")
        await settle(app, pilot)
    grace = shop.customer(2)
    assert grace["obfuscated_at"] and grace["email"] != "grace@example.com" and grace["first_name"] != "Grace"


async def test_delete_and_obfuscate_ask_first_naming_the_customer_and_no_changes_nothing(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000002")
        for key, question in (("delete", "Delete C-000002 Grace Hopper and everything it owns? (u undoes it)"),
                              ("o", "Obfuscate C-000002 Grace Hopper? Its personal data is replaced by fakes and its "
                                    "conversations deleted. This cannot be undone.")):
            await pilot.press(key)
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmScreen) and app.screen.message.plain == question
            await pilot.press("n")
            await settle(app, pilot)
    grace = shop.customer(2)
    assert grace["email"] == "grace@example.com" and not grace.get("obfuscated_at")


async def test_a_change_made_by_another_process_appears_by_itself(shop, store_path):
    from helpers import run_python
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert table(app).row_count == 4
        result = run_python("import sys\nfrom store import Store\nStore(sys.argv[1]).add_customer('private', "
                            "{'first_name': 'Remote', 'email': 'remote@example.com'})", str(store_path))
        assert result.returncode == 0, result.stderr
        assert shop.changed_elsewhere()
        app.poll_store()
        await app.workers.wait_for_complete()
        await settle(app, pilot)
        assert table(app).row_count == 5 and not shop.changed_elsewhere()


async def test_edit_a_customer_in_the_form(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, CustomerForm) and form.query_one("#f-email").value == "grace@example.com"
        form.query_one("#f-city").value = "Arlington"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert table(app).current_row()["city"] == "Arlington"
    assert shop.customer(2)["city"] == "Arlington"


async def test_tag_the_selected_customers_and_filter_by_tag(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("g", "space", "space", "t", *"vip, newsletter", "enter")
        await settle(app, pilot)
        assert shop.customer(1)["tags"] == ["engines", "vip", "newsletter"] and shop.customer(2)["tags"] == ["vip", "newsletter"]
        await pilot.press("escape", "T", *"vip", "enter")
        assert table(app).row_count == 2
        await pilot.press("g", "t", *"-vip", "enter")
        await settle(app, pilot)
    assert shop.customer(1)["tags"] == ["engines", "newsletter"]


async def test_export_the_shown_customers(shop, tmp_path):
    out = tmp_path / "shown.csv"
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("f")  # corporate only: one customer shown
        await pilot.press("x")
        app.screen.query_one("Input").value = str(out)
        await pilot.press("enter")
        await settle(app, pilot)
    assert out.read_text(encoding="utf-8-sig").count("\n") == 2  # header + one customer
    assert [e["format"] for e in shop.children(1, "exports")] == ["csv"] and shop.children(2, "exports") == []


async def test_a_second_export_started_while_the_first_writes_leaves_both(shop, tmp_path, monkeypatch):
    import time

    from exporters import customers as customers_export

    chunks = customers_export._chunks

    def slow(*args):
        for chunk in chunks(*args):
            time.sleep(0.1)  # (as 100,000 customers from a server take seconds)
            yield chunk
    monkeypatch.setattr(customers_export, "CHUNK", 1)
    monkeypatch.setattr(customers_export, "_chunks", slow)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for name in ("first.csv", "second.csv"):
            await pilot.press("x")
            app.screen.query_one("Input").value = str(tmp_path / name)
            await pilot.press("enter")
        await settle(app, pilot)
        assert sorted(n for n in notices(app) if n.startswith("Exported")) == [
            f"Exported 4 customer(s) to {tmp_path / name}" for name in ("first.csv", "second.csv")]
    for name in ("first.csv", "second.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8-sig").count("\n") == 5


async def test_discard_a_prospect_and_undo(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p", "delete", "y")
        await settle(app, pilot)
        assert list(shop.sources()) == [] and table(app).row_count == 0
        await pilot.press("u", "y")
        await settle(app, pilot)
        assert table(app).row_count == 1
    assert [s["email"] for s in shop.sources()] == ["linus@example.com"]


async def test_d_is_named_after_what_it_will_do_to_the_highlighted_customer(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        def footer_names_d() -> set[str]:
            return {b.binding.description for b in app.screen.active_bindings.values() if b.binding.key == "d"}

        await go_to_row(pilot, app, "C-000002")
        assert footer_names_d() == {"Deactivate"}
        await pilot.press("d")
        await settle(app, pilot)
        assert not shop.customer(2)["active"] and footer_names_d() == {"Activate"}
        await pilot.press("k")  # C-000001, active
        assert footer_names_d() == {"Deactivate"}
        await pilot.press("j", "enter")  # the detail of the inactive one
        assert isinstance(app.screen, DetailScreen) and footer_names_d() == {"Activate"}
        await pilot.press("d")
        await settle(app, pilot)
        assert shop.customer(2)["active"] and footer_names_d() == {"Deactivate"}
        await pilot.press("escape")
        await go_to_row(pilot, app, "C-000001")
        await pilot.press("space", "space", "d")  # both selected: named for the selection, wherever the cursor is
        await settle(app, pilot)
        assert not shop.customer(1)["active"] and not shop.customer(2)["active"]
        assert footer_names_d() == {"Activate"}
        await pilot.press("j")
        assert footer_names_d() == {"Activate"}


async def test_u_on_a_detail_undoes_that_customers_last_action_not_a_later_unrelated_one(shop):
    shop.deactivate([2])
    shop.apply_batch(Batch("private", creates=[{"first_name": "Ada", "email": "new@example.com"}]))
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("enter", "u")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Undo Deactivated C-000002" in str(app.screen.query_one("Static").render())
        await pilot.press("y")
        await settle(app, pilot)
        assert shop.customer(2)["active"] and shop.find("customers", "email", "new@example.com")  # the import stays
        await pilot.press("escape")
        await go_to_row(pilot, app, "C-000004")
        await pilot.press("enter", "u")  # nothing was done to this one
        assert isinstance(app.screen, DetailScreen) and "Nothing to undo for this customer" in notices(app)

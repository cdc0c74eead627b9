"""The forms and the detail screen driven with the keys a person presses; the store is checked
after: settings, departments and tasks in the detail, the customer form and the settings at
80x24, the brackets walking the detail's tabs at 80 columns wherever focus is."""
from helpers import SIZE, go_to_row, settle

from tui.app import CustdeskApp
from tui.screens.modals import CustomerForm


async def test_settings_forbid_private_customers(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("comma")
        app.screen.query_one("#allow_private_customers").value = False
        app.screen.query_one("#default_country").value = "tr"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert shop.settings["allow_private_customers"] is False and shop.settings["default_country"] == "TR"


async def test_department_added_and_task_done_in_the_detail(shop):
    shop.add_related("tasks", 1, {"title": "Call back"})
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000001")
        await pilot.press("enter")
        tabs = app.screen.query_one("#tabs")
        tabs.active = "tab-departments"
        await settle(app, pilot)
        await pilot.press("plus")
        app.screen.query_one("#f-name").value = "Purchasing"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        tabs.active = "tab-tasks"
        await settle(app, pilot)
        await pilot.press("D")
        await settle(app, pilot)
    assert [d["name"] for d in shop.children(1, "departments")] == ["Purchasing"]
    assert [t["status"] for t in shop.children(1, "tasks")] == ["done"]


async def test_the_customer_form_works_at_80x24(store):
    from textual.widgets import Switch

    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "ctrl+s")
        screen = app.screen
        assert isinstance(screen, CustomerForm)
        dialog = screen.query_one(".dialog").region
        assert dialog.right <= 80 and dialog.bottom <= 24  # the whole dialog, borders included
        problems, hint = screen.query_one("#problems").region, screen.query_one(".hint").region
        assert problems.height >= 3 and problems.bottom <= hint.y and hint.bottom <= dialog.bottom
        assert "a company name" in str(screen.query_one("#problems").render())
        switch = screen.query_one("#f-obfuscate_enabled", Switch)
        for _ in range(30):  # down the fields to the last one: each comes into view as it takes focus
            await pilot.press("tab")
            if switch.has_focus:
                break
        await pilot.pause()
        assert switch.has_focus and screen.query_one(".fields").region.contains_region(switch.region)
        await pilot.press("escape")
        await pilot.press("n")
        await pilot.press("tab", *"Bäckerei Öz", "tab", "tab", "tab", *"info@bäckerei.de", "ctrl+s")
        await settle(app, pilot)
    assert [c["company"] for c in store.customers()] == ["Bäckerei Öz"]


async def test_settings_at_80x24_show_whole_labels_and_the_switch_in_words(store):
    from textual.widgets import Label

    from tui.screens.modals import SettingsScreen

    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("comma")
        assert isinstance(app.screen, SettingsScreen)
        for label in app.screen.query(".label").results(Label):
            text = str(label.render())
            assert label.content_region.width >= len(text), text  # never "Default country for"
        state = app.screen.query_one("#allow_private_customers-state", Label)
        assert str(state.render()) == "yes"
        await pilot.press("space")  # the switch has focus first
        assert str(state.render()) == "no"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert store.settings["allow_private_customers"] is False


async def test_brackets_walk_the_detail_tabs_at_80_columns_wherever_focus_is(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to_row(pilot, app, "C-000001")
        await pilot.press("enter")
        screen = app.screen
        assert screen.current_tab() == "departments"  # a company's structure first
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert screen.current_tab() == "orders" and app.focused is screen.query_one("#table-orders")
        await pilot.press("D")  # acting keys still belong to the screen: nothing to mark done, nothing breaks
        walked = ["orders"]
        while walked[-1] != "history" and len(walked) < 12:  # to the last tab
            await pilot.press("right_square_bracket")
            await pilot.pause()
            walked.append(screen.current_tab())
        assert walked == ["orders", "invoices", "offers", "tickets", "tasks", "returns", "contracts", "conversations",
                          "exports", "history"]
        tab = screen.query_one("#tabs").query_one("Tabs").query_one("#--content-tab-tab-history")
        assert tab.region.x >= 0 and tab.region.right <= 80  # scrolled into view, not cut off
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.current_tab() == "exports"
        await pilot.press("escape")
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("enter")
        assert app.screen.current_tab() == "orders"  # a private customer has no departments or contacts
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.screen.current_tab() == "history"  # round the end

"""The app driven with the keys a person presses; the store is checked after."""
from helpers import SIZE, contents, go_to_row, notices, settle, table

from store import Batch
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.import_review import ImportScreen
from tui.screens.merge import MergeScreen
from tui.screens.modals import ConfirmScreen, CustomerForm, HelpScreen
from tui.screens.pick_customer import PickCustomer
from tui.screens.tables import CustomersScreen, SourcesScreen


async def test_search_narrows_and_filters(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert table(app).row_count == 4
        await pilot.press("slash", *"hopper")
        assert table(app).row_count == 1 and table(app).current_row()["email"] == "grace@example.com"
        await pilot.press("escape", "escape")
        assert table(app).row_count == 4
        await pilot.press("f")
        assert table(app).row_count == 1  # corporate only
        await pilot.press("f", "F")
        assert table(app).row_count == 3  # private, active
        await pilot.press("f", "s", "s")
        assert next(table(app).row(i)["name"] for i in range(4)) == "Ada Lovelace"


async def test_a_new_search_or_filter_puts_the_cursor_on_the_first_row_and_enter_opens_it(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000004")
        await pilot.press("slash", *"ada")  # C-000001 Ada and C-000003 (ADA@example.com)
        assert table(app).row_count == 2 and table(app).current_row()["number"] == "C-000001"
        await pilot.press("enter")  # from the search box: the first match, not the row at the old place
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 1
        await pilot.press("escape", "escape", "escape")
        assert table(app).row_count == 4
        await go_to_row(pilot, app, "C-000004")
        await pilot.press("F")  # active only: the cursor goes to the first row too
        assert table(app).current_row()["number"] == "C-000001"
        await go_to_row(pilot, app, "C-000003")
        await pilot.press("s")  # a sort keeps the customer under the cursor
        assert table(app).current_row()["number"] == "C-000003"


async def test_G_shows_the_last_row_and_no_column_hides_under_the_scrollbar(store):
    store.apply_batch(Batch("private", creates=[{"first_name": f"P{i}", "email": f"p{i}@example.de"} for i in range(80)]))
    for size in ((160, 50), (80, 24)):
        app = CustdeskApp(store)
        async with app.run_test(size=size) as pilot:
            await pilot.press("G")
            assert "C-000080" in app.export_screenshot()
            header = table(app).render_line(0).text
            assert header.rstrip().endswith("Active"), (size, header)


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


async def test_imported_text_is_shown_literally(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("slash", *"mallory", "escape")  # back to the table, the search kept
        line = table(app).render_line(1).text
        assert "[bold red]x[/]" in line and "␛[2JCleared" in line and "\x1b" not in line
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Delete C-000004 [bold red]x[/] Mallory and everything" in str(app.screen.query_one("Static").render())
        await pilot.press("n")
    assert shop.has_customer(4)


async def test_help_lists_the_screens_keys(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("Static").render())
        assert "Merge" in shown and "Up" in shown and shown.count("palette") == 1
        assert "Scroll Left" not in shown and "Focus Next" not in shown  # Textual's own keys are not the screen's
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


async def open_import(app, pilot, path: str) -> ImportScreen:
    await pilot.press("i")
    screen = app.screen
    assert isinstance(screen, ImportScreen)
    field = screen.query_one("#path")
    field.value = ""
    await pilot.press(*path, "enter")
    await settle(app, pilot)
    return screen


async def test_import_review_happy_path_and_revert(shop, tmp_path):
    path = write_csv(tmp_path / "leads.csv", "Name,E-Mail,Ort\nAlan Turing,alan@example.com,Wilmslow\n"
                                             "Edsger Dijkstra,edsger@example.com,Austin\n")
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_import(app, pilot, path)
        assert screen.plan.counts()["created"] == 2 and screen.step == "review"
        assert table(app).row_count == 2 and table(app).current_row()["status"] == "new"
        await pilot.press("n")
        await settle(app, pilot)
        assert screen.step == "done"
        assert {s["email"] for s in shop.sources()} == {"linus@example.com", "alan@example.com", "edsger@example.com"}
        await pilot.press("u")
        await settle(app, pilot)
        assert {s["email"] for s in shop.sources()} == {"linus@example.com"}


async def test_import_errors_block_and_a_mapping_change_fixes_them(shop, tmp_path):
    path = write_csv(tmp_path / "people.csv", "Who,Mail\nAlan Turing,alan@example.com\nBroken Row,not-an-email\n")
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_import(app, pilot, path)
        assert screen.plan.blocked and screen.plan.count("error") == 2  # no name column, one bad email
        await pilot.press("s", "s", "s", "s", "s", "s")
        assert screen.status_filter == "error" and table(app).row_count == 2
        screen.query_one("#mapping").focus()
        await pilot.press("c", "down", "down", "down", "enter")  # Who → full_name
        await settle(app, pilot)
        assert screen.plan.count("error") == 1 and screen.plan.count("new") == 1
        await pilot.press("n")
        assert isinstance(app.screen, ConfirmScreen)  # rows with errors are left out only after a yes
        await pilot.press("y")
        await settle(app, pilot)
    assert {s["email"] for s in shop.sources()} == {"linus@example.com", "alan@example.com"}


async def test_the_command_palette_lists_every_action_of_the_screen(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Merge", "Delete", "Obfuscate", "Deactivate", "Import", "Export", "Settings", "Undo"} <= titles


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


async def test_settings_forbid_private_customers(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("comma")
        app.screen.query_one("#allow_private_customers").value = False
        app.screen.query_one("#default_country").value = "tr"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    assert shop.settings["allow_private_customers"] is False and shop.settings["default_country"] == "TR"


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


async def test_the_import_path_completes_from_the_disk(shop, tmp_path):
    (tmp_path / "leads-2026.csv").write_text("Name,Email\nAda,ada@example.com\n")
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("i")
        field = app.screen.query_one("#path")
        field.value = ""
        await pilot.press(*f"{tmp_path}/lea")
        await pilot.pause(0.2)
        await pilot.press("right")
        assert field.value == f"{tmp_path}/leads-2026.csv"


async def test_notifications_and_prompts_show_data_literally(shop, tmp_path):
    bad = tmp_path / "[bold]evil.csv"
    bad.write_bytes(b"")
    shop.set_tags([1], add=["[red]vip[/]"])
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("T")
        assert "[red]vip[/]" in str(app.screen.query_one("Label").render())
        await pilot.press("escape", "i")
        app.screen.query_one("#path").value = str(bad)
        await pilot.press("enter")
        await settle(app, pilot)
        shown = next(n for n in notices(app) if "evil.csv" in n)
        assert "[bold]evil.csv: the file is empty" in shown  # shown as typed, not read as markup
        clearing = tmp_path / "\x1b[2Jclear.csv"  # a file name that would clear the screen
        clearing.write_bytes(b"")
        app.screen.query_one("#path").value = str(clearing)
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        shown = next(n for n in notices(app) if "clear.csv" in n)
        assert "␛[2Jclear.csv: the file is empty" in shown and "\x1b" not in shown


def test_narrow_terminals_drop_columns_by_priority_never_cutting_one_to_a_stub():
    from tui.screens.import_review import ROW_COLUMNS
    from tui.widgets.table import FLEX_COMFORT, FLEX_MIN, layout

    wide = [c.key for c, _ in layout(CustomersScreen.COLUMNS, 198)]
    assert wide == [c.key for c in CustomersScreen.COLUMNS]
    narrow = layout(CustomersScreen.COLUMNS, 78)  # 80 columns less the scrollbar
    assert [c.key for c, _ in narrow] == ["number", "name", "company", "email", "phone", "active"]
    assert all(width >= FLEX_COMFORT for c, width in narrow if c.flex)  # names readable, not Kind beside 8 cells
    for columns in (CustomersScreen.COLUMNS, SourcesScreen.COLUMNS, ROW_COLUMNS):
        shown = layout(columns, 78)
        assert 2 + sum(width + 1 for _, width in shown) <= 78
        assert all(width >= (FLEX_MIN if c.flex else max(c.width, len(c.label))) for c, width in shown)
    assert {"email", "message"} <= {c.key for c, _ in layout(ROW_COLUMNS, 78)}


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


async def test_the_header_and_filter_bar_fit_80_columns(shop):
    from textual.widgets import Static

    app = CustdeskApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.sub_title == "4 customers · 1 prospects"  # the store file is named from 100 columns on
        bar = str(app.screen.query_one("#filters", Static).render())
        assert bar.endswith("4 shown · 4 total") and len(bar) <= 78
        await pilot.press("space")
        assert "4 shown · 1 selected · 4 total" in str(app.screen.query_one("#filters", Static).render())
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        assert app.sub_title.endswith("4 customers (4 active) · 1 prospects") and shop.title in app.sub_title


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
        for _ in range(8):
            await pilot.press("right_square_bracket")
        await pilot.pause()
        assert screen.current_tab() == "exports"
        tab = screen.query_one("#tabs").query_one("Tabs").query_one("#--content-tab-tab-exports")
        assert tab.region.x >= 0 and tab.region.right <= 80  # scrolled into view, not cut off
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert screen.current_tab() == "conversations"
        await pilot.press("escape")
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("enter")
        assert app.screen.current_tab() == "orders"  # a private customer has no departments or contacts
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.screen.current_tab() == "exports"  # round the end

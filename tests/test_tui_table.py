"""The customers table driven with the keys a person presses: search and filters, where the
cursor goes, the last row and the columns at any width (dropped by priority, never cut to a
stub), imported text shown literally, the help and the command palette listing the screen's keys."""
from helpers import SIZE, go_to_row, settle, table

from store import Batch
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.modals import ConfirmScreen, HelpScreen
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


async def test_the_command_palette_lists_every_action_of_the_screen(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Merge", "Delete", "Obfuscate", "Deactivate", "Import", "Export", "Settings", "Undo"} <= titles


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

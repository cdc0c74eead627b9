"""The app while the store is busy: verbs wait for other writers off the UI thread,
and work a user walks away from is cancelled whole."""
from helpers import SIZE, contents, go_to_row, notices, settle, table

from tui.app import CustdeskApp
from tui.screens.import_review import ImportScreen
from tui.screens.tables import CustomersScreen


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (polled; fails after `timeout` seconds)."""
    import time
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the app never got there"
        await pilot.pause(0.02)


async def test_a_verb_waits_for_another_writer_without_freezing_the_screen(shop):
    from store.engine import open_engine
    from store.schema import SCHEMA
    other = open_engine(shop.location, SCHEMA)  # another process's hold on the store, in effect
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000002")
        with other.reserved():
            await pilot.press("d")
            await until(pilot, lambda: any("Waiting for another user's change" in n for n in notices(app)))
            await pilot.press("j")  # the screen still answers while the verb waits
            assert table(app).current_row()["number"] == "C-000003"
            assert shop.customer(2)["active"]  # nothing written while the other writer holds the store
        await settle(app, pilot)
        assert not shop.customer(2)["active"]
        assert any("Deactivated 1 customer(s)" in n for n in notices(app))


async def test_closing_the_import_while_it_commits_imports_nothing(shop, tmp_path):
    from textual.worker import WorkerState

    from store.engine import open_engine
    from store.schema import SCHEMA
    rows = "".join(f"P{i},p{i}@example.com\n" for i in range(6000))  # enough for progress reports
    (tmp_path / "many.csv").write_text("Name,Email\n" + rows)
    before = contents(shop)
    other = open_engine(shop.location, SCHEMA)
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#path").value = str(tmp_path / "many.csv")
        await pilot.press("enter")
        await settle(app, pilot)
        with other.reserved():  # the commit waits for another writer …
            await pilot.press("n")
            await until(pilot, lambda: any(w.group == "import" and w.state == WorkerState.RUNNING for w in app.workers))
            await pilot.press("escape")  # … while the user closes the import
            assert isinstance(app.screen, CustomersScreen)
        # The cancelled worker is no longer waited for: watch for what it tells the user.
        await until(pilot, lambda: any("many.csv cancelled: nothing was imported" in n for n in notices(app)))
    assert contents(shop) == before


async def test_a_change_made_on_a_detail_shows_in_the_table_when_it_comes_back(shop):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_row(pilot, app, "C-000002")
        await pilot.press("enter", "d")  # deactivate from the detail; the table is out of view meanwhile
        await settle(app, pilot)
        assert not shop.customer(2)["active"]
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert table(app).current_row()["number"] == "C-000002" and table(app).current_row()["active"] is False


async def test_the_import_screen_writes_the_sample_file_of_its_target_and_reads_it(store, tmp_path):
    from textual.widgets import Select

    from tui.screens.modals import ConfirmScreen, PromptScreen

    app = CustdeskApp(store)
    out = tmp_path / "firms.xlsx"
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("i")
        app.screen.query_one("#target", Select).value = "corporate"
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, PromptScreen) and app.screen.query_one("#prompt").value.endswith("custdesk-corporate.xlsx")
        app.screen.query_one("#prompt").value = str(out)
        await pilot.press("enter")
        await pilot.pause()
        assert out.exists() and app.screen.query_one("#path").value == str(out)
        assert any("Wrote the corporate sample" in n for n in notices(app))
        written = out.read_bytes()
        await pilot.press("ctrl+o")
        app.screen.query_one("#prompt").value = str(out)
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)  # asks before replacing
        await pilot.press("n")
        assert out.read_bytes() == written
        app.screen.query_one("#path").focus()
        await pilot.press("enter")  # the sample reads back: one corporate customer, ready to import
        await until(pilot, lambda: app.screen.plan is not None)
        counts = app.screen.plan.counts()
        assert (counts["rows"], counts["created"], counts["errors"]) == (1, 1, 0)

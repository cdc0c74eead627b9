"""A mapping corrected in the import review (`c`) is remembered: the next file of the same
headers is mapped by it and the review says so (`r` sets it aside); the Imports screen,
reached from the palette, lists the runs, undoes one after a yes naming its file and date,
and forgets a remembered mapping."""
from helpers import SIZE, rendered, settle
from rich.console import Console

from store import Store
from tui.app import CustdeskApp
from tui.screens.import_review import ImportScreen
from tui.screens.imports import ImportsScreen
from tui.screens.modals import ConfirmScreen

HEADER = "Who,Mail,Bemerkung\n"


def shown(renderable) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


async def review(app, pilot, path) -> ImportScreen:
    await pilot.press("i")
    screen = app.screen
    assert isinstance(screen, ImportScreen)
    screen.query_one("#path").value = ""
    await pilot.press(*str(path), "enter")
    await settle(app, pilot)
    return screen


async def import_corrected_then_again(app, pilot, tmp_path) -> ImportScreen:
    jan = tmp_path / "jan.csv"
    jan.write_text(HEADER + "Alan Turing,alan@example.com,vip\n", encoding="utf-8")
    screen = await review(app, pilot, jan)
    assert screen.plan.remembered is None
    screen.query_one("#mapping").focus()
    await pilot.press("c", "down", "down", "down", "enter")  # Who → full_name (the picker's third field)
    await settle(app, pilot)
    assert screen.plan.mappings[0].field == "full_name" and not screen.plan.blocked
    await pilot.press("n")
    await settle(app, pilot)
    assert "Mapping remembered for the next file with these headers" in rendered(screen.query_one("#summary"))
    await pilot.press("escape")
    feb = tmp_path / "feb.csv"
    feb.write_text("Bemerkung,Who,Mail\nnew,Edsger Dijkstra,edsger@example.com\n", encoding="utf-8")
    return await review(app, pilot, feb)


async def test_the_review_applies_and_announces_the_remembered_mapping(shop, tmp_path):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await import_corrected_then_again(app, pilot, tmp_path)
        assert screen.plan.remembered is not None
        summary = rendered(screen.query_one("#summary"))
        assert f"mapping remembered from jan.csv ({screen.plan.remembered.at[:10]})" in summary
        assert {m.column: (m.field, m.how) for m in screen.plan.mappings}["Who"] == ("full_name", "remembered")
        await pilot.press("r")  # set aside: the columns mapped afresh, the Who column no longer a name
        await settle(app, pilot)
        assert screen.plan.remembered is None and screen.plan.blocked
        assert "mapping remembered" not in rendered(screen.query_one("#summary"))
        await pilot.press("r")
        await settle(app, pilot)
        assert screen.plan.remembered is not None
        await pilot.press("n")
        await settle(app, pilot)
    assert "edsger@example.com" in {s.get("email") for s in shop.sources()}


async def test_the_imports_screen_lists_undoes_and_forgets(shop, tmp_path):
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await import_corrected_then_again(app, pilot, tmp_path)
        await pilot.press("n")
        await settle(app, pilot)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press(*"Imports")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ImportsScreen)
        runs = screen.query_one("#runs")
        assert runs.row_count == 2 and [r.file for r in screen.runs.values()] == ["feb.csv", "jan.csv"]
        assert screen.query_one("#mappings").row_count == 1
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = shown(app.screen.message)
        assert "feb.csv" in question and app.dates.shown(screen.runs[next(iter(screen.runs))].at) in question
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen and "edsger@example.com" not in {s.get("email") for s in shop.sources()}
        assert [r.undo for r in screen.runs.values()] == ["undone", "undoable"]
        await pilot.press("u")  # an undone run is not undone twice
        await settle(app, pilot)
        assert app.screen is screen
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and "mapping remembered from jan.csv" in shown(app.screen.message)
        await pilot.press("y")
        await settle(app, pilot)
        assert screen.query_one("#mappings").row_count == 0
    with Store(shop.location) as store:
        assert store.remembered_mappings() == []

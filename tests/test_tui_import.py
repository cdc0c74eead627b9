"""The import screen driven with the keys a person presses; the store is checked after:
review and revert, errors that block until a mapping change fixes them, the path completed
from the disk, file names and data shown literally in notifications and prompts."""
from helpers import SIZE, notices, rendered, settle, table

from tui.app import CustdeskApp
from tui.screens.import_review import ImportScreen
from tui.screens.modals import ConfirmScreen


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


async def test_a_closed_import_screen_lets_its_rows_go(shop, tmp_path):
    """Once closed, the import screen and its plan (a million rows: 0.7 GB) are garbage: the
    screen under it, idle, keeps the last message it handled, and that message its sender,
    until another comes; the store's change is told by the app."""
    import asyncio
    import gc

    from importers import ImportPlan

    path = write_csv(tmp_path / "leads.csv", "Name,E-Mail\nAlan Turing,alan@example.com\nEdsger Dijkstra,edsger@example.com\n")
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_import(app, pilot, path)
        await pilot.press("n")
        await settle(app, pilot)
        assert app.screen.step == "done"
        await pilot.press("escape")
        await settle(app, pilot)
        for _ in range(50):  # (the worker that wrote them holds them a moment longer)
            gc.collect()
            if not [o for o in gc.get_objects() if isinstance(o, ImportScreen | ImportPlan)]:
                break
            await asyncio.sleep(0.1)
        assert not [o for o in gc.get_objects() if isinstance(o, ImportScreen | ImportPlan)]
        assert len(list(shop.sources())) == 3


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


async def test_a_file_whose_encoding_cannot_be_told_is_read_once_the_user_names_it(shop, tmp_path):
    path = tmp_path / "slovenija.csv"
    path.write_bytes("Name;Email\nMarko Kovačič;marko@example.si\n".encode("cp1250"))
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_import(app, pilot, str(path))
        assert screen.plan is None and "unknown text encoding" in notices(app)[-1]
        assert "Windows-1250 'Kovačič' as well as Windows-1252 'Kovaèiè'" in notices(app)[-1]
        screen.query_one("#encoding").focus()
        await pilot.press(*"windows-1250", "enter")
        await settle(app, pilot)
        assert screen.plan is not None and screen.plan.rows["last_name"].to_list() == ["Kovačič"]
        assert "read as Windows-1250, ';'-separated" in rendered(screen.query_one("#summary"))

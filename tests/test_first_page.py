"""The app's first rows before the store is loaded (`store.views.page`, `tui.screens.preview`):
kept by the app for the next start, shown only while the store is exactly as they were
read, replaced by the real table before any key is handled, and the keys typed meanwhile
delivered to that table in order."""
import threading
from pathlib import Path

import pytest
from helpers import SIZE, custdesk, settle, table

from store import Store, StoreCorrupt
from store.views.page import page_path, read_page, signature, write_page
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.preview import PreviewScreen
from tui.screens.tables import CustomersScreen


async def _keep_page(store: Store) -> None:
    """What a session leaves behind: the app run on the store, closed."""
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
    app.keep_first_page(then=store.close)


def _opened_later(path: Path) -> tuple[threading.Event, list[Store], object]:
    """An `opening` that waits until the test lets it go (keys are typed meanwhile)."""
    go, opened = threading.Event(), []

    def opening() -> Store:
        assert go.wait(10)
        opened.append(Store(path, user="tester", verify=False))
        return opened[0]
    return go, opened, opening


async def test_the_first_page_shows_at_once_and_keys_typed_meanwhile_reach_the_table(shop, store_path):
    await _keep_page(shop)
    page = read_page(store_path)
    assert page is not None and [r["number"] for r in page["rows"]] == ["C-000001", "C-000002", "C-000003", "C-000004"]
    assert page["counts"]["customers"] == 4 and page["rows"][3]["name"] == "[bold red]x[/] Mallory"
    go, opened, opening = _opened_later(store_path)
    app = CustdeskApp(None, opening=opening, page=page)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PreviewScreen)
        shown = table(app)
        assert shown.row_count == 4 and shown.current_row()["number"] == "C-000001"
        assert "4 customers" in app.sub_title
        await pilot.press("j", "down", "enter")  # typed before the store is open (j: down, in the table)
        assert isinstance(app.screen, PreviewScreen) and not opened
        go.set()
        await settle(app, pilot)
        for _ in range(50):
            if isinstance(app.screen, DetailScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 3  # the third row, opened
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen) and len(app.screen_stack) == 2
    opened[0].close()


async def test_a_store_that_cannot_be_opened_stops_the_app_behind_the_page(shop, store_path):
    await _keep_page(shop)
    page = read_page(store_path)

    def opening() -> Store:
        raise StoreCorrupt(f"{store_path}: table 'customers' is damaged; nothing was changed")

    app = CustdeskApp(None, opening=opening, page=page)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d", "delete", "y")  # held, then dropped with the app
        await pilot.pause(0.2)
    assert isinstance(app.refusal, StoreCorrupt) and app.return_code == 2


async def test_any_commit_since_makes_the_page_unusable(shop, store_path):
    await _keep_page(shop)
    assert read_page(store_path) is not None
    with Store(store_path, user="tester") as again:
        again.add_customer("private", {"first_name": "Edsger", "last_name": "Dijkstra", "email": "ewd@example.nl"})
    assert read_page(store_path) is None  # the log grew: another state's rows are never shown
    assert not page_path(store_path).exists()  # nor kept on disk (a deleted customer's name with them)


def test_a_page_read_before_a_commit_is_not_kept(store_path, shop):
    before = signature(store_path)
    shop.add_customer("private", {"first_name": "Barbara", "last_name": "Liskov", "email": "liskov@example.com"})
    write_page(store_path, before, "x", {"customers": 4}, False, [{"id": 1, "number": "C-000001"}])
    assert not page_path(store_path).exists()


@pytest.mark.parametrize("content", [b"", b"not json", b'{"signature": [1, 2, 3, 4], "rows": []}', b"[]",
                                     b'{"signature": null}', b"{" + b" " * (2 << 20) + b"}"])
def test_a_damaged_or_foreign_page_is_ignored(store_path, shop, content):
    page_path(store_path).write_bytes(content)
    assert read_page(store_path) is None


async def test_a_page_copied_from_another_store_is_ignored(shop, store_path, tmp_path):
    await _keep_page(shop)
    other = tmp_path / "other" / "custdesk.json"
    other.parent.mkdir()
    with Store(other, user="tester") as fresh:
        fresh.add_customer("private", {"first_name": "Alan", "last_name": "Turing", "email": "alan@example.org"})
    page_path(other).write_bytes(page_path(store_path).read_bytes())
    assert read_page(other) is None


def test_the_app_needs_a_terminal(tmp_path):
    done = custdesk("--db", tmp_path / "s.json")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("the app needs a terminal (stdin and stdout); the command line does the rest "
                                        "(custdesk --help)")

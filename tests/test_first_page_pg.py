"""The app's first rows before a PostgreSQL store is loaded (`store.views.page.server_page`):
read from the server at every start, with its counts, in one snapshot: the store as it is
whoever committed last, and nothing of it kept on the machine."""
import psycopg
import pytest
from helpers import SIZE, settle, table
from test_first_page import _opened_later
from test_pictures import picture_file

from store import Store
from store.paths import forget_cached_pages
from store.views.page import read_page
from store.views.records import RecordView, first_rows, keep_first_page
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.preview import PreviewScreen


@pytest.fixture
def backend() -> str:
    """Every store of this module is on the server (`conftest.store_path`)."""
    return "postgresql"


def _numbers(page) -> list[str]:
    return [row["number"] for row in page["rows"]]


async def test_the_servers_first_rows_show_at_once_and_keys_typed_meanwhile_reach_the_table(shop, store_path):
    page = read_page(store_path)
    assert page is not None and _numbers(page) == ["C-000001", "C-000002", "C-000003", "C-000004"]
    assert page["rows"] == first_rows(RecordView(shop))[:4]  # (the rows the loaded table shows)
    assert page["counts"] == shop.stats() and page["title"] == shop.title and page["pictures"] is False
    go, opened, opening = _opened_later(store_path)
    app = CustdeskApp(None, opening=opening, page=page)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PreviewScreen) and table(app).row_count == 4
        assert "4 customers" in app.sub_title
        await pilot.press("down", "enter")  # typed before the store is loaded from the server
        go.set()
        await settle(app, pilot)
        for _ in range(100):
            if isinstance(app.screen, DetailScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, DetailScreen) and app.screen.customer_id == 2
    opened[0].close()


def test_another_sessions_commit_shows_at_the_next_start(shop, store_path):
    with Store(store_path, user="elsewhere") as other:
        other.delete(4)  # (its name is not shown again, nor kept anywhere)
        other.deactivate([1])
    page = read_page(store_path)
    assert page is not None and _numbers(page) == ["C-000001", "C-000002", "C-000003"]
    assert page["rows"][0]["active"] is False and page["counts"]["customers"] == 3


def test_nothing_of_the_store_is_kept_on_the_machine(shop, store_path, tmp_path):
    keep_first_page(shop, RecordView(shop), after=shop.close)
    assert read_page(store_path) is not None
    assert not [path for path in tmp_path.rglob("*") if path.is_file() and path.suffix == ".page"]


def test_the_pages_older_versions_kept_in_the_cache_folder_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTDESK_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    old = tmp_path / "cache" / "0123abcd.page"
    old.write_text('{"rows": [{"name": "Ada Lovelace"}]}')
    (tmp_path / "cache" / "other.txt").write_text("not ours to delete")
    forget_cached_pages()
    assert not old.exists() and (tmp_path / "cache" / "other.txt").exists()
    forget_cached_pages()  # (none left, or no folder: nothing to do)


def test_the_page_shows_whether_the_store_keeps_pictures(shop, store_path, tmp_path):
    picture_file(tmp_path / "photo.png")
    shop.set_picture(1, tmp_path / "photo.png")
    page = read_page(store_path)
    assert page is not None and page["pictures"] is True


def test_no_page_without_a_server_or_a_store(shop, store_path, tmp_path, pg_server):
    gone = store_path.replace("host=/", f"host={tmp_path}/no-server/")
    assert read_page(gone) is None  # (the app then opens the store, which says why it cannot)
    empty = pg_server.create_database("first_page_empty")
    try:
        assert read_page(empty) is None  # (opening makes the store)
    finally:
        pg_server.drop_database("first_page_empty")


def test_a_store_that_has_not_counted_yet_is_opened_rather_than_previewed(shop, store_path):
    with psycopg.connect(store_path, autocommit=True) as conn:
        conn.execute("UPDATE _meta SET doc = doc - 'tallies'")
    assert read_page(store_path) is None

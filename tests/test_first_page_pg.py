"""The app's first rows before a PostgreSQL store is loaded (`store.views.page`): kept in the
user's cache folder, named by the URL without its password, tagged with the store's state on
the server; shown only while the server holds exactly that state of that store, deleted when
found of another, and never of another database."""
import os
import stat

import psycopg
import pytest
from helpers import SIZE, settle, table
from test_first_page import _keep_page, _opened_later

from store import Store
from store.views.page import page_path, read_page, write_page
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


def _state(store: Store) -> tuple[str, int]:
    return store.parts.session.db.state()


def _fresh_store_at(location: str, seq: int) -> tuple[str, int]:
    """A new store at `location` committed up to commit `seq` (the same number as another's):
    its state differs by its identity alone."""
    with Store(location, user="tester") as fresh:
        while _state(fresh)[1] < seq:
            n = _state(fresh)[1]
            fresh.add_customer("private", {"first_name": "Alan", "last_name": f"Turing {n}", "email": f"alan{n}@example.org"})
        return _state(fresh)


async def test_the_page_is_kept_and_shown_while_the_server_holds_that_state(shop, store_path, tmp_path):
    await _keep_page(shop)
    path = page_path(store_path)
    assert path.parent == tmp_path / "cache" and stat.S_IMODE(path.stat().st_mode) == 0o600
    page = read_page(store_path)
    assert page is not None and _numbers(page) == ["C-000001", "C-000002", "C-000003", "C-000004"]
    assert read_page(store_path) == page  # (shown at every start until something is committed)
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


async def test_another_sessions_commit_makes_the_page_go(shop, store_path):
    await _keep_page(shop)
    with Store(store_path, user="elsewhere") as other:
        other.delete(4)  # (its name must not stay on this machine)
    assert page_path(store_path).exists()  # (the server does not know of it: found at the next start)
    assert read_page(store_path) is None
    assert not page_path(store_path).exists()


async def test_a_page_is_never_shown_for_another_database(shop, store_path, pg_server):
    held = _state(shop)
    await _keep_page(shop)
    other = pg_server.create_database("first_page_other")
    try:
        assert _fresh_store_at(other, held[1])[1] == held[1]
        page_path(other).parent.mkdir(parents=True, exist_ok=True)
        page_path(other).write_bytes(page_path(store_path).read_bytes())
        assert read_page(other) is None
        assert not page_path(other).exists()
        assert read_page(store_path) is not None  # (its own store's page is still its)
    finally:
        pg_server.drop_database("first_page_other")


async def test_a_store_dropped_and_made_again_is_another(shop, store_path):
    held = _state(shop)
    await _keep_page(shop)
    with psycopg.connect(store_path, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    again = _fresh_store_at(store_path, held[1])
    assert again[1] == held[1] and again != held  # (the same number of commits: another store)
    assert read_page(store_path) is None


def test_the_page_is_named_by_the_url_without_its_password(pg_database):
    with_password = pg_database.replace("postgres@", "postgres:secret@")
    assert page_path(with_password) == page_path(pg_database.replace("postgres@", "postgres:changed@"))
    assert page_path(with_password) != page_path(pg_database)
    assert page_path(pg_database) != page_path(pg_database.replace("/store", "/other"))


def test_rows_read_before_another_sessions_commit_are_not_kept(shop, store_path):
    view = RecordView(shop)
    held = list(_state(shop))
    rows = first_rows(view)
    with Store(store_path, user="elsewhere") as other:
        other.delete(4)
    keep_first_page(shop, view)  # (this session, not caught up, sees the server moved on)
    write_page(store_path, held, shop.title, shop.stats(), False, rows)  # (the state they were read in is gone)
    assert not page_path(store_path).exists()


async def test_a_damaged_page_is_ignored_and_deleted(shop, store_path):
    await _keep_page(shop)
    path = page_path(store_path)
    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"", b"[]", whole.replace(b'"rows":', b'"rowz":'),
                    b"{" + b" " * (2 << 20) + b"}"):
        path.write_bytes(damaged)
        assert read_page(store_path) is None, damaged[:40]
        assert not path.exists()


async def test_no_page_is_shown_when_the_server_cannot_tell_its_state(shop, store_path, tmp_path):
    await _keep_page(shop)
    gone = store_path.replace("host=/", f"host={tmp_path}/no-server/")
    page_path(gone).write_bytes(page_path(store_path).read_bytes())
    assert read_page(gone) is None  # (the app then opens the store, which says why it cannot)
    assert os.path.exists(page_path(gone))  # (not known to be stale: kept for a start that can tell)


def test_a_server_that_keeps_its_identity_from_the_user_opens_the_store_and_keeps_no_page(pg_database):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE ROLE first_page_clerk LOGIN")
        conn.execute("GRANT ALL ON SCHEMA public TO first_page_clerk")
        conn.execute("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
    clerk = pg_database.replace("postgres@", "first_page_clerk@")
    try:
        with Store(clerk, user="tester") as store:
            store.add_customer("private", {"first_name": "Alan", "last_name": "Turing", "email": "alan@example.org"})
            assert store.parts.session.db.state() is None
            keep_first_page(store, RecordView(store))
        assert not page_path(clerk).exists()
        with Store(clerk, user="tester") as again:
            assert again.stats()["customers"] == 1
    finally:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute("GRANT EXECUTE ON FUNCTION pg_control_system() TO PUBLIC")
            conn.execute("DROP OWNED BY first_page_clerk")
            conn.execute("DROP ROLE first_page_clerk")

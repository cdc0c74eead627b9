"""What the four main screens look like, against saved snapshots (a fixed small store).

Refresh them after an intended change with `pytest tests/test_snapshots.py --snapshot-update`.
"""
import pytest

from store import Store
from tui.app import CustdeskApp

SIZE = (140, 36)
FIXED_TIME = "2026-11-01T09:00:00+00:00"


@pytest.fixture
def fixed_store(store_path, monkeypatch) -> Store:
    monkeypatch.setattr("store.domain.journal.now", lambda: FIXED_TIME)
    store = Store(store_path, user="tester")
    store.update_settings(default_country="DE")
    ada = store.add_customer("corporate", {"company": "Analytical Engines GmbH", "first_name": "Ada", "last_name": "Lovelace",
                                           "email": "ada@example.com", "phone": "030 1234567", "city": "Berlin",
                                           "tags": "vip, wholesale", "vat_id": "DE123456789"})
    store.add_department(ada["id"], {"name": "Headquarters", "city": "Berlin"}, headquarters=True)
    store.add_related("orders", ada["id"], {"title": "Difference engine", "status": "completed", "amount": 1200.5})
    store.add_related("orders", ada["id"], {"title": "Punch cards", "status": "processing", "amount": 80})
    grace = store.add_customer("private", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
                                           "city": "Arlington"})
    store.deactivate([grace["id"]])
    store.add_customer("private", {"first_name": "[bold red]x[/]", "last_name": "Mallory", "email": "mal@example.com",
                                   "city": "\x1b[2JNowhere"})
    store.add_source({"first_name": "Linus", "last_name": "Torvalds", "email": "linus@example.com", "company": "Transmeta",
                      "origin": {"file": "leads.csv", "row": 2}, "raw": {"Name": "Linus Torvalds"}})
    yield store
    store.close()


def test_customer_table(snap_compare, fixed_store):
    assert snap_compare(CustdeskApp(fixed_store), terminal_size=SIZE)


def test_source_list(snap_compare, fixed_store):
    assert snap_compare(CustdeskApp(fixed_store), press=["p"], terminal_size=SIZE)


def test_record_detail(snap_compare, fixed_store):
    assert snap_compare(CustdeskApp(fixed_store), press=["enter"], terminal_size=SIZE)


def test_import_review(snap_compare, fixed_store, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("Name,E-Mail,Ort\nAlan Turing,alan@example.com,Wilmslow\nBroken,not-an-email,Nowhere\n"
                    "Ada Lovelace,ADA@example.com,London\n")

    async def review(pilot):
        await pilot.press("i")
        pilot.app.screen.query_one("#path").value = str(path)
        await pilot.press("ctrl+r")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(CustdeskApp(fixed_store), run_before=review, terminal_size=SIZE)

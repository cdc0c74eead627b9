"""Erasure requests in the app: staff hear of them at start, `E` lists them, and `o` answers
one with the store's own verbs: a customer obfuscated (refused while an order is open), a
prospect erased; each then shows as done."""
import json

import pytest
from helpers import SIZE, notices, settle

from store.base.errors import RuleViolation, StoreError
from store.engine import open_engine
from store.schema import SCHEMA
from tui.app import CustdeskApp
from tui.screens.erasure import ErasureRequestsScreen


def rows(app) -> list[str]:
    table = app.screen.query_one("#requests")
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_staff_answer_erasure_requests_from_the_app(store):
    ada = store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    order = store.add_related("orders", ada["id"], {"title": "Punch cards", "status": "processing"})
    prospect = store.add_source({"first_name": "Zoé", "last_name": "Durand", "email": "zoe@example.fr"})
    store.request_erasure("customers", ada["id"])
    store.request_erasure("sources", prospect["id"])
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for _ in range(50):  # (told once the first screen is painted and the store checked)
            if notices(app):
                break
            await pilot.pause(0.02)
        assert any("2 erasure request(s) waiting: E lists them" in n for n in notices(app))
        await pilot.press("E")
        assert isinstance(app.screen, ErasureRequestsScreen)
        assert [("Lovelace" in r, "Durand" in r, "waiting" in r) for r in rows(app)] == [(True, False, True), (False, True, True)]
        await pilot.press("o", "y")  # the customer: refused while its order is open
        await settle(app, pilot)
        assert not store.customer(ada["id"]).get("obfuscated_at")
        assert any("open orders" in n for n in notices(app))
        store.set_status("orders", order["id"], "completed")
        await pilot.press("o", "y")
        await settle(app, pilot)
        assert store.customer(ada["id"])["obfuscated_at"]
        await pilot.press("down", "o", "y")
        await settle(app, pilot)
        assert not store.has_source(prospect["id"])
        assert all("done" in r for r in rows(app)) and "Durand" not in " ".join(rows(app))
        assert store.erasure_requests(open_only=True) == []


def journal_text(store) -> str:
    """The journal as committed, undo data and all, read back from the store's files."""
    engine = open_engine(store.location, SCHEMA)
    try:
        return json.dumps(dict(engine.tables["journal"]), ensure_ascii=False, default=str)
    finally:
        engine.close()


def test_an_erased_prospect_leaves_nothing_in_the_journal_and_no_undo(store):
    zoe = store.add_source({"first_name": "Zoé", "last_name": "Durand", "email": "zoe@example.fr", "city": "Lyon"})
    store.discard([zoe["id"]])
    store.undo()  # (the discard's undo data holds her as she was: what erasing must purge)
    assert "zoe@example.fr" in journal_text(store) and store.has_source(zoe["id"])
    store.request_erasure("sources", zoe["id"])
    with pytest.raises(RuleViolation, match="asked to be erased"):
        store.activate(zoe["id"], "private")
    store.erase_prospect(zoe["id"])
    assert not store.has_source(zoe["id"])
    text = journal_text(store)
    assert "zoe@example.fr" not in text and "Durand" not in text and "Lyon" not in text
    assert "Erased prospect" in text
    assert store.erasure_requests(open_only=True) == []
    with pytest.raises(StoreError):
        store.undo()  # nothing of hers to bring back
    assert not store.has_source(zoe["id"])

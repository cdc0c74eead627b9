"""One document of each table named as people say it ("prospect #1", "journal entry"), by the
store's own table of names, in the store's refusals and on the app's screens alike."""
import pytest
from helpers import SIZE, company, person, settle

from store import Batch, ConcurrentChange, NotFound, RuleViolation
from store.model import ALL_TABLES, SINGULAR, singular
from tui.app import CustdeskApp
from tui.screens.modals import InfoScreen, PromptScreen


def test_every_table_has_a_name_for_one_of_its_documents():
    assert set(SINGULAR) == set(ALL_TABLES)
    assert (singular("sources"), singular("journal"), singular("returns"), singular("tasks")) \
        == ("prospect", "journal entry", "return", "task")


def test_an_undo_refused_names_the_prospect_changed_since(store):
    imported = store.apply_batch(Batch("sources", creates=[person(1)], summary="Imported leads.csv"))
    (prospect,) = store.sources()
    store.discard([prospect["id"]])
    with pytest.raises(ConcurrentChange, match=rf"1 record\(s\) changed since, e\.g\. prospect #{prospect['id']}$"):
        store.undo(imported["id"])


def test_refusals_name_one_record_of_its_kind(store):
    c = store.add_customer("private", person(1))
    with pytest.raises(NotFound, match="^order #42 does not exist$"):
        store.child("orders", 42)
    with pytest.raises(RuleViolation, match="^return status must be one of requested, received, refunded, rejected"):
        store.add_related("returns", c["id"], {"status": "lost"})
    store.add_related("tasks", c["id"], {"title": "Call back"})
    assert store.journal(1)[0]["action"] == "add_task"


async def test_the_detail_names_one_record_of_the_tab(store):
    acme = store.add_customer("corporate", company(1))
    store.add_department(acme["id"], {"name": "Purchasing"})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        tabs = app.screen.query_one("#tabs")
        tabs.active = "tab-departments"
        await pilot.pause()
        await pilot.press("i")
        assert isinstance(app.screen, InfoScreen) and app.screen.title_text == "Department Purchasing"
        await pilot.press("escape")
        tabs.active = "tab-tickets"
        await pilot.pause()
        await pilot.press("plus")
        assert isinstance(app.screen, PromptScreen) and app.screen.title_text == "Title of the new ticket"
        await pilot.press(*"Broken cog", "enter")
        await settle(app, pilot)
    assert [t["title"] for t in store.children(acme["id"], "tickets")] == ["Broken cog"]

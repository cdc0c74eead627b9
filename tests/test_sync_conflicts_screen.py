"""Sync conflicts settled in the Sync runs screen (issue 27): the highlighted run's open
conflicts listed under it; `a` takes the accounting value of the highlighted one, `h`
keeps ours; `A`, `H` settle the whole run; a refusal is a message; markup in a value
from a file stays text; the keys follow config.toml's keymap."""
import pytest
from accounting_files import PEOPLE, xero
from helpers import SIZE, notices, rendered, settle
from sync_exports import sync

from tui.app import CustdeskApp
from tui.config import Config, ConfigError
from tui.screens.sync import SyncScreen


def two_customers_in_conflict(store, tmp_path) -> tuple[dict, dict]:
    """Müller & Söhne (city) and Ayşe Yılmaz (street, city) edited here and changed in accounting."""
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    sources = {s["origin"]["id"]: s for s in store.sources()}
    berlin = store.activate(sources["10001"]["id"], "corporate", {"city": "Radebeul"})
    istanbul = store.activate(sources["10002"]["id"], "corporate", {"city": "Ankara", "street": "[b]Atatürk[/b] Blv. 1"})
    sync(store, xero(path, [{**PEOPLE[0], "city": "Meißen"}, {**PEOPLE[1], "city": "İzmir", "street": "Kordon 2"}, PEOPLE[2]]))
    return berlin, istanbul


def listed(app) -> list[tuple[str, str, str, str]]:
    """The open conflicts shown: (customer, field, here, accounting)."""
    table = app.screen.query_one("#conflicts")
    rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
    return [(row[0], row[2], row[3], row[4]) for row in rows]


async def test_a_conflict_is_settled_by_its_key_and_a_run_by_its_own(store, tmp_path):
    berlin, istanbul = two_customers_in_conflict(store, tmp_path)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p", "y")
        assert isinstance(app.screen, SyncScreen)
        assert listed(app) == [(berlin["number"], "city", "Radebeul", "Meißen"),
                               (istanbul["number"], "street", "[b]Atatürk[/b] Blv. 1", "Kordon 2"),
                               (istanbul["number"], "city", "Ankara", "İzmir")]  # (markup from a value stays text)
        assert "Open conflicts (3)" in rendered(app.screen.query_one("#conflicts-title"))
        await pilot.press("h")  # the highlighted one: Müller & Söhne's city, kept
        await settle(app, pilot)
        assert store.customer(berlin["id"])["city"] == "Radebeul"
        assert f"Kept city of {berlin['number']}: Radebeul (accounting has Meißen)" in " ".join(notices(app))
        assert [row[:2] for row in listed(app)] == [(istanbul["number"], "street"), (istanbul["number"], "city")]
        await pilot.press("tab", "down", "a")  # into the list, down to Ayşe's city: accounting's taken
        await settle(app, pilot)
        assert store.customer(istanbul["id"])["city"] == "İzmir"
        assert listed(app) == [(istanbul["number"], "street", "[b]Atatürk[/b] Blv. 1", "Kordon 2")]
        await pilot.press("A")  # the rest of the run: accounting's
        await settle(app, pilot)
        assert store.customer(istanbul["id"])["street"] == "Kordon 2" and store.sync_conflicts() == []
        assert listed(app) == [] and "None of this run's conflicts is open" in rendered(app.screen.query_one("#conflicts-title"))
        await pilot.press("h")  # nothing left to settle: nothing happens
        await settle(app, pilot)
        assert isinstance(app.screen, SyncScreen) and store.journal()[0]["action"] == "sync_resolve"


async def test_the_whole_run_kept_and_a_stale_list_refused(store, tmp_path):
    berlin, istanbul = two_customers_in_conflict(store, tmp_path)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p", "y")
        store.edit_customer(istanbul["id"], {"phone": "+90 212 555 00 00"})  # by someone else, unseen by the screen
        await pilot.press("H")
        await settle(app, pilot)
        assert any(f"customer {istanbul['number']} was changed by someone else" in n for n in notices(app))
        assert len(store.sync_conflicts()) == 3  # nothing settled
        app.after_change()  # the screen sees the change
        await pilot.pause()
        await pilot.press("H")
        await settle(app, pilot)
        assert store.sync_conflicts() == [] and listed(app) == []
        assert (store.customer(berlin["id"])["city"], store.customer(istanbul["id"])["city"]) == ("Radebeul", "Ankara")
        store.undo()  # one entry for the run: undone at once
        app.after_change()
        await pilot.pause()
        assert len(listed(app)) == 3


async def test_the_keys_follow_the_keymap_and_a_clash_with_the_screens_keys_is_refused(store, tmp_path):
    berlin, _ = two_customers_in_conflict(store, tmp_path)
    with pytest.raises(ConfigError, match=r"key 'u' is given to two actions of SyncScreen: keep-ours and undo-run$"):
        CustdeskApp(store, Config(keymap={"keep-ours": "u"}, source="config.toml"))
    app = CustdeskApp(store, Config(keymap={"keep-ours": "k"}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p", "y", "h")  # h no longer keeps ours
        await settle(app, pilot)
        assert len(store.sync_conflicts()) == 3
        await pilot.press("k")
        await settle(app, pilot)
        assert (berlin["number"], "city") not in [(c["number"], c["field"]) for c in store.sync_conflicts()]
        assert len(store.sync_conflicts()) == 2  # the highlighted one kept: Müller & Söhne's city

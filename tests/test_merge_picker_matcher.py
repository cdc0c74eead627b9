"""One matcher everywhere (issue 25): the merge picker's likely duplicates come with the
matcher's score and reasons, looked for in a worker."""
import threading

import pytest
from helpers import SIZE, go_to_row, settle
from textual.widgets import OptionList

import store.duplicates
from store.duplicates import likely_duplicates
from tui.app import CustdeskApp
from tui.screens.modals import PickCustomer

BERLIN = {"street": "Hauptstraße 5", "postcode": "10115", "city": "Berlin", "country": "DE"}


def _muellers(store):
    """Jürgen Müller, and Juergen Mueller at the same address (another email): a likely pair."""
    a = store.add_customer("private", {"first_name": "Jürgen", "last_name": "Müller", "email": "jm@gmail.com", **BERLIN})
    b = store.add_customer("private", {"first_name": "Juergen", "last_name": "Mueller", "email": "juergen.mueller@web.de",
                                       "street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin"})
    store.add_customer("private", {"first_name": "Anna", "last_name": "Alpha", "email": "anna@example.org"})
    return a, b


def _listed(app) -> list[str]:
    """The picker's lines as the user reads them (one a customer, however it wraps)."""
    options = app.screen.query_one("#pick-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


@pytest.fixture
def held_suggestions(monkeypatch):
    """The picker's matcher held back until the test lets it go (a big store's first look takes seconds)."""
    go = threading.Event()
    real = store.duplicates.likely_duplicates

    def slow(*args, **kwargs):
        assert go.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(store.duplicates, "likely_duplicates", slow)
    yield go
    go.set()


# -- the merge picker ----------------------------------------------------------------------
async def test_the_picker_lists_the_likely_duplicate_with_its_score_and_reasons(store):
    a, b = _muellers(store)
    [likely] = likely_duplicates(store, a["id"])
    assert likely.customer["id"] == b["id"] and "same street and postcode" in likely.reasons
    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to_row(pilot, app, a["number"])
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, PickCustomer)
        text = " ".join(_listed(app))
        assert f"{b['number']}  Juergen Mueller  {likely.score:.0%}" in text
        assert "same street and postcode" in text and "Anna" not in text
        await pilot.press("enter", "enter")  # to the list, then its first line: the merge screen for the two
        await settle(app, pilot)
        assert (app.screen.keep_id, app.screen.other_id) == (a["id"], b["id"])


async def test_the_picker_opens_at_once_and_a_typed_search_is_not_overwritten(store, held_suggestions):
    a, b = _muellers(store)
    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await go_to_row(pilot, app, a["number"])
        await pilot.press("m")
        assert isinstance(app.screen, PickCustomer)
        assert _listed(app) == ["looking for likely duplicates …"]
        await pilot.press(*"alpha")  # the search works while the matcher looks
        assert [line.split()[:3] for line in _listed(app)] == [["C-000003", "Anna", "Alpha"]]
        held_suggestions.set()
        await settle(app, pilot)
        assert [line.split()[:3] for line in _listed(app)] == [["C-000003", "Anna", "Alpha"]]
        await pilot.press(*["backspace"] * 5)  # nothing typed: the suggestions that came meanwhile
        assert b["number"] in _listed(app)[0]
        await pilot.press("escape")
        assert not isinstance(app.screen, PickCustomer)


async def test_a_customer_with_no_likely_duplicate_is_told_so(store):
    _muellers(store)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_row(pilot, app, "C-000003")  # Anna Alpha
        await pilot.press("m")
        await settle(app, pilot)
        assert _listed(app) == ["no likely duplicates: type to search"]
        await pilot.press("enter")  # nothing to pick: the search box keeps the focus
        assert isinstance(app.screen, PickCustomer) and app.screen.focused.id == "pick-query"

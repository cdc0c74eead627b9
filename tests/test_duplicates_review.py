"""The duplicate review (issue 25): "not a duplicate" remembered and undone in the store,
`custdesk duplicates` on the command line, and the review screen driven by keys."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import threading

import pytest
from helpers import ROOT, SIZE, contents, custdesk, notices, rendered, settle, table

from store import NotFound, RuleViolation, Store
from store.matching import RecordRef, find_pairs, sweep_pairs
from store.model import CUSTOMERS, SOURCES, display_name
from store.views.records import SHOWN_NAME, RecordView
from tui.app import CustdeskApp
from tui.screens.detail import DetailScreen
from tui.screens.duplicates import DuplicatesScreen
from tui.screens.merge import MergeScreen
from tui.screens.modals import ConfirmScreen
from tui.screens.tables import CustomersScreen

# Records whose duplicates any matcher finds: the same email (in another case); the same
# phone and name; a third person who is like no one.
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+493012345678", "city": "Berlin"}
ADA_AGAIN = {"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.com", "city": "Berlin"}
GRACE = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "phone": "+4940998877", "city": "Hamburg"}
GRACE_AGAIN = {"first_name": "Grace", "last_name": "Hopper", "email": "g.hopper@navy.example", "phone": "040 998877",
               "city": "Hamburg"}
ALAN = {"first_name": "Alan", "last_name": "Turing", "email": "alan@example.org", "phone": "+441625000000", "city": "Wilmslow"}
C1, C2, C3, C5, C99 = (RecordRef(CUSTOMERS, i) for i in (1, 2, 3, 5, 99))
P1, P7 = RecordRef(SOURCES, 1), RecordRef(SOURCES, 7)


def fill(store: Store) -> None:
    """C-000001 Ada, C-000002 Ada again (same email), C-000003 Grace, C-000004 Grace again
    (same phone and name), C-000005 Alan; prospect #1 Ada once more (same email)."""
    store.update_settings(default_country="DE")
    for data in (ADA, ADA_AGAIN, GRACE, GRACE_AGAIN, ALAN):
        store.add_customer("private", data)
    store.add_source({**ADA, "phone": None, "origin": {"file": "leads.csv", "row": 2}})


# -- the memory, in the store -------------------------------------------------------------------
def test_not_a_duplicate_is_remembered_journaled_and_undone(store):
    fill(store)
    entry = store.mark_distinct(C2, C1)
    assert entry["summary"] == "Marked C-000001 and C-000002 as not duplicates" and entry["undoable"]
    assert store.distinct_pairs() == {frozenset({C1, C2})}
    store.mark_distinct(P1, C1)
    assert store.journal(1)[0]["summary"] == "Marked C-000001 and prospect #1 as not duplicates"
    assert store.next_undo(1)["action"] == "distinct"  # the customer's own undo finds it too
    reopened = Store(store.location, user="other")  # remembered in the store, not in this process
    try:
        assert reopened.distinct_pairs() == {frozenset({C1, C2}),
                                             frozenset({C1, P1})}
    finally:
        reopened.close()
    store.refresh()
    undone = store.undo()
    assert undone["summary"] == "Marked C-000001 and prospect #1 as not duplicates"
    assert store.distinct_pairs() == {frozenset({C1, C2})}
    store.mark_distinct(C1, P1)  # said again after the undo: remembered again
    assert len(store.distinct_pairs()) == 2


def test_many_words_never_take_a_merges_undo_away(store):
    """Each word is undoable, but keeps no documents: the undo window (the newest entries
    that keep documents) is not spent on them."""
    from store.domain.journal import KEEP_UNDO_DATA

    fill(store)
    store.merge_into(1, 2)
    people = [store.add_source({"first_name": f"Given{i}", "last_name": "Family", "email": f"p{i}@example.org"})["id"]
              for i in range(KEEP_UNDO_DATA + 5)]
    for prospect in people:
        store.mark_distinct(RecordRef(SOURCES, prospect), C3)
    for _ in people:
        assert store.undo()["action"] == "distinct"
    assert store.distinct_pairs() == set()
    assert store.undo()["action"] == "merge" and store.has_customer(2)  # (adding a prospect is not undone)


def test_a_merge_or_activation_leaves_the_word_but_it_names_a_record_that_is_gone(store):
    fill(store)
    store.mark_distinct(C1, C3)
    store.merge_into(1, 3)
    assert store.distinct_pairs() == {frozenset({C1, C3})}
    with pytest.raises(NotFound, match=r"^customer #3 does not exist \(merged, deleted, activated or discarded\?\)$"):
        store.mark_distinct(C3, C5)


@pytest.mark.parametrize(("a", "b", "error", "message"), [
    (C1, C99, NotFound, "customer #99 does not exist (merged, deleted, activated or discarded?)"),
    (P7, C1, NotFound, "prospect #7 does not exist (merged, deleted, activated or discarded?)"),
    (C2, C2, RuleViolation, "C-000002 cannot be marked as not a duplicate of itself"),
    (RecordRef("orders", 1), C1, RuleViolation, "only customers and prospects are compared for duplicates, not 'orders'"),
    (C1, C2, RuleViolation, "C-000001 and C-000002 are already marked as not duplicates"),
])
def test_a_word_about_a_record_that_is_not_there_or_said_already_is_one_line_and_writes_nothing(store, a, b, error, message):
    fill(store)
    store.mark_distinct(C1, C2)
    before, journal = contents(store), store.journal()
    with pytest.raises(error) as refused:
        store.mark_distinct(a, b)
    assert str(refused.value) == message
    assert contents(store) == before and store.journal() == journal


def test_a_records_name_column_wise_is_display_name(store):
    """The review labels tens of thousands of pairs from the views: by the same rule as one record."""
    named = ({"company": "Engines GmbH", "first_name": "Ada", "email": "a@example.com"},
             {"last_name": "Hopper", "phone": "+4940998877"}, {"first_name": "Grace", "last_name": "Hopper", "email": "g@example.com"})
    for data in named:
        store.add_customer("corporate" if "company" in data else "private", data)
        store.add_source(data)
    for kind in (CUSTOMERS, SOURCES):
        frame = RecordView(store, kind).frame
        assert frame.select(SHOWN_NAME).to_series().to_list() == [display_name(store.record(kind, i)) for i in frame["id"]]


def test_the_sweep_leaves_out_a_pair_said_to_be_two_people_until_that_is_undone(store):
    fill(store)
    assert {C1, C2} in found(store)
    store.mark_distinct(C1, C2)
    assert {C1, C2} not in found(store) and {C1, P1} in found(store)
    store.undo()
    assert {C1, C2} in found(store)


def found(store: Store) -> list[set[RecordRef]]:
    return [{pair.a, pair.b} for pair in find_pairs(store)]


# -- custdesk duplicates ---------------------------------------------------------------------------
def test_the_command_lists_pairs_surest_first_one_line_each_and_as_json(store):
    fill(store)
    store.close()  # (the command is another process)
    text = custdesk("--db", store.location, "duplicates")
    assert (text.returncode, text.stderr) == (0, "")  # no progress line: stderr is not a terminal
    lines = text.stdout.splitlines()
    assert any(re.fullmatch(r"\d\.\d{3}  (sure  |review)  C-000003       C-000004       .*same phone.*", line) for line in lines)
    assert not any("C-000005" in line for line in lines)  # Alan is like no one
    as_json = custdesk("--db", store.location, "duplicates", "--json")
    assert as_json.returncode == 0
    pairs = json.loads(as_json.stdout)
    assert all(set(pair) == {"a", "b", "score", "band", "reasons", "queued"} and pair["queued"] is None and pair["band"] in ("sure", "review")
               and 0 <= pair["score"] <= 1 and pair["reasons"] for pair in pairs)
    assert [pair["score"] for pair in pairs] == sorted((pair["score"] for pair in pairs), reverse=True)
    named = [{pair["a"], pair["b"]} for pair in pairs]
    assert {"C-000001", "C-000002"} in named and {"C-000003", "C-000004"} in named and {"C-000001", "prospect #1"} in named
    assert len(lines) == len(pairs)
    cut = sorted(pair["score"] for pair in pairs)[len(pairs) // 2]
    sure = json.loads(custdesk("--db", store.location, "duplicates", "--json", "--min-score", cut).stdout)
    assert sure == [pair for pair in pairs if pair["score"] >= cut]


def test_a_terminal_sees_the_progress_on_stderr_wiped_once_the_pairs_are_found(store):
    fill(store)
    store.close()
    controller, terminal = pty.openpty()
    try:
        code = "import sys; from cli import main; sys.argv = ['custdesk', *sys.argv[1:]]; main()"
        done = subprocess.run([sys.executable, "-c", code, "--db", str(store.location), "duplicates"], stderr=terminal,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, timeout=300, check=False)
        os.close(terminal)
        seen = b""
        while select.select([controller], [], [], 0.5)[0]:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # (the terminal's other end is closed: all read)
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0 and "C-000003       C-000004" in done.stdout
    assert re.search(rb"\rcomparing \xe2\x80\xa6 \d+ of \d+", seen) and seen.endswith(b"\r\x1b[K")


def test_the_command_leaves_out_pairs_said_to_be_two_people_and_refuses_a_score_out_of_range(store):
    fill(store)
    store.mark_distinct(C3, RecordRef(CUSTOMERS, 4))
    store.close()
    pairs = json.loads(custdesk("--db", store.location, "duplicates", "--json").stdout)
    assert {"C-000003", "C-000004"} not in [{pair["a"], pair["b"]} for pair in pairs]
    refused = custdesk("--db", store.location, "duplicates", "--min-score", "1.5")
    assert refused.returncode == 2 and "1.5 is not in the range 0<=x<=1" in refused.stderr


# -- the review screen -----------------------------------------------------------------------------
@pytest.fixture
def people(tmp_path):
    """The records of `fill` in a store file (the screen's tests need no second backend)."""
    store = Store(tmp_path / "review" / "custdesk.json", user="tester")
    fill(store)
    yield store
    store.close()


def shown(app) -> list[set[RecordRef]]:
    """The pairs the review lists, top to bottom."""
    return [{app.screen.pairs[i].a, app.screen.pairs[i].b} for i in table(app).shown.ids(10**9)]


async def review(app, pilot) -> None:
    await pilot.press("D")
    await settle(app, pilot)
    assert isinstance(app.screen, DuplicatesScreen)


async def to_pair(pilot, app, pair: set[RecordRef]) -> None:
    await pilot.press("g", *["j"] * shown(app).index(pair))


async def test_D_lists_the_pairs_by_score_with_the_highlighted_one_side_by_side(people):
    people.add_customer("private", {"first_name": "[bold red]Mal[/]", "last_name": "Lory", "email": "mal@example.com"})
    people.add_customer("private", {"first_name": "[bold red]Mal[/]", "last_name": "Lory", "email": "MAL@example.com",
                                    "city": "\x1b[2JNowhere"})
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await review(app, pilot)
        pairs = shown(app)
        assert {C1, C2} in pairs and {C3, RecordRef(CUSTOMERS, 4)} in pairs and {C1, P1} in pairs
        assert not any(C5 in pair for pair in pairs)
        scores = [float(table(app).row(i)["score"]) for i in range(table(app).row_count)]
        assert scores == sorted(scores, reverse=True)
        await to_pair(pilot, app, {RecordRef(CUSTOMERS, 6), RecordRef(CUSTOMERS, 7)})
        side = rendered(app.screen.query_one("#pair"))
        assert "C-000006  [bold red]Mal[/] Lory" in side and "␛[2JNowhere" in side  # data, never markup or control
        await to_pair(pilot, app, {C3, RecordRef(CUSTOMERS, 4)})
        side = rendered(app.screen.query_one("#pair"))
        assert "same phone" in side and "different email" in side
        phone = next(line for line in side.splitlines() if line.strip().startswith("phone"))
        assert re.search(r"\+4940998877\s+=\s+\+4940998877", phone)  # agreeing fields marked …
        email = next(line for line in side.splitlines() if line.strip().startswith("email"))
        assert re.search(r"grace@example\.com\s+≠\s+g\.hopper@navy\.example", email)  # … and differing ones
        await pilot.press("g")
        first = rendered(app.screen.query_one("#pair"))
        await pilot.press("s")  # skip: the next pair, side by side in its turn
        assert table(app).cursor == 1
        second = app.screen.pairs[table(app).shown.ids(10**9)[1]]
        assert rendered(app.screen.query_one("#pair")) != first
        assert f"{people.record_name(second.b)}  " in rendered(app.screen.query_one("#pair"))
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


async def test_D_on_a_store_beyond_the_matcher_says_why_in_one_line_and_lists_shared_identities(people, monkeypatch):
    from store.matching import identity_pairs
    from store.matching import index as matching_index

    monkeypatch.setattr(matching_index, "MATCHED_STORE", 3)  # (the store of `fill`: "millions" for the matcher)
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await review(app, pilot)
        for _ in range(100):
            if not app.screen.sweeping:
                break
            await pilot.pause(0.02)
        await settle(app, pilot)
        told = [n for n in notices(app) if "more than the duplicate matcher compares in one process (3)" in n]
        assert len(told) == 1 and "\n" not in told[0] and "listed: the pairs sharing an email, phone or VAT id" in told[0]
        expected = [{p.a, p.b} for p in identity_pairs(people)]
        assert shown(app) == expected and expected and all(p.reasons[0].startswith("same ") for p in app.screen.pairs)
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


async def test_n_says_two_people_the_pair_leaves_the_list_and_u_brings_it_back(people):
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await review(app, pilot)
        grace = {C3, RecordRef(CUSTOMERS, 4)}
        await to_pair(pilot, app, grace)
        await pilot.press("n")
        await settle(app, pilot)
        assert people.distinct_pairs() == {frozenset(grace)} and grace not in shown(app)
        assert any("Marked C-000003 and C-000004 as not duplicates; u undoes" in n for n in notices(app))
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert people.distinct_pairs() == set() and grace in shown(app)
        await pilot.press("r")  # a new sweep still finds it
        await settle(app, pilot)
        assert grace in shown(app)


async def test_m_merges_two_customers_in_the_merge_screen_and_the_pair_is_gone_until_undone(people):
    before = contents(people)
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await review(app, pilot)
        await to_pair(pilot, app, {C1, C2})
        await pilot.press("m")
        assert isinstance(app.screen, MergeScreen) and (app.screen.keep_id, app.screen.other_id) == (1, 2)
        await pilot.press("enter", "y")
        await settle(app, pilot)
        assert not people.has_customer(2) and isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DuplicatesScreen)
        assert not any(C2 in pair for pair in shown(app)) and {C1, P1} in shown(app)
        await pilot.press("u", "y")
        await settle(app, pilot)
        assert people.has_customer(2) and {C1, C2} in shown(app)
    assert contents(people) == before


async def test_m_on_a_customer_and_a_prospect_merges_the_prospect_into_the_customer(people):
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await review(app, pilot)
        await to_pair(pilot, app, {C1, P1})
        await pilot.press("m")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, DuplicatesScreen) and list(people.sources()) == []
        assert people.customer(1)["email"] == "ada@example.com" and not any(P1 in pair for pair in shown(app))
        await pilot.press("u", "y")
        await settle(app, pilot)
        assert people.has_source(1) and {C1, P1} in shown(app)


async def test_two_prospects_cannot_be_merged_here_only_told_apart_or_skipped(people):
    people.add_source({**ADA, "phone": None, "origin": {"file": "more-leads.csv", "row": 5}})
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await review(app, pilot)
        await to_pair(pilot, app, {P1, RecordRef(SOURCES, 2)})
        await pilot.press("m")
        assert isinstance(app.screen, DuplicatesScreen) and len(list(people.sources())) == 2
        assert app.screen.check_action("merge", ()) is None and app.screen.check_action("distinct", ()) is True


async def test_the_palette_has_Duplicates_once_and_it_opens_the_review_at_80x24(people):
    app = CustdeskApp(people)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles.count("Duplicates") == 1
        app.action_duplicates()
        await settle(app, pilot)
        assert isinstance(app.screen, DuplicatesScreen) and table(app).row_count >= 4
        assert "likely duplicate pair(s)" in rendered(app.screen.query_one("#sweep"))
        assert "first name" in rendered(app.screen.query_one("#pair"))


async def test_the_sweep_runs_behind_a_progress_bar_keys_answer_meanwhile_and_escape_stops_it(people, monkeypatch):
    import tui.screens.duplicates as review_screen

    release, stopped = threading.Event(), threading.Event()

    def held_sweep(store, **options):
        """The real sweep, held after its first progress step until the test has looked."""
        options["progress"](1, 4)
        release.wait(10)
        try:
            return sweep_pairs(store, **options)
        except review_screen.SweepStopped:
            stopped.set()
            raise
    monkeypatch.setattr(review_screen, "sweep_pairs", held_sweep)
    app = CustdeskApp(people)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("D")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, DuplicatesScreen) and screen.sweeping
        assert screen.query_one("#sweep-progress").display and "Comparing … 1 of 4" in rendered(screen.query_one("#sweep"))
        assert screen.check_action("merge", ()) is None and screen.check_action("distinct", ()) is None
        await pilot.press("escape")  # the app answers while the sweep works
        assert isinstance(app.screen, CustomersScreen)
        release.set()
        await settle(app, pilot)
    assert stopped.is_set()  # the sweep was told to stop at its next step

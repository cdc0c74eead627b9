"""The duplicate review (issue 25): "not a duplicate" remembered and undone in the store,
`custdesk duplicates` on the command line, and the review screen driven by keys."""
from __future__ import annotations

import pytest
from helpers import contents

from store import NotFound, RuleViolation, Store
from store.model import CUSTOMERS, SOURCES

# Records whose duplicates any matcher finds: the same email (in another case); the same
# phone and name; a third person who is like no one.
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+493012345678", "city": "Berlin"}
ADA_AGAIN = {"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.com", "city": "Berlin"}
GRACE = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "phone": "+4940998877", "city": "Hamburg"}
GRACE_AGAIN = {"first_name": "Grace", "last_name": "Hopper", "email": "g.hopper@navy.example", "phone": "040 998877",
               "city": "Hamburg"}
ALAN = {"first_name": "Alan", "last_name": "Turing", "email": "alan@example.org", "phone": "+441625000000", "city": "Wilmslow"}


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
    entry = store.mark_distinct((CUSTOMERS, 2), (CUSTOMERS, 1))
    assert entry["summary"] == "Marked C-000001 and C-000002 as not duplicates" and entry["undoable"]
    assert store.distinct_pairs() == {frozenset({(CUSTOMERS, 1), (CUSTOMERS, 2)})}
    store.mark_distinct((SOURCES, 1), (CUSTOMERS, 1))
    assert store.journal(1)[0]["summary"] == "Marked C-000001 and prospect #1 as not duplicates"
    assert store.next_undo(1)["action"] == "distinct"  # the customer's own undo finds it too
    reopened = Store(store.location, user="other")  # remembered in the store, not in this process
    try:
        assert reopened.distinct_pairs() == {frozenset({(CUSTOMERS, 1), (CUSTOMERS, 2)}),
                                             frozenset({(CUSTOMERS, 1), (SOURCES, 1)})}
    finally:
        reopened.close()
    store.refresh()
    undone = store.undo()
    assert undone["summary"] == "Marked C-000001 and prospect #1 as not duplicates"
    assert store.distinct_pairs() == {frozenset({(CUSTOMERS, 1), (CUSTOMERS, 2)})}
    store.mark_distinct((CUSTOMERS, 1), (SOURCES, 1))  # said again after the undo: remembered again
    assert len(store.distinct_pairs()) == 2


def test_a_merge_or_activation_leaves_the_word_but_it_names_a_record_that_is_gone(store):
    fill(store)
    store.mark_distinct((CUSTOMERS, 1), (CUSTOMERS, 3))
    store.merge_into(1, 3)
    assert store.distinct_pairs() == {frozenset({(CUSTOMERS, 1), (CUSTOMERS, 3)})}
    with pytest.raises(NotFound, match=r"^customer #3 does not exist \(merged, deleted, activated or discarded\?\)$"):
        store.mark_distinct((CUSTOMERS, 3), (CUSTOMERS, 5))


@pytest.mark.parametrize(("a", "b", "error", "message"), [
    ((CUSTOMERS, 1), (CUSTOMERS, 99), NotFound, "customer #99 does not exist (merged, deleted, activated or discarded?)"),
    ((SOURCES, 7), (CUSTOMERS, 1), NotFound, "prospect #7 does not exist (merged, deleted, activated or discarded?)"),
    ((CUSTOMERS, 2), (CUSTOMERS, 2), RuleViolation, "C-000002 cannot be marked as not a duplicate of itself"),
    (("orders", 1), (CUSTOMERS, 1), RuleViolation, "only customers and prospects are compared for duplicates, not 'orders'"),
    ((CUSTOMERS, 1), (CUSTOMERS, 2), RuleViolation, "C-000001 and C-000002 are already marked as not duplicates"),
])
def test_a_word_about_a_record_that_is_not_there_or_said_already_is_one_line_and_writes_nothing(store, a, b, error, message):
    fill(store)
    store.mark_distinct((CUSTOMERS, 1), (CUSTOMERS, 2))
    before, journal = contents(store), store.journal()
    with pytest.raises(error) as refused:
        store.mark_distinct(a, b)
    assert str(refused.value) == message
    assert contents(store) == before and store.journal() == journal

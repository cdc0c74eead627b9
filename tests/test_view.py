"""The polars view the app's tables read: search, filters, sort, and rebuilding only what changed."""
from helpers import company, person

from store.views.records import Query, RecordView


def filled(store):
    store.add_customer("corporate", company(1, tags="vip", city="Berlin"))
    store.add_customer("private", person(2, first_name="Grace", last_name="Hopper", city="Arlington"))
    store.add_customer("private", person(3, first_name="Ada", last_name="King", tags="vip, newsletter"))
    store.deactivate([3])
    return store


def ids(frame):
    return frame["id"].to_list()


def test_search_covers_number_name_company_email_phone_and_ignores_case(store):
    view = RecordView(filled(store))
    assert ids(view.select(Query(text="HOPPER"))) == [2]
    assert ids(view.select(Query(text="c-000003"))) == [3]
    assert ids(view.select(Query(text="analytical"))) == [1]
    assert ids(view.select(Query(text="ada2@"))) == [2]
    assert ids(view.select(Query(text="+4930123400"))) == [1, 2, 3]
    assert ids(view.select(Query(text="berlin"))) == []  # city is shown, not searched


def test_filters_and_sort(store):
    view = RecordView(filled(store))
    assert ids(view.select(Query(kind="private"))) == [2, 3]
    assert ids(view.select(Query(active=False))) == [3]
    assert ids(view.select(Query(tag="vip"))) == [1, 3]
    assert ids(view.select(Query(sort="name"))) == [3, 1, 2]  # Ada King, Ada1 Lovelace, Grace Hopper
    assert ids(view.select(Query(sort="name", descending=True))) == [2, 1, 3]
    assert view.tags() == ["newsletter", "vip"]


def test_a_descending_sort_reverses_the_whole_order_ties_too(store):
    for n in (1, 2, 3):
        store.add_customer("corporate", {**company(n), "company": "Same GmbH"})
    view = RecordView(store)
    assert ids(view.select(Query(sort="company"))) == [1, 2, 3]  # (ties in id order)
    assert ids(view.select(Query(sort="company", descending=True))) == [3, 2, 1]
    assert ids(view.select(Query(descending=True))) == [1, 2, 3]  # (no sort: id order, never reversed)


def test_rebuilding_the_changed_rows_equals_a_full_rebuild(store):
    view = RecordView(filled(store))
    store.take_changes()
    store.edit_customer(2, {"city": "Boston"})
    store.delete(3)
    store.add_customer("private", person(4))
    view.refresh(store.take_changes()["customers"])
    assert view.frame.equals(RecordView(store).frame)
    assert store.take_changes() == {}

"""The engine's compact indexes (`store.engine.owned.OwnedIds`, a table's children by owner;
`store.engine.keyed.KeyedIds`, a table's documents by key) answer as a plain dict of sets
would, whatever the order of builds, additions and removals; keys that share a hash are
told apart."""
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from store.engine.keyed import KeyedIds
from store.engine.owned import OwnedIds

owners = st.integers(min_value=1, max_value=6)
ids = st.integers(min_value=1, max_value=40)
steps = st.lists(st.tuples(st.sampled_from(["add", "discard"]), owners, ids), max_size=60)


def _model_of(pairs: list[tuple[int | None, int]]) -> dict[int, set[int]]:
    model: dict[int, set[int]] = {}
    for owner, doc_id in pairs:
        if owner is not None:
            model.setdefault(owner, set()).add(doc_id)
    return model


@settings(max_examples=300, deadline=None)
@given(built=st.lists(st.tuples(st.one_of(st.none(), owners), ids), max_size=40), then=steps,
       more=st.lists(st.tuples(owners, ids), max_size=10))
def test_it_answers_as_a_dict_of_sets(built, then, more):
    index = OwnedIds()
    index.add_all(pl.Series([o for o, _ in built], dtype=pl.Int64), pl.Series([i for _, i in built], dtype=pl.Int64))
    model = _model_of(built)
    for verb, owner, doc_id in then:
        getattr(index, verb)(owner, doc_id)
        if verb == "add":
            model.setdefault(owner, set()).add(doc_id)
        else:
            model.get(owner, set()).discard(doc_id)
    index.add_all(pl.Series([o for o, _ in more], dtype=pl.Int64), pl.Series([i for _, i in more], dtype=pl.Int64))
    for owner, doc_id in more:
        model.setdefault(owner, set()).add(doc_id)
    for owner in range(0, 8):
        assert index.ids(owner) == model.get(owner, set())


def test_owners_that_are_not_numbers_are_kept_too():
    index = OwnedIds()
    index.add_all(pl.Series(["7", None, "7"]), pl.Series([1, 2, 3]))
    assert index.ids("7") == {1, 3} and index.ids(7) == set()
    index.discard("7", 1)
    assert index.ids("7") == {3}


emails = st.sampled_from(["ada@example.com", "grace@example.com", "+4930123456", "DE123456789", "", "é@ü.de", "x"])
key_steps = st.lists(st.tuples(st.sampled_from(["add", "discard"]), emails, ids), max_size=60)


@settings(max_examples=300, deadline=None)
@given(built=st.lists(st.tuples(st.one_of(st.none(), emails), ids), max_size=40), then=key_steps,
       more=st.lists(st.tuples(emails, ids), max_size=10))
def test_the_key_index_answers_as_a_dict_of_sets(built, then, more):
    index = KeyedIds()
    index.add_all(pl.Series([k for k, _ in built], dtype=pl.String), pl.Series([i for _, i in built], dtype=pl.Int64))
    model = _model_of(built)
    for verb, key, doc_id in then:
        getattr(index, verb)(key, doc_id)
        if verb == "add":
            model.setdefault(key, set()).add(doc_id)
        else:
            model.get(key, set()).discard(doc_id)
    index.add_all(pl.Series([k for k, _ in more], dtype=pl.String), pl.Series([i for _, i in more], dtype=pl.Int64))
    for key, doc_id in more:
        model.setdefault(key, set()).add(doc_id)
    for key in ["ada@example.com", "grace@example.com", "+4930123456", "DE123456789", "", "é@ü.de", "x", "nobody"]:
        held = model.get(key, set())
        assert index.ids(key) == held and (key in index) == bool(held) and index.first(key) == min(held, default=None)
    assert (len(index) == 0) == (not any(model.values()))


def test_keys_sharing_a_hash_are_told_apart(monkeypatch):
    from store.engine import keyed

    monkeypatch.setattr(keyed, "hash", lambda key: 7, raising=False)  # every key collides
    index = KeyedIds()
    index.add_all(pl.Series(["a@x.de", "b@x.de", "a@x.de"]), pl.Series([1, 2, 3]))
    assert index.ids("a@x.de") == {1, 3} and index.ids("b@x.de") == {2} and index.ids("c@x.de") == set()

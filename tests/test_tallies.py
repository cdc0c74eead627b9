"""The counts the engine keeps (`store.engine.tallies`): of a field's values, of fields
together ("kind|active"), of each value of a list ("tags[]"), whichever way the documents
come (one by one, as a frame, changed field by field), equal to a walk over them."""
from __future__ import annotations

from collections import Counter

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from store.engine import tallies

NAMES = ("active", "kind", "kind|active", "tags[]")
TAG = st.sampled_from(("vip", "Öko", "İzmir", "a|b", "", " "))
DOCS = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(("corporate", "private")) | st.none(),
    "active": st.booleans() | st.none(),
    "tags": st.lists(TAG | st.none(), max_size=4) | st.none(),
})
# What else a document read from a file may hold: tags that are no list, or not all text.
ODD_DOCS = st.fixed_dictionaries({}, optional={
    "kind": st.text(max_size=3) | st.none(), "active": st.booleans() | st.sampled_from(("true", 1)),
    "tags": st.lists(TAG | st.integers(0, 3), max_size=3) | st.text(max_size=3) | st.integers(0, 3)})


def walked(docs: list[dict]) -> dict:
    """The reference: each document looked at, as a person would count it."""
    def text(value: object) -> str:
        return "" if value is None else ("true" if value else "false") if isinstance(value, bool) else str(value)

    tags: Counter[str] = Counter()
    for doc in docs:
        held = {t for t in doc.get("tags") or [] if isinstance(t, str)} if isinstance(doc.get("tags"), list) else set()
        tags.update(held or {""})
    return {"*": len(docs), "active": dict(Counter(text(d.get("active")) for d in docs)),
            "kind": dict(Counter(text(d.get("kind")) for d in docs)),
            "kind|active": dict(Counter(f"{text(d.get('kind'))}|{text(d.get('active'))}" for d in docs)),
            "tags[]": dict(tags)}


def as_frame(docs: list[dict]) -> pl.DataFrame:
    """The documents' decoded fields, as a table of a store keeps them (`store.schema.COLUMNS`)."""
    return pl.DataFrame({"kind": [d.get("kind") for d in docs], "active": [d.get("active") for d in docs],
                         "tags": [d.get("tags") for d in docs]},
                        schema={"kind": pl.String(), "active": pl.Boolean(), "tags": pl.List(pl.String())})


@settings(max_examples=300, deadline=None)
@given(st.lists(DOCS, max_size=12), st.lists(DOCS, max_size=6))
def test_counted_whole_by_frame_or_one_by_one_the_same(docs, more):
    expected = walked(docs)
    assert tallies.count(dict(enumerate(docs)), None, NAMES) == expected
    assert tallies.count(dict(enumerate(docs)), as_frame(docs), NAMES) == expected
    one_by_one = tallies.count({}, None, NAMES)
    for doc in docs:
        tallies.adjust(one_by_one, NAMES, None, doc)
    assert one_by_one == expected
    added = tallies.count(dict(enumerate(docs)), None, NAMES)
    tallies.add_rows(added, NAMES, as_frame(more))
    assert added == walked([*docs, *more])
    tallies.remove_rows(added, NAMES, as_frame(more).select(  # (as a server reads them: `read_types`)
        pl.col("kind"), pl.col("active").cast(pl.String), pl.col("tags")))
    assert added == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(ODD_DOCS, ODD_DOCS), max_size=10))
def test_documents_changed_are_counted_as_they_end(pairs):
    before, after = [a for a, _ in pairs], [b for _, b in pairs]
    kept = tallies.count(dict(enumerate(before)), None, NAMES)
    tallies.change_docs(kept, NAMES, before, after)
    assert kept == walked(after)
    for old, new in zip(after, before, strict=True):
        tallies.adjust(kept, NAMES, old, new)
    assert kept == walked(before)
    for doc in before:  # (every document gone: no count of 0 is kept)
        tallies.adjust(kept, NAMES, doc, None)
    assert kept == {"*": 0, **{name: {} for name in NAMES}}


def test_a_count_is_complete_only_with_every_name():
    assert tallies.complete({"*": 3, "active": {}, "kind": {}}, ("active", "kind"))
    assert not tallies.complete({"*": 3, "active": {}, "kind": {}}, NAMES)
    assert not tallies.complete(None, ()) and not tallies.complete({"kind": {}}, ("kind",))
    assert tallies.read_types(NAMES) == {"active": pl.String(), "kind": pl.String(), "tags": pl.List(pl.String())}


def test_a_name_counted_under_more_values_than_are_kept_is_let_go_and_stays_so(monkeypatch):
    """A tags column holding a value per row made every commit copy and write a meta
    document of 16 MB: past `MOST_VALUES` a name's counts are no longer kept (None), and
    every way of counting leaves them so; the others are counted on."""
    monkeypatch.setattr(tallies, "MOST_VALUES", 3)
    docs = [{"kind": "private", "active": True, "tags": [f"t{n}"]} for n in range(3)]
    kept = tallies.count(dict(enumerate(docs)), None, NAMES)
    assert kept["tags[]"] == {"t0": 1, "t1": 1, "t2": 1}
    tallies.adjust(kept, NAMES, None, {"kind": "private", "tags": ["t3"]})
    assert kept["tags[]"] is None and kept["kind"] == {"private": 4}
    tallies.adjust(kept, NAMES, {"kind": "private", "tags": ["t3"]}, None)
    tallies.add_rows(kept, NAMES, as_frame(docs))
    tallies.remove_rows(kept, NAMES, as_frame(docs).select(pl.col("kind"), pl.col("active").cast(pl.String), pl.col("tags")))
    tallies.change_docs(kept, NAMES, docs, docs)
    assert kept["tags[]"] is None and kept["*"] == 3 and kept["kind|active"] == {"private|true": 3}
    assert tallies.complete(kept, NAMES)  # (let go, not missing: not counted anew at every write)
    assert tallies.count(dict(enumerate(docs)), as_frame([*docs, {"tags": ["t9"]}]), NAMES)["tags[]"] is None

"""In-memory lookups kept in step with every write, so no verb scans a table.

Each index is built from the table's columns the first time it is needed
(opening a store builds none) and updated by every write after that.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

from .emails import email_key
from .table import Table

# The identifying fields an import or a duplicate search can key on.
KEY_FIELDS = ("email", "number", "external_id", "vat_id", "phone")
_SEPARATORS = str.maketrans("", "", " \t.-")


def _code_key(text: str) -> str:
    return text.translate(_SEPARATORS).upper()


def _plain_key(text: str) -> str:
    return text.strip()


# Document field → (index field, normaliser); a mobile number is found as a phone.
_KEYED = {"email": ("email", email_key), "number": ("number", _code_key), "vat_id": ("vat_id", _code_key),
          "external_id": ("external_id", _plain_key), "phone": ("phone", _plain_key),
          "mobile": ("phone", _plain_key)}


def normalise_key(field: str, value: object) -> str | None:
    """The form under which two values of an identifying field count as equal."""
    if value is None:
        return None
    key = _KEYED[field][1](str(value).strip())
    return key or None


_KEYED_ITEMS = tuple((source, field, normalise) for source, (field, normalise) in _KEYED.items())


def _keys_of(doc: dict) -> list[tuple[str, str]]:
    # Runs for every write of a customer or prospect (100k times in an import).
    get = doc.get
    return [(field, key) for source, field, normalise in _KEYED_ITEMS
            if (value := get(source)) and (key := normalise(value))]


class MultiMap:
    """key → ids. A lone id is kept bare: most keys have one holder, and a set
    per key would cost ~200 bytes each (a third of the store's memory at 100k)."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        self._map: dict[object, int | set[int]] = {}

    def add(self, key: object, doc_id: int) -> None:
        held = self._map.get(key)
        if held is None:
            self._map[key] = doc_id
        elif isinstance(held, set):
            held.add(doc_id)
        elif held != doc_id:
            self._map[key] = {held, doc_id}

    def discard(self, key: object, doc_id: int) -> None:
        held = self._map.get(key)
        if isinstance(held, set):
            held.discard(doc_id)
            if len(held) == 1:
                self._map[key] = next(iter(held))
        elif held == doc_id:
            del self._map[key]

    def ids(self, key: object) -> set[int]:
        held = self._map.get(key)
        if held is None:
            return set()
        return set(held) if isinstance(held, set) else {held}

    def first(self, key: object) -> int | None:
        """The lowest id holding `key`, or None."""
        held = self._map.get(key)
        return min(held) if isinstance(held, set) else held

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __len__(self) -> int:
        return len(self._map)


class Indexes:
    """Key indexes of customers and prospects; children of each customer by table."""

    def __init__(self, tables: Mapping[str, Table], lock: threading.RLock) -> None:
        self._tables = tables
        self._lock = lock
        self._keys: dict[str, dict[str, MultiMap]] = {}
        self._children: dict[str, MultiMap] = {}

    def _built(self, built: dict, table: str, build: Callable[[Table], object]) -> object:
        found = built.get(table)
        if found is None:
            with self._lock:  # a commit on another thread must not slip in between
                found = built.get(table)
                if found is None:
                    found = built[table] = build(self._tables[table])
        return found

    def key_map(self, table: str, field: str) -> MultiMap:
        """The index of `table` (customers/sources) on identifying field `field`."""
        return self._built(self._keys, table, _build_keys)[field]

    def find(self, table: str, field: str, value: object) -> set[int]:
        key = normalise_key(field, value)
        return set() if key is None else self.key_map(table, field).ids(key)

    def child_ids(self, customer_id: int, table: str) -> set[int]:
        return self._built(self._children, table, _build_children).ids(customer_id)

    def update(self, table: str, doc_id: int, old: dict | None, new: dict | None) -> None:
        by_field = self._keys.get(table)
        if by_field is not None:
            if old is not None:
                for field, key in _keys_of(old):
                    by_field[field].discard(key, doc_id)
            if new is not None:
                for field, key in _keys_of(new):
                    by_field[field].add(key, doc_id)
        children = self._children.get(table)
        if children is not None:
            if old is not None:
                children.discard(old["customer_id"], doc_id)
            if new is not None:
                children.add(new["customer_id"], doc_id)

    def build_all(self, key_tables: Iterable[str], child_tables: Iterable[str]) -> None:
        """Build now what the first lookups would otherwise wait for."""
        for table in key_tables:
            self._built(self._keys, table, _build_keys)
        for table in child_tables:
            self._built(self._children, table, _build_children)

    def tracks(self, table: str) -> bool:
        """Whether a write to `table` has an index to update (else the old document is not needed)."""
        return table in self._keys or table in self._children


def _fill(index: MultiMap, ids: Iterable[int], values: Iterable[object], normalise: Callable | None) -> None:
    for doc_id, value in zip(ids, values):
        if value:
            key = normalise(value) if normalise else value
            if key:
                index.add(key, doc_id)


def _build_keys(rows: Table) -> dict[str, MultiMap]:
    frame = rows.frame()
    ids = frame["id"].to_list()
    by_field = {field: MultiMap() for field in KEY_FIELDS}
    for source, (field, normalise) in _KEYED.items():
        _fill(by_field[field], ids, frame[source].to_list(), normalise)
    return by_field


def _build_children(rows: Table) -> MultiMap:
    frame = rows.frame()
    index = MultiMap()
    _fill(index, frame["id"].to_list(), frame["customer_id"].to_list(), None)
    return index


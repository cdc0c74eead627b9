"""In-memory lookups kept in step with every write, so no verb scans a table."""
from __future__ import annotations

from collections import defaultdict

from .model import CHILD_TABLES, CUSTOMERS, SOURCES

# The identifying fields an import or a duplicate search can key on.
KEY_FIELDS = ("email", "number", "external_id", "vat_id", "phone")
_SEPARATORS = str.maketrans("", "", " \t.-")


def normalise_key(field: str, value: object) -> str | None:
    """The form under which two values of an identifying field count as equal."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if field == "email":
        return text.lower()
    if field in ("vat_id", "number"):
        return text.translate(_SEPARATORS).upper()
    return text


def _keys_of(doc: dict) -> list[tuple[str, str]]:
    # The hot path of every write: normalise_key inlined for the common fields.
    keys = []
    email = doc.get("email")
    if email:
        keys.append(("email", email.strip().lower()))
    for field in ("number", "vat_id"):
        value = doc.get(field)
        if value:
            keys.append((field, value.translate(_SEPARATORS).upper()))
    for field in ("external_id", "phone", "mobile"):
        value = doc.get(field)
        if value:
            keys.append(("phone" if field == "mobile" else field, value.strip()))
    return [(f, k) for f, k in keys if k]


class Indexes:
    def __init__(self) -> None:
        # table (customers/sources) → field → value → ids
        self.keys: dict[str, dict[str, dict[str, set[int]]]] = {
            CUSTOMERS: defaultdict(lambda: defaultdict(set)),
            SOURCES: defaultdict(lambda: defaultdict(set)),
        }
        # customer id → child table → ids
        self.children: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))

    def rebuild(self, tables: dict[str, dict[int, dict]]) -> None:
        self.__init__()
        for table in (CUSTOMERS, SOURCES, *CHILD_TABLES):
            for doc_id, doc in tables.get(table, {}).items():
                self.update(table, doc_id, None, doc)

    def update(self, table: str, doc_id: int, old: dict | None, new: dict | None) -> None:
        by_field = self.keys.get(table)
        if by_field is not None:
            if old is not None:
                for field, key in _keys_of(old):
                    ids = by_field[field][key]
                    ids.discard(doc_id)
                    if not ids:
                        del by_field[field][key]
            if new is not None:
                for field, key in _keys_of(new):
                    by_field[field][key].add(doc_id)
        elif table in CHILD_TABLES:
            if old is not None:
                self.children[old["customer_id"]][table].discard(doc_id)
            if new is not None:
                self.children[new["customer_id"]][table].add(doc_id)

    def find(self, table: str, field: str, value: object) -> set[int]:
        key = normalise_key(field, value)
        if key is None:
            return set()
        found = self.keys[table].get(field, {}).get(key)
        return set(found) if found else set()

    def child_ids(self, customer_id: int, table: str) -> set[int]:
        found = self.children.get(customer_id, {}).get(table)
        return set(found) if found else set()

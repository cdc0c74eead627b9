"""The store's tables as the engine keeps them: the one place the domain tells
the engine which fields to keep decoded and which to look up by key."""
from __future__ import annotations

import polars as pl

from store.engine import Schema
from store.model import (
    ALL_TABLES,
    CAMPAIGNS,
    CHILD_TABLES,
    CUSTOMERS,
    EXPORTS,
    JOURNAL,
    PICTURES,
    SCHEMA_VERSION,
    SHARED_OWNERS,
    SOURCES,
    TALLIED,
)
from store.rules.keys import KEYED, key_column

_PERSON = ("first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode", "city", "country",
           "vat_id", "external_id")
# The fields the views show, the indexes read and the matcher compares (store.matching), per large table.
COLUMNS: dict[str, dict[str, pl.DataType]] = {
    CUSTOMERS: {**{f: pl.String() for f in ("number", "kind", *_PERSON)},
                "tags": pl.List(pl.String()), "active": pl.Boolean()},
    SOURCES: {**{f: pl.String() for f in (*_PERSON, "number", "imported_at")},
              "origin": pl.Struct({f: pl.String() for f in ("profile", "file", "sheet", "row", "confirmed_at")})},
    **{table: {"customer_id": pl.Int64()} for table in CHILD_TABLES},
    # One export run names every customer it wrote out (older stores: one document per customer).
    EXPORTS: {"customer_id": pl.Int64(), SHARED_OWNERS: pl.List(pl.Int64())},
}

SCHEMA = Schema(tables=ALL_TABLES, columns=COLUMNS, keys=KEYED, keyed_tables=(CUSTOMERS, SOURCES),
                owner_field="customer_id", version=SCHEMA_VERSION, tallies=TALLIED,
                owners_field=SHARED_OWNERS, key_column=key_column, blobs=PICTURES, numbered="number",
                read_when_needed=(JOURNAL, CAMPAIGNS))

"""Full names split into first and last (store.rules.names): how many of fifty hard
names (bench/names_data.py) come out right, beside nameparser's defaults and the
rule custdesk had before (the last word is the last name), and how long the column
path takes over Faker's names in seven locales.

    python bench/names_bench.py [ROWS]   # default 100,000 rows

Beside the shipped column path (each distinct name split once, each distinct shape
parsed once), from the same run: a pattern for plain "First Last" names in polars
with the rest split as shipped; every distinct name parsed by nameparser (no shapes);
and the previous rule's regex.
"""
from __future__ import annotations

import re
import sys

import polars as pl
from common import clock
from faker import Faker
from nameparser import HumanName
from names_data import DECIDED, HARD_NAMES

from store.rules import names as rule
from store.rules.names import split_full_name, split_full_names

LOCALES = ["de_DE", "tr_TR", "fr_FR", "nl_NL", "es_ES", "en_GB", "en_US"]
PREVIOUS = r"^(.*\S)\s+(\S+)$"  # the previous rule: 'Ada King Lovelace' → ('Ada King', 'Lovelace')


def previous(full: str) -> tuple[str | None, str | None]:
    parts = re.match(PREVIOUS, full.strip())
    return (parts.group(1), parts.group(2)) if parts else (full.strip() or None, None)


def nameparser_defaults(full: str) -> tuple[str | None, str | None]:
    """HumanName as it comes: first and middle names as the first name, `last` as the last."""
    name = HumanName(full)
    return " ".join(p for p in (name.first, name.middle) if p) or None, name.last or None


def every_name_parsed(names: pl.Series) -> pl.DataFrame:
    """The column path with no shape shared: nameparser reads each distinct name."""
    shapes = rule._by_shape
    rule._by_shape = lambda words: None
    try:
        return split_full_names(names)
    finally:
        rule._by_shape = shapes


def pattern_first(names: pl.Series) -> pl.DataFrame:
    """Plain "First Last" (two capitalised Latin words no vocabulary holds) split by a
    pattern in polars; every other distinct name as shipped."""
    word = r"[\p{Lu}&&\p{Latin}][\p{Ll}&&\p{Latin}]+"
    parts = names.str.extract_groups(f"^({word}) ({word})$")
    first, last = parts.struct.field("1"), parts.struct.field("2")
    plain = first.is_not_null() & ~first.str.to_lowercase().is_in(list(rule._VOCABULARY)) \
        & ~last.str.to_lowercase().is_in(list(rule._VOCABULARY)) & ~last.str.contains(r"^(?i:[ivxlcdm]+)$")
    rest = split_full_names(names.filter(~plain))
    split = dict(zip(names.filter(~plain).to_list(), rest.rows(), strict=True))
    return pl.DataFrame({c: pl.select(pl.when(plain).then(part).otherwise(
        names.replace_strict({n: p[i] for n, p in split.items()}, default=None, return_dtype=pl.String))).to_series()
        for i, (c, part) in enumerate((("first_name", first), ("last_name", last)))})


def main(rows: int) -> None:
    rules = {"custdesk (store.rules.names)": split_full_name, "nameparser defaults (HumanName)": nameparser_defaults,
             "previous rule (last word)": previous}
    print(f"{len(HARD_NAMES)} hard names with known truth (DE, TR, FR, NL, ES, EN; titles, suffixes, particles, "
          f"'Last, First', initials, hyphens, one word, spaces, capitals)")
    print("| rule | split right | wrong |")
    print("|---|---|---|")
    for label, split in rules.items():
        wrong = [n.strip() for n, first, last in HARD_NAMES if split(n) != (first, last)]
        print(f"| {label} | {len(HARD_NAMES) - len(wrong)} | {', '.join(wrong) or '–'} |")
    for name, (_, why) in DECIDED.items():
        print(f"(decided: {name} — {why})")

    fake = Faker(LOCALES)
    fake.seed_instance(28)
    names = pl.Series("full_name", [fake.name() for _ in range(rows)])
    timed = {}
    for label, path in (("shipped: each distinct name once, each distinct shape parsed once", split_full_names),
                        ("a polars pattern for plain 'First Last', the rest as shipped", pattern_first),
                        ("nameparser on every distinct name (no shapes), replace_strict", every_name_parsed)):
        rule._parse.cache_clear()
        timed[label] = clock(lambda path=path: path(names))
    _, regex_seconds = clock(lambda: names.str.extract_groups(PREVIOUS))
    shipped = timed["shipped: each distinct name once, each distinct shape parsed once"][0]
    differ = sum(int((split != shipped).select(pl.any_horizontal(pl.all())).to_series().sum()) for split, _ in timed.values())
    rule._parse.cache_clear()
    split_full_names(names)
    print(f"\n{rows:,} Faker names ({', '.join(LOCALES)}): {names.n_unique():,} distinct, "
          f"{rule._parse.cache_info().currsize:,} distinct shapes parsed")
    print("| column path | seconds | rows/s |")
    print("|---|---|---|")
    for label, (_, seconds) in timed.items():
        print(f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} |")
    print(f"| previous rule's regex (last word) | {regex_seconds:.3f} | {rows / regex_seconds:,.0f} |")
    print(f"rows where the custdesk paths differ: {differ}")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

"""A better `--country` for a file whose phones say where they are from.

A file of German numbers written the German way (`030 1234567`) and read as
US numbers is all warnings, and nothing warns louder than that: when most of
the phones read in the import's region are not valid there, and one other
region makes nearly all of them valid, the plan proposes that region.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import phonenumbers
import polars as pl

from store.model import PHONE_FIELDS
from store.rules.phones import normalise_phone, quick_e164
from store.rules.regions import email_region, region_of
from store.rules.validation_frame import phone_regions

MOST = 0.5  # share of the phones failing that makes us look for a better region
NEARLY_ALL = 0.9  # share the better region must make valid
LEAST = 3  # fewer phones than this say nothing
SAMPLE = 200


@dataclass(frozen=True)
class CountrySuggestion:
    region: str
    current: str | None
    failing: int  # phones of rows with no country of their own not valid for `current`
    total: int  # phones of rows with no country of their own, in national form
    share: float  # of the failing ones sampled, valid for `region`

    def message(self) -> str:
        where = f"for {self.current}" if self.current else "without a country"
        return (f"{self.failing} of {self.total} phones are not valid {where}; "
                f"{self.share:.0%} of them are valid for {self.region}")


def suggest_country(rows: pl.DataFrame, cells: pl.DataFrame, current: str | None) -> CountrySuggestion | None:
    """The region to read this file's phones in, when it is clearly not `current`."""
    own = phone_regions(cells, None).is_not_null() if "country" in cells.columns else pl.Series([False] * cells.height)
    national, failing = [], []
    for field in PHONE_FIELDS & set(cells.columns):
        typed = cells[field].str.strip_chars()
        is_national = typed.is_not_null() & ~own & ~typed.str.starts_with("+") & ~typed.str.starts_with("00")
        national += typed.filter(is_national).to_list()
        failing += typed.filter(is_national & ~rows[field].str.starts_with("+").fill_null(False)).to_list()
    if len(national) < LEAST or len(failing) <= MOST * len(national):
        return None
    sample = sorted(set(failing))[:SAMPLE]
    best = _best_region(sample, current, _hints(rows))
    if best is None:
        return None
    share = sum(normalise_phone(v, best) is not None for v in sample) / len(sample)
    return CountrySuggestion(best, current, len(failing), len(national), share) if share >= NEARLY_ALL else None


def _hints(rows: pl.DataFrame) -> Counter[str]:
    """Regions the file speaks of besides its phones: its rows' countries and its addresses' country domains."""
    hints: Counter[str] = Counter()
    if "country" in rows.columns:
        hints.update(r for r in (region_of(c) for c in rows["country"].drop_nulls().to_list()) if r)
    if "email" in rows.columns:
        hints.update(r for r in map(email_region, rows["email"].drop_nulls().to_list()) if r)
    return hints


def _best_region(sample: list[str], current: str | None, hints: Counter[str]) -> str | None:
    """The region that makes most of the sample valid (the cheap check), the file's
    hints breaking ties; None when regions of different calling codes still tie
    (030 1234567 is as valid in Iraq as in Germany). Within one calling code the
    main region wins (US over CA, GB over JE)."""
    scores = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        if region == current:
            continue
        score = sum(quick_e164(v, region) is not None for v in sample)
        if score:
            scores[region] = (score, hints[region])
    if not scores:
        return None
    top = max(scores.values())
    best = [r for r, s in scores.items() if s == top]
    codes = {phonenumbers.country_code_for_region(r) for r in best}
    if len(codes) > 1:
        return None
    return phonenumbers.region_code_for_country_code(codes.pop()) if len(best) > 1 else best[0]

"""What the matcher answers: pairs of records, their score, band and reasons."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Band = Literal["sure", "review"]

# Match probability from which a pair is sure (merge without a second look at the reasons),
# and from which it is worth a review at all.
SURE = 0.95
REVIEW = 0.5


@dataclass(frozen=True, order=True)
class RecordRef:
    table: str  # "customers" or "sources" (store.model.CUSTOMERS / SOURCES)
    id: int


@dataclass(frozen=True)
class Pair:
    a: RecordRef  # a < b by (table, id); customers before sources
    b: RecordRef
    score: float  # match probability 0..1 (Fellegi–Sunter posterior), rounded to 3 places
    band: Band
    reasons: tuple[str, ...]  # people's words, strongest first
    evidence: Mapping[str, str]  # field -> "exact" | "close" | "different" | "missing"


def band_of(score: float) -> Band:
    return "sure" if score >= SURE else "review"

"""Who is who: likely duplicate customers and prospects (issue 25).

One matcher for the store-wide sweep (`find_pairs`) and for checking one record
(`matches_for`) or many new ones at once (`matches_among`): fields normalised
(`normalise`), candidate pairs found by blocking (`blocking`), compared with graded levels (`compare`), weighed
Fellegi–Sunter style (`weights`) into a match probability, and put in words
(`reasons`). Measured against splink in bench/dedupe_bench.py.
"""
from store.matching.pairs import REVIEW, SURE, Band, Pair, RecordRef
from store.matching.sweep import find_pairs, identity_pairs, matches_among, matches_for, sweep_pairs

__all__ = ["REVIEW", "SURE", "Band", "Pair", "RecordRef", "find_pairs", "identity_pairs", "matches_among", "matches_for",
           "sweep_pairs"]

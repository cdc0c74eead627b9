"""splink's side of the matcher's benchmark (bench/dedupe_bench.py): Fellegi–Sunter on DuckDB,
configured with custdesk's fields and blocking rules like custdesk's, u by random sampling and
m by its own EM; its scored pairs, and those at a threshold."""
from __future__ import annotations

import json
import logging
import time

import polars as pl
from dedupe_data import FIELDS, Truth


def splink_scores(frame: pl.DataFrame) -> tuple[list[tuple[str, str, float]], float]:
    """splink's scored pairs (at probability ≥ 0.01) with its own training, and its time."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    present = [c for c in FIELDS if c != "country" and frame[c].null_count() < frame.height]
    data = frame.select("unique_id", *present).to_pandas()
    comparisons = {
        "first_name": cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        "last_name": cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        "email": cl.EmailComparison("email"),
        "phone": cl.ExactMatch("phone"), "mobile": cl.ExactMatch("mobile"),
        "street": cl.LevenshteinAtThresholds("street", [1, 3]),
        "postcode": cl.LevenshteinAtThresholds("postcode", [1]),
        "city": cl.JaroWinklerAtThresholds("city", [0.9]).configure(term_frequency_adjustments=True),
        "company": cl.JaroWinklerAtThresholds("company", [0.9]), "vat_id": cl.ExactMatch("vat_id"),
    }
    rules = [block_on("email"), block_on("phone"), block_on("mobile"), block_on("postcode", "substr(last_name,1,3)"),
             block_on("postcode", "substr(first_name,1,3)"), block_on("last_name", "city"), block_on("first_name", "last_name"),
             block_on("company"), block_on("street", "substr(postcode,1,2)")]
    usable = [r for r in rules if all(col in present for col in _rule_columns(r))]
    settings = SettingsCreator(link_type="dedupe_only", comparisons=[comparisons[c] for c in present if c in comparisons],
                               blocking_rules_to_generate_predictions=usable, retain_intermediate_calculation_columns=False)
    db = DuckDBAPI()
    linker = Linker(db.register(data), settings, log_level=logging.ERROR)
    deterministic = [r for r in (block_on("first_name", "last_name", "postcode"), block_on("email")) if
                     all(col in present for col in _rule_columns(r))]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=25)
    for rule in (block_on("postcode"), block_on("last_name"), block_on("first_name")):
        if all(col in present for col in _rule_columns(rule)):
            linker.training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=1.0)
    scored = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    elapsed = time.perf_counter() - start
    return list(zip(scored["unique_id_l"], scored["unique_id_r"], scored["match_probability"], strict=True)), elapsed


def _rule_columns(rule: object) -> list[str]:
    text = json.dumps(rule.get_blocking_rule("duckdb").blocking_rule_sql)  # type: ignore[attr-defined]
    return [c for c in FIELDS if f'"{c}"' in text.replace('\\"', '"') or f"l.{c}" in text]


def splink_at(scored: list[tuple[str, str, float]], threshold: float) -> Truth:
    return {frozenset((a, b)) for a, b, p in scored if p >= threshold}

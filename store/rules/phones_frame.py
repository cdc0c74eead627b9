"""`phones.decide` over a whole column: the same decisions, made by polars.

100,000 distinct numbers cost ~1 s one by one in Python and a fraction of that
here: the formatting is stripped, the calling code found and the national
prefix dropped with string expressions, and the validity patterns of
phonenumbers' metadata run as polars regexes, one calling code at a time.
What this path leaves undecided (odd shapes, regions whose prefix rules
rewrite the number, a pattern polars cannot compile) goes through
`phones.normalise_phone`. A test holds this path to `phones.decide`.
"""
from __future__ import annotations

import phonenumbers
import polars as pl

from store.rules.phones import _Region, _region, normalise_phone

_FORMATTING = r"[\s.\-/()\u00a0]"
_CODES = {size: [str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE if len(str(c)) == size] for size in (1, 2, 3)}
_DECIDED = {"pos": pl.UInt32, "e164": pl.String}
# Fewer distinct numbers than this are decided one by one: polars' set-up of the
# patterns (~10 ms) costs more than a few numbers in Python (a 3-row import).
ONE_BY_ONE_BELOW = 64
SLICE_ROWS = 100_000


def normalise_column(values: pl.Series, regions: pl.Series) -> pl.Series:
    """Per row, `phones.normalise_phone(value, region)`: `SLICE_ROWS` rows at a time (deciding
    a million numbers at once took 430 MB besides their column; in slices, 77 MB)."""
    if values.len() <= SLICE_ROWS:
        return _normalised(values, regions)
    return pl.concat([_normalised(values.slice(start, SLICE_ROWS), regions.slice(start, SLICE_ROWS))
                      for start in range(0, values.len(), SLICE_ROWS)], rechunk=True)


def _normalised(values: pl.Series, regions: pl.Series) -> pl.Series:
    pairs = pl.DataFrame({"value": values, "region": regions}, schema={"value": pl.String, "region": pl.String})
    distinct = pairs.drop_nulls("value").unique().with_row_index("pos")
    decided = _decide(distinct) if distinct.height >= ONE_BY_ONE_BELOW else pl.DataFrame(schema=_DECIDED)
    rest = distinct.join(decided, on="pos", how="anti")
    answers = pl.concat([decided, rest.select("pos", pl.Series(
        "e164", [normalise_phone(v, r) for v, r in rest.select("value", "region").iter_rows()], dtype=pl.String))])
    table = distinct.join(answers, on="pos").select("value", "region", "e164")
    return pairs.join(table, on=["value", "region"], how="left", nulls_equal=True, maintain_order="left")["e164"]


def _decide(distinct: pl.DataFrame) -> pl.DataFrame:
    """(pos, e164) of the numbers decided here; e164 null: decided not valid."""
    frame = distinct.with_columns(pl.col("value").str.replace_all(_FORMATTING, "").alias("compact"))
    split = [pl.DataFrame(schema={"pos": pl.UInt32, "code": pl.Int64, "digits": pl.String})]
    for (region,), part in frame.partition_by("region", as_dict=True).items():
        try:
            split.append(_split(part, _region(region) if region else None))
        except pl.exceptions.ComputeError:
            continue  # as below
    candidates = pl.concat(split).filter(pl.col("code").is_not_null() & pl.col("digits").str.contains(r"^[0-9]{2,17}$"))
    decided = [pl.DataFrame(schema=_DECIDED)]
    for (code,), part in candidates.partition_by("code", as_dict=True).items():
        try:
            decided.append(_decide_code(part, code))
        except pl.exceptions.ComputeError:
            continue  # a pattern polars' regex engine does not take: phonenumbers decides these
    return pl.concat(decided)


def _split(part: pl.DataFrame, numbering: _Region | None) -> pl.DataFrame:
    """(pos, code, digits): the calling code (null: undecided here) and the national number."""
    compact = pl.col("compact")
    plus = compact.str.starts_with("+")
    international = plus | compact.str.starts_with("00") if numbering is not None and numbering.idd_00 else plus
    digits = pl.when(plus).then(compact.str.slice(1)).when(international).then(compact.str.slice(2)).otherwise(compact)
    code = pl.lit(None, dtype=pl.String)
    for size in (1, 2, 3):  # calling codes are prefix-free: at most one of these matches
        code = pl.when(pl.col("digits").str.slice(0, size).is_in(_CODES[size])).then(pl.col("digits").str.slice(0, size)).otherwise(code)
    part = part.with_columns(international.alias("international"), digits.alias("digits"))
    abroad = part.filter(pl.col("international") & ~pl.col("digits").str.starts_with("0")).with_columns(code.alias("code"))
    abroad = abroad.select("pos", pl.col("code").cast(pl.Int64), pl.col("digits").str.slice(pl.col("code").str.len_chars().fill_null(0)))
    home = part.filter(~pl.col("international"))
    if numbering is None:
        return pl.concat([abroad, home.select("pos", pl.lit(None, dtype=pl.Int64).alias("code"), "digits")])
    # phonenumbers may read these as international, or find the calling code in them: its own path.
    ambiguous = pl.col("digits").str.starts_with(str(numbering.code))
    idd = numbering.patterns.international_prefix
    if idd is not None:
        ambiguous = ambiguous | pl.col("digits").str.contains(f"^(?:{idd})")
    home = home.select("pos", pl.when(ambiguous).then(None).otherwise(pl.lit(numbering.code, dtype=pl.Int64)).alias("code"), "digits")
    return pl.concat([abroad, home])


def _decide_code(part: pl.DataFrame, code: int) -> pl.DataFrame:
    """One calling code's numbers: the national prefix dropped as phonenumbers drops it, then judged."""
    main = _region(phonenumbers.region_code_for_country_code(code))
    if main is None:  # non-geographic codes (800, 882 …): phonenumbers decides those
        return pl.DataFrame(schema=_DECIDED)
    prefix = main.patterns.national_prefix
    if prefix is not None:
        found = pl.col("digits").str.extract(f"^({prefix})", 1).str.len_chars()
        part = part.with_columns(found.alias("found"))
        if main.transforms:  # a prefix that may rewrite the number: phonenumbers decides those
            part = part.filter(pl.col("found").is_null())
        rest = pl.col("digits").str.slice(pl.col("found").fill_null(0))
        keep = pl.col("found").is_null() | (_viable(main, pl.col("digits")) & ~_viable(main, rest))
        part = part.with_columns(pl.when(keep).then(pl.col("digits")).otherwise(rest).alias("digits"))
    judged = _valid_for_code(part.select("pos", "digits"), code)
    return judged.select("pos", pl.when(pl.col("valid")).then(pl.lit(f"+{code}") + pl.col("digits")).alias("e164"))


def _valid_for_code(part: pl.DataFrame, code: int) -> pl.DataFrame:
    """`phones._valid_for_code` of the column `digits`, as the column `valid`: each of the
    code's regions in turn decides the rows still open (most are decided by the first)."""
    done = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        numbering = _region(region)
        if numbering is None or part.height == 0:
            break
        leading = numbering.patterns.leading
        if leading is not None:
            part = part.with_columns(pl.col("digits").str.contains(f"^(?:{leading})").alias("decides"))
            done.append(part.filter(pl.col("decides")).with_columns(_valid(numbering).alias("valid")))
        else:
            part = part.with_columns(_valid(numbering).alias("decides"))
            done.append(part.filter(pl.col("decides")).with_columns(pl.lit(True).alias("valid")))
        part = part.filter(~pl.col("decides")).drop("decides")
    done.append(part.with_columns(pl.lit(False).alias("valid")))
    return pl.concat([d.drop("decides", strict=False) for d in done], how="diagonal")


def _valid(numbering: _Region) -> pl.Expr:
    """`_Region.valid` of the column `digits`."""
    general = numbering.patterns.general
    if general is None:
        return pl.lit(False)
    size = pl.col("digits").str.len_chars()

    def fits(sizes: tuple[int, ...], pattern: str) -> pl.Expr:
        fit = pl.col("digits").str.contains(f"^(?:{pattern})$")
        return fit & size.is_in(list(sizes)) if sizes else fit
    any_type = pl.lit(False)
    for sizes, pattern in numbering.patterns.types:
        any_type = any_type | fits(sizes, pattern)
    return fits(*general) & any_type


def _viable(numbering: _Region, digits: pl.Expr) -> pl.Expr:
    general = numbering.patterns.general
    return pl.lit(False) if general is None else digits.str.contains(f"^(?:{general[1]})$")

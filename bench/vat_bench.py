"""VAT ids with known truth: custdesk's rule (store.rules.vat, python-stdnum) against the
previous behaviour (every VAT id accepted) and a plain format check (the EU's published
patterns as regular expressions), on the same generated set.

    python bench/vat_bench.py [PER_COUNTRY]   # prints the figures; default 200 per country

Valid ids are built, not picked by the rule under test: random digits with the check
digits searched (importers.demo.checked_vat), typed as people type them (spaces, dots,
small letters). Invalid ids by construction, each certainly invalid whatever the scheme:
every other digit in the last check position (each scheme has one right check digit;
the Netherlands has two, the old number's 11-test and the 2020 btw-id's mod 97: both
computed here apart and the digits either accepts left out), a prefix alone, too short (3 digits) or too long (6 digits more), the
digits under another country's prefix whose length they cannot have (Germany's 9
digits, Finland's 8 for a 9-digit number). Two adjacent digits
swapped are listed apart: a checksum misses some swaps by design (Luhn's 09/90), so
their truth is not known.
"""
from __future__ import annotations

import random
import re
import sys
from collections import Counter

import polars as pl
from common import clock

from importers.demo import checked_vat
from store.rules.validation_frame import clean_frame
from store.rules.vat import clean_vat, compact

# country → the id's form (checked_vat: `#` drawn, `?` check digits, `*` Luhn) and the format regex
FORMS = {
    "DE": ("DE########?", r"DE\d{9}"), "AT": ("ATU#######?", r"ATU\d{8}"), "BE": ("BE0#######??", r"BE[01]\d{9}"),
    "FR": ("FR??########*", r"FR[0-9A-Z]{2}\d{9}"), "NL": ("NL########?B01", r"NL\d{9}B\d{2}"),
    "IT": ("IT#######001?", r"IT\d{11}"), "ES": ("ESB#######?", r"ES[0-9A-Z]\d{7}[0-9A-Z]"),
    "PL": ("PL#########?", r"PL\d{10}"), "SE": ("SE#########?01", r"SE\d{12}"), "DK": ("DK#######?", r"DK\d{8}"),
    "FI": ("FI#######?", r"FI\d{8}"), "PT": ("PT5#######?", r"PT\d{9}"), "CZ": ("CZ#######?", r"CZ\d{8,10}"),
    "EL": ("EL########?", r"EL\d{9}"), "GB": ("GB#######??", r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})"),
    "CH": ("CHE########?MWST", r"CHE\d{9}(MWST|TVA|IVA)?"), "NO": ("NO########?MVA", r"NO\d{9}(MVA)?"),
    "TR": ("TR#########?", r"TR\d{10}"),
}
PATTERNS = {country: re.compile(pattern) for country, (_, pattern) in FORMS.items()}


def typed(vat: str, rng: random.Random) -> str:
    """A valid id as people type it: in small letters, spaced or dotted, or as it is."""
    style = rng.randrange(4)
    if style == 0:
        return vat.lower()
    if style == 1:
        return vat[:2] + " " + " ".join(vat[i:i + 3] for i in range(2, len(vat), 3))
    if style == 2:
        return vat[:2] + "." + ".".join(vat[i:i + 3] for i in range(2, len(vat), 3))
    return vat


def last_check(form: str) -> int:
    return max(i for i, c in enumerate(form) if c in "?*")


def invalid(country: str, vat: str) -> list[tuple[str, str]]:
    """(kind, id) certainly invalid, from one valid id."""
    form = FORMS[country][0]
    at = last_check(form)
    others = [vat[:at] + d + vat[at + 1:] for d in "0123456789" if d != vat[at]]
    out = [("check digit", other) for other in others if not (country == "NL" and _dutch(other))]
    body = "".join(c for c in vat[2:] if c.isdigit())
    out += [("prefix alone", country), ("too short", country + body[:3]), ("too long", vat + "123456")]
    out.append(("foreign prefix", ("FI" if len(body) == 9 else "DE") + body))
    return out


def _dutch(vat: str) -> bool:
    """Valid by either Dutch scheme, computed here: the old number's 11-test, or the 2020
    btw-id's ISO 7064 mod 97-10 over the whole id (letters as 10-35)."""
    digits = vat[2:11]
    eleven = (sum((9 - i) * int(d) for i, d in enumerate(digits[:-1])) - int(digits[-1])) % 11 == 0
    return eleven or int("".join(str(int(c, 36)) for c in vat)) % 97 == 1


def swapped(vat: str, rng: random.Random) -> str | None:
    """The id with two adjacent different digits of its number swapped, or None when it has none."""
    spots = [i for i in range(2, len(vat) - 1) if vat[i].isdigit() and vat[i + 1].isdigit() and vat[i] != vat[i + 1]]
    if not spots:
        return None
    i = rng.choice(spots)
    return vat[:i] + vat[i + 1] + vat[i] + vat[i + 2:]


def accepted_by_rule(value: str) -> bool:
    return clean_vat(value, None).severity is None


def accepted_by_regex(value: str) -> bool:
    """The format of the id's own prefix (`CH` for `CHE…`), none for a prefix not in the set."""
    text = compact(value)
    pattern = PATTERNS.get(text[:2])
    return bool(pattern and pattern.fullmatch(text))


def main(per_country: int) -> None:
    rng = random.Random(28)
    rows: list[tuple[str, str, str]] = []  # (country, kind, value); kind "valid", "swapped" or an invalid kind
    for country, (form, _) in FORMS.items():
        for _ in range(per_country):
            vat = checked_vat(form, rng.randrange(10 ** 12))
            rows.append((country, "valid", typed(vat, rng)))
            rows += [(country, kind, value) for kind, value in invalid(country, vat)]
            turned = swapped(vat, rng)
            if turned is not None:
                rows.append((country, "swapped", turned))
    verdicts, seconds = clock(lambda: [accepted_by_rule(value) for _, _, value in rows])
    by_regex = [accepted_by_regex(value) for _, _, value in rows]
    print(f"{len(rows):,} VAT ids, {len(FORMS)} countries, {per_country} valid ids each and their invalid "
          f"variants; judged in {seconds:.2f} s ({seconds / len(rows) * 1e6:.0f} µs each)")
    print("| country | valid accepted: custdesk | regex | accept-all | invalid refused: custdesk | regex | "
          "accept-all | swaps refused: custdesk | regex |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals: Counter[str] = Counter()
    for country in FORMS:
        here = [(kind, ok, rx) for (c, kind, _), ok, rx in zip(rows, verdicts, by_regex, strict=True) if c == country]
        valid = [(ok, rx) for kind, ok, rx in here if kind == "valid"]
        wrong = [(ok, rx) for kind, ok, rx in here if kind not in ("valid", "swapped")]
        swaps = [(ok, rx) for kind, ok, rx in here if kind == "swapped"]
        figures = {"valid": len(valid), "valid_ok": sum(ok for ok, _ in valid), "valid_rx": sum(rx for _, rx in valid),
                   "wrong": len(wrong), "wrong_no": sum(not ok for ok, _ in wrong),
                   "wrong_rx": sum(not rx for _, rx in wrong),
                   "swaps": len(swaps), "swaps_no": sum(not ok for ok, _ in swaps), "swaps_rx": sum(not rx for _, rx in swaps)}
        totals.update(figures)
        print(f"| {country} | {_share(figures['valid_ok'], figures['valid'])} | {_share(figures['valid_rx'], figures['valid'])} "
              f"| {_share(figures['valid'], figures['valid'])} | {_share(figures['wrong_no'], figures['wrong'])} "
              f"| {_share(figures['wrong_rx'], figures['wrong'])} | 0/{figures['wrong']} "
              f"| {_share(figures['swaps_no'], figures['swaps'])} | {_share(figures['swaps_rx'], figures['swaps'])} |")
    print(f"| all | {_share(totals['valid_ok'], totals['valid'])} | {_share(totals['valid_rx'], totals['valid'])} "
          f"| {_share(totals['valid'], totals['valid'])} | {_share(totals['wrong_no'], totals['wrong'])} "
          f"| {_share(totals['wrong_rx'], totals['wrong'])} | 0/{totals['wrong']} "
          f"| {_share(totals['swaps_no'], totals['swaps'])} | {_share(totals['swaps_rx'], totals['swaps'])} |")
    print("\n| invalid, by construction | custdesk refused | regex refused |")
    print("|---|---|---|")
    for kind in ("check digit", "prefix alone", "too short", "too long", "foreign prefix"):
        judged = [(ok, rx) for (_, k, _), ok, rx in zip(rows, verdicts, by_regex, strict=True) if k == kind]
        print(f"| {kind} | {_share(sum(not ok for ok, _ in judged), len(judged))} "
              f"| {_share(sum(not rx for _, rx in judged), len(judged))} |")
    slipped = [value for (_, kind, value), ok in zip(rows, verdicts, strict=True) if ok and kind not in ("valid", "swapped")]
    print(f"certainly invalid ids custdesk accepted: {len(slipped)} {slipped[:5]}")
    for name, accepted_valid, accepted_wrong in (
            ("custdesk", totals["valid_ok"], totals["wrong"] - totals["wrong_no"]),
            ("regex", totals["valid_rx"], totals["wrong"] - totals["wrong_rx"]),
            ("accept-all", totals["valid"], totals["wrong"])):
        print(f"{name}: precision of 'valid' {accepted_valid / (accepted_valid + accepted_wrong):.2%}, "
              f"recall {accepted_valid / totals['valid']:.2%}")
    bulk_path(rows)


def bulk_path(rows: list[tuple[str, str, str]]) -> None:
    """The import's column-wise path over 100,000 rows drawn from the set, with a Country column."""
    rng = random.Random(7)
    drawn = [rng.choice(rows) for _ in range(100_000)]
    frame = pl.DataFrame({"vat_id": [v for _, _, v in drawn], "country": [c if c != "EL" else "GR" for c, _, _ in drawn]})
    (_cleaned, issues), seconds = clock(lambda: clean_frame(frame, kind=None, allow_private=True, default_country=None))
    refused = issues.filter((pl.col("field") == "vat_id") & (pl.col("severity") == "error")).height
    print(f"bulk path (validation_frame.clean_frame): 100,000 rows, {frame['vat_id'].n_unique():,} distinct ids, "
          f"{refused:,} refused, {seconds:.2f} s")


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)

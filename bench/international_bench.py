"""Data you can trust from seven countries' files: a generated file whose truth
is known (tests/international.py), imported as a new user would, into a store
whose default country is US (the trap: every national number read as US).

    python bench/international_bench.py [ROWS]   # prints the figures; default 1,000 rows

Wrong E.164 (a stored number that is not the truth) must be 0, valid numbers
normalised at least 99%, valid addresses refused 0. Beside them: the same
file planned with the rule of the previous importer (the store's default
country for every row, a *possible* number accepted), from the same run.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import phonenumbers
from common import ROOT, clock

from importers import plan_import, read_table
from store import Store

sys.path.insert(0, str(ROOT / "tests"))
from international import people, write_csv


def possible_e164(value: str, region: str) -> str | None:
    """The previous importer's rule, for the reference column: possible, not valid."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if phonenumbers.is_possible_number(parsed) else None


def main(count: int) -> None:
    truth = people(count)
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "seven-countries.csv", truth)
        store = Store(Path(folder) / "store.json")
        store.update_settings(default_country="US")
        plan, seconds = clock(lambda: plan_import(store, read_table(path), target="private"))
        stored = plan.rows["phone"].to_list()
        refused = [i for i in plan.issues if i.column == "E-Mail" and i.severity == "error"]
        idn = sum(not p.email.split("@")[1].isascii() for p in truth)
        utf8_local = sum(not p.email.split("@")[0].isascii() for p in truth)
        old = [possible_e164(p.phone, "US") for p in truth]
        store.close()
    wrong = sum(s.startswith("+") and s != p.phone_truth for p, s in zip(truth, stored, strict=True))
    right = sum(s == p.phone_truth for p, s in zip(truth, stored, strict=True))
    old_wrong = sum(o is not None and o != p.phone_truth for p, o in zip(truth, old, strict=True))
    old_right = sum(o == p.phone_truth for p, o in zip(truth, old, strict=True))
    print(f"{count:,} rows from DE, TR, FR, NL, ES, GB, US (every phone valid for its country; "
          f"{idn} IDN domains, {utf8_local} non-ASCII local parts); store default country US; planned in {seconds:.2f} s")
    print("| figure | now | previous rule (default country, possible numbers) |")
    print("|---|---|---|")
    print(f"| wrong E.164 written | {wrong} | {old_wrong} |")
    print(f"| valid numbers normalised to the truth | {right / count:.1%} ({right:,}) | {old_right / count:.1%} ({old_right:,}) |")
    print(f"| valid addresses refused | {len(refused)} | (the old pattern refused every IDN and non-ASCII address: {idn + utf8_local}) |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

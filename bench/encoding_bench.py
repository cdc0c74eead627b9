"""Every common European encoding, read right or refused: files whose text is known
(tests/encoding_corpus.py: names, streets and cities of Faker's pl, cs, hu, ro, ru, el, de,
fr, tr, es and nl locales, 3, 10 and 30 rows a file, in every encoding that can hold them),
read by custdesk's detector (importers.reading.decode) and by charset-normalizer on the same bytes.

    python bench/encoding_bench.py [SEEDS]   # prints the table; default 10 files a locale, encoding and size

A file is *right* when its text is exactly the truth, *refused* when the reader says it
cannot tell (custdesk: one line naming the file; charset-normalizer: no result), *garbled*
otherwise: text that is not what the file says, imported without a word. Garbled must be 0.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from common import ROOT

from importers.reading import UnreadableFile, decode

sys.path.insert(0, str(ROOT / "tests"))
from encoding_corpus import SINGLE_BYTE, UNICODE, CorpusFile, corpus

SIZES = (3, 10, 30)


def custdesk(data: bytes) -> str | None:
    try:
        return decode(Path("bench.csv"), data)[0]
    except UnreadableFile:
        return None


def charset_normalizer(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


def verdict(read: str | None, file: CorpusFile) -> str:
    return "refused" if read is None else "right" if read == file.text() else "garbled"


def main(seeds: int) -> None:
    tallies: dict[str, dict[str, Counter[str]]] = {}
    seconds = Counter[str]()
    for encoding in SINGLE_BYTE + UNICODE:
        tally = tallies.setdefault(encoding, {"custdesk": Counter(), "charset-normalizer": Counter()})
        for file in corpus((encoding,), SIZES, range(seeds)):
            data = file.data()
            for name, reader in (("custdesk", custdesk), ("charset-normalizer", charset_normalizer)):
                start = time.perf_counter()
                tally[name][verdict(reader(data), file)] += 1
                seconds[name] += time.perf_counter() - start
    files = sum(sum(t["custdesk"].values()) for t in tallies.values())
    print(f"{files:,} files ({seeds} a locale, encoding and size of {', '.join(map(str, SIZES))} rows); "
          f"custdesk {seconds['custdesk']:.1f} s, charset-normalizer {seconds['charset-normalizer']:.1f} s")
    print("| encoding | files | custdesk right | refused | garbled | charset-normalizer right | no answer | garbled |")
    print("|---|---|---|---|---|---|---|---|")
    total: dict[str, Counter[str]] = {"custdesk": Counter(), "charset-normalizer": Counter()}
    for encoding, tally in tallies.items():
        print(_row(encoding, tally))
        for name, counts in total.items():
            counts.update(tally[name])
    print(_row("all", total))


def _row(label: str, tally: dict[str, Counter[str]]) -> str:
    ours, theirs = tally["custdesk"], tally["charset-normalizer"]
    return (f"| {label} | {sum(ours.values()):,} | {ours['right']:,} | {ours['refused']:,} | {ours['garbled']:,} | "
            f"{theirs['right']:,} | {theirs['refused']:,} | {theirs['garbled']:,} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)

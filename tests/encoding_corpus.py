"""Customer files whose text is known, written in every code page that can hold them: names,
streets and cities of Faker's European locales, as a person's own spreadsheet would save them.
Shared by tests/test_encodings.py and bench/encoding_bench.py."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from faker import Faker

LOCALES = ("pl_PL", "cs_CZ", "hu_HU", "ro_RO", "ru_RU", "el_GR", "de_DE", "fr_FR", "tr_TR", "es_ES", "nl_NL")
# Every encoding a file is written in; ISO-8859-1 is read as Windows-1252 (the same text where a file can differ).
SINGLE_BYTE = ("cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "iso8859-1", "iso8859-2", "iso8859-15", "koi8-r",
               "iso8859-5", "cp866")
UNICODE = ("utf-8", "utf-8-sig", "utf-16")
HEADER = ["Name", "Street", "City"]
# Windows-1250 and ISO-8859-2 have no ș ț (comma below): Romanian written in them has ş ţ (cedilla) instead.
_CEDILLA = str.maketrans("șțȘȚ", "şţŞŢ")


@dataclass(frozen=True)
class CorpusFile:
    locale: str
    encoding: str
    rows: list[list[str]]  # the truth, as the file's cells hold it

    def text(self, delimiter: str = ";") -> str:
        return "".join(delimiter.join(row) + "\n" for row in [HEADER, *self.rows])

    def data(self, delimiter: str = ";") -> bytes:
        return self.text(delimiter).encode(self.encoding)


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def people(locale: str, count: int, seed: int) -> list[list[str]]:
    """`count` rows of name, street and city; Faker's tr_TR writes ˜ for i in a few names (N˜zamett˜n),
    which no person types: it is read as the i it stands for."""
    fake = _faker(locale)
    fake.seed_instance(seed)
    return [[cell.replace("˜", "i") for cell in (fake.name(), fake.street_name(), fake.city())] for _ in range(count)]


def written(rows: list[list[str]], encoding: str) -> list[list[str]]:
    """The rows a file in `encoding` can hold (Romanian with cedillas where it has no commas below)."""
    out = []
    for row in rows:
        for candidate in (row, [cell.translate(_CEDILLA) for cell in row]):
            try:
                ";".join(candidate).encode(encoding)
            except UnicodeEncodeError:
                continue
            out.append(candidate)
            break
    return out


def corpus_file(locale: str, encoding: str, count: int, seed: int) -> CorpusFile | None:
    """A file of up to `count` rows in `encoding`, or None when it could hold no row beyond ASCII."""
    rows = written(people(locale, count, seed), encoding)
    if all(";".join(row).isascii() for row in rows):
        return None
    return CorpusFile(locale, encoding, rows)


def corpus(encodings: tuple[str, ...], counts: tuple[int, ...], seeds: range) -> Iterator[CorpusFile]:
    """Every locale's files in each of `encodings`, one per row count and seed."""
    for encoding in encodings:
        for locale in LOCALES:
            for count in counts:
                for seed in seeds:
                    found = corpus_file(locale, encoding, count, seed * 1000 + count)
                    if found is not None:
                        yield found


@cache
def words(locale: str) -> list[str]:
    """The words of 200 of a locale's rows, for properties to draw from."""
    return sorted({word for row in people(locale, 200, 5) for cell in row for word in cell.split()})

"""Which single-byte code page a text file was written in, or why that cannot be told.

A file that is not UTF-8 is read in every European code page that decodes all of
its bytes. Only the words holding a byte above 0x7F differ between the readings
(ASCII is the same in each), so only those are looked at:

- a reading is *implausible* when one of its words holds a control character, a
  symbol between two letters (`Pawe³`), letters of two scripts (`Mьller`), a
  lowercase letter followed by a capital one that is not ASCII (`хБЮМНБ`), or
  letters no one language writes together (`Dvoøák`: ø is Danish, á is not);
- the plausible readings are scored by how likely their letters are in a mix of
  European languages (a letter-frequency table per language below), and the best
  one is taken only if it is clearly more likely than every other reading that
  gives a different text (`MARGIN`); else the file is refused, naming both.

Nothing here guesses: a file is read in one code page, or refused in one line.
"""
from __future__ import annotations

import codecs
import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

# The candidates, in the order a reading shared by several (the same text) is named by.
# (ISO-8859-1 is not one: where it differs from Windows-1252, it holds control characters.)
CODE_PAGES = ("cp1252", "iso8859-15", "cp1250", "iso8859-2", "cp1254", "cp1251", "koi8-r", "iso8859-5", "cp866",
              "cp1253")
# Each encoding's usual name (by Python's name for it); a code page's is also a name --encoding takes.
TITLES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-16-le": "UTF-16LE",
          "utf-16-be": "UTF-16BE", "cp1250": "Windows-1250", "cp1251": "Windows-1251", "cp1252": "Windows-1252",
          "cp1253": "Windows-1253", "cp1254": "Windows-1254", "iso8859-1": "ISO-8859-1", "iso8859-2": "ISO-8859-2",
          "iso8859-5": "ISO-8859-5", "iso8859-15": "ISO-8859-15", "koi8-r": "KOI8-R", "cp866": "CP866"}
# How much more likely (in nats: e^8, about 3,000 times) the chosen reading must be than any other.
MARGIN = 8.0
# ... and by how much for each occurrence of a word the two read differently, on average: a letter read as
# another that is about as common (Romanian ş as ţ) is no evidence, however often it occurs.
WORD_MARGIN = 2.5
# What each language a reading needs costs it (nats): a file is written in few languages, and a misread
# one needs more (Czech read as Windows-1254 is Czech and Turkish: Malý as Malı).
LANGUAGE_COST = 3.0
# What a symbol in a word costs a reading (nats): a byte read as a letter where another code page reads a
# symbol (Arş. or Arº.) is no worse a reading for that.
SYMBOL_COST = 8.0
# The probability of a letter no language of a mix writes.
UNEXPLAINED = 1e-6
# Share of the letters that are not ASCII in a Latin-script word that holds at least one.
LATIN_DENSITY = 0.2
# Characters that join the parts of one word: apostrophes (´ too, as people type it), hyphens, the soft hyphen.
JOINERS = frozenset("’‘´`‐‑–\u00ad")
# Symbols that may end a word (N°, m², 2ª, Acme®) or start one (¿Qué), and those that may touch a word on
# either side (quotes, the ellipsis); all three never stand between two letters.
AFTER_WORD = frozenset("°²³¹ªº®©™")
ORDINALS = frozenset("ªº")
BEFORE_WORD = frozenset("¿¡")
AROUND_WORD = frozenset("«»‹›“”„‚\u00a0…•")
# Every other symbol of the code pages (¦ ¨ ¯ ¸ ¤ ¬ ¶ § ± ¼ ½ ¾ µ € £ № …) is not part of a word: touching a
# letter, it is a letter misread (Pawe³, ªensoy). Box drawing, blocks and mathematical signs (what DOS and
# KOI8 code pages hold there) are no customer's data anywhere.
TEXT_SYMBOLS = frozenset([*map(chr, range(0xA0, 0xC0)), "×", "÷", *map(chr, range(0x2010, 0x2045)), "€", "™", "№",
                          "ˆ", "˜", "΅", "΄"])
# Letters by category that are written as symbols: ordinal indicators (1º, 2ª) and the micro sign.
SYMBOL_LETTERS = frozenset("ªºµ")

# Bytes that are not part of a word (ASCII letters and every byte above 0x7F are) become spaces.
_WORD_BYTES = bytes(b if b >= 0x80 or chr(b).isalpha() else 0x20 for b in range(256))
CHUNK_BYTES = 8 << 20  # the file is split into words a chunk at a time: no list of every word of 2 GiB


def _table(spec: str) -> dict[str, float]:
    """'ä .578 ö .443' → {'ä': 0.578, 'ö': 0.443} (percent of a language's letters)."""
    parts = spec.split()
    return {parts[i]: float(parts[i + 1]) for i in range(0, len(parts), 2)}


_RUSSIAN = ("а 8.01 б 1.59 в 4.54 г 1.70 д 2.98 е 8.45 ё .04 ж .94 з 1.65 и 7.35 й 1.21 к 3.49 л 4.40 м 3.21 "
            "н 6.70 о 10.97 п 2.81 р 4.73 с 5.47 т 6.26 у 2.62 ф .26 х .97 ц .48 ч 1.44 ш .73 щ .36 ъ .04 "
            "ы 1.90 ь 1.74 э .32 ю .64 я 2.01")


def _cyrillic(drop: str, add: str) -> dict[str, float]:
    table = {k: v for k, v in _table(_RUSSIAN).items() if k not in drop}
    return table | _table(add)


# The letters beyond ASCII each language writes, with their frequency (percent of all its letters;
# Wikipedia's letter-frequency tables, rounded, and estimates where it gives none).
LATIN: dict[str, dict[str, float]] = {
    "de": _table("ä .58 ö .44 ü 1.0 ß .31"),
    "fr": _table("é 1.5 è .27 ê .22 à .49 â .05 ç .09 ë .01 î .05 ï .01 ô .02 ù .06 û .06 œ .02 ÿ .001"),
    # Spanish, with the Catalan letters of names and places a Spanish file holds (Pallarès, Lleó, Martí)
    "es": _table("á .50 é .43 í .73 ñ .31 ó .83 ú .17 ü .01 à .05 è .05 ò .03 ï .01 ç .02"),
    "ca": _table("à .8 ç .2 é .6 è .5 í .5 ï .05 ò .4 ó .3 ú .15 ü .05"),
    "pt": _table("á .12 à .07 â .56 ã .73 ç .53 é .34 ê .45 í .13 ó .30 ô .64 õ .04 ú .21 ü .03"),
    "it": _table("à .64 è .26 é .1 ì .03 í .01 ò .1 ó .01 ù .17 ú .01"),
    "nl": _table("é .1 ë .05 ï .02 è .02 ö .01 ü .01 á .01 ó .01"),
    "da": _table("æ .87 ø .94 å 1.19 é .01"),
    "sv": _table("å 1.34 ä 1.80 ö 1.31 é .01"),
    "fi": _table("ä 3.58 ö .44 å .003 š .01 ž .01"),
    "et": _table("ä 1.0 õ 1.0 ö .4 ü 1.0 š .05 ž .05"),
    "is": _table("á 1.80 é .65 í 1.57 ó .99 ú .61 ý .23 þ 1.46 æ .87 ö .78 ð 4.39"),
    "pl": _table("ą .70 ć .74 ę 1.04 ł 2.11 ń .36 ó 1.14 ś .81 ź .08 ż .71"),
    "cs": _table("á .87 č .46 ď .02 é .63 ě 1.22 í 1.64 ň .01 ř .38 š .69 ť .01 ú .05 ů .20 ý 1.0 ž .72"),
    "sk": _table("á 2.0 ä .1 č .9 ď .1 é .7 í 1.4 ĺ .02 ľ .4 ň .1 ó .2 ô .2 ŕ .02 š .8 ť .5 ú .7 ý 1.2 ž .8"),
    "sl": _table("č 1.0 š .8 ž .7 ć .02 đ .01"),
    "hr": _table("č 1.0 ć .8 đ .3 š .9 ž .7"),
    "hu": _table("á 3.4 é 4.0 í .6 ó 1.0 ö 1.0 ő .9 ú .3 ü .6 ű .2"),
    # Romanian: the comma below (ș ț) and the cedilla (ş ţ) that Windows-1250 and ISO-8859-2 write instead
    "ro": _table("ă 2.6 â .6 î 1.1 ș 1.4 ț 1.0 ş 1.4 ţ 1.0"),
    "sq": _table("ç .5 ë 8.0"),
    # Turkish: İ is a letter of its own (its lowercase is ASCII i)
    "tr": _table("ç 1.46 ğ 1.13 ı 5.11 ö .78 ş 1.78 ü 1.85 â .05 î .02 û .02 İ .3"),
}
CYRILLIC: dict[str, dict[str, float]] = {
    "ru": _table(_RUSSIAN),
    "uk": _cyrillic("ёъыэ", "і 5.1 ї .8 є .8 ґ .01"),
    "be": _cyrillic("ищъ", "і 5.0 ў 1.5"),
    "bg": _cyrillic("ёыэ", "ъ 1.9"),
    "sr": _cyrillic("ёйщъыьэюя", "ђ .1 ј 1.2 љ .3 њ .6 ћ .5 џ .05"),
    "mk": _cyrillic("ёйщъыьэюя", "ѓ .1 ѕ .05 ј 1.0 љ .2 њ .3 ќ .1 џ .05"),
}
GREEK: dict[str, dict[str, float]] = {
    "el": _table("α 12.0 β .8 γ 2.0 δ 1.8 ε 8.0 ζ .5 η 4.5 θ 1.3 ι 7.5 κ 4.2 λ 2.7 μ 3.3 ν 6.5 ξ .5 ο 9.0 "
                 "π 4.3 ρ 4.5 σ 4.0 ς 2.5 τ 7.5 υ 4.0 φ .8 χ 1.1 ψ .2 ω 1.8 ά 1.8 έ 1.3 ή .8 ί 1.5 ό 1.5 "
                 "ύ .7 ώ .5 ϊ .05 ϋ .02 ΐ .02 ΰ .01"),
}
ASCII_LETTER = "a"  # the one class all ASCII letters are counted in
SYMBOL = "#"  # ... and all symbols in words


@dataclass(frozen=True)
class Language:
    name: str
    # P(letter class) within a word that holds a letter beyond ASCII
    probability: dict[str, float]


def _languages() -> list[Language]:
    out = []
    for name, table in LATIN.items():
        total = sum(table.values())
        probability = {c: LATIN_DENSITY * f / total for c, f in table.items()} | {ASCII_LETTER: 1 - LATIN_DENSITY}
        out.append(Language(name, probability))
    for name, table in (CYRILLIC | GREEK).items():
        total = sum(table.values())
        out.append(Language(name, {c: f / total for c, f in table.items()}))
    return out


LANGUAGES = _languages()


def fold(letter: str) -> str:
    """A letter's class: its lowercase (İ stays, its lowercase is i with a dot above), ASCII as one."""
    if letter.isascii():
        return ASCII_LETTER
    lower = letter.lower()
    return lower if len(lower) == 1 else letter


def script(letter: str) -> str:
    if letter.isascii():
        return "latin"
    name = unicodedata.name(letter, "")
    return next((s.lower() for s in ("LATIN", "CYRILLIC", "GREEK") if name.startswith(s)), "other")


def is_letter(char: str) -> bool:
    return char.isalpha() and char not in SYMBOL_LETTERS


@dataclass(frozen=True)
class Flaw:
    """What makes a reading implausible: the word as read and why."""

    word: str
    reason: str


@functools.lru_cache(maxsize=65536)
def word_flaw(word: str) -> Flaw | None:
    """Why `word` (one token holding a non-ASCII character, as decoded) cannot be real text, if it cannot."""
    reason = _symbol_flaw(word) or next((r for run in _letter_runs(word) if (r := _letters_flaw(run))), None)
    return None if reason is None else Flaw(word, reason)


def _symbol_flaw(word: str) -> str | None:
    for index, char in enumerate(word):
        if is_letter(char) or char.isascii():
            continue
        if unicodedata.category(char) in ("Cc", "Co", "Cs", "Cn") or \
                (unicodedata.category(char) == "Cf" and char not in JOINERS):
            return "a control character"
        if char not in TEXT_SYMBOLS and char not in JOINERS:
            return f"'{char}', which no text holds"
        before = index > 0 and is_letter(word[index - 1])
        after = index < len(word) - 1 and is_letter(word[index + 1])
        if _misplaced(char, before, after, word[:index + 2]):
            return f"'{char}' " + ("between letters" if before and after else "touching a letter")
    symbols = [c for c in word if not c.isascii()]
    if not _letter_runs(word) and len(symbols) > 1 and not set(symbols) <= AROUND_WORD | JOINERS:
        return "symbols in a row"
    return None


def _letters_flaw(run: str) -> str | None:
    scripts = {script(c) for c in run}
    if len(scripts) > 1 or "other" in scripts:
        return "letters of two scripts in one word" if len(scripts) > 1 else "letters of no European script"
    for first, second in itertools.pairwise(run):
        if first.islower() and second.isupper() and not second.isascii():
            return "a capital letter after a small one"
    if len(run) > 2 and run[0].isupper() and run[1].isupper() and run[2].islower() and not run[:2].isascii():
        return "two capital letters before small ones"
    letters = {fold(c) for c in run} - {ASCII_LETTER}
    if letters and not any(letters <= language.probability.keys() for language in LANGUAGES):
        return "letters no one language writes together"
    if letters and scripts == {"latin"} and not any(_sounded(c) for c in run):
        return "no vowel"
    return None


def _sounded(letter: str) -> bool:
    """A vowel, or an r or l, which Czech and Croatian words have in their stead (Strč prst skrz krk)."""
    return unicodedata.normalize("NFD", letter)[0].lower() in "aeiouyrl" or letter.lower() in "æøœıł"


def _misplaced(char: str, before: bool, after: bool, upto: str) -> bool:
    """Whether a symbol with a letter `before` and/or `after` it cannot be where it is (`upto`: the word up to
    the letter after it)."""
    if char in JOINERS:  # (but an accent typed as an apostrophe starts no word: ´amberk is a misread Žamberk)
        return after and not before and char in "´`\u00ad"
    if upto[-3:].lower() == "l·l":  # (Catalan's l·l)
        return False
    if before and after:
        return True
    if char in AROUND_WORD:
        return False
    if before and char in ORDINALS:  # (an abbreviation: Nº, Dª; Ertaº is a misread ş)
        return len(_letter_runs(upto)[-1]) > 2
    return (before and char not in AFTER_WORD) or (after and char not in BEFORE_WORD)


_RUN = re.compile(r"[^\W\d_ªºµ]+")


def _letter_runs(word: str) -> list[str]:
    return _RUN.findall(word)


def letter_counts(words: Counter[str]) -> Counter[str]:
    """Letter classes of the words, each word as often as the file holds it; a symbol in a word that has
    letters (N°, Acme®, „Name“) counts as `SYMBOL`."""
    counts: Counter[str] = Counter()
    for word, times in words.items():
        runs = _letter_runs(word)
        for run in runs:
            for char in run:
                counts[fold(char)] += times
        if runs:
            counts[SYMBOL] += times * sum(1 for c in word if not c.isascii() and not is_letter(c))
    return counts


def log_likelihood(counts: Counter[str]) -> float:
    """How likely the letters are under the mix of languages that explains them best, less `LANGUAGE_COST` for
    each language in the mix (languages are added one at a time while that pays, each mix's weights fitted
    by expectation-maximisation) and `SYMBOL_COST` for each symbol in a word."""
    symbols = counts.pop(SYMBOL, 0)
    return _letters_likelihood(counts) - SYMBOL_COST * symbols


def _letters_likelihood(counts: Counter[str]) -> float:
    letters = {c for c in counts if c != ASCII_LETTER}
    candidates = [lang for lang in LANGUAGES if letters & lang.probability.keys()]
    chosen: list[Language] = []
    best = -math.inf
    while candidates:
        score, language = max(((_fit(counts, [*chosen, lang]), lang) for lang in candidates), key=lambda s: s[0])
        if score <= best:
            break
        best = score
        chosen.append(language)
        candidates.remove(language)
    return best if chosen else 0.0


def _fit(counts: Counter[str], mix: list[Language], rounds: int = 8) -> float:
    weights = [1 / len(mix)] * len(mix)
    for _ in range(rounds if len(mix) > 1 else 0):
        share = [0.0] * len(mix)
        for letter, n in counts.items():
            parts = [w * lang.probability.get(letter, 0.0) for w, lang in zip(weights, mix, strict=True)]
            total = sum(parts)
            if total > 0:
                share = [s + n * part / total for s, part in zip(share, parts, strict=True)]
        whole = sum(share) or 1.0
        weights = [s / whole for s in share]
    fit = sum(n * math.log(max(sum(w * lang.probability.get(letter, 0.0) for w, lang in zip(weights, mix, strict=True)),
                               UNEXPLAINED))
              for letter, n in counts.items())
    return fit - LANGUAGE_COST * len(mix)


@dataclass
class Reading:
    """The file's non-ASCII words as one code page reads them."""

    encoding: str
    words: dict[bytes, str]
    flaw: Flaw | None = None
    score: float = -math.inf


class EncodingUnknown(Exception):
    """No code page reads the file plausibly, or more than one does: `detail` says what was seen in `word`
    (its bytes, whose row the caller finds), `suggestion` names the likeliest code page if there is one."""

    def __init__(self, detail: str, word: bytes, suggestion: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.word, self.suggestion = detail, word, suggestion


def title(encoding: str) -> str:
    """'cp1250' → 'Windows-1250'."""
    try:
        return TITLES.get(codecs.lookup(encoding).name, encoding)
    except LookupError:
        return encoding


def high_words(raw: bytes) -> Counter[bytes]:
    """Every word of the file holding a byte above 0x7F, with how often it occurs."""
    found: Counter[bytes] = Counter()
    start = 0
    while start < len(raw):
        end = raw.find(b"\n", start + CHUNK_BYTES) + 1 or len(raw)
        found.update(w for w in raw[start:end].translate(_WORD_BYTES).split() if not w.isascii())
        start = end
    return found


def readings(words: Counter[bytes]) -> list[Reading]:
    """The file's words read in every code page that decodes each of its bytes, flaws and scores found."""
    distinct = bytes(sorted({b for b in b"".join(words) if b >= 0x80}))  # (every such byte is in a word)
    out = []
    for encoding in CODE_PAGES:
        try:
            distinct.decode(encoding)
        except UnicodeDecodeError:
            continue  # a byte this code page does not define: it would need a replacement character
        reading = Reading(encoding, {})
        for word in words:  # (to the first flaw: a misreading's words are not all decoded)
            reading.words[word] = text = word.decode(encoding)
            if (flaw := word_flaw(text)) is not None:
                reading.flaw = flaw
                break
        else:
            decoded = reading.words
            reading.score = log_likelihood(letter_counts(Counter({decoded[w]: n for w, n in words.items()})))
        out.append(reading)
    return out


def _differing(one: Reading, other: Reading, words: Counter[bytes]) -> int:
    """How many of the file's words the two readings read differently."""
    return sum(n for w, n in words.items() if one.words[w] != other.words[w])


def choose(raw: bytes) -> str:
    """The code page `raw` (not UTF-8) was written in; raises EncodingUnknown saying why it cannot be told."""
    words = high_words(raw)
    found = readings(words)
    plausible = [r for r in found if r.flaw is None]
    if not plausible:
        # (what the first code page that defines every byte makes of it: Windows-1252's, as a rule)
        shown = next((r for r in found if r.flaw is not None), None)
        if shown is None or shown.flaw is None:
            raise EncodingUnknown("bytes no European code page defines", next(iter(words), b""))
        word = next(w for w, text in shown.words.items() if text == shown.flaw.word)
        raise EncodingUnknown(f"as {title(shown.encoding)} it would read '{shown.flaw.word}': {shown.flaw.reason}", word)
    best = max(plausible, key=lambda r: r.score)
    rivals = [r for r in plausible if r.words != best.words and
              best.score - r.score < max(MARGIN, WORD_MARGIN * _differing(best, r, words))]
    if rivals:
        rival = max(rivals, key=lambda r: r.score)
        word = next(w for w in best.words if best.words[w] != rival.words[w])
        raise EncodingUnknown(f"it reads as {title(best.encoding)} '{best.words[word]}' as well as "
                              f"{title(rival.encoding)} '{rival.words[word]}'", word, best.encoding)
    # The first candidate that reads the same text names it (Windows-1252 rather than ISO-8859-15).
    return next(r.encoding for r in found if r.words == best.words)

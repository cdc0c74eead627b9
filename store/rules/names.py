"""A full name as the first and last name a customer record keeps.

nameparser reads the name, its vocabulary widened with the salutations and
particles of custdesk's countries; this module only decides what the record
keeps of its reading (the record has first_name and last_name, no title field):

- first name: the given name and any middle names ("Mehmet Ali Öztürk" →
  "Mehmet Ali"); a single word is a first name;
- last name: the family name with its particles ("van der Berg", "de la Cruz",
  "von und zu Guttenberg", "d'Artagnan") and a generational suffix ("King Jr.",
  "Smith III"): it tells father and son apart;
- left out: titles and salutations (Dr., Prof., Herr, Mme, Sra., Bay, Dhr.),
  credentials (PhD, MBA), a nickname in brackets, a maiden name after "geb."/"née".
  A name that is nothing else ("Dr."), and text that is no name ("=SUM(A1)",
  "info@example.com"), is kept whole as the first name rather than lost.

"Müller, Hans" and "MÜLLER, Hans Peter" name the family first (the comma says
so), as does "DUPONT Jean": a leading word written in capitals before words
that are not is the family name (the administrative habit of French, Belgian
and Italian lists). Every part is the input's own text, letters and case as
written ("McDONALD" stays); only runs of spaces become one.

Spanish and Portuguese double surnames: without a comma the last word is the
family name ("María José García López" → "María José García", "López"), as
for "Juan Carlos Pérez", "Mehmet Ali Öztürk" or "Anna Maria Schmidt" in the
same files; reading two family names would cost all of those their surname.
Written "García López, María José", hyphenated, or in separate Nombre and
Apellidos columns, both surnames are the last name.

`split_full_names` is the same rule over a column for bulk imports, each
distinct name split once. Either way the parser reads each distinct shape once:
a capitalised Latin word no vocabulary holds stands for any other ("Ayşe
Yılmaz", "Hans Müller" and "Dr. Anna van Dijk"'s plain words are read alike),
which is what keeps 100,000 rows to seconds (bench/names_bench.py).
"""
from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import polars as pl
from nameparser import FAMILY_FIRST, Lexicon, Parser, Policy, Role

# Salutations and academic titles the shipped vocabulary lacks (it has Herr, Frau,
# Mme, Sr., Sra., Dhr., Mevr., Prof., Dr. …): French M. (Monsieur), Turkish Bay,
# Bayan, Sayın, Dutch mw./mej., Spanish Doña, and the faculty after a German Dr.
# written without its period ("Dr med Anna Weber").
_TITLES = ("m", "bay", "bayan", "sayın", "mw", "mej", "doña", "dña", "frl", "pr",
           "med", "dent", "rer", "nat", "phil", "jur", "habil")
# Dutch and German particles the shipped vocabulary lacks ("Jan ten Brink", "Otto zur Linde").
_PARTICLES = ("ten", "zur", "zum")
# Turkish honorifics written after the given name ("Ayşe Hanım", "Ahmet Bey").
_HONORIFICS = ("hanım", "hanim", "bey", "beyefendi")
_LEXICON = Lexicon.default().add(titles=_TITLES, particles=_PARTICLES, suffix_words=_HONORIFICS)
_GIVEN_FIRST = Parser(_LEXICON)
_FAMILY_FIRST = Parser(_LEXICON, Policy(name_order=FAMILY_FIRST))

# Suffixes that are part of who someone is, kept with the last name; any other
# suffix (PhD, MBA, Esq., Hanım) is a credential or an honorific, left out.
_GENERATIONAL = frozenset({"jr", "jnr", "junior", "júnior", "sr", "snr", "senior", "sen", "jun"})
_ROMAN = re.compile(r"[ivx]{1,5}")
# Words the parser may read as a numeral however they are written ("Vi", "Mix"): never a placeholder.
_ROMAN_LETTERS = re.compile(r"[ivxlcdm]+")
# Every word the parser could read as more than a name (a title, particle, suffix,
# conjunction, maiden marker …): never a placeholder.
_VOCABULARY = frozenset(word for field in ("titles", "given_name_titles", "suffix_acronyms", "suffix_words",
                                           "suffix_acronyms_ambiguous", "particles", "particles_ambiguous",
                                           "conjunctions", "conjunctions_ambiguous", "bound_given_names",
                                           "maiden_markers", "surnames", "honorific_tails", "after_given_titles")
                        for entry in getattr(_LEXICON, field) for word in entry.split())
_PLACEHOLDER = "Qqq"  # a plain word no vocabulary holds, standing for any other
# A vowel, so that initials written in capitals ("JK Rowling") are no family name.
_VOWELS = frozenset("AEIOUY")
# What names are written with: letters, their marks, and the punctuation of initials,
# particles, double names, nicknames and "Last, First". Anything else (digits, @, =,
# a formula, an emoji) is no name a parser knows: it is kept whole as the first name.
_NAME_PUNCTUATION = frozenset(".,'’‘`´()\"“”„&-‐–")
# The quick look for anything else (a mark or a letter \w does not take is then judged one by one).
_ODD = re.compile(r"[^\w\s.,'’‘`´()\"“”„&\-‐–]|[\d_]")
# Legal forms that name no person ("Müller GmbH", "Acme Ltd.", "Doğan Ltd. Şti.").
_LEGAL_FORMS = frozenset({
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "gbr", "ug", "e.v", "e.k", "ltd", "limited", "plc", "llc", "llp",
    "inc", "incorporated", "corp", "corporation", "bv", "b.v", "nv", "n.v", "vof", "sarl", "s.a.r.l", "sas",
    "s.a", "s.l", "s.p.a", "spa", "srl", "s.r.l", "şti", "sti", "a.ş", "aş", "oy", "oyj", "aps", "s.r.o", "kft",
})


def looks_like_company(text: str) -> bool:
    """Whether `text` carries a legal form (GmbH, Ltd, B.V., S.A., Şti. …): a company's name, not a person's."""
    return any(word.strip(".,()&").lower() in _LEGAL_FORMS for word in text.split())


def split_full_name(full: str | None, *, companies: bool = False) -> tuple[str | None, str | None]:
    """(first name, last name) of a full name: a non-blank one has at least one of them.
    (None, None) for a blank one, and with `companies` for one that `looks_like_company`
    (the caller keeps it as the company's name)."""
    text = (full or "").strip()
    if not text or (companies and looks_like_company(text)):
        return None, None
    return _split(text)


def _split(text: str) -> tuple[str | None, str | None]:
    words = text.split()
    if _ODD.search(text) and not all(c.isalpha() or c.isspace() or c in _NAME_PUNCTUATION
                                     or unicodedata.category(c).startswith("M") for c in text):
        return " ".join(words), None
    tokens = _by_shape(words) or [(role, text[a:b]) for role, a, b in _parse(text)]
    first = _joined(w for role, w in tokens if role in (Role.GIVEN, Role.MIDDLE))
    last = _joined(w for role, w in tokens if role == Role.FAMILY or (role == Role.SUFFIX and _generational(w)))
    if first is None and last is None:
        return " ".join(words), None
    return first, last


def _by_shape(words: list[str]) -> list[tuple[Role, str]] | None:
    """The parser's tokens (role, text as written) of a name, read off the parse of its
    shape: each `_plain` word a placeholder. Names of one shape ("Qqq Qqq", "Dr. Qqq van
    Qqq") are parsed, and their tokens laid out, once. None where a token is not a whole
    placeholder or none of it."""
    layout = _layout(tuple(None if _plain(w) else w for w in words))
    if layout is None:
        return None
    return [(role, words[at] if part is None else words[at][part[0]:part[1]]) for role, at, part in layout]


@lru_cache(maxsize=65536)
def _layout(shape: tuple[str | None, ...]) -> tuple[tuple[Role, int, tuple[int, int] | None], ...] | None:
    """(role, word position, span within the word: None for the whole of a plain word) of each
    token of a name's shape (None: a plain word)."""
    words = [_PLACEHOLDER if w is None else w for w in shape]
    starts = list(itertools.accumulate((len(w) + 1 for w in words[:-1]), initial=0))
    tokens: list[tuple[Role, int, tuple[int, int] | None]] = []
    for role, start, end in _parse(" ".join(words)):
        at = bisect.bisect_right(starts, start) - 1
        if shape[at] is None:
            if (start, end) != (starts[at], starts[at] + len(_PLACEHOLDER)):
                return None
            tokens.append((role, at, None))
        else:
            tokens.append((role, at, (start - starts[at], end - starts[at])))
    return tuple(tokens)


@lru_cache(maxsize=1 << 17)
def _plain(word: str) -> bool:
    """A capitalised Latin word no vocabulary holds ("Ayşe", "Müller-Lüdenscheidt"): the
    parser reads every such word alike."""
    return (word.istitle() and max(word) < "\u0250" and word.replace("-", "").isalpha()
            and not any(len(part) < 2 or part.lower() in _VOCABULARY or _ROMAN_LETTERS.fullmatch(part.lower())
                        for part in word.split("-")))


@lru_cache(maxsize=65536)
def _parse(text: str) -> tuple[tuple[Role, int, int], ...]:
    """(role, start, end) of each token nameparser reads in `text`."""
    parsed = (_FAMILY_FIRST if _family_written_first(text) else _GIVEN_FIRST).parse(text)
    return tuple((t.role, t.span.start, t.span.end) for t in parsed.tokens if t.span is not None)


def _family_written_first(text: str) -> bool:
    """"DUPONT Jean", "DE LA CRUZ María José": leading words in capitals (one of three
    letters or more, with a vowel), then words that are not, and no comma."""
    words = text.split()
    caps = next((i for i, word in enumerate(words) if not word.isupper()), len(words))
    return (0 < caps < len(words) and "," not in text and not any(w.isupper() for w in words[caps:])
            and any(len(w) >= 3 and _VOWELS & {unicodedata.normalize("NFD", c)[0] for c in w} for w in words[:caps]))


def _joined(words: Iterable[str]) -> str | None:
    return " ".join(words) or None


def _generational(word: str) -> bool:
    plain = word.strip(".,").lower()
    return plain in _GENERATIONAL or bool(_ROMAN.fullmatch(plain))


# -- a column at a time ------------------------------------------------------------
def _split_plain(words: list[str], companies: bool) -> tuple[str | None, str | None] | None:
    """`split_full_name` of a name of `_plain` words only (most names), read off its shape's
    tokens without a look at its characters (a plain word holds none a name may not); None
    for any other name."""
    if not words or not all(map(_plain_person if companies else _plain, words)):
        return None
    roles = _plain_roles(len(words))
    if roles is None:
        return None
    given, family = roles
    return " ".join([words[at] for at in given]) or None, " ".join([words[at] for at in family]) or None


@lru_cache(maxsize=1 << 17)
def _plain_person(word: str) -> bool:
    """A `_plain` word that is no legal form (`looks_like_company`)."""
    return _plain(word) and word.lower() not in _LEGAL_FORMS


@lru_cache(maxsize=64)
def _plain_roles(count: int) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The positions of the first name's and the last name's words in a name of `count` plain
    words; None where a suffix is read (judged by its text) or nothing is."""
    layout = _layout((None,) * count)
    if not layout or any(role == Role.SUFFIX for role, _, _ in layout):
        return None
    given = tuple(at for role, at, _ in layout if role in (Role.GIVEN, Role.MIDDLE))
    family = tuple(at for role, at, _ in layout if role == Role.FAMILY)
    return (given, family) if given or family else None


def split_full_names(names: pl.Series, *, companies: bool = False) -> pl.DataFrame:
    """`split_full_name` over a column: a frame of `first_name` and `last_name`, row for row
    (both null for a blank name, and with `companies` for a company's). Each distinct name is
    split once; a name of two plain words (most) column-wise, its words judged once each."""
    text = names.cast(pl.String)
    distinct = text.drop_nulls().unique()
    two = _two_plain_words(distinct, companies)
    rest = distinct.filter(~distinct.is_in(two["name"].implode()))
    split = {name: _split_plain(name.split(), companies) or split_full_name(name, companies=companies)
             for name in rest.to_list()}
    found = pl.concat([two, pl.DataFrame({"name": list(split), "first_name": [p[0] for p in split.values()],
                                          "last_name": [p[1] for p in split.values()]},
                                         schema={"name": pl.String, "first_name": pl.String, "last_name": pl.String})])
    return text.rename("name").to_frame().join(found, on="name", how="left", maintain_order="left").drop("name")


# Two words of letters (and hyphens) and one space: what `_two_plain_words` looks at (each word
# is then judged by `_plain` itself).
_TWO_WORDS = r"^([\p{L}\p{M}-]+) ([\p{L}\p{M}-]+)$"


def _two_plain_words(distinct: pl.Series, companies: bool) -> pl.DataFrame:
    """(name, first_name, last_name) of the names that are two `_plain` words (`_split_plain`'s
    reading of them: its shape's token positions), column-wise."""
    roles = _plain_roles(2)
    empty = pl.DataFrame(schema={"name": pl.String, "first_name": pl.String, "last_name": pl.String})
    if roles != ((0,), (1,)):
        return empty
    words = distinct.rename("name").to_frame().with_columns(
        pl.col("name").str.extract_groups(_TWO_WORDS).struct.rename_fields(["a", "b"]).alias("w")).unnest("w")
    words = words.drop_nulls(["a", "b"])
    if not words.height:
        return empty
    each = pl.concat([words["a"], words["b"]]).unique()
    plain = pl.Series([(_plain_person if companies else _plain)(w) for w in each.to_list()], dtype=pl.Boolean)
    judged = words.with_columns(pl.col("a").replace_strict(each, plain).alias("pa"),
                                pl.col("b").replace_strict(each, plain).alias("pb"))
    return judged.filter(pl.col("pa") & pl.col("pb")).select("name", first_name="a", last_name="b")

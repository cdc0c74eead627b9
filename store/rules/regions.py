"""Countries as files write them, to the ISO 3166 alpha-2 region a phone is read in.

A Country column holds `DE`, `DEU`, `Germany`, `Deutschland`, `Almanya` or
`Allemagne` alike; each names the same region. Names come from pycountry's
ISO 3166 data and its translations, so no list of ours goes stale.
"""
from __future__ import annotations

import gettext
import os
import unicodedata
from functools import lru_cache

import pycountry

# The languages of the files we meet (SPEC: Germany, Turkey, France, the
# Netherlands, Spain, Italy) besides English.
NAME_LANGUAGES = ("de", "tr", "fr", "nl", "es", "it")

# Names people write that ISO's own names and translations do not hold.
_COLLOQUIAL = {
    "uk": "GB", "england": "GB", "great britain": "GB", "britain": "GB", "scotland": "GB", "wales": "GB",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "america": "US", "united states of america": "US",
    "holland": "NL", "turkey": "TR", "russia": "RU",
    "south korea": "KR", "north korea": "KP", "iran": "IR", "syria": "SY", "vietnam": "VN", "laos": "LA",
    "czech republic": "CZ", "ivory coast": "CI", "vatican": "VA", "moldova": "MD", "tanzania": "TZ",
    "bolivia": "BO", "venezuela": "VE", "taiwan": "TW", "macedonia": "MK", "kosovo": "XK",
    "brd": "DE",
}


def fold(text: str) -> str:
    """Case and accents dropped, spaces squeezed: `  Türkiye ` and `TURKIYE` fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("-", " ").split())


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every folded name and code → alpha-2."""
    names: dict[str, str] = {}
    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                    for lang in NAME_LANGUAGES]
    for country in pycountry.countries:
        code = country.alpha_2
        english = [getattr(country, attr, None) for attr in ("name", "common_name", "official_name")]
        for name in filter(None, english):
            names.setdefault(fold(name), code)
            for translation in translations:
                names.setdefault(fold(translation.gettext(name)), code)
        names[fold(country.alpha_3)] = code
    names.update((fold(k), v) for k, v in _COLLOQUIAL.items())
    names.update((code.lower(), code) for code in ISO_REGIONS)
    return names


ISO_REGIONS = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


def is_region(code: object) -> bool:
    """Whether `code` is an ISO 3166 alpha-2 code (upper case)."""
    return isinstance(code, str) and code in ISO_REGIONS


_TLD_REGION = {"uk": "GB"}  # the one country-code domain that is not its ISO code


def email_region(email: str) -> str | None:
    """The region an email address's country-code domain names (`.de`, `.uk`), or None (`.com`)."""
    tld = email.rsplit(".", 1)[-1].casefold() if "@" in email else ""
    region = _TLD_REGION.get(tld, tld.upper())
    return region if len(tld) == 2 and is_region(region) else None


@lru_cache(maxsize=4096)
def region_of(country: str | None) -> str | None:
    """The alpha-2 region a Country cell names, or None when it names none we know."""
    if not country:
        return None
    code = country.strip().upper()
    if len(code) == 2 and code in ISO_REGIONS:  # (the codes win over any name: no need to build the names)
        return code
    return _names().get(fold(country))


def locale_region(environ: dict[str, str] | None = None) -> str | None:
    """The territory of the user's locale (`de_DE.UTF-8` → DE), or None (C, POSIX, unset).

    LC_ALL overrides everything; LC_TELEPHONE is the category that speaks of
    phone numbers; LANG is the fallback, as in POSIX.
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_TELEPHONE", "LANG"):
        value = env.get(name)
        if not value:
            continue
        territory = value.split(".")[0].split("@")[0].partition("_")[2].upper()
        return territory if is_region(territory) else None
    return None

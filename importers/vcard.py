"""vCard files (.vcf) to the table every other file becomes: one row a card.

Address books (khard, Nextcloud, Apple, Android, old phones) write vCard 2.1,
3.0 or 4.0, several cards a file, long lines folded, and in 2.1 values in
quoted-printable with a CHARSET of their own. Each card becomes a row of the
columns the mapping knows (first_name, email, mobile, city …), so a .vcf goes
through the same review, plan and checks as a CSV; what custdesk keeps no field
for (a title, a birthday, an X- property) stays in the prospect's raw row.

The lines are split here, not by vobject: its content-line regex backtracks
exponentially (`A;B=;B=;…;B="` of 50 bytes does not finish) and its unfolding
copies the whole line at every folded piece (a 4 MB photo: 4 s, growing with
the square), so a hostile file could stall an import. Both are linear here; a
damaged card is refused naming the file, the card and its line.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from store.base.errors import UnreadableInput

from .limits import MAX_CELL_CHARS, LimitExceeded, check_shape
from .reading import SheetData, unique_names

VERSIONS = ("2.1", "3.0", "4.0")
# The columns a card fills, in the order the review shows them (those no card fills are left out).
# Each maps to its field by the usual synonyms; the others are kept in the raw row only.
COLUMNS = ("first_name", "last_name", "full_name", "name prefix", "name suffix", "company", "department", "email",
           "other emails", "phone", "mobile", "other phones", "street", "street2", "PO box", "postcode", "city", "region",
           "country", "other addresses", "tags", "notes", "external_id")
# Properties of no use to a customer record: the card's own bookkeeping and pictures, sounds, keys.
IGNORED = frozenset({"VERSION", "PRODID", "REV", "PHOTO", "LOGO", "SOUND", "KEY", "KIND", "X-ABSHOWAS"})
# Any other property is kept under this prefix: "vCard TITLE", "vCard X-SKYPE".
OTHER = "vCard "
# A phone of these types is no number to call a person on: it goes with the other phones.
_NOT_VOICE = frozenset({"fax", "pager", "modem", "bbs", "car", "isdn", "video", "textphone"})
_MOBILE = frozenset({"cell", "mobile", "iphone"})
# A 2.1 parameter written without its name ("TEL;CELL;QUOTED-PRINTABLE:").
_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_NAME = re.compile(r"(?:([A-Za-z0-9_-]+)\.)?([A-Za-z0-9_-]+)")
# The head of a content line, up to the first ':' outside double quotes; possessive, so a
# line with no such ':' is given up in one pass.
_HEAD = re.compile(r'(?:[^":]++|"[^"]*+")*+:')
_PARAM = re.compile(r';([^;=]*+)(?:=((?:[^;"]++|"[^"]*+")*+))?')
_PARAM_VALUE = re.compile(r'"([^"]*+)"|([^,]++)')
# RFC 6350 §3.4 (and 2426 §5): \n \N \, \; \\ ; vCard 2.1 escapes only ; (and \ itself).
_ESCAPE = re.compile(r"\\([nN,;\\])")
_ESCAPE_21 = re.compile(r"\\([;\\,])")
_TEL_URI = re.compile(r"(?i)^tel:([^;]*)(?:;ext=([^;]*))?")


class DamagedCard(Exception):
    """What is wrong with a card, and the line where it shows."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


@dataclass
class Property:
    name: str  # upper-case
    params: dict[str, list[str]]  # upper-case keys; TYPE values lower-case
    value: str  # as written: still encoded and escaped
    line: int

    def types(self) -> set[str]:
        return set(self.params.get("TYPE", ()))

    def rank(self) -> int:
        """How preferred (1 most, 101 not at all): 4.0's PREF=n, or 2.1/3.0's TYPE=pref."""
        prefs = [int(p) for p in self.params.get("PREF", ()) if p.isdigit()]
        return min(prefs) if prefs else 1 if "pref" in self.types() else 101


@dataclass
class Card:
    number: int  # 1-based, in the file
    line: int  # of its BEGIN:VCARD
    version: str = "3.0"
    properties: list[Property] = field(default_factory=list)


def read_vcards(path: Path, raw: bytes) -> SheetData:
    """A .vcf as a table: a row per card (`_index` + 1 the line of its BEGIN:VCARD); raises
    UnreadableInput naming the file, and for a damaged card the card and its line."""
    if not raw.strip():
        raise UnreadableInput(f"{path}: the file is empty")
    text, encoding = _decode_file(path, raw)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    cards = 0
    for card in _cards(path, text):
        cards += 1
        try:
            row = _row(card)
        except DamagedCard as err:
            raise _damaged(path, card, err.reason, err.line or card.line) from None
        too_long = next((c for c, v in row.items() if len(v) > MAX_CELL_CHARS), None)
        if too_long is not None:
            raise UnreadableInput(f"{path}: card {card.number} (line {card.line}): a value over {MAX_CELL_CHARS:,} "
                                  f"characters ({too_long}); not a customer file")
        if any(v.strip() for v in row.values()):  # a card of nothing custdesk reads (a photo alone) is a blank row
            rows.append(row)
            lines.append(card.line)
    if not cards:
        raise UnreadableInput(f"{path}: no vCard in the file (no BEGIN:VCARD line)")
    if not rows:
        raise UnreadableInput(f"{path}: its {cards:,} card{'s' if cards > 1 else ''} hold no name, address, email or phone")
    own = [c for c in COLUMNS if any(r.get(c) for r in rows)]
    others = list(dict.fromkeys(c for r in rows for c in r if c.startswith(OTHER) and r[c]))
    try:
        check_shape(len(own) + len(others), len(rows))
    except LimitExceeded as err:
        raise UnreadableInput(f"{path}: {err}") from None
    columns = unique_names(own + others)
    frame = pl.DataFrame({name: [r.get(c, "") for r in rows] for name, c in zip(columns, own + others, strict=True)},
                         schema=dict.fromkeys(columns, pl.String))
    frame = frame.with_columns(pl.Series("_index", [line - 1 for line in lines], dtype=pl.Int64)).select("_index", *columns)
    # No header row: a row's number in messages (_index + header_row + 1) is its card's first line.
    return SheetData(path, columns, frame, header_row=0, encoding=encoding)


# -- the file: text, logical lines, cards ---------------------------------------------
def _decode_file(path: Path, raw: bytes) -> tuple[str, str]:
    """The file's text; a byte that is not UTF-8 is kept (as a lone surrogate) until the
    property holding it is decoded by its own CHARSET."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", "surrogateescape"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UnreadableInput(f"{path}: not a readable UTF-16 file, as its byte order mark says") from None
    if b"\x00" in raw[:4096]:
        raise UnreadableInput(f"{path}: binary data, not a vCard file")
    return raw.decode("utf-8", "surrogateescape"), "utf-8"


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line, content line) with folding undone (RFC 6350 §3.2: a line starting with a
    space or tab continues the one before) and a 2.1 quoted-printable soft break (a line
    ending in '=') joined with its '=\\n' kept for the decoder. A blank line ends a line (2.1's
    BASE64 data ends so)."""
    pieces: list[str] = []
    start, quoted_printable = 0, False
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if pieces and quoted_printable and pieces[-1].endswith("="):
            pieces.append("\n" + line)
        elif pieces and line[:1] in (" ", "\t"):
            pieces.append(line[1:])
        else:
            if pieces:
                yield start, "".join(pieces)
            pieces, start = ([line], number) if line.strip() else ([], number)
            quoted_printable = "QUOTED-PRINTABLE" in line.split(":", 1)[0].upper()
    if pieces:
        yield start, "".join(pieces)


def parse_line(line: str, number: int) -> Property:
    """A content line `[group.]NAME[;PARAM[=VALUE[,VALUE]]]*:VALUE` split into its parts."""
    head = _HEAD.match(line)
    named = _NAME.match(line)
    if head is None or named is None or named.end() > head.end() - 1 or line[named.end()] not in ";:":
        raise DamagedCard(f"line {number} is not a vCard property (NAME;PARAMETERS:VALUE)", number)
    params: dict[str, list[str]] = {}
    params_text = line[named.end():head.end() - 1]
    for found in _PARAM.finditer(params_text):
        key, values = found.group(1).strip().upper(), found.group(2)
        if values is None:  # 2.1: "TEL;CELL", "NOTE;QUOTED-PRINTABLE"
            key, values = ("ENCODING" if key in _ENCODINGS else "TYPE"), key
        parts = [quoted or plain for quoted, plain in _PARAM_VALUE.findall(values)]
        if key == "TYPE":  # 4.0 writes TYPE="work,voice" quoted, as one value
            parts = [t.strip().lower() for p in parts for t in p.split(",") if t.strip()]
        params.setdefault(key, []).extend(parts)
    return Property(named.group(2).upper().replace("_", "-"), params, line[head.end():], number)


def _cards(path: Path, text: str) -> Iterator[Card]:
    """The file's cards, each with its properties (an AGENT's card inside one is skipped)."""
    card: Card | None = None
    depth = number = 0
    for line_number, line in logical_lines(text):
        prop = _property(path, card, line, line_number)
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            depth += 1
            if depth == 1:
                number += 1
                card = Card(number, line_number)
        elif prop.name == "END" and prop.value.strip().upper() == "VCARD":
            if card is None:
                raise UnreadableInput(f"{path}: line {line_number}: END:VCARD with no BEGIN:VCARD before it")
            depth -= 1
            if depth == 0:
                yield card
                card = None
        elif card is None:
            raise UnreadableInput(f"{path}: line {line_number} is outside any card (BEGIN:VCARD … END:VCARD)")
        elif depth == 1:
            if prop.name == "VERSION":
                card.version = prop.value.strip()
                if card.version not in VERSIONS:
                    raise _damaged(path, card, "its VERSION is none of 2.1, 3.0 and 4.0", line_number)
            card.properties.append(prop)
    if card is not None:
        raise _damaged(path, card, "it has no END:VCARD (the file ends inside it)", card.line)


def _property(path: Path, card: Card | None, line: str, number: int) -> Property:
    try:
        return parse_line(line, number)
    except DamagedCard as err:
        if card is None:
            raise UnreadableInput(f"{path}: line {number} is outside any card and no vCard property") from None
        raise _damaged(path, card, err.reason, number) from None


def _damaged(path: Path, card: Card, reason: str, line: int) -> UnreadableInput:
    return UnreadableInput(f"{path}: card {card.number} (line {line}) is damaged: {reason}")


# -- a property's value ------------------------------------------------------------------
def decoded(prop: Property) -> str:
    """The value as text: quoted-printable or BASE64 undone, bytes read as UTF-8 or else as
    the property's CHARSET (old phones: ISO-8859-1, Windows-1252, Shift_JIS); line breaks \\n."""
    encoding = {e.upper() for e in prop.params.get("ENCODING", ())}
    value = prop.value
    if not encoding & {"QUOTED-PRINTABLE", "BASE64", "B"} and value.isascii():
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        if "QUOTED-PRINTABLE" in encoding:
            data = codecs.decode(data, "quopri")
        elif encoding & {"BASE64", "B"}:
            data = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DamagedCard(f"{prop.name}'s {'/'.join(sorted(encoding))} data is damaged", prop.line) from None
    return _text(prop, data).replace("\r\n", "\n").replace("\r", "\n")


def _text(prop: Property, data: bytes) -> str:
    # UTF-8 first: bytes that read as UTF-8 are that (another code page's letters almost
    # never form it), whatever a CHARSET claims; else the CHARSET, or a refusal.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charsets = prop.params.get("CHARSET")
    if not charsets:
        raise DamagedCard(f"{prop.name} is not UTF-8 and names no CHARSET; save the file as UTF-8", prop.line)
    try:
        return data.decode(charsets[0].strip())
    except LookupError:
        raise DamagedCard(f"{prop.name} names a CHARSET no decoder knows", prop.line) from None
    except UnicodeDecodeError:
        raise DamagedCard(f"{prop.name} is not text in the CHARSET it names", prop.line) from None


def unescape(text: str, version: str) -> str:
    pattern = _ESCAPE_21 if version == "2.1" else _ESCAPE
    return pattern.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def split_unescaped(text: str, separator: str) -> list[str]:
    """`text` split at each `separator` no backslash escapes (the escapes still in)."""
    parts, start, i = [], 0, 0
    while (i := text.find(separator, i)) >= 0:
        escaped = i
        while escaped > start and text[escaped - 1] == "\\":  # the backslashes right before it
            escaped -= 1
        if (i - escaped) % 2 == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    return [*parts, text[start:]]


def components(prop: Property, version: str, count: int, *, lists: str = ",") -> list[str]:
    """A structured value (N, ADR, ORG) as `count` components (at least), each unescaped; a
    component's own list (4.0: "Philip,Paul") joined by `lists`."""
    parts = split_unescaped(decoded(prop), ";")
    parts += [""] * (count - len(parts))
    return [lists.join(unescape(p, version) for p in split_unescaped(part, ",") if p) for part in parts]


def _phone(prop: Property, version: str) -> str:
    """A TEL's number; 4.0's `tel:` URI as the number (and its extension) people write."""
    text = unescape(decoded(prop), version).strip()
    uri = _TEL_URI.match(text)
    if uri is None:
        return text
    number, extension = uri.groups()
    return number + (f" ext. {extension}" if extension else "")


# -- a card to a row ---------------------------------------------------------------------
def _row(card: Card) -> dict[str, str]:
    by_name: dict[str, list[Property]] = {}
    for prop in card.properties:
        by_name.setdefault(prop.name, []).append(prop)
    version = card.version
    row: dict[str, str] = {}

    def text(prop: Property) -> str:
        return unescape(decoded(prop), version)

    def best(props: list[Property]) -> list[Property]:
        return sorted(props, key=Property.rank)

    name = by_name.get("N")
    if name:
        family, given, additional, prefix, suffix = components(name[0], version, 5, lists=" ")[:5]
        row.update({"first_name": " ".join(p for p in (given, additional) if p), "last_name": family,
                    "name prefix": prefix, "name suffix": suffix})
    org = by_name.get("ORG")
    if org:
        company, *units = components(org[0], version, 1)
        row.update({"company": company, "department": ", ".join(u for u in units if u)})
    full = text(by_name["FN"][0]).strip() if by_name.get("FN") else ""
    is_org = any(text(p).strip().lower() in ("org", "company") for p in by_name.get("KIND", []) + by_name.get("X-ABSHOWAS", []))
    if is_org and not row.get("company"):
        row["company"] = full
    # A card naming no person by N (a company's card writes its name in FN too): FN is split
    # by the importer's name rule, unless it is the company's name.
    if full and not (row.get("first_name") or row.get("last_name")) and not is_org and full != row.get("company"):
        row["full_name"] = full
    emails = [text(p).strip() for p in best(by_name.get("EMAIL", []))]
    row.update({"email": emails[0] if emails else "", "other emails": ", ".join(e for e in emails[1:] if e)})
    _phones(row, best(by_name.get("TEL", [])), version)
    addresses = best(by_name.get("ADR", []))
    if addresses:
        box, extended, street, city, region, code, country = components(addresses[0], version, 7)[:7]
        row.update({"PO box": box, "street2": extended, "street": street, "city": city, "region": region,
                    "postcode": code, "country": country})
        row["other addresses"] = "; ".join(
            ", ".join(c for c in components(a, version, 7) if c) for a in addresses[1:])
    categories = [t.strip() for p in by_name.get("CATEGORIES", []) for t in split_unescaped(decoded(p), ",")]
    row["tags"] = ", ".join(dict.fromkeys(unescape(t, version) for t in categories if t))
    row["notes"] = "\n".join(text(p) for p in by_name.get("NOTE", []))
    row["external_id"] = text(by_name["UID"][0]).strip() if by_name.get("UID") else ""
    read = {"N", "ORG", "FN", "EMAIL", "TEL", "ADR", "CATEGORIES", "NOTE", "UID", "BEGIN", "END"}
    for prop_name, props in by_name.items():
        if prop_name not in read and prop_name not in IGNORED:
            row[OTHER + prop_name] = "; ".join(text(p) for p in props)
    return row


def _phones(row: dict[str, str], tels: list[Property], version: str) -> None:
    """The preferred cell phone is the mobile, the preferred other voice number the phone;
    the rest (a fax, a second number) are listed with their types."""
    mobile = next((t for t in tels if t.types() & _MOBILE), None)
    phone = next((t for t in tels if t is not mobile and not t.types() & (_MOBILE | _NOT_VOICE)), None)
    row["mobile"] = _phone(mobile, version) if mobile else ""
    row["phone"] = _phone(phone, version) if phone else ""
    rest = [t for t in tels if t is not mobile and t is not phone]
    row["other phones"] = ", ".join(
        _phone(t, version) + (f" ({', '.join(sorted(t.types() - {'pref', 'voice'}))})" if t.types() - {"pref", "voice"} else "")
        for t in rest)

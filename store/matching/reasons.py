"""A scored pair in people's words: the reasons, and a level per field for side-by-side marks."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from store.matching.compare import CLOSE, DIFFERENT, EXACT, FUZZY, LEVEL_NAMES, MISSING

_SAME = {"email": "same email", "phone": "same phone", "vat_id": "same VAT id", "company": "same company",
         "address": "same street and postcode", "first_name": "same first name", "last_name": "same last name"}
_DIFFERENT = {"email": "different email", "phone": "different phone", "vat_id": "different VAT id",
              "company": "different company", "address": "different address", "first_name": "different first name",
              "last_name": "different last name"}
# Fields shown side by side, and the normalised column each is judged on.
SHOWN = {"first_name": "fn", "last_name": "ln", "company": "co", "email": "em", "phone": "p1", "street": "st",
         "postcode": "pc", "city": "ci", "vat_id": "vat"}


def _close(name: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> str:
    field = {"address": "street"}.get(name, name)
    label = {"first_name": "first names", "last_name": "names", "address": "streets"}.get(name, name + "s")
    return f"{label} close: {left.get(field) or ''}/{right.get(field) or ''}"


def _reason(name: str, level: int, left: Mapping[str, Any], right: Mapping[str, Any]) -> str | None:
    if level == EXACT:
        return _SAME[name]
    if level in (CLOSE, FUZZY):
        if name == "address" and level == FUZZY:
            return "same postcode" if left.get("postcode") and left.get("postcode") == right.get("postcode") else "same city"
        if name == "phone":
            return "phones one digit apart"
        return _close(name, left, right)
    return _DIFFERENT[name] if level == DIFFERENT else None


def reasons(levels: Mapping[str, int], weights: Mapping[str, float], swapped: bool,
            left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[str, ...]:
    """Why (and why not), the weightiest evidence first; what weighs nothing is left out."""
    said: list[tuple[float, str]] = []
    for name, level in levels.items():
        weight = weights[name]
        text = _reason(name, level, left, right)
        if text is not None and abs(weight) >= 0.5:
            said.append((weight, text))
    if levels["first_name"] == EXACT and levels["last_name"] == EXACT:
        said = [(w, t) for w, t in said if t not in (_SAME["first_name"], _SAME["last_name"])]
        said.append((weights["first_name"] + weights["last_name"], "same name"))
    if swapped:
        said.append((weights["first_name"] + weights["last_name"], "first and last name swapped"))
    said.sort(key=lambda item: (item[0] < 0, -abs(item[0])))
    return tuple(text for _, text in said)


def evidence(levels: Mapping[str, int], left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, str]:
    """Field -> exact | close | different | missing, for each field shown side by side."""
    out: dict[str, str] = {}
    address = levels["address"]
    for field, column in SHOWN.items():
        if field in levels:
            out[field] = LEVEL_NAMES[levels[field]]
            continue
        a, b = left.get("_" + column), right.get("_" + column)
        if not a or not b:
            out[field] = LEVEL_NAMES[MISSING]
        elif a == b:
            out[field] = LEVEL_NAMES[EXACT]
        else:
            out[field] = LEVEL_NAMES[CLOSE if field == "street" and address >= CLOSE else DIFFERENT]
    return out

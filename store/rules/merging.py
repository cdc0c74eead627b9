"""Merging two customers: which value of each field the merged customer keeps.

The same rule gives the merge screen its first choices and the store its
result when no choice is given: the kept customer's value, or the other's
where the kept one is empty; tags united; the obfuscation opt-out never taken
from the other customer unasked. A marketing answer is no choice: an opt-out in
either wins over an agreement (never mail someone who said no in one of the two),
an agreement over no answer, each kept with its own time and source.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from store.base.errors import RuleViolation
from store.model import CUSTOMER_FIELDS
from store.rules import consent

Choice = Literal["keep", "other", "both"]
# The fields a merge decides, in the order the merge screen shows them.
MERGE_FIELDS = ("kind", *(f for f in CUSTOMER_FIELDS if f not in consent.FIELDS.values()))
# Which marketing answer a merge keeps: the first of these either customer gave.
_ANSWER_RANK = (False, True, None)
# Tags can be united; every other field takes one side.
_TAG_CHOICES: tuple[Choice, ...] = ("both", "keep", "other")
_ONE_SIDE: tuple[Choice, ...] = ("keep", "other")


def choices_for(field: str) -> tuple[Choice, ...]:
    """The choices a field offers, the default first for tags."""
    return _TAG_CHOICES if field == "tags" else _ONE_SIDE


def _empty(value: object) -> bool:
    return value in (None, "", [])


def default_choice(field: str, keep: Mapping[str, Any], other: Mapping[str, Any]) -> Choice:
    if field == "tags":
        return "both"
    if field != "obfuscate_enabled" and _empty(keep.get(field)) and not _empty(other.get(field)):
        return "other"
    return "keep"


def default_choices(keep: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Choice]:
    return {f: default_choice(f, keep, other) for f in MERGE_FIELDS}


def merged_fields(keep: Mapping[str, Any], other: Mapping[str, Any], choices: Mapping[str, str]) -> dict[str, Any]:
    """The merged customer's fields: `choices` (field → keep/other/both) over the defaults."""
    merged: dict[str, Any] = {}
    for name in MERGE_FIELDS:
        allowed = choices_for(name)
        choice = choices.get(name)
        if choice is not None and choice not in allowed:
            raise RuleViolation(f"merge choice for {name} must be {' or '.join(repr(a) for a in allowed)}, not '{choice}'")
        picked = choice or default_choice(name, keep, other)
        if picked == "both":
            merged[name] = list(dict.fromkeys([*(keep.get("tags") or []), *(other.get("tags") or [])]))
        else:
            merged[name] = (other if picked == "other" else keep).get(name)
    return {**merged, **merged_consent(keep, other)}


def merged_consent(keep: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """The merged customer's marketing answers and their stamps: per channel, the
    answer ranking first (`_ANSWER_RANK`; the kept customer's on a tie)."""
    merged: dict[str, Any] = {}
    stamps: dict[str, Any] = {}
    for channel, field in consent.FIELDS.items():
        side = min((keep, other), key=lambda doc: _ANSWER_RANK.index(doc.get(field)))
        merged[field] = side.get(field)
        stamp = (side.get(consent.RECORD) or {}).get(channel)
        if stamp is not None:
            stamps[channel] = stamp
    return {**merged, consent.RECORD: stamps or None}

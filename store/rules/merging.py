"""Merging two customers: which value of each field the merged customer keeps.

The same rule gives the merge screen its first choices and the store its
result when no choice is given: the kept customer's value, or the other's
where the kept one is empty; tags united; the obfuscation opt-out never taken
from the other customer unasked. A marketing answer is no choice: an opt-out in
either wins over an agreement (never mail someone who said no in one of the two),
an agreement over no answer, each kept with its own time and source. An email or phone
not chosen is set aside, not lost (`SetAside`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from store.base.errors import RuleViolation
from store.model import CORPORATE, CUSTOMER_FIELDS, display_name
from store.rules import consent
from store.rules.emails import email_key

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


# A merge chooses one email and one phone; the other customer's, where it differs, is
# set aside rather than lost: a contact of a corporate survivor (a company's second
# address is usually a person there), a line of a private survivor's notes.
SET_ASIDE_FIELDS = ("email", "phone")


class SetAside(NamedTuple):
    """One customer's email and phone that the merged customer does not hold, and where they go."""

    owner: Mapping[str, Any]  # the customer they came from (either side)
    values: dict[str, str]    # field → value, in SET_ASIDE_FIELDS' order
    into: Literal["contact", "notes"]

    def contact(self) -> dict[str, str]:
        """The contact of a corporate survivor: the owner's name (its company's if it has none)."""
        first, last = self.owner.get("first_name") or "", self.owner.get("last_name") or ""
        return {"first_name": first, "last_name": last if (first or last) else display_name(self.owner),
                "role": f"from {self.owner['number']} (merged)", **self.values}

    def note(self) -> str:
        """The line a private survivor's notes get."""
        return f"From {self.owner['number']} ({display_name(self.owner)}), merged: " + ", ".join(
            f"{field} {value}" for field, value in self.values.items())

    def line(self) -> str:
        """What the merge screen and the CLI say before and after: "kept: a@x.de → contact 'Anna Berger'"."""
        where = "notes" if self.into == "notes" else f"contact '{contact_name(self.contact())}'"
        return f"kept: {', '.join(self.values.values())} → {where}"


def contact_name(contact: Mapping[str, Any]) -> str:
    return " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)


def _key(field: str, value: object) -> str:
    """The form two values of `field` are the same in (ADA@example.com is ada@example.com)."""
    text = "" if value is None else str(value)
    return email_key(text) if field == "email" else "".join(c for c in text if c.isdigit() or c == "+")


def set_aside(keep: Mapping[str, Any], other: Mapping[str, Any], merged: Mapping[str, Any]) -> list[SetAside]:
    """Each side's email and phone that the merged customer (`merged_fields`) would lose."""
    into: Literal["contact", "notes"] = "contact" if merged["kind"] == CORPORATE else "notes"
    found = []
    for side in (keep, other):
        values = {f: str(side[f]) for f in SET_ASIDE_FIELDS
                  if not _empty(side.get(f)) and _key(f, side[f]) != _key(f, merged.get(f))}
        if values:
            found.append(SetAside(side, values, into))
    return found


def merge_outcome(keep: Mapping[str, Any], other: Mapping[str, Any],
                  choices: Mapping[str, str]) -> tuple[dict[str, Any], list[SetAside]]:
    """The merged customer's fields (`merged_fields`, a private survivor's notes holding what
    it sets aside) and what each side sets aside: what the store writes and the merge screen
    says beforehand."""
    merged = merged_fields(keep, other, choices)
    asides = set_aside(keep, other, merged)
    lines = [aside.note() for aside in asides if aside.into == "notes"]
    if lines:
        merged["notes"] = "\n".join([*([merged["notes"]] if merged.get("notes") else []), *lines])
    return merged, asides

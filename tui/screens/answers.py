"""A customer's marketing answers on screen: the form's choice per channel (yes, no,
not asked) and the detail's line with when and through what it was given."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.containers import Horizontal
from textual.widgets import Label, Select

from store.model import Channel
from store.rules import consent

from ..dates import Dates

NOT_ASKED = "not asked"
_WORDS: dict[bool | None, str] = {True: "yes", False: "no", None: NOT_ASKED}
# The store reads "yes" and "no" as it reads them from a file; not asked is an empty field.
_STORED = {"yes": "yes", "no": "no", NOT_ASKED: ""}
LABELS: Mapping[Channel, str] = {"email": "Email marketing", "sms": "SMS marketing"}


def select_id(channel: Channel) -> str:
    return f"f-{consent.FIELDS[channel]}"


def answer_fields(values: Mapping[str, Any]) -> list[Horizontal]:
    """The form's rows: per channel a one-line choice of yes, no or not asked."""
    return [Horizontal(Label(LABELS[channel], classes="label"),
                       Select([(word, word) for word in _WORDS.values()], value=_WORDS[_answer(values, field)],
                              allow_blank=False, compact=True, id=select_id(channel)),
                       classes="field")
            for channel, field in consent.FIELDS.items()]


def _answer(values: Mapping[str, Any], field: str) -> bool | None:
    value = values.get(field)
    return value if isinstance(value, bool) else None


def typed_answer(choice: object) -> str:
    """What the form hands the store for a choice: "yes", "no", or empty for not asked."""
    return _STORED[str(choice)]


def answer_lines(customer: Mapping[str, Any], dates: Dates) -> list[tuple[str, str]]:
    """The detail's (label, text) per channel: "no (2026-12-03 23:40, one-click unsubscribe
    (campaign #3))", or "not asked"."""
    stamps = customer.get(consent.RECORD) or {}
    lines = []
    for channel, field in consent.FIELDS.items():
        text = _WORDS[_answer(customer, field)]
        stamp = stamps.get(channel)
        if stamp:
            text += f" ({dates.shown(stamp.get('at'))}, {stamp.get('source')})"
        lines.append((LABELS[channel], text))
    return lines

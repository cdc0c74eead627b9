"""Stored values as the screens show them: dates and times as the user chose to
read them (`date_format` in config.toml), lists joined, flags as yes/no.

The store keeps ISO 8601 text (dates `2026-11-24`, times in UTC with their offset);
the app shows them in the user's format, times in the machine's local time zone.
Text that is not an ISO date is shown as it is: a display preference never hides data.
"""
from __future__ import annotations

from datetime import date, datetime

ISO_DATE = "%Y-%m-%d"


def check_format(date_format: str) -> str | None:
    """Why `date_format` cannot be used (None: it can)."""
    if "%" not in date_format:
        return f"date_format '{date_format}' has no % directive (e.g. \"%d.%m.%Y\")"
    try:
        shown = date(2026, 11, 24).strftime(date_format)
    except ValueError as err:
        return f"date_format '{date_format}' is not a strftime pattern ({err})"
    if not shown.strip() or shown == date_format:
        return f"date_format '{date_format}' shows no date"
    return None


class Dates:
    """Shows the store's ISO dates and times in one format."""

    def __init__(self, date_format: str = ISO_DATE) -> None:
        self.date_format = date_format

    def shown(self, value: object) -> str:
        """`value` in the user's format when it is an ISO date or time, else as text."""
        if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
            return "" if value is None else str(value)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) == 10:
            return moment.strftime(self.date_format)
        if moment.tzinfo is not None:
            moment = moment.astimezone()
        return f"{moment.strftime(self.date_format)} {moment:%H:%M}"

    def value(self, key: str, value: object) -> str:
        """The stored field `key`'s `value` as text on screen."""
        if key in ("at", "date") or key.endswith("_at"):
            return self.shown(value)
        if isinstance(value, list):
            return ", ".join(map(str, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:,.2f}"
        return "" if value is None else str(value)

    def change(self, field: str, old: object, new: object, hidden: bool = False) -> str:
        """A field's change as history shows it: `old → new`, an empty side as (empty);
        values obfuscation removed are not shown, and it says so."""
        if hidden:
            return "(removed by obfuscation)"
        return f"{self.value(field, old) or '(empty)'} → {self.value(field, new) or '(empty)'}"

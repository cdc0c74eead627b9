"""What a command did, in lines a person reads (its `--json` gives every detail)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

SHOWN = 10  # numbers listed in a line before "… and N more"


def numbers_text(numbers: Sequence[str]) -> str:
    """`C-000001, C-000005 … and 12 more`."""
    more = len(numbers) - SHOWN
    return ", ".join(numbers[:SHOWN]) + (f" … and {more} more" if more > 0 else "")


def campaign_lines(skipped: list[dict[str, Any]], failed: list[dict[str, Any]]) -> Iterator[str]:
    """The customers skipped, counted per reason (most first), then each failed message."""
    from outreach.sending import skipped_by_reason

    for reason, count in skipped_by_reason(skipped):
        yield f"  skipped {count:>5}  {reason}"
    for failure in failed:
        yield f"  failed  {failure['number']}: {failure['reason']}"

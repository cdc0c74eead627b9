"""`custdesk duplicates`: every likely duplicate pair of the store, surest first."""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from cli.common import open_store, reports_errors, say

if TYPE_CHECKING:
    from store.domain.review_queue import QueuedPair
    from store.matching import Pair

# A terminal's progress line is rewritten at most this often.
PROGRESS_EVERY_SECONDS = 0.2


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as one JSON array of objects.")
@click.option("--min-score", type=click.FloatRange(0, 1), metavar="S",
              help="Only pairs scoring S or more (0..1; default: the review band's threshold).")
@click.pass_context
@reports_errors
def duplicates(ctx: click.Context, as_json: bool, min_score: float | None) -> None:
    """List the customers and prospects that are likely the same person or company: pairs
    with their score, band (sure, review) and reasons. Pairs marked "not a duplicate" in
    the app's review (D) are left out. The pairs an import, sync or sign-up queued for review come
    first, marked with where they came from."""
    from store.domain.review_queue import queued_first
    from store.matching import sweep_pairs

    store = open_store(ctx)
    progress = _progress_line() if sys.stderr.isatty() else None
    pairs, instead = sweep_pairs(store, min_score=min_score, progress=progress)
    if instead is not None:
        say(instead, err=True)
    if progress is not None:
        click.echo("\r\x1b[K", nl=False, err=True)  # the progress line goes once the pairs are found
    listed = queued_first(store.queued_pairs(), pairs)
    names = iter(store.record_names([ref for pair, _ in listed for ref in (pair.a, pair.b)]))
    rows = [_row(pair, next(names), next(names), queued) for pair, queued in listed]
    if as_json:
        say(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        queued = f"  [queued: {row['queued']}]" if row["queued"] else ""
        say(f"{row['score']:.3f}  {row['band']:<6}  {row['a']:<13}  {row['b']:<13}  {'; '.join(row['reasons'])}{queued}")


def _row(pair: Pair, a: str, b: str, queued: QueuedPair | None) -> dict[str, Any]:
    """`a`, `b`: the records' names; `queued`: where a queued pair came from (its journal entry), or None."""
    return {"a": a, "b": b, "score": pair.score, "band": pair.band, "reasons": list(pair.reasons),
            "queued": queued.origin if queued else None}


def _progress_line() -> Callable[[int, int], None]:
    """Progress for a person watching: one line on stderr, rewritten in place."""
    last = 0.0

    def show(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_SECONDS:
            last = now
            click.echo(f"\rcomparing … {done:,} of {total:,}", nl=False, err=True)
    return show

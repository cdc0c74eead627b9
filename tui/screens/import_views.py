"""What the import review shows of a plan: its summary and its rows, by status."""
from __future__ import annotations

import polars as pl
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.text import Text

from importers import ImportPlan
from importers.reading import how_read

from .modals import literal

STATUS_STYLE = {"new": "green", "update": "yellow", "unchanged": "dim", "skipped": "dim", "duplicate": "magenta",
                "error": "bold red"}


def plan_summary(plan: ImportPlan, status_filter: str) -> Group:
    """The review's head: the file, the plan's choices, the counts by status, what blocks it."""
    counts = plan.counts()
    table = plan.table
    head = Text()
    head.append_text(literal(table.path.name))
    if table.sheet:
        head.append(f" · sheet {table.sheet}")
    read = how_read(table)
    head.append(f" · {read}" if read else "")
    head.append((f" · header row {table.header_row}" if table.header_row else "") + f" · {plan.target} · {plan.mode} by {plan.key}")
    head.append(f" · phones without a country read in {plan.country}" if plan.country else "")
    figures = [Text(f"{counts[status]:,} {label}", style=STATUS_STYLE[label])
               for status, label in (("created", "new"), ("updated", "update"), ("unchanged", "unchanged"),
                                     ("skipped", "skipped"), ("duplicates", "duplicate"), ("errors", "error"))]
    if counts["queued"]:  # (written all the same: said beside the duplicates)
        figures[4].append(f" ({counts['queued']:,} queued for review)")
    figures += [Text(f"{counts['warnings']:,} warnings", style="yellow"), Text(f"showing: {status_filter}", style="cyan")]
    lines: list[RenderableType] = [head, Columns(figures, padding=(0, 3))]  # (wraps between figures, not inside one)
    if plan.remembered is not None:
        lines.append(Text.assemble(literal(plan.remembered.message()), " · r maps the columns afresh", style="cyan"))
    if plan.blocked:
        lines.append(Text("Rows with errors block the import; n offers to import the valid rows only.", style="red"))
    if plan.file_region is not None:
        other = plan.file_region.default
        lines.append(Text.assemble(literal(plan.file_region.message()),
                                   f"; p reads them as {other}" if other else "", style="yellow"))
    if plan.suggestion is not None:
        lines.append(Text(f"{plan.suggestion.message()}: p reads them as {plan.suggestion.region}", style="yellow"))
    return Group(*lines)


def plan_rows(plan: ImportPlan, status_filter: str) -> pl.DataFrame:
    """The plan's rows as the review lists them (those of `status_filter`), each with its
    first problem or its change."""
    messages: dict[int, str] = {}
    warned: set[int] = set()
    for issue in plan.issues:
        messages.setdefault(issue.row, f"{issue.column}: {issue.message}")
        if issue.severity == "warning":
            warned.add(issue.row)
    rows = plan.rows
    change = {index: "; ".join(f"{f}: {old or '∅'} → {new}" for f, (old, new) in diff.items())
              for index, diff in plan.diffs.items()}
    frame = rows.select(
        pl.col("_index").alias("id"), pl.col("_status").alias("status"), pl.col("_row").alias("row"),
        pl.concat_str([pl.col("first_name").fill_null(""), pl.col("last_name").fill_null("")], separator=" ")
        .str.strip_chars().alias("name"),
        (pl.col("company") if "company" in rows.columns else pl.lit("")).fill_null("").alias("company"),
        (pl.col("email") if "email" in rows.columns else pl.lit("")).fill_null("").alias("email"),
        pl.col("_note").fill_null("").alias("note"))
    frame = frame.with_columns(
        pl.Series("message", [change.get(i) or messages.get(r) or n for i, r, n in
                              zip(frame["id"].to_list(), frame["row"].to_list(), frame["note"].to_list(), strict=True)]),
        pl.col("row").is_in(sorted(warned)).alias("warned"))
    if status_filter == "warning":
        return frame.filter(pl.col("warned"))
    if status_filter != "all":
        return frame.filter(pl.col("status") == status_filter)
    return frame

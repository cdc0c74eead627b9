"""Files to import plans: reading, mapping, validating, planning; templates.

Never writes the store itself: a plan commits through `Store.apply_batch`.
Never imports the UI. The names below are loaded when first used: a command that
reads an accounting export (`importers.sync`) does not load the planning of imports.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import store  # noqa: F401  (first: sets polars' allocator options before polars loads)

if TYPE_CHECKING:
    from .plan import ImportPlan, PlanError, RowIssue, plan_import
    from .reading import SheetData, UnreadableFile, read_table

_MODULE_OF = {"ImportPlan": "plan", "PlanError": "plan", "RowIssue": "plan", "plan_import": "plan",
              "SheetData": "reading", "UnreadableFile": "reading", "read_table": "reading"}

__all__ = ["ImportPlan", "PlanError", "RowIssue", "SheetData", "UnreadableFile", "plan_import", "read_table"]


def __getattr__(name: str) -> object:
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Files to import plans: reading, mapping, validating, planning; templates.

Never writes the store itself: a plan commits through `Store.apply_batch`.
Never imports the UI.
"""
import store  # noqa: F401  (first: sets polars' allocator options before polars loads)

from .plan import ImportPlan, PlanError, RowIssue, plan_import
from .reading import SheetData, UnreadableFile, read_table

__all__ = ["ImportPlan", "PlanError", "RowIssue", "SheetData", "UnreadableFile", "plan_import", "read_table"]

"""Every screen and dialog, at 80x24 (an SSH client's default) and 160x50, against
saved snapshots of a fixed small store.

A changed layout fails here with the before/after pictures in the report. Refresh
after an intended change with `pytest tests/test_snapshots.py --snapshot-update`, and
look at the new pictures (`make screenshots` writes README's from the same cases).
"""
import pytest
from screen_cases import CASES, fixed_store_fixture, reach, steady_cursor  # noqa: F401  (a fixture: fixed_store)

from tui.app import CustdeskApp

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}


@pytest.fixture(autouse=True)
def _steady_cursor():
    with steady_cursor():
        yield


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_screen(snap_compare, fixed_store, case, size):
    async def run_before(pilot) -> None:
        await reach(pilot, case)

    assert snap_compare(CustdeskApp(fixed_store), run_before=run_before, terminal_size=SIZES[size])

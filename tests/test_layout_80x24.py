"""What a user met in an 80x24 terminal (an SSH client's default), read off the screen
through the Pilot: every dialog in the middle over the screen below, dimmed; the kind
of a new customer told by its glyph, not by colour alone. The pictures of the same
screens are the snapshot tests' (test_snapshots.py)."""
import time

import pytest
from helpers import rendered
from screen_cases import CASES, build_store, reach, steady_cursor

from tui.app import CustdeskApp

SIZE = (80, 24)
# The cases of screen_cases.py that end on a dialog: Row details and Set status were
# the ones that opened at the top-left.
DIALOGS = ("row_details", "set_status", "confirm_delete", "tag_prompt", "department_form", "customer_form",
           "settings", "help", "pick_template", "field_picker", "tag_filter", "template_form", "mail_send")


@pytest.fixture
def fixed_store(store_path, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)  # the import cases read leads.csv from here
    store = build_store(store_path, tmp_path)
    yield store
    store.close()
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.mark.parametrize("name", DIALOGS)
async def test_a_dialog_opens_in_the_middle_over_the_screen_below_dimmed(fixed_store, name):
    case = next(c for c in CASES if c.name == name)
    app = CustdeskApp(fixed_store)
    with steady_cursor():
        async with app.run_test(size=SIZE) as pilot:
            await reach(pilot, case)
            screen = app.screen
            assert screen.is_modal, f"{name} ends on {type(screen).__name__}, not a dialog"
            box = screen.query_one(".dialog").region
            left, right, top, bottom = box.x, SIZE[0] - box.right, box.y, SIZE[1] - box.bottom
            assert abs(left - right) <= 1 and abs(top - bottom) <= 1, f"{name}: {box} is not centred in {SIZE}"
            assert screen.styles.background.a < 1  # the screen below shows through, dimmed


async def test_the_kind_of_a_new_customer_reads_without_colour(store):
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        corporate, private = (app.screen.query_one(f"#kind-{kind}") for kind in ("corporate", "private"))
        assert "●" in rendered(corporate) and "Corporate customer" in rendered(corporate)
        assert "○" in rendered(private) and "●" not in rendered(private)
        await pilot.press("down", "enter")  # the radio set has focus: down to Private, enter picks it
        await pilot.pause()
        assert "○" in rendered(corporate) and "●" not in rendered(corporate)
        assert "●" in rendered(private) and "Private customer" in rendered(private)
        assert app.screen.kind == "private"

"""What a user met in an 80x24 terminal (an SSH client's default), read off the screen
through the Pilot and held in snapshots: every dialog in the middle over the screen
below, dimmed; the kind of a new customer told by its glyph, not by colour alone; the
import review's message of the row under the cursor and its issues in full; every count
of the sync runs and their file; a customer's long email. The pictures of the other
screens are test_snapshots.py's."""
from unittest import mock

import pytest
from helpers import rendered
from screen_cases import (
    CASES,
    FIXED_TIME,
    IMPORT_REVIEW,
    Case,
    fixed_store_fixture,  # noqa: F401  (a fixture: fixed_store)
    reach,
    steady_cursor,
)

from tui.app import CustdeskApp

SIZE = (80, 24)
# The cases of screen_cases.py that end on a dialog: Row details and Set status were
# the ones that opened at the top-left.
DIALOGS = ("row_details", "set_status", "confirm_delete", "tag_prompt", "department_form", "customer_form",
           "settings", "help", "pick_template", "field_picker", "tag_filter", "template_form", "mail_send", "merge_pick")


def _case(name: str) -> Case:
    return next(c for c in (*CASES, *LAYOUT_CASES) if c.name == name)


@pytest.mark.parametrize("name", DIALOGS)
async def test_a_dialog_opens_in_the_middle_over_the_screen_below_dimmed(fixed_store, name):
    app = CustdeskApp(fixed_store)
    with steady_cursor():
        async with app.run_test(size=SIZE) as pilot:
            await reach(pilot, _case(name))
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


LONG_EMAIL = "rechnungseingang@babbage-feinmechanik.example"


async def _long_email_customer(pilot) -> None:
    """A customer whose email and street are longer than half of 80 columns, then its detail."""
    with mock.patch("store.domain.journal.now", lambda: FIXED_TIME):
        pilot.app.store.add_customer("corporate", {
            "company": "Babbage Feinmechanik", "first_name": "Charles", "last_name": "Babbage",
            "email": LONG_EMAIL, "phone": "030 7654321", "street": "Lange Straße 123, Hinterhaus", "city": "Berlin"})
    pilot.app.after_change()
    await pilot.pause()
    await pilot.press("G", "enter")  # (the newest customer is the table's last row)


LAYOUT_CASES = (
    Case("import_review_error", (*IMPORT_REVIEW, "j"), "The error row's issue in full under the rows"),
    Case("import_review_duplicate", (*IMPORT_REVIEW, "j", "j"), "The duplicate row's message in full under the rows"),
    Case("detail_long_email", (_long_email_customer,), "A customer's long email, whole"),
)


@pytest.mark.parametrize("case", LAYOUT_CASES, ids=[c.name for c in LAYOUT_CASES])
def test_screen_at_80x24(snap_compare, fixed_store, case):
    async def run_before(pilot) -> None:
        await reach(pilot, case)

    assert snap_compare(CustdeskApp(fixed_store), run_before=run_before, terminal_size=SIZE)


def _words(text: str) -> str:
    return " ".join(text.split())


def _on_screen(app) -> list[str]:
    """The lines of the terminal, as the user reads them (what the screen's compositor draws)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def _value(lines: list[str], label: str, start: str, joint: str = " ") -> str:
    """The value beside `label` in a grid of label/value columns, put together again where
    it wraps: it goes on under itself, on lines whose label column is empty."""
    first = next(n for n, line in enumerate(lines) if f" {label}  " in line and start in line)
    label_x, x = lines[first].index(f" {label}  ") + 1, lines[first].index(start)
    pieces = [lines[first][x:].split("  ")[0].strip()]
    for line in lines[first + 1:]:
        if line[label_x:x].strip() or not line[x:].strip():
            break
        pieces.append(line[x:].split("  ")[0].strip())
    return joint.join(pieces)


@pytest.mark.parametrize(("name", "said"), [
    ("import_review_error", "row 3 error E-Mail: 'not-an-email' is not a valid email address: an email address must "
                            "have an @-sign"),
    ("import_review_duplicate", "row 4 duplicate email belongs to customer C-000001")])
async def test_the_import_review_shows_the_row_under_the_cursor_in_full(fixed_store, name, said):
    app = CustdeskApp(fixed_store)
    with steady_cursor():
        async with app.run_test(size=SIZE) as pilot:
            await reach(pilot, _case(name))
            rows, detail = app.screen.query_one("#rows"), app.screen.query_one("#row-detail")
            assert _words(said) in _words("\n".join(_on_screen(app)))
            assert rows.region.height >= 4 and detail.region.bottom <= SIZE[1] - 1  # rows and issues above the footer
            assert "Message / change" in "\n".join(_on_screen(app))


async def test_the_sync_runs_show_every_count_and_the_file(fixed_store):
    app = CustdeskApp(fixed_store)
    with steady_cursor():
        async with app.run_test(size=SIZE) as pilot:
            await reach(pilot, _case("sync_runs"))
            header, *runs = _on_screen(app)[1:4]  # (under the app's header)
            assert header.split() == ["when", "profile", "new", "upd", "rem", "conf", "err", "same", "file"]
            assert runs[0].split()[3:] == ["0", "0", "0", "1", "0", "3", "Contacts.csv"]  # (after the date, time, profile)
            assert runs[1].split()[3:] == ["3", "0", "0", "0", "0", "0", "Contacts.csv"]
            summary = _words("\n".join(_on_screen(app)))
            assert "Synced Contacts.csv (xero): 0 new, 0 updated, 0 removed, 1 conflict(s), 0 error(s)" in summary
            await pilot.resize_terminal(120, 30)  # wide enough: the labels in full
            await pilot.pause()
            header = _on_screen(app)[1]
            assert header.split() == ["when", "profile", "new", "updated", "removed", "conflicts", "errors", "unchanged",
                                      "file"]


async def test_the_detail_shows_a_long_email_whole(fixed_store):
    app = CustdeskApp(fixed_store)
    with steady_cursor():
        async with app.run_test(size=SIZE) as pilot:
            await reach(pilot, _case("detail_long_email"))
            lines = _on_screen(app)
            assert _value(lines, "Email", LONG_EMAIL[:10], joint="") == LONG_EMAIL  # (folded at any character)
            assert _value(lines, "Street", "Lange") == "Lange Straße 123, Hinterhaus"
            assert _value(lines, "Phone", "+49") == "+49307654321"

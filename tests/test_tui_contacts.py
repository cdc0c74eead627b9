"""A corporate customer's contacts in the detail: the contact form's department, chosen
with the keys a person presses, saved on the contact and shown on the Contacts tab."""
from helpers import SIZE, go_to_row, rendered, settle
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

from tui.app import CustdeskApp
from tui.screens.contact_form import ContactForm


async def choose_department(pilot, app, name: str) -> None:
    """Open the form's department choice, walk down its list to `name`, take it."""
    choice = app.screen.query_one("#f-department", Select)
    choice.focus()
    await pilot.press("enter")
    await pilot.pause()
    options = choice.query_one(SelectOverlay)
    for _ in range(len(choice._options)):
        if str(options.get_option_at_index(options.highlighted).prompt) == name:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def contact_saved(pilot, app, key: str, department: str, *typed: str) -> None:
    """`key` opens the contact form: the keys `typed`, the department chosen, saved."""
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(app.screen, ContactForm)
    await pilot.press(*typed)
    await choose_department(pilot, app, department)
    await pilot.press("ctrl+s")
    await settle(app, pilot)


async def open_contacts(pilot, app) -> None:
    await go_to_row(pilot, app, "C-000001")
    await pilot.press("enter")
    app.screen.query_one("#tabs").active = "tab-contacts"
    await settle(app, pilot)
    app.screen.query_one("#table-contacts").focus()
    await pilot.pause()


async def test_a_new_contact_gets_its_department_and_the_detail_names_it(shop):
    purchasing = shop.add_department(1, {"name": "Purchasing"})
    shop.add_department(1, {"name": "Sales"})
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_contacts(pilot, app)
        await contact_saved(pilot, app, "plus", "Purchasing", *"Grace", "tab", *"Hopper")
        shown = rendered(app.screen.query_one("#table-contacts"))
    [contact] = shop.children(1, "contacts")
    assert (contact["first_name"], contact["last_name"], contact["department_id"]) == ("Grace", "Hopper", purchasing["id"])
    assert "Grace" in shown and "Purchasing" in shown


async def test_an_existing_contacts_department_is_changed_and_cleared(shop):
    shop.add_department(1, {"name": "Purchasing"})
    sales = shop.add_department(1, {"name": "Sales"})
    contact = shop.add_contact(1, {"first_name": "Grace", "last_name": "Hopper"})
    app = CustdeskApp(shop)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_contacts(pilot, app)
        await contact_saved(pilot, app, "E", "Sales")
        assert shop.child("contacts", contact["id"])["department_id"] == sales["id"]
        assert "Sales" in rendered(app.screen.query_one("#table-contacts"))
        await contact_saved(pilot, app, "E", "none")  # no department any more
        assert "Sales" not in rendered(app.screen.query_one("#table-contacts"))
    assert shop.child("contacts", contact["id"]).get("department_id") is None
    assert shop.child("contacts", contact["id"])["first_name"] == "Grace"  # the rest as it was


async def test_the_contact_form_fits_80x24_with_its_department_above_the_keys(shop):
    shop.add_department(1, {"name": "Purchasing"})
    app = CustdeskApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contacts(pilot, app)
        await pilot.press("plus")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactForm)
        dialog, choice, hint = (form.query_one(q).region for q in (".dialog", "#f-department", ".hint"))
        assert dialog.right <= 80 and dialog.bottom <= 24
        assert choice.height == 1 and choice.bottom <= hint.y  # one line, the keys in view under it
        assert form.query_one("#f-role").region.bottom <= choice.y

"""Templates, bulk mail and the obfuscation policy run, driven from the keyboard."""
import email
from email import policy

from helpers import notices, person, settle

from store import StoreError
from tui.app import CustdeskApp
from tui.screens.mail import MailScreen, PickTemplate, TemplateForm, TemplatesScreen
from tui.screens.modals import ConfirmScreen, PromptScreen

SIZE = (160, 45)




async def test_add_a_template_refused_then_saved_and_previewed(store):
    store.add_customer("private", person(1, first_name="Ada"))
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, TemplatesScreen)
        await pilot.press("a")
        assert isinstance(app.screen, TemplateForm)
        await pilot.press(*"welcome", "tab", "tab", *"Hello", "tab")
        await pilot.press(*"Hi {{ customer.shoe_size }}", "ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, TemplateForm)
        assert "unknown placeholder customer.shoe_size" in str(app.screen.query_one("#problems").render())
        app.screen.query_one("#t-body").text = "Hi {{ customer.first_name }}"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, TemplatesScreen)
        await pilot.press("enter")
        assert "Hi Ada" in str(app.screen.query_one("#template-preview").render())
    assert [(t["name"], t["subject"]) for t in store.templates()] == [("welcome", "Hello")]


async def test_mail_the_selected_customers_into_an_outbox(store, tmp_path):
    for n in range(3):
        store.add_customer("private", person(n, first_name=f"Ada{n}"))
    store.deactivate([2])
    store.save_template("news", "email", "News for {{ customer.first_name }}", "Dear {{ customer.first_name }}")
    outbox = tmp_path / "outbox"
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "M")
        assert isinstance(app.screen, PickTemplate)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, MailScreen)
        await settle(app, pilot)  # (who it reaches is read off the screen's thread)
        assert len(screen.reachable) == 1 and screen.skipped == [{"number": "C-000002", "reason": "inactive"}]
        assert "Dear Ada0" in str(screen.query_one("#mail-message").render())
        await pilot.press("s")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("Input").value = str(outbox)
        await pilot.press("enter")
        await settle(app, pilot)
        assert screen.report.sent == 1
    (eml,) = outbox.glob("*.eml")
    assert email.message_from_bytes(eml.read_bytes(), policy=policy.default)["Subject"] == "News for Ada0"
    assert [c["subject"] for c in store.children(1, "conversations")] == ["News for Ada0"]


async def test_obfuscation_policy_from_the_palette(store):
    store.add_customer("private", person(1, first_name="Zebulon"))
    store.add_customer("private", person(2, first_name="Walter"))
    store.deactivate([1])
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Obfuscation policy")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("Input").value = "0"
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "C-000001" in str(app.screen.query_one("Static").render())
        await pilot.press("y")
        await settle(app, pilot)
    assert store.customer(1)["obfuscated_at"] and store.customer(2)["first_name"] == "Walter"


async def test_a_policy_run_over_many_runs_off_the_screens_thread(store, monkeypatch):
    """Obfuscating more than `WORKING_FROM` customers (the dry run counted them) runs as
    every verb over many does: off the UI thread, its dialog up meanwhile."""
    import threading

    from tui import verbs
    from tui.screens.modals import WorkingScreen

    monkeypatch.setattr(verbs, "WORKING_FROM", 1)
    for n in (1, 2):
        store.add_customer("private", person(n, first_name=f"Zebulon{n}"))
    store.deactivate([1, 2])
    obfuscate, seen = store.obfuscate_inactive, []

    def watched(days, dry_run=False):
        if not dry_run:
            seen.append((threading.current_thread() is threading.main_thread(), type(app.screen).__name__))
        return obfuscate(days, dry_run=dry_run)

    monkeypatch.setattr(store, "obfuscate_inactive", watched)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+p", *"Obfuscation policy", "enter")
        await settle(app, pilot)
        app.screen.query_one("Input").value = "0"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert seen == [(False, WorkingScreen.__name__)] and app.working == 0
        assert any(n.startswith("Obfuscated 2, refused 0") for n in notices(app))
    assert all(store.customer(n)["obfuscated_at"] for n in (1, 2))


async def test_the_policy_run_refuses_days_the_store_refuses_in_the_stores_words(store):
    store.add_customer("private", person(1, first_name="Zebulon"))
    store.deactivate([1])
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+p", *"Obfuscation policy", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("Input").value = "soon"
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("the days inactive must be a whole number of days, not 'soon'" in n for n in notices(app))
    assert store.customer(1)["first_name"] == "Zebulon"


async def test_the_mail_screen_says_why_it_could_not_read_whom_it_reaches(store, monkeypatch):
    store.add_customer("private", person(1, first_name="Ada"))
    store.save_template("news", "email", "News", "Dear {{ customer.first_name }}")

    def gone(*_args):
        raise StoreError("postgresql://db/custdesk: the database server is unreachable (connection refused)")
    monkeypatch.setattr(store, "reachable", gone)
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("M", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, MailScreen) and not screen.check_action("send", ())
        assert "could not read the 1 customer(s): postgresql://db/custdesk: the database server is unreachable" in str(
            screen.query_one("#mail-summary").render())


async def test_the_mail_screen_holds_whom_it_reaches_by_id_and_reads_each_message_when_shown(store):
    """100,000 chosen customers were held whole while their messages were looked at (128 MB
    more at ten million on a server): the screen keeps their ids, and the customer a message
    shows is read when it is shown; one gone since says so in its place."""
    for n in range(4):
        store.add_customer("private", person(n, first_name=f"Ada{n}"))
    store.save_template("news", "email", "News", "Dear {{ customer.first_name }} {{ customer.last_name }}")
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("asterisk", "M", "enter")
        screen = app.screen
        assert isinstance(screen, MailScreen)
        await settle(app, pilot)
        assert screen.reachable == [1, 2, 3, 4] and "Message 1 of 4" in str(screen.query_one("#mail-message").render())
        store.edit_customer(2, {"first_name": "Grace"})  # (read when shown: as it is now)
        store.delete(3)
        await pilot.press("right")
        assert "Dear Grace" in str(screen.query_one("#mail-message").render())
        await pilot.press("right")
        shown = str(screen.query_one("#mail-message").render())
        assert "Message 3 of 4" in shown and "#3" in shown and "Dear" not in shown
        await pilot.press("right")
        assert "Dear Ada3" in str(screen.query_one("#mail-message").render())

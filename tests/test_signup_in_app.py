"""A sign-up as staff meet it in the app: the source list says it is unconfirmed, its
detail says it came by the sign-up page, when the person agreed and whether they
confirmed their address (double opt-in), without an empty raw-row table."""
from helpers import SIZE, table

from tui.app import CustdeskApp
from tui.screens.detail import SourceDetailScreen


def shows(app, text: str) -> bool:
    return text.replace(" ", "&#160;") in app.export_screenshot()


async def test_an_unconfirmed_sign_up_says_so_in_the_list_and_its_detail(store):
    store.sign_up("private", {"first_name": "Aylin", "last_name": "Yıldız", "email": "aylin@example.com.tr", "consent": True})
    store.add_source({"first_name": "Linus", "email": "linus@example.com", "origin": {"file": "leads.csv", "row": 2},
                      "raw": {"Name": "Linus"}})
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        rows = [table(app).render_line(line).text for line in range(1, 3)]
        assert any("Yıldız" in row and "unconfirmed sign-up" in row for row in rows)
        assert any("Linus" in row and "unconfirmed" not in row for row in rows)
        await pilot.press("slash", *"aylin", "enter", "enter")
        assert isinstance(app.screen, SourceDetailScreen)
        consent_at = store.source(app.screen.source_id)["origin"]["consent_at"]
        assert shows(app, "the sign-up page") and shows(app, app.dates.shown(consent_at))
        assert shows(app, "unconfirmed: the link in the confirmation mail was not followed yet")
        assert not shows(app, "Raw imported row") and not shows(app, "web form")


async def test_a_confirmed_sign_up_shows_the_words_agreed_to_the_page_and_when_confirmed(store):
    _, prospect = store.sign_up("private", {"first_name": "Zoé", "last_name": "Durand", "email": "zoe@example.fr",
                                            "consent": True},
                                consent_text="I agree that Engines keeps these details.", page="https://shop.example/signup")
    store.confirm_sign_up(prospect)
    confirmed_at = store.source(prospect)["origin"]["confirmed_at"]
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert "sign-up page" in table(app).render_line(1).text and "unconfirmed" not in table(app).render_line(1).text
        await pilot.press("enter")
        assert shows(app, "I agree that Engines keeps these details.") and shows(app, "https://shop.example/signup")
        assert shows(app, app.dates.shown(confirmed_at)) and not shows(app, "unconfirmed")

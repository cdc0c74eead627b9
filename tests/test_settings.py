"""The store's settings — sender, Reply-To, shop name, public address — judged by one rule,
whether typed in the app's Settings (`,`) or given to `custdesk settings set`."""
import json
from email.utils import getaddresses

import pytest
from helpers import SIZE, custdesk, settle
from hypothesis import given, settings
from hypothesis import strategies as st

from store import RuleViolation
from store.rules.settings import check_settings
from tui.app import CustdeskApp
from tui.screens.modals import SettingsScreen


# -- the rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "stored"), [
    ("Engines GmbH <office@engines.de>", "Engines GmbH <office@engines.de>"),
    ("  office@Engines.DE ", "office@engines.de"),
    ('"Müller, Sohn" <info@mueller.de>', '"Müller, Sohn" <info@mueller.de>'),
    ("Dr. Who <who@example.com>", '"Dr. Who" <who@example.com>'),  # a period in a name needs quotes
])
def test_a_sender_is_stored_as_one_address_with_its_name(store, typed, stored):
    assert store.update_settings(mail_from=typed)["mail_from"] == stored


@pytest.mark.parametrize(("key", "typed", "refusal"), [
    ("mail_from", "", "mail_from must be the sender's address"),
    ("mail_from", "Engines GmbH", "mail_from: write one address, e.g. 'Engines GmbH <office@engines.de>', not 'Engines GmbH'"),
    ("mail_from", "office@engines", "mail_from: 'office@engines' is not a valid email address: the part after the @-sign"),
    ("mail_from", "a@engines.de, b@engines.de", "mail_from: write one address"),
    ("mail_from", "Müller, Sohn <info@mueller.de>", "mail_from: write one address"),
    ("reply_to", "help@", "reply_to: write one address"),
    ("public_url", "crm.engines.de", "public_url must be an address such as https://shop.example.com"),
    ("public_url", "ftp://crm.engines.de", "public_url must be an address such as"),
    ("public_url", "https://crm.engines.de/?x=1", "public_url must not have a ?query or #fragment"),
    ("public_url", "https://me:secret@crm.engines.de", "public_url must not hold a user or password"),
    ("shop_name", "x" * 81, "the shop name must be 80 characters or fewer"),
])
def test_a_bad_setting_is_refused_in_one_line_and_nothing_is_written(store, key, typed, refusal):
    before = store.settings
    with pytest.raises(RuleViolation) as refused:
        store.update_settings(**{key: typed})
    assert str(refused.value).startswith(refusal) and "\n" not in str(refused.value)
    assert store.settings == before


def test_reply_to_and_public_url_may_be_empty_and_the_address_loses_its_trailing_slash(store):
    saved = store.update_settings(reply_to="Support <help@engines.de>", public_url="https://crm.engines.de/shop/")
    assert (saved["reply_to"], saved["public_url"]) == ("Support <help@engines.de>", "https://crm.engines.de/shop")
    saved = store.update_settings(reply_to="  ", public_url="")
    assert (saved["reply_to"], saved["public_url"]) == (None, None)


def test_the_default_sender_passes_its_own_check(store):
    """A demo's store sends (into an outbox) without anyone setting a sender first."""
    assert check_settings({"mail_from": store.settings["mail_from"]})["mail_from"] == store.settings["mail_from"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab.@<>", ;:\\()[]é\r\n\tx-'), max_size=40) | st.emails().map(str))
def test_whatever_is_typed_as_a_sender_is_refused_or_stored_as_one_checked_address(typed):
    try:
        stored = check_settings({"mail_from": typed})["mail_from"]
    except RuleViolation as refusal:
        assert "\n" not in str(refusal)
        return
    assert len(getaddresses([stored])) == 1 and "\n" not in stored and "\r" not in stored
    assert check_settings({"mail_from": stored})["mail_from"] == stored  # stored once, the same again


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"\Ahttps?://[a-z0-9.-]{1,20}(:[0-9]{1,5})?(/[a-z/]{0,10})?[?#]?\Z"))
def test_whatever_is_typed_as_the_public_address_is_refused_or_an_http_base(typed):
    try:
        stored = check_settings({"public_url": typed})["public_url"]
    except RuleViolation as refusal:
        assert "\n" not in str(refusal)
        return
    assert stored is None or (stored.startswith(("https://", "http://")) and not stored.endswith("/")
                              and "?" not in stored and "#" not in stored)


# -- the command line ---------------------------------------------------------------------------
def test_settings_show_and_set_on_the_command_line(store_path, store):
    store.close()

    def run(*args):
        return custdesk("--db", store_path, "settings", *args)
    assert run("set", "mail_from", "Engines GmbH <office@engines.de>").stdout == "mail_from = Engines GmbH <office@engines.de>\n"
    assert run("set", "public_url", "https://crm.engines.de/").stdout == "public_url = https://crm.engines.de\n"
    assert run("set", "allow_private_customers", "no").stdout == "allow_private_customers = no\n"
    shown = run("show").stdout.splitlines()
    assert "mail_from                   Engines GmbH <office@engines.de>" in shown
    assert "reply_to                    (not set)" in shown and "allow_private_customers     no" in shown
    as_json = json.loads(run("show", "--json").stdout)
    assert as_json["public_url"] == "https://crm.engines.de" and as_json["reply_to"] is None
    refused = run("set", "reply_to", "help@engines")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == ("custdesk: reply_to: 'help@engines' is not a valid email address: the part after "
                              "the @-sign is not valid. It should have a period\n")
    unknown = run("set", "sender", "x@example.com")
    assert unknown.returncode == 2 and unknown.stderr.startswith("custdesk: unknown setting(s): sender (the settings are ")
    assert json.loads(run("show", "--json").stdout) == as_json  # nothing written by the refusals


# -- the app --------------------------------------------------------------------------------------
async def test_the_settings_screen_saves_the_sender_and_refuses_what_the_command_line_refuses(store):
    app = CustdeskApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("comma")
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#mail_from").focus()
        app.screen.query_one("#mail_from").value = ""
        await pilot.press(*"office@engines")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # still open, the store's refusal shown
        await pilot.press(*".de")
        app.screen.query_one("#reply_to").focus()
        await pilot.press(*"Support <help@engines.de>")
        app.screen.query_one("#public_url").focus()
        await pilot.press(*"https://crm.engines.de/")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, SettingsScreen)
    saved = store.settings
    assert (saved["mail_from"], saved["reply_to"], saved["public_url"]) == (
        "office@engines.de", "Support <help@engines.de>", "https://crm.engines.de")


async def test_the_settings_fit_an_80x24_terminal_with_their_keys_in_view(store):
    app = CustdeskApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("comma")
        await pilot.pause()
        app.screen.query_one("#public_url").focus()
        await pilot.pause()
        assert app.screen.query_one("#public_url").region.bottom <= 24
        assert app.screen.query_one(".hint").region.bottom <= 24


def test_every_setting_has_its_check():
    from store.model import DEFAULT_SETTINGS
    from store.rules.settings import CHECKS
    assert set(CHECKS) == set(DEFAULT_SETTINGS)

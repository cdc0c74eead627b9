"""Signed links (store.rules.links): what a customer's link names comes back only if the
link is ours, unchanged, for that purpose and not expired; the secret lives in the store."""
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store import Store
from store.rules.links import LinkRefused, sign, verify

SECRET = b"s" * 32


def test_a_link_names_what_it_was_signed_for():
    token = sign(SECRET, "unsubscribe", (12, 3))
    assert verify(SECRET, "unsubscribe", token) == ("12", "3")


def test_a_link_for_another_purpose_or_key_is_refused():
    token = sign(SECRET, "unsubscribe", (12, 3))
    with pytest.raises(LinkRefused, match="something else"):
        verify(SECRET, "account", token)
    with pytest.raises(LinkRefused, match="not one of ours"):
        verify(b"t" * 32, "unsubscribe", token)


def test_an_expired_link_is_refused_and_one_without_expiry_lasts():
    token = sign(SECRET, "confirm", (5,), ttl=60, now=1000)
    assert verify(SECRET, "confirm", token, now=1059) == ("5",)
    with pytest.raises(LinkRefused, match="expired"):
        verify(SECRET, "confirm", token, now=1061)
    assert verify(SECRET, "unsubscribe", sign(SECRET, "unsubscribe", (1,)), now=time.time() + 10 * 365 * 86400) == ("1",)


def test_a_changed_payload_is_refused():
    token = sign(SECRET, "unsubscribe", (12, 3))
    signature = token.partition(".")[2]
    forged = sign(SECRET, "unsubscribe", (13, 3)).partition(".")[0]
    with pytest.raises(LinkRefused):
        verify(SECRET, "unsubscribe", f"{forged}.{signature}")


@given(st.text(max_size=600))
def test_any_text_is_refused_in_one_line_never_a_crash(text):
    with pytest.raises(LinkRefused):
        verify(SECRET, "unsubscribe", text)


def test_the_store_keeps_its_secret_across_processes(tmp_path):
    path = tmp_path / "store.json"
    with Store(path, user="a") as first:
        token = first.sign_link("unsubscribe", 1, 2)
        assert "link_secret" not in first.settings
    with Store(path, user="b") as again:
        assert again.check_link("unsubscribe", token) == ("1", "2")

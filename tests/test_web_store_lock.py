"""`custdesk serve` facing the internet (issue 24): the store off the event loop. Settings
changed by another process show on the next page; while another process holds the
store's lock, pages stay fast and a sign-up is told the store is busy, its values kept."""
import subprocess
import sys
import time

from helpers import ROOT
from web_client import assert_whole, exchange, form, request

from store import Store
from web import signup


async def test_settings_changed_by_another_process_show_on_the_next_page(served, store_path):
    _server, port, _csrf = served
    assert "myself (private)" in (await exchange(port, request("GET", "/signup")))[2]
    with Store(store_path) as other:
        other.update_settings(allow_private_customers=False, shop_name="Kahve Evi")
    page = (await exchange(port, request("GET", "/signup")))[2]
    assert "Sign up with Kahve Evi" in page and "myself (private)" not in page


HOLD = """
import sys, time
from store import Store
with Store(sys.argv[1]) as store, store.reserved():
    store.update_settings(shop_name="Renamed While Busy")
    print("held", flush=True)
    sys.stdin.readline()
"""


async def test_while_another_process_holds_the_lock_pages_stay_fast_and_a_sign_up_is_told_busy(
        served, store, store_path, monkeypatch):
    monkeypatch.setattr(signup, "STORE_WAIT", 1.0)
    _server, port, csrf = served
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store_path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        status, _headers, page = await exchange(port, request("GET", "/signup"))
        assert status == 200 and time.monotonic() - started < 0.5
        assert "Sign up with custdesk" in page  # the settings as last known: the new ones are behind the lock
        body, email = form(csrf)
        started = time.monotonic()
        status, headers, page = await exchange(port, request("POST", "/signup", body))
        waited = time.monotonic() - started
        assert status == 503 and headers["retry-after"] == str(signup.RETRY_AFTER) and 1.0 <= waited < 3
        assert "busy" in page and 'value="İstanbul"' in page  # the values kept for the next press
        assert (await exchange(port, request("GET", "/signup")))[0] == 200  # the worker is free again
    finally:
        holder.communicate("\n", timeout=20)
    status, _headers, page = await exchange(port, request("POST", "/signup", body))
    assert status == 200 and "Renamed While Busy" in page
    assert_whole(store, email)

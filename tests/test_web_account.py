"""Self-service by signed link (issue 29), over HTTP on 127.0.0.1: asking for a link says
the same for any address, the mailed link shows the person's data, corrects it under the
store's rules (journaled as the customer), downloads it and queues an erasure request,
which is done once staff obfuscate the customer or delete the prospect."""
import email
import json
import re
from email import policy
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from outreach.transports import Outbox
from store.domain.self_service import SELF_SERVICE
from web import signup
from web.mailer import Mailer
from web.server import CustdeskServer


@pytest.fixture
async def client(store_path, store, tmp_path):
    server = CustdeskServer(store_path, store, mailer=Mailer(Outbox(tmp_path / "outbox", create=True), "an outbox"))
    test_server = TestServer(await server._make_app(), host="127.0.0.1")
    await test_server.start_server()
    try:
        async with ClientSession(str(test_server.make_url(""))) as session:
            yield session
    finally:
        await test_server.close()


@pytest.fixture
def ada(store):
    return store.add_customer("corporate", {"company": "Analytical Engines", "first_name": "Ada", "last_name": "Lovelace",
                                            "email": "ada@example.com", "city": "London", "country": "GB"})


async def _csrf(client, path: str) -> str:
    page = await (await client.get(path)).text()
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


async def _mailed_account_link(client, outbox: Path, address: str) -> str:
    answer = await client.post("/account", data={"email": address, "csrf": await _csrf(client, "/account")})
    assert answer.status == 200 and "If we hold this address" in await answer.text()
    (sent,) = outbox.glob("account-*.eml")
    message = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
    assert message["To"] == address
    return re.search(r"https?://\S+(/account/\S+)", message.get_content()).group(1)


async def test_asking_for_a_link_says_the_same_whether_or_not_the_address_is_known(client, ada, tmp_path):
    unknown = await client.post("/account", data={"email": "nobody@example.com", "csrf": await _csrf(client, "/account")})
    assert unknown.status == 200 and "If we hold this address" in await unknown.text()
    assert list((tmp_path / "outbox").glob("*.eml")) == []
    assert (await client.post("/account", data={"email": "ada@example.com"})).status == 403  # no form token


async def test_a_customer_corrects_downloads_and_asks_to_be_erased_through_the_link(client, store, ada, tmp_path):
    path = await _mailed_account_link(client, tmp_path / "outbox", "ada@example.com")
    page = await (await client.get(path)).text()
    assert 'value="Lovelace"' in page and "Customer number" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name, *_ in signup.FIELDS}
    refused = await client.post(path, data={**fields, "email": "ada@", "csrf": csrf})  # the store's rules hold
    text = await refused.text()
    assert refused.status == 422 and 'id="email-error"' in text and "<title>Error: " in text
    saved = await client.post(path, data={**fields, "city": "Cambridge", "email_marketing": "yes", "csrf": csrf})
    assert saved.status == 200 and "Your changes are saved" in await saved.text()
    store.refresh()
    customer = store.customer(ada["id"])
    assert customer["city"] == "Cambridge"
    assert (customer["email_marketing"], customer.get("sms_marketing")) == (True, None)  # (SMS left unasked)
    assert customer["marketing_consent"]["email"]["source"] == "the customer's account page"
    entry = next(e for e in reversed(store.journal()) if e["action"] == "edit")
    assert entry["user"] == SELF_SERVICE
    assert next(e for e in store.journal() if e["action"] == "consent")["user"] == SELF_SERVICE
    download = await client.get(f"{path}/data.json")
    assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]
    data = json.loads(await download.text())
    assert data["kind"] == "customer" and data["record"]["city"] == "Cambridge"
    assert (await client.post(f"{path}/erase", data={})).status == 403  # the form's token is required
    asked = await client.post(f"{path}/erase", data={"csrf": csrf})
    assert asked.status == 200 and "We have your request" in await asked.text()
    await client.post(f"{path}/erase", data={"csrf": csrf})  # asked twice: queued once
    store.refresh()
    (request,) = store.erasure_requests()
    assert (request["table"], request["id"], request["done"]) == ("customers", ada["id"], False)
    store.obfuscate(ada["id"])  # staff's answer
    assert store.erasure_requests()[0]["done"] and store.erasure_requests(open_only=True) == []
    gone = await client.get(path)
    assert gone.status == 404  # the link shows nothing of the erased customer


async def test_a_prospect_corrects_its_sign_up_and_its_erasure_is_done_by_erasing_it(client, store, tmp_path):
    _outcome, prospect_id = store.sign_up("private", {"first_name": "Zeynep", "email": "z@example.com.tr", "consent": True})
    path = await _mailed_account_link(client, tmp_path / "outbox", "z@example.com.tr")
    page = await (await client.get(path)).text()
    assert 'value="Zeynep"' in page and "News and offers" not in page  # (a prospect holds no marketing answer to change)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name, *_ in signup.FIELDS}
    refused = await client.post(path, data={**fields, "email": "", "csrf": csrf})  # the prospect's rules: reachable
    assert refused.status == 422 and "<title>Error: " in await refused.text()
    saved = await client.post(path, data={**fields, "last_name": "Yıldız", "city": "İzmir", "csrf": csrf})
    assert saved.status == 200 and "Your changes are saved" in await saved.text()
    store.refresh()
    prospect = store.source(prospect_id)
    assert (prospect["last_name"], prospect["city"], prospect["email"]) == ("Yıldız", "İzmir", "z@example.com.tr")
    entry = next(e for e in reversed(store.journal()) if e["action"] == "edit_source")
    assert (entry["user"], entry["summary"]) == (SELF_SERVICE, f"Edited prospect #{prospect_id}")
    assert (await client.post(f"{path}/erase", data={"csrf": csrf})).status == 200
    store.refresh()
    assert store.erasure_requests(open_only=True)[0]["label"] == f"prospect #{prospect_id}"
    store.erase_prospect(prospect_id)  # staff's answer
    assert store.erasure_requests(open_only=True) == []
    assert (await client.get(path)).status == 404


async def test_a_changed_or_expired_account_link_is_refused(client, store, ada):
    expired = store.sign_link("account", "customers", ada["id"], ttl=-1)
    answer = await client.get(f"/account/{expired}")
    assert answer.status == 400 and "expired" in await answer.text()
    forged = store.sign_link("confirm", "customers", ada["id"])
    assert (await client.get(f"/account/{forged}/data.json")).status == 400

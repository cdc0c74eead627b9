"""One matcher everywhere (issue 25), at sign-up: someone the store likely holds already, but
by no shared email, phone or VAT id, is created as a new prospect all the same (the page
tells nobody anything) and the pair is queued for review with the sign-up's journal entry;
someone sharing a key whom the matcher tells apart (a household) is no longer taken for the
key's holder."""
from __future__ import annotations

import json
import threading

import pytest
from helpers import csrf, custdesk, signup_site

from store import Store
from store.domain import review_queue
from store.matching import REVIEW, RecordRef
from store.model import CONVERSATIONS, CUSTOMERS, SOURCES

JUERGEN = {"first_name": "Jürgen", "last_name": "Müller", "email": "jm@gmail.com", "phone": "+49 40 7654321",
           "street": "Hauptstraße 5", "postcode": "20095", "city": "Hamburg", "country": "DE"}
# Jürgen again, spelled without umlauts, with a new email and no phone: no key he shares.
JUERGEN_AGAIN = {"first_name": "Juergen", "last_name": "Mueller", "email": "juergen.mueller@web.de",
                 "street": "Hauptstr. 5", "postcode": "20095", "city": "Hamburg", "country": "DE"}
HANS = {"first_name": "Hans", "last_name": "Zwiebelhaus", "email": "hans@example.com", "phone": "030 1234567",
        "street": "Lindenweg 5", "postcode": "10115", "city": "Berlin", "country": "DE"}
# Hans's wife: the same surname, address and landline, another first name and email.
GRETA = {**HANS, "first_name": "Greta", "email": "greta@example.org"}
C1, C2 = RecordRef(CUSTOMERS, 1), RecordRef(CUSTOMERS, 2)


@pytest.fixture
def known(store: Store) -> Store:
    """Jürgen Müller (C1) and Hans Zwiebelhaus (C2), customers in Germany."""
    store.update_settings(default_country="DE")
    store.add_customer("private", JUERGEN)
    store.add_customer("private", HANS)
    return store


def sign_up(store: Store, person: dict) -> tuple[str, int]:
    return store.sign_up("private", {**person, "consent": True})


def test_someone_likely_known_is_created_and_queued_for_review(known):
    outcome, prospect = sign_up(known, JUERGEN_AGAIN)
    assert outcome == "new" and known.source(prospect)["email"] == "juergen.mueller@web.de"
    (queued,) = known.queued_pairs()
    (entry,) = known.journal(limit=1)
    assert (queued.pair.a, queued.pair.b) == (C1, RecordRef(SOURCES, prospect))
    assert queued.pair.score >= REVIEW and "same street and postcode" in queued.pair.reasons
    assert entry["summary"] == f"Sign-up of prospect #{prospect} through the web form, 1 likely duplicate(s) queued for review"
    assert queued.origin == f"{entry['summary']} (#{entry['id']})" and queued.label == f"sign-up #{entry['id']}"
    assert entry[review_queue.QUEUED][0][:4] == [SOURCES, prospect, CUSTOMERS, 1]
    assert known.children(1, CONVERSATIONS) == []  # Jürgen himself is told nothing of it


def test_the_queued_sign_up_comes_first_in_custdesk_duplicates(known, store_path):
    _outcome, prospect = sign_up(known, JUERGEN_AGAIN)
    first = json.loads(custdesk("--db", store_path, "duplicates", "--json").stdout)[0]
    assert (first["a"], first["b"]) == (known.record_name(C1), known.record_name(RecordRef(SOURCES, prospect)))
    assert first["queued"].startswith(f"Sign-up of prospect #{prospect} through the web form")


def test_an_email_phone_or_vat_id_the_store_holds_is_still_the_same_person(known):
    national = {**JUERGEN, "email": "juergen.mueller@web.de", "phone": "040 7654321"}  # his phone, written at home
    assert sign_up(known, national) == ("customer-again", 1)
    (talk,) = known.children(1, CONVERSATIONS)
    assert talk["subject"] == "Signed up again through the sign-up page"
    _outcome, prospect = sign_up(known, {"first_name": "Olga", "last_name": "Petrova", "email": "olga@example.ru"})
    assert sign_up(known, {"first_name": "Olga", "last_name": "Petrova", "email": "OLGA@example.ru"}) == (
        "prospect-again", prospect)
    assert [s["id"] for s in known.sources()] == [prospect] and known.queued_pairs() == []


def test_a_household_member_sharing_the_landline_is_a_new_prospect_queued_with_the_holder(known):
    outcome, prospect = sign_up(known, GRETA)
    assert outcome == "new" and known.source(prospect)["first_name"] == "Greta"  # her sign-up is not lost
    assert known.children(2, CONVERSATIONS) == []  # nor taken for Hans signing up again
    (queued,) = known.queued_pairs()  # a person looks: the matcher tells them apart, the phone is shared
    assert (queued.pair.a, queued.pair.b, queued.pair.reasons) == (C2, RecordRef(SOURCES, prospect), ("same phone",))


def test_a_stranger_is_created_with_nothing_queued(known):
    outcome, prospect = sign_up(known, {"first_name": "Mia", "last_name": "Nowak", "email": "mia@example.net"})
    assert outcome == "new" and known.queued_pairs() == []
    assert known.journal(limit=1)[0]["summary"] == f"Sign-up of prospect #{prospect} through the web form"


def test_discarding_the_new_prospect_drops_its_queued_pair(known):
    _outcome, prospect = sign_up(known, JUERGEN_AGAIN)
    assert len(known.queued_pairs()) == 1
    known.discard([prospect])
    assert known.queued_pairs() == []


def test_a_record_gone_while_the_matcher_looked_is_not_queued(known, store_path, monkeypatch):
    """The matcher looks before the store's lock: a record another process deletes meanwhile
    is left out of the queue."""
    looked = known._likely_same

    def then_deleted(prospect):
        found = looked(prospect)
        with Store(store_path, user="elsewhere") as other:
            other.delete(1)
        return found

    monkeypatch.setattr(known, "_likely_same", then_deleted)
    outcome, prospect = sign_up(known, JUERGEN_AGAIN)
    assert outcome == "new" and known.source(prospect)["last_name"] == "Mueller"
    assert known.queued_pairs() == [] and review_queue.QUEUED not in known.journal(limit=1)[0]


@pytest.fixture
async def site(known, store_path):
    async with signup_site(store_path, known) as pair:
        yield pair


async def test_the_sign_up_page_queues_a_likely_duplicate_and_thanks_as_ever(site, known):
    _server, client = site
    response = await client.post("/signup", data={**JUERGEN_AGAIN, "kind": "private", "consent": "yes",
                                                  "csrf": await csrf(client)})
    assert response.status == 200 and "Thank you" in await response.text()
    (prospect,) = known.sources()
    (queued,) = known.queued_pairs()
    assert (queued.pair.a, queued.pair.b) == (C1, RecordRef(SOURCES, prospect["id"]))
    assert queued.origin.startswith(f"Sign-up of prospect #{prospect['id']} through the web form")


async def test_the_matcher_reads_the_store_on_the_worker_before_the_server_listens(known, store_path, monkeypatch):
    prepare, seen = known.prepare_sign_ups, []

    def first_look():
        seen.append(threading.current_thread().name)
        prepare()

    monkeypatch.setattr(known, "prepare_sign_ups", first_look)
    async with signup_site(store_path, known) as (_server, client):
        assert len(seen) == 1 and seen[0].startswith("custdesk-store")  # once, on the store's worker, at start
        assert (await client.get("/signup")).status == 200 and len(seen) == 1  # a page does not look
        await client.post("/signup", data={**JUERGEN_AGAIN, "kind": "private", "consent": "yes",
                                           "csrf": await csrf(client)})
        assert len(seen) == 2 and len(known.queued_pairs()) == 1  # a sign-up looks again before the lock

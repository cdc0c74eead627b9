"""Each aggregate of `store.domain` built alone: from a `Session` on a store file and the
collaborators its constructor names, no `Store` around it. Each test runs one of its verbs
and checks what a store opened afresh then holds. And the `Store` facade that forwards to them."""
from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import company, person
from PIL import Image

from store import Batch, ConcurrentChange, RuleViolation, Store
from store.domain.batches import Batches
from store.domain.campaigns import Campaigns
from store.domain.customers import Customers
from store.domain.destructive import Destructive
from store.domain.distinct import Distinct
from store.domain.pictures import Pictures
from store.domain.reads import Reads
from store.domain.records import Records
from store.domain.related import Related
from store.domain.review_queue import ReviewQueue, queued_details
from store.domain.session import Session
from store.domain.signup import SignUps
from store.domain.sources import Sources
from store.domain.sync import Sync, SyncRecord
from store.matching import RecordRef
from store.model import CAMPAIGNS, CUSTOMERS, SOURCES
from store.store import StoreMatcher, forward

# Jürgen Müller, and Jürgen again spelled without umlauts at another email: no key shared.
JUERGEN = {"first_name": "Jürgen", "last_name": "Müller", "email": "jm@gmail.com", "phone": "+49 40 7654321",
           "street": "Hauptstraße 5", "postcode": "20095", "city": "Hamburg", "country": "DE"}
JUERGEN_AGAIN = {"first_name": "Juergen", "last_name": "Mueller", "email": "juergen.mueller@web.de",
                 "street": "Hauptstr. 5", "postcode": "20095", "city": "Hamburg", "country": "DE"}


def customers_of(session: Session) -> Customers:
    return Customers(session, Records(session))


@contextmanager
def matcher_of(path: Path | str) -> Iterator[StoreMatcher]:
    """The duplicate matcher, reading the store as another session of it opened now."""
    with Store(path, user="matcher") as other:
        yield StoreMatcher(other)


def test_a_session_journals_in_its_users_name_and_refuses_a_stale_copy(store_path):
    with Session(store_path, user="ann") as session:
        with session.db.transaction() as tx:
            session.write_entry(tx, "note", "Noted by hand")
        assert session.title == "custdesk.json" and session.where.endswith("custdesk.json")
    with Session(store_path, user="tester") as session:
        ada = customers_of(session).add_customer("private", person(1))
        with pytest.raises(ConcurrentChange, match="changed by someone else"), session.db.transaction() as tx:
            session.current(tx, ada["id"], expected_rev=ada["rev"] - 1)
    with Session(store_path, user="tester") as again:
        entries = Reads(again).journal()
        assert [(e["action"], e["user"]) for e in entries] == [("add", "tester"), ("note", "ann")]


def test_records_numbers_and_inserts_a_customer_in_the_callers_transaction(store_path):
    with Session(store_path, user="tester") as session:
        records = Records(session)
        with session.db.transaction() as tx:
            first, _doc = records.new_customer(tx, "private", person(1))
            second, _doc = records.new_customer(tx, "private", {**person(2), "number": "c-77"})
        with pytest.raises(RuleViolation, match="kind must be corporate or private"):
            records.check_customer("partner", person(3))
    with Session(store_path, user="tester") as again:
        assert (again.customer(first)["number"], again.customer(second)["number"]) == ("C-000001", "C-77")


def test_pictures_sets_a_customers_picture(store_path, tmp_path):
    image, out = Image.new("RGB", (40, 30), (10, 200, 10)), io.BytesIO()
    image.save(out, format="PNG")
    (tmp_path / "me.png").write_bytes(out.getvalue())
    with Session(store_path, user="tester") as session:
        ada = customers_of(session).add_customer("private", person(1))
        Pictures(session).set_picture(ada["id"], tmp_path / "me.png")
    with Session(store_path, user="tester") as again:
        shown = Pictures(again).picture(ada["id"])
        assert shown is not None and shown[1] == "image/png"
        assert Image.open(io.BytesIO(shown[0])).size == (40, 30)
        assert Pictures(again).picture_names() == {again.customer(ada["id"])["picture"]}


def test_distinct_remembers_a_pair_said_not_duplicates(store_path):
    with Session(store_path, user="tester") as session:
        customers = customers_of(session)
        a, b = (customers.add_customer("private", person(n))["id"] for n in (1, 2))
        Distinct(session).mark_distinct(RecordRef(CUSTOMERS, a), RecordRef(CUSTOMERS, b))
    with Session(store_path, user="tester") as again:
        assert Distinct(again).distinct_pairs() == {frozenset((RecordRef(CUSTOMERS, a), RecordRef(CUSTOMERS, b)))}


def test_customers_adds_and_deactivates(store_path):
    with Session(store_path, user="tester") as session:
        customers = customers_of(session)
        ada = customers.add_customer("private", person(1))
        assert customers.deactivate([ada["id"]]) == 1
    with Session(store_path, user="tester") as again:
        stored = again.customer(ada["id"])
        assert (stored["number"], stored["active"]) == ("C-000001", False) and stored["deactivated_at"]


def test_sources_activates_a_prospect_into_a_customer(store_path):
    with Session(store_path, user="tester") as session, matcher_of(store_path) as matcher:
        sources = Sources(session, Records(session), Distinct(session), matcher)
        prospect = sources.add_source({**person(1), "origin": {"file": "leads.csv", "row": 2}})
        customer = sources.activate(prospect["id"], "private", {"city": "London"})
    with Session(store_path, user="tester") as again:
        assert not again.has_source(prospect["id"])
        stored = again.customer(customer["id"])
        assert (stored["city"], stored["origin"]) == ("London", {"file": "leads.csv", "row": 2})


def test_related_adds_an_order_and_changes_its_status(store_path):
    with Session(store_path, user="tester") as session:
        ada = customers_of(session).add_customer("corporate", company(1))
        related = Related(session, Records(session))
        order = related.add_related("orders", ada["id"], {"title": "Engine"})
        related.set_status("orders", order["id"], "shipped")
    with Session(store_path, user="tester") as again:
        (stored,) = again.children(ada["id"], "orders")
        assert (stored["number"], stored["status"], stored["title"]) == ("O-000001", "shipped", "Engine")


def test_destructive_merges_and_undoes(store_path):
    with Session(store_path, user="tester") as session:
        records = Records(session)
        customers = Customers(session, records)
        keep, other = (customers.add_customer("corporate", company(n)) for n in (1, 2))
        Related(session, records).add_related("orders", other["id"], {"title": "Engine"})
        destructive = Destructive(session, records, Pictures(session))
        destructive.merge_into(keep["id"], other["id"])
    with Session(store_path, user="tester") as again:
        assert not again.has_customer(other["id"])
        assert [o["title"] for o in again.children(keep["id"], "orders")] == ["Engine"]
        Destructive(again, Records(again), Pictures(again)).undo()
    with Session(store_path, user="tester") as after_undo:
        assert after_undo.has_customer(other["id"])
        assert [o["title"] for o in after_undo.children(other["id"], "orders")] == ["Engine"]


def test_review_queue_lists_a_queued_pair_until_distinct_says_otherwise(store_path):
    with Session(store_path, user="tester") as session:
        customers = customers_of(session)
        a, b = (customers.add_customer("private", person(n))["id"] for n in (1, 2))
        with session.db.transaction() as tx:
            entry = session.write_entry(tx, "import", "Imported 1", details=queued_details(
                [(CUSTOMERS, b, CUSTOMERS, a, 0.9, ("same name",))]))
    with Session(store_path, user="tester") as again:
        distinct = Distinct(again)
        (queued,) = ReviewQueue(again, distinct).queued_pairs()
        assert (queued.pair.a, queued.pair.b, queued.label) == (RecordRef(CUSTOMERS, a), RecordRef(CUSTOMERS, b),
                                                                  f"import #{entry['id']}")
        distinct.mark_distinct(queued.pair.a, queued.pair.b)
    with Session(store_path, user="tester") as after:
        assert ReviewQueue(after, Distinct(after)).queued_pairs() == []


def test_batches_commits_many_creates_at_once(store_path):
    with Session(store_path, user="tester") as session:
        entry = Batches(session, Records(session)).apply_batch(Batch("private", creates=[person(1), person(2)]))
    with Session(store_path, user="tester") as again:
        reads = Reads(again)
        assert sorted(c["number"] for c in reads.customers()) == ["C-000001", "C-000002"]
        assert reads.journal(limit=1)[0]["id"] == entry["id"] and entry["action"] == "import"


def test_campaigns_sends_and_finishes(store_path):
    with Session(store_path, user="tester") as session:
        ada = customers_of(session).add_customer("private", person(1))
        campaigns = Campaigns(session)
        campaigns.save_template("welcome", "email", "Hello", "Hi {{ customer.first_name }}")
        campaign = campaigns.start_campaign("welcome", [ada["id"]])
        campaigns.record_sent(campaign["id"], ada["id"], "Hello", "Hi Ada1")
        campaigns.finish_campaign(campaign["id"], {"sent": 1})
    with Session(store_path, user="tester") as again:
        stored = again.db.tables[CAMPAIGNS][campaign["id"]]
        assert (stored["status"], stored["summary"]) == ("done", {"sent": 1})
        assert Campaigns(again).delivered(campaign["id"]) == {ada["id"]}


def test_sync_creates_a_prospect_per_new_accounting_record(store_path):
    record = SyncRecord("10001", "private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}, 2)
    with Session(store_path, user="tester") as session, matcher_of(store_path) as matcher:
        report = Sync(session, Records(session), matcher).sync("xero", "Contacts.csv", "d1", [record], ids_issued=True)
        assert (report.created, report.errors) == (1, [])
    with Session(store_path, user="tester") as again:
        (prospect,) = Reads(again).sources()
        assert (prospect["external_id"], prospect["origin"]["profile"]) == ("10001", "xero")
        with matcher_of(store_path) as matcher:
            (run,) = Sync(again, Records(again), matcher).sync_runs()
        assert run["id"] == report.entry_id and run["digest"] == "d1"


def test_sign_ups_queue_someone_the_matcher_finds_likely_known(store_path):
    with Session(store_path, user="tester") as session:
        customers = customers_of(session)
        customers.update_settings(default_country="DE")
        juergen = customers.add_customer("private", JUERGEN)
        with matcher_of(store_path) as matcher:
            outcome, prospect = SignUps(session, Records(session), matcher).sign_up("private", {**JUERGEN_AGAIN, "consent": True})
    assert outcome == "new"
    with Session(store_path, user="tester") as again:
        assert again.source(prospect)["email"] == "juergen.mueller@web.de"
        (queued,) = ReviewQueue(again, Distinct(again)).queued_pairs()
        assert (queued.pair.a, queued.pair.b) == (RecordRef(CUSTOMERS, juergen["id"]), RecordRef(SOURCES, prospect))


def test_reads_counts_and_finds(store_path):
    with Session(store_path, user="tester") as session:
        customers = customers_of(session)
        customers.add_customer("private", person(1))
        customers.add_customer("corporate", company(2))
    with Session(store_path, user="tester") as again:
        reads = Reads(again)
        assert reads.stats()["customers"] == 2 and reads.customer_count() == 2
        assert [c["number"] for c in reads.find(CUSTOMERS, "email", "ADA1@example.com")] == ["C-000001"]


# -- the facade -------------------------------------------------------------------------
def test_the_store_forwards_each_verb_to_its_part(store_path):
    with Store(store_path, user="tester") as store:
        assert store.add_customer.__self__ is store.parts.customers
        assert store.settings == store.parts.session.settings and store.user == "tester"
        ada = store.add_customer("private", person(1))
        assert Store.customer(store, ada["id"])["number"] == "C-000001"  # read from the class, as a test's patch does


def test_a_verb_replaced_on_the_store_is_what_its_part_calls(store_path, monkeypatch):
    with Store(store_path, user="tester") as store:
        checked: list[object] = []
        real = store.check_source
        monkeypatch.setattr(store, "check_source", lambda fields: checked.append(fields["external_id"]) or real(fields))
        record = SyncRecord("7", "private", {"first_name": "Ada", "email": "ada@example.com"}, 2)
        store.sync("xero", "Contacts.csv", "d1", [record], ids_issued=True)
        assert checked and set(checked) == {"7"}  # Sync's own check went through the replacement


def test_a_forwarded_verb_keeps_its_name():
    with pytest.raises((TypeError, RuntimeError)) as raised:  # (Python 3.11 wraps what __set_name__ raises)
        type("Renamed", (), {"add": forward(Related.add_related)})
    assert "Renamed.add forwards related.add_related: a forwarded member keeps its name" in str(raised.value.__cause__ or raised.value)

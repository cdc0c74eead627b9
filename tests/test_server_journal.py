"""A server session's journal is read when first needed, then held as JSON text, each entry
parsed when read (`Schema.read_when_needed`): it grows with every commit, and read whole at
each open it took 51 MB a session and 0.2 s at 25,000 entries. A customer's history parses
the entries whose text may name it."""
from __future__ import annotations

from helpers import person

from store import Store
from store.domain import journal
from store.engine import containing
from store.model import JOURNAL

# Customers whose ids' digits no date, time or small count in an entry holds.
ADA, GRACE = 88, 89


def _untimed(field: str, *values: object) -> tuple[object, ...]:
    """Values, a moment's told only as being there (two stores, two moments)."""
    return tuple(value is not None if field.endswith("_at") else value for value in values)


def _journal(store: Store):
    return store.parts.session.db.tables[JOURNAL]


def _history(store: Store, customer_id: int) -> list[tuple]:
    return [(e["action"], e["what"], [(c["field"], *_untimed(c["field"], c["old"], c["new"])) for c in e["changes"]])
            for e in store.history(customer_id)]


def test_the_journal_is_read_when_needed_and_a_customers_history_is_the_same(pg_database, tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "LIST_CUSTOMERS_UP_TO", 50)  # (the tag of all 90 lists none: its runs name them)
    histories = []
    for where in (pg_database, tmp_path / "same.json"):
        server = where == pg_database
        with Store(where, user="clerk") as store:
            for n in range(GRACE):
                store.add_customer("private", person(n))
            for n in range(12):
                store.edit_customer(GRACE, {"city": f"Köln {n}"})
            store.edit_customer(ADA, {"city": "İzmir"})
            store.set_tags(range(1, GRACE + 1), add=["messe"])
            store.deactivate([ADA])
        with Store(where, user="next") as session:
            session.edit_customer(ADA, {"city": "Lyon"})  # (a write: the entry added, none read)
            assert not server or not _journal(session).text_read
            histories.append(_history(session, ADA))
            if server:  # the scan read the text once; Grace's twelve edits were not parsed for Ada's history
                rows = _journal(session)
                assert rows.text_read
                graces = [i for i, entry in rows.items() if entry.get("customer_ids") == [GRACE] and entry["action"] == "edit"]
                parsed = containing(rows, (str(ADA), '"changes"', '"patches"'), lacking=(r'"customer_ids":\s*\[',))
                assert len(graces) == 12 and not set(graces) & set(parsed)
                with Store(where, user="other") as other:
                    other.edit_customer(ADA, {"city": "Sevilla"})
                session.refresh()
                assert session.history(ADA)[-1]["changes"][0]["new"] == "Sevilla"
                assert [e["action"] for e in session.log(limit=2)] == ["edit", "edit"]
    assert histories[0] == histories[1]
    assert [action for action, *_ in histories[0]] == ["add", "edit", "tag", "deactivate", "edit"]


def test_a_journal_read_as_text_takes_its_new_entries_in(pg_database, monkeypatch):
    """Entries written after the text was read are folded into it (`Table.fold`), and read
    back the same."""
    from store.engine.postgres import backend

    monkeypatch.setattr(backend, "FOLD_WRITTEN", 2)
    with Store(pg_database) as store:
        ada = store.add_customer("private", person(1))
        assert [e["action"] for e in store.history(ada["id"])] == ["add"]  # (the text read)
        for n in range(5):
            store.edit_customer(ada["id"], {"city": f"Köln {n}"})
        assert _journal(store).text_read and _journal(store).written_count() <= 2
        assert [e["changes"][0]["new"] for e in store.history(ada["id"])[1:]] == [f"Köln {n}" for n in range(5)]
        assert [e["action"] for e in store.log(limit=3)] == ["edit"] * 3


def test_a_customer_is_found_by_its_number_through_the_servers_index(pg_database):
    """`custdesk history NUMBER`: at 10,000,000 customers every number was read (29 s, 4.4 GB)."""
    from store.domain.history import History
    from store.domain.reads import SessionJournal
    from store.model import CUSTOMERS

    with Store(pg_database) as store:
        ada = store.add_customer("private", person(1))
        gone = store.add_customer("private", person(2))
        store.delete(gone["id"])
    with Store(pg_database) as session:
        history = History(SessionJournal(session.parts.session))
        assert history.customer_id(ada["number"]) == ada["id"]
        assert history.customer_id(gone["number"]) == gone["id"]  # (gone: named by the journal)
        customers = session.parts.session.db.tables[CUSTOMERS]
        assert not customers.text_read and customers.__dict__["_columns"] is None


def test_campaigns_are_read_when_needed(pg_database):
    """A campaign names every customer it goes to (100,000 on a newsletter): read at each
    open, every session held each one's list."""
    from store.model import CAMPAIGNS

    with Store(pg_database) as store:
        ids = [store.add_customer("private", person(n))["id"] for n in range(3)]
        store.save_template("welcome", "email", "Hello", "Hi {{ customer.first_name }}")
        started = store.start_campaign("welcome", ids)
    with Store(pg_database) as session:
        campaigns = session.parts.session.db.tables[CAMPAIGNS]
        assert session.campaign(started["id"])["recipients"] == ids and not campaigns.text_read  # (read alone)
        session.finish_campaign(started["id"], {"sent": 3})
        assert session.campaign(started["id"])["status"] != "sending"
    with Store(pg_database) as again:
        assert again.campaign(started["id"])["summary"] == {"sent": 3}


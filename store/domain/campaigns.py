"""Message templates and campaigns: what was sent to whom."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import polars as pl

from store.base.errors import NotFound
from store.domain import journal
from store.domain.session import Session, private_fields, public
from store.model import CAMPAIGNS, CONVERSATIONS, CUSTOMERS, TEMPLATES, CampaignStatus, Channel, Customer
from store.rules.reach import skip_reason
from store.views.query import Query

# Customers read at a time for a send: a campaign holds a chunk of them, however many it reaches.
CHUNK = 2_000
# (`ServerRows.ids`' cap when every customer the filters select is wanted)
EVERY_ROW = 2**62


class Sent(NamedTuple):
    """One message a transport took: whom, and what it said."""

    customer_id: int
    subject: str | None
    body: str


def status_after(summary: Mapping[str, Any]) -> CampaignStatus:
    """A finished send's status: done, or interrupted (stopped, or some messages failed) and
    resumable."""
    return "interrupted" if summary.get("stopped") or summary.get("failed") else "done"


class Campaigns:
    """Message templates and the campaigns that send them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def audience(self, *, tag: str | None = None, kind: str | None = None, active_only: bool = False) -> list[int]:
        """The customers a campaign to this tag and kind goes to, in id order (inactive ones
        are left out with `active_only`; else they are listed and skipped when sending): on a
        server, selected there, as the customer table's filters are."""
        query = Query(tag=tag or None, kind=kind or None, active=True if active_only else None)
        reads = self.session.page_reads()
        if reads is not None:
            from store.views.served import ServerRows  # (psycopg: only where the store is on a server)

            return cast(list[int], ServerRows(reads).ids(query, cap=EVERY_ROW))
        frame = self.session.frame(CUSTOMERS)
        conditions = [pl.col("tags").list.contains(query.tag)] if query.tag else []
        conditions += [pl.col("kind") == query.kind] if query.kind else []
        conditions += [pl.col("active")] if query.active else []
        return frame.filter(*conditions)["id"].to_list() if conditions else frame["id"].to_list()

    def recipients(self, channel: Channel, customer_ids: Sequence[int]) -> tuple[list[Customer], list[dict[str, str]]]:
        """The customers who can get a message on this channel, and the skipped ones with the
        reason; read `CHUNK` at a time, and those that no longer exist left out."""
        reachable: list[Customer] = []
        skipped: list[dict[str, str]] = []
        for start in range(0, len(customer_ids), CHUNK):
            for customer in self.session.customers_of(customer_ids[start:start + CHUNK]):
                reason = skip_reason(customer, channel)
                if reason:
                    skipped.append({"number": customer["number"], "reason": reason})
                else:
                    reachable.append(customer)
        return reachable, skipped

    def reachable(self, channel: Channel, customer_ids: Sequence[int]) -> tuple[list[int], list[dict[str, str]]]:
        """`recipients`' answer as the ids of the customers it reaches, none held: read and
        judged `CHUNK` at a time (100,000 chosen of ten million on a server: 1.3 s, 14 MB;
        holding the 90,000 reached, 128 MB)."""
        ids: list[int] = []
        skipped: list[dict[str, str]] = []
        for start in range(0, len(customer_ids), CHUNK):
            reached, passed = self.recipients(channel, customer_ids[start:start + CHUNK])
            ids += [customer["id"] for customer in reached]
            skipped += passed
        return ids, skipped

    def templates(self) -> list[dict[str, Any]]:
        return sorted((public(i, d) for i, d in self.session.db.tables[TEMPLATES].items()), key=lambda t: t["name"].lower())

    def template(self, name: str) -> dict[str, Any]:
        for template in self.templates():
            if template["name"] == name:
                return template
        raise NotFound(f"no template named '{name}'")

    def save_template(self, name: str, channel: str, subject: str | None, body: str, html: str | None = None) -> dict[str, Any]:
        """Add a template, or replace the one of that name; refused if a part does not render."""
        from store.rules.messages import check_template  # Jinja2: loaded when a template is first saved

        doc = check_template(name, channel, subject, body, html)
        with self.session.db.transaction() as tx:
            existing = [i for i, t in self.session.db.tables[TEMPLATES].items() if t["name"] == doc["name"]]
            if existing:
                tx.put(TEMPLATES, existing[0], doc)
            else:
                tx.insert(TEMPLATES, doc)
            self.session.write_entry(tx, "template", f"Saved {channel} template '{doc['name']}'")
        return self.template(doc["name"])

    def remove_template(self, name: str) -> None:
        template = self.template(name)
        with self.session.db.transaction() as tx:
            tx.delete(TEMPLATES, template["id"])
            self.session.write_entry(tx, "template", f"Removed template '{name}'")

    def start_campaign(self, template_name: str, customer_ids: Iterable[int]) -> dict[str, Any]:
        """A named send of one template to these customers, resumable by its id."""
        template = self.template(template_name)
        status: CampaignStatus = "sending"
        with self.session.db.transaction() as tx:
            doc = {"template": template["name"], "channel": template["channel"], "recipients": list(customer_ids),
                   "created_at": journal.now(), "user": self.session.user, "status": status}
            campaign_id = tx.insert(CAMPAIGNS, doc)
            self.session.write_entry(tx, "campaign", f"Started campaign #{campaign_id}: '{template['name']}' "
                                                     f"to {len(doc['recipients'])} customer(s)")
        return self.campaign(campaign_id)

    def campaign(self, campaign_id: int) -> dict[str, Any]:
        doc = self.session.db.tables[CAMPAIGNS].get(campaign_id)
        if doc is None:
            raise NotFound(f"no campaign #{campaign_id}")
        return public(campaign_id, doc)

    def delivered(self, campaign_id: int) -> set[int]:
        """The customers the campaign has reached: those with a conversation from it."""
        conversations = self.session.db.ids_holding(CONVERSATIONS, "campaign", [campaign_id])
        return set(self.session.frame(CONVERSATIONS, conversations)["customer_id"].to_list()) if conversations else set()

    def record_sent(self, campaign_id: int, customer_id: int, subject: str | None, body: str) -> None:
        """Log one delivered message in the customer's conversations, durably, at once."""
        self.record_sent_many(campaign_id, [Sent(customer_id, subject, body)])

    def record_sent_many(self, campaign_id: int, sent: Iterable[Sent]) -> None:
        """Log delivered messages in their customers' conversations, in one commit: a store
        commit is what a message cost when each had its own."""
        campaign = self.campaign(campaign_id)
        at = journal.now()
        with self.session.db.transaction() as tx:
            for customer_id, subject, body in sent:
                tx.insert(CONVERSATIONS, {"customer_id": customer_id, "at": at, "channel": campaign["channel"],
                                          "direction": "out", "subject": subject, "body": body,
                                          "template": campaign["template"], "campaign": campaign_id})

    def finish_campaign(self, campaign_id: int, summary: dict[str, Any]) -> dict[str, Any]:
        campaign = self.campaign(campaign_id)
        with self.session.db.transaction() as tx:
            tx.put(CAMPAIGNS, campaign_id, {**private_fields(campaign), "status": status_after(summary),
                                            "summary": summary, "finished_at": journal.now()})
            self.session.write_entry(tx, "campaign", f"Campaign #{campaign_id}: {summary.get('sent', 0)} sent, "
                                     f"{len(summary.get('skipped', []))} skipped, {len(summary.get('failed', []))} failed"
                                     + (f", stopped: {summary['stopped']}" if summary.get("stopped") else ""))
        return self.campaign(campaign_id)

"""Bulk email and SMS: render, deliver through SMTP or into an outbox, log, resume.

Delivered messages are logged in their customers' conversations a batch at a
time (`BATCH_MESSAGES`, or what went out in `BATCH_SECONDS`), in one store
commit, after the transport made the batch durable (`Transport.flush`): an
outbox writes a batch under temporary names, syncs the file system once and
only then gives the files their names; an SMTP server has a message once it
answered 250 to its DATA. A campaign that stops half-way — the server died,
the send was cancelled — logs what went out before it stops; one that is
killed loses only the log of its last batch. Resumed by its id, it sends to
the customers not logged yet: an outbox had not named their files (a file
written again under the same name would be harmless too); through SMTP the
last batch's customers get their message a second time, with the same
Message-ID (derived from the campaign and the customer), so a receiving
system can recognise the repeat. `BATCH_SECONDS` bounds those repeats to the
messages of one second.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from outreach.sender import Sender
from outreach.transports import Outgoing, RecipientRefused, Transport, TransportDown
from store import Store
from store.domain import campaigns
from store.domain.campaigns import Sent
from store.model import Channel, Customer
from store.rules.messages import TemplateRefused, render
from store.rules.reach import address_for, skip_reason

Progress = Callable[[int, int], None]

BATCH_MESSAGES = 500
BATCH_SECONDS = 1.0


@dataclass
class CampaignReport:
    campaign_id: int | None
    sent: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # number, reason
    failed: list[dict[str, Any]] = field(default_factory=list)  # number, reason
    already: int = 0  # reached by an earlier run of the same campaign
    stopped: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed, "already": self.already,
                "stopped": self.stopped}


def skipped_by_reason(skipped: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """How many customers were skipped for each reason, the most frequent first."""
    return Counter(s["reason"] for s in skipped).most_common()


def message_for(store: Store, template: Mapping[str, Any], customer: Mapping[str, Any], campaign_id: int = 0,
                sender: Sender | None = None) -> Outgoing:
    """One customer's message; TemplateRefused when it cannot be rendered (an SMS too long)
    or has nowhere to go. A campaign's email carries its signed unsubscribe links; its
    `sender` is the settings' unless given (once for a whole campaign)."""
    channel = template["channel"]
    address = address_for(customer, channel)
    if address is None:
        raise TemplateRefused(skip_reason(customer, channel) or "no address")
    token = store.sign_link("unsubscribe", customer["id"], campaign_id) if campaign_id and channel == "email" else None
    return Outgoing(campaign_id, customer, address, render(template, customer), sender or Sender.of(store.settings), token)


def preview(store: Store, template_name: str, customer_ids: list[int]) -> tuple[list[Outgoing], list[dict[str, Any]]]:
    """Every message as it would go out, and the customers skipped with the reason (a dry run)."""
    report = CampaignReport(None)
    return list(outgoing(store, template_name, customer_ids, report)), report.skipped


def outgoing(store: Store, template_name: str, customer_ids: list[int], report: CampaignReport) -> Iterator[Outgoing]:
    """Every message as it would go out, its customers read a chunk at a time (a dry run of a
    million holds none of them); the customers skipped added to the report with the reason."""
    template = store.template(template_name)
    for _done, customer in _reachable(store, template["channel"], customer_ids, report):
        try:
            yield message_for(store, template, customer)
        except TemplateRefused as err:
            report.skipped.append({"number": customer["number"], "reason": str(err)})


def _reachable(store: Store, channel: Channel, pending: list[int], report: CampaignReport) -> Iterator[tuple[int, Customer]]:
    """The pending customers who can get a message, each with how many of `pending` are dealt
    with once it is: read `campaigns.CHUNK` at a time (a campaign to millions holds a chunk),
    the skipped ones added to the report, those that no longer exist left out."""
    done = 0
    for start in range(0, len(pending), campaigns.CHUNK):
        chunk = pending[start:start + campaigns.CHUNK]
        reachable, skipped = store.recipients(channel, chunk)
        report.skipped += skipped
        done += len(chunk) - len(reachable)
        for customer in reachable:
            done += 1
            yield done, customer


class _Log:
    """The delivered messages not logged yet, made durable by the transport and then logged,
    a batch at a time (see the module's docstring)."""

    def __init__(self, store: Store, campaign_id: int, transport: Transport) -> None:
        self.store, self.campaign_id, self.transport = store, campaign_id, transport
        self.pending: list[Sent] = []
        self.logged = 0
        self.since = time.monotonic()

    def add(self, sent: Sent) -> None:
        self.pending.append(sent)
        if len(self.pending) >= BATCH_MESSAGES or time.monotonic() - self.since >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.transport.flush()
            self.store.record_sent_many(self.campaign_id, self.pending)
            self.logged += len(self.pending)
            self.pending = []
        self.since = time.monotonic()


def send_campaign(store: Store, campaign_id: int, transport: Transport, progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> CampaignReport:
    """Send (or go on sending) a campaign: each customer not reached yet gets one message,
    all through one transport (one SMTP connection while the server keeps it).
    `cancelled()` is asked before each message: when it says so, the campaign stops there,
    resumable like one whose server went away."""
    campaign = store.campaign(campaign_id)
    reached = store.delivered(campaign_id)
    report = CampaignReport(campaign_id, already=len(reached))
    pending = [i for i in campaign["recipients"] if i not in reached]
    template = store.template(campaign["template"])
    log = _Log(store, campaign_id, transport)
    sender = Sender.of(store.settings)
    try:
        for done, customer in _reachable(store, campaign["channel"], pending, report):
            if cancelled is not None and cancelled():
                report.stopped = "cancelled before every message was sent"
                break
            try:
                message = message_for(store, template, customer, campaign_id, sender)
            except TemplateRefused as err:
                report.skipped.append({"number": customer["number"], "reason": str(err)})
                continue
            try:
                transport.deliver(message, campaign["channel"])
            except RecipientRefused as err:
                report.failed.append({"number": customer["number"], "reason": str(err)})
                continue
            log.add(Sent(customer["id"], message.rendered.subject, message.rendered.body))
            if progress:
                progress(done, len(pending))
    except TransportDown as err:
        report.stopped = str(err)
    finally:
        try:
            log.flush()  # what went out is logged however the loop ended
        except TransportDown as err:  # (an outbox's last batch not made durable: not sent)
            report.stopped = report.stopped or str(err)
        finally:
            transport.close()
    report.sent = log.logged
    store.finish_campaign(campaign_id, report.summary())
    return report

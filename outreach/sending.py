"""Bulk email and SMS: render, deliver through SMTP or into an outbox, log, resume.

Each delivered message is logged in the customer's conversations in its own
commit right after the server (or the outbox) took it, so a campaign that
stops half-way — the SMTP server died, the process was killed — is resumed by
its id and sends only to the customers not reached yet. A message's
Message-ID is derived from the campaign and the customer, so a receiving
system can also recognise a repeat.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from outreach.transports import Outgoing, RecipientRefused, Transport, TransportDown
from store import Store
from store.rules.messages import TemplateRefused, render
from store.rules.reach import address_for, skip_reason

Progress = Callable[[int, int], None]


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


def message_for(store: Store, template: Mapping[str, Any], customer: Mapping[str, Any], campaign_id: int = 0) -> Outgoing:
    """One customer's message; TemplateRefused when it cannot be rendered (an SMS too long)
    or has nowhere to go."""
    address = address_for(customer, template["channel"])
    if address is None:
        raise TemplateRefused(skip_reason(customer, template["channel"]) or "no address")
    return Outgoing(campaign_id, customer, address, render(template, customer), store.settings["mail_from"])


def preview(store: Store, template_name: str, customer_ids: list[int]) -> tuple[list[Outgoing], list[dict[str, Any]]]:
    """Every message as it would go out, and the customers skipped with the reason (a dry run)."""
    template = store.template(template_name)
    reachable, skipped = store.recipients(template["channel"], customer_ids)
    outgoing = []
    for customer in reachable:
        try:
            outgoing.append(message_for(store, template, customer))
        except TemplateRefused as err:
            skipped.append({"number": customer["number"], "reason": str(err)})
    return outgoing, skipped


def send_campaign(store: Store, campaign_id: int, transport: Transport, progress: Progress | None = None,
                  cancelled: Callable[[], bool] | None = None) -> CampaignReport:
    """Send (or go on sending) a campaign: each customer not reached yet gets one message.
    `cancelled()` is asked before each message: when it says so, the campaign stops there,
    resumable like one whose server went away."""
    campaign = store.campaign(campaign_id)
    reached = store.delivered(campaign_id)
    report = CampaignReport(campaign_id, already=len(reached))
    pending = [i for i in campaign["recipients"] if i not in reached and store.has_customer(i)]
    template = store.template(campaign["template"])
    reachable, report.skipped = store.recipients(campaign["channel"], pending)
    try:
        for done, customer in enumerate(reachable, 1):
            if cancelled is not None and cancelled():
                report.stopped = "cancelled before every message was sent"
                break
            try:
                message = message_for(store, template, customer, campaign_id)
            except TemplateRefused as err:
                report.skipped.append({"number": customer["number"], "reason": str(err)})
                continue
            try:
                transport.deliver(message, campaign["channel"])
            except RecipientRefused as err:
                report.failed.append({"number": customer["number"], "reason": str(err)})
                continue
            store.record_sent(campaign_id, customer["id"], message.rendered.subject, message.rendered.body)
            report.sent += 1
            if progress:
                progress(done, len(reachable))
    except TransportDown as err:
        report.stopped = str(err)
    finally:
        transport.close()
    store.finish_campaign(campaign_id, report.summary())
    return report

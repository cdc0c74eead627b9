"""Bulk email and SMS: render, deliver through SMTP or into an outbox, log, resume.

Each delivered message is logged in the customer's conversations in its own
commit right after the server (or the outbox) took it, so a campaign that
stops half-way — the SMTP server died, the process was killed — is resumed by
its id and sends only to the customers not reached yet. A message's
Message-ID is derived from the campaign and the customer, so a receiving
system can also recognise a repeat.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Callable, Protocol

from store.errors import StoreError
from store.files import atomic_write_bytes
from store.rules.messages import Rendered, TemplateRefused, render
from store import Store

Progress = Callable[[int, int], None]


class TransportDown(StoreError):
    """The transport cannot take any more messages now (server gone, disk full)."""


class RecipientRefused(StoreError):
    """This one message was refused; the campaign goes on."""


@dataclass
class Outgoing:
    campaign_id: int
    customer: dict
    address: str
    rendered: Rendered
    sender: str

    @property
    def message_id(self) -> str:
        return f"<campaign-{self.campaign_id}.{self.customer['number']}@custdesk>"

    def email(self) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.address
        message["Subject"] = self.rendered.subject or ""
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = self.message_id
        message.set_content(self.rendered.body)
        if self.rendered.html:
            message.add_alternative(self.rendered.html, subtype="html")
        return message


class Transport(Protocol):
    def deliver(self, outgoing: Outgoing, channel: str) -> None: ...
    def close(self) -> None: ...


class Outbox:
    """Messages as files: `<campaign>-<number>.eml` (RFC 5322) or `.sms.txt` (number, blank line, text)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise StoreError(f"{self.folder}: the outbox folder does not exist")

    def deliver(self, outgoing: Outgoing, channel: str) -> None:
        stem = f"campaign-{outgoing.campaign_id}-{outgoing.customer['number']}"
        try:
            if channel == "sms":
                data = f"To: {outgoing.address}\n\n{outgoing.rendered.body}".encode("utf-8")
                atomic_write_bytes(self.folder / f"{stem}.sms.txt", data)
            else:
                atomic_write_bytes(self.folder / f"{stem}.eml", outgoing.email().as_bytes())
        except OSError as err:
            raise TransportDown(f"{self.folder}: cannot write ({err.strerror})") from None

    def close(self) -> None:
        pass


class Smtp:
    """An SMTP server, connected on first use and again after it went away."""

    def __init__(self, host: str, port: int, *, starttls: bool = False, user: str | None = None,
                 password: str | None = None, timeout: float = 20.0) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password, self.timeout = user, password, timeout
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._client is None:
            try:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password or "")
            except (OSError, smtplib.SMTPException) as err:
                raise TransportDown(f"SMTP {self.host}:{self.port}: {err}") from None
            self._client = client
        return self._client

    def deliver(self, outgoing: Outgoing, channel: str) -> None:
        if channel != "email":
            raise TransportDown("SMS cannot go through SMTP; write them to an outbox folder")
        client = self._connect()
        try:
            client.send_message(outgoing.email())
        except smtplib.SMTPRecipientsRefused as err:
            raise RecipientRefused(f"{outgoing.address}: refused by the server ({_first_reason(err)})") from None
        except smtplib.SMTPDataError as err:
            raise RecipientRefused(f"{outgoing.address}: message refused ({err.smtp_code} {err.smtp_error!r})") from None
        except (OSError, smtplib.SMTPException) as err:
            self._client = None
            raise TransportDown(f"SMTP {self.host}:{self.port}: {err or type(err).__name__}") from None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._client = None


def _first_reason(err: smtplib.SMTPRecipientsRefused) -> str:
    for code, text in err.recipients.values():
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    return "refused"


def address_for(customer: dict, channel: str) -> str | None:
    if channel == "sms":
        return customer.get("mobile") or customer.get("phone")
    return customer.get("email")


def skip_reason(customer: dict, channel: str) -> str | None:
    """Why this customer gets no message on this channel, or None."""
    if customer.get("obfuscated_at"):
        return "obfuscated"
    if not customer.get("active"):
        return "inactive"
    if not address_for(customer, channel):
        return "no phone number" if channel == "sms" else "no email address"
    return None


@dataclass
class CampaignReport:
    campaign_id: int | None
    sent: int = 0
    skipped: list[dict] = field(default_factory=list)  # number, reason
    failed: list[dict] = field(default_factory=list)  # number, reason
    already: int = 0  # reached by an earlier run of the same campaign
    stopped: str | None = None

    def summary(self) -> dict:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed, "already": self.already,
                "stopped": self.stopped}


def recipients(store: Store, channel: str, customer_ids: list[int]) -> tuple[list[dict], list[dict]]:
    """The customers who can get a message on this channel, and the skipped ones with the reason."""
    reachable, skipped = [], []
    for customer_id in customer_ids:
        customer = store.customer(customer_id)
        reason = skip_reason(customer, channel)
        if reason:
            skipped.append({"number": customer["number"], "reason": reason})
        else:
            reachable.append(customer)
    return reachable, skipped


def message_for(store: Store, template: dict, customer: dict, campaign_id: int = 0) -> Outgoing:
    """One customer's message; TemplateRefused when it cannot be rendered (an SMS too long)."""
    return Outgoing(campaign_id, customer, address_for(customer, template["channel"]), render(template, customer),
                    store.settings["mail_from"])


def preview(store: Store, template_name: str, customer_ids: list[int]) -> tuple[list[Outgoing], list[dict]]:
    """Every message as it would go out, and the customers skipped with the reason (a dry run)."""
    template = store.template(template_name)
    reachable, skipped = recipients(store, template["channel"], customer_ids)
    outgoing = []
    for customer in reachable:
        try:
            outgoing.append(message_for(store, template, customer))
        except TemplateRefused as err:
            skipped.append({"number": customer["number"], "reason": str(err)})
    return outgoing, skipped


def send_campaign(store: Store, campaign_id: int, transport: Transport, progress: Progress | None = None) -> CampaignReport:
    """Send (or go on sending) a campaign: each customer not reached yet gets one message."""
    campaign = store.campaign(campaign_id)
    reached = store.delivered(campaign_id)
    report = CampaignReport(campaign_id, already=len(reached))
    pending = [i for i in campaign["recipients"] if i not in reached and store.has_customer(i)]
    template = store.template(campaign["template"])
    reachable, report.skipped = recipients(store, campaign["channel"], pending)
    try:
        for done, customer in enumerate(reachable, 1):
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

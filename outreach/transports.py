"""Where campaign messages go: an SMTP server or an outbox folder, chosen by one spec.

A spec is what a user types, in the app's send prompt or as `mail send --smtp`
/ `--outbox`: `smtp://HOST:PORT` (or `HOST:PORT` after `--smtp`) or a folder.
STARTTLS is used on port 587 unless said otherwise; the SMTP user comes from
`--user` or CUSTDESK_SMTP_USER and the password only from
CUSTDESK_SMTP_PASSWORD, never from a command line others can read.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from outreach.sender import BUILD, WIRE, Sender
from store.base.errors import StoreError
from store.base.files import abandoned_temp_files, atomic_write_bytes, fsync_dir, write_temp
from store.model import Channel
from store.rules.messages import Rendered

SUBMISSION_PORT = 587


class TransportDown(StoreError):
    """The transport cannot take any more messages now (server gone, disk full)."""


class RecipientRefused(StoreError):
    """This one message was refused; the campaign goes on."""


@dataclass
class Outgoing:
    campaign_id: int
    customer: Mapping[str, Any]
    address: str
    rendered: Rendered
    sender: Sender
    unsubscribe: str | None = None  # the signed token of this customer's unsubscribe links (campaign email)

    @property
    def message_id(self) -> str:
        return f"<campaign-{self.campaign_id}.{self.customer['number']}@{self.sender.domain}>"

    @property
    def unsubscribe_url(self) -> str | None:
        """The one-click page (`serve`) of this customer and campaign, when the shop has a public address."""
        if self.unsubscribe is None or self.sender.public_url is None:
            return None
        return f"{self.sender.public_url}/unsubscribe/{self.unsubscribe}"

    def email(self) -> EmailMessage:
        message = EmailMessage(policy=BUILD)
        self.sender.stamp(message, self.address, self.rendered.subject or "", self.message_id)
        body, web = self.rendered.body, self.unsubscribe_url
        if self.unsubscribe is not None:
            ways = [f"<mailto:{self.sender.answers_to}?subject=unsubscribe%20{self.unsubscribe}>"]
            if web:
                ways.append(f"<{web}>")
            message["List-Unsubscribe"] = ", ".join(ways)
            if web and web.startswith("https://"):  # RFC 8058: one-click only over HTTPS
                message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if web:
            body = f"{body.rstrip(chr(10))}\n\n-- \nNo more of these emails: {web}\n"
        message.set_content(body)
        if self.rendered.html:
            message.add_alternative(self.rendered.html, subtype="html")
        message.policy = WIRE  # (the body is encoded under the default's lines of 76)
        return message


class Transport(Protocol):
    def deliver(self, outgoing: Outgoing, channel: Channel) -> None: ...
    def flush(self) -> None: ...  # every message delivered so far is durably out when it returns
    def send_email(self, message: EmailMessage, stem: str) -> None: ...
    def close(self) -> None: ...


class Outbox:
    """Messages as files: `<campaign>-<number>.eml` (RFC 5322) or `.sms.txt` (number, blank line, text)."""

    def __init__(self, folder: Path, *, create: bool = False) -> None:
        self.folder = Path(folder)
        if create and not self.check(self.folder):
            try:
                self.folder.mkdir(parents=True)
            except OSError as err:
                raise StoreError(f"{self.folder}: cannot create the outbox folder ({err.strerror})") from None
        if not self.folder.is_dir():
            raise StoreError(f"{self.folder}: the outbox folder does not exist")
        self.pending: list[tuple[Path, Path]] = []  # (written, its name once flushed)
        for stale in abandoned_temp_files(self.folder, "campaign-*"):  # a killed send's last batch: never a message
            stale.unlink(missing_ok=True)

    @staticmethod
    def check(folder: Path) -> bool:
        """Whether the outbox folder exists; if not, whether it could be made, without making it
        (a dry run refuses what the send would): StoreError when it could not."""
        if folder.is_dir():
            return True
        if folder.exists():
            raise StoreError(f"{folder}: is a file, not an outbox folder")
        ancestor = next(p for p in folder.absolute().parents if p.exists())
        if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
            raise StoreError(f"{folder}: cannot create the outbox folder ({ancestor} is not a folder one may write in)")
        return False

    def deliver(self, outgoing: Outgoing, channel: Channel) -> None:
        """Write the message under a temporary name; `flush` puts it in place."""
        stem = f"campaign-{outgoing.campaign_id}-{outgoing.customer['number']}"
        if channel == "sms":
            name, data = f"{stem}.sms.txt", f"To: {outgoing.address}\n\n{outgoing.rendered.body}".encode()
        else:
            name, data = f"{stem}.eml", outgoing.email().as_bytes()
        try:
            tmp = write_temp(self.folder / name, data)
        except OSError as err:
            raise TransportDown(f"{self.folder}: cannot write ({err.strerror})") from None
        self.pending.append((tmp, self.folder / name))

    def flush(self) -> None:
        """Make the messages written since the last flush durable, then give them their names:
        one sync of the file system for the batch (an fsync per file cost more than the rest of
        a send), so a reader of the folder and a crash only ever see whole messages."""
        if not self.pending:
            return
        try:
            sync_file_system(self.folder)
            for tmp, final in self.pending:
                os.replace(tmp, final)
            fsync_dir(self.folder)
        except OSError as err:
            raise TransportDown(f"{self.folder}: cannot write ({err.strerror})") from None
        finally:
            self.pending = [(tmp, final) for tmp, final in self.pending if tmp.exists()]

    def send_email(self, message: EmailMessage, stem: str) -> None:
        """One message that is no campaign's, as `<stem>.eml` (a stem names one file, no folder), at once."""
        if not stem or Path(stem).name != stem or stem.startswith("."):
            raise StoreError(f"'{stem}': an outbox file name is one plain name, without folders")
        try:
            atomic_write_bytes(self.folder / f"{stem}.eml", message.as_bytes())
        except OSError as err:
            raise TransportDown(f"{self.folder}: cannot write ({err.strerror})") from None

    def close(self) -> None:
        """Drop what was written and never flushed (a send that ended by an error): not a message."""
        for tmp, _ in self.pending:
            tmp.unlink(missing_ok=True)
        self.pending = []


def sync_file_system(folder: Path) -> None:
    """Write everything dirty on the file system of `folder` to the disk (Linux: syncfs, else sync)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "syncfs"):
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if libc.syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    finally:
        os.close(fd)


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

    def deliver(self, outgoing: Outgoing, channel: Channel) -> None:
        if channel != "email":
            raise TransportDown("SMS cannot go through SMTP; write them to an outbox folder")
        self._send(outgoing.email(), outgoing.address)

    def flush(self) -> None:
        """Nothing to do: a message is the server's once it answered 250 to its DATA."""

    def send_email(self, message: EmailMessage, stem: str) -> None:
        """One message that is no campaign's, through the same connection (`stem` names only outbox files)."""
        self._send(message, str(message["To"]))

    def _send(self, message: EmailMessage, address: str) -> None:
        client = self._connect()
        try:
            client.send_message(message)
        except smtplib.SMTPRecipientsRefused as err:
            raise RecipientRefused(f"{address}: refused by the server ({_first_reason(err)})") from None
        except smtplib.SMTPDataError as err:
            raise RecipientRefused(f"{address}: message refused ({err.smtp_code} {err.smtp_error!r})") from None
        except (OSError, smtplib.SMTPException) as err:
            self._client = None
            raise TransportDown(f"SMTP {self.host}:{self.port}: {err or type(err).__name__}") from None

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.quit()
            self._client = None


def _first_reason(err: smtplib.SMTPRecipientsRefused) -> str:
    for code, text in err.recipients.values():
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    return "refused"


def smtp_from_spec(spec: str, *, starttls: bool | None = None, user: str | None = None) -> Smtp:
    """An SMTP transport from `HOST:PORT` or `smtp://HOST:PORT`; a one-line refusal otherwise."""
    host, _, port = spec.removeprefix("smtp://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StoreError(f"'{spec}': write the SMTP server as HOST:PORT (e.g. mail.example.com:587)")
    return Smtp(host, int(port), starttls=int(port) == SUBMISSION_PORT if starttls is None else starttls,
                user=user or os.environ.get("CUSTDESK_SMTP_USER"), password=os.environ.get("CUSTDESK_SMTP_PASSWORD"))


def transport_for(spec: str) -> Transport:
    """The transport a typed spec names: `smtp://HOST:PORT`, else an outbox folder (created when missing)."""
    spec = spec.strip()
    if spec.startswith("smtp://"):
        return smtp_from_spec(spec)
    return Outbox(Path(spec).expanduser(), create=True)

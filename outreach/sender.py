"""Who a message is from, as the store's settings say: the headers every outgoing email shares."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from store.rules.emails import email_key


@dataclass(frozen=True)
class Sender:
    mail_from: str  # as stored: `Engines GmbH <office@engines.de>` or a bare address
    reply_to: str | None = None
    public_url: str | None = None  # where the web pages answer (one-click unsubscribe), no trailing /

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Sender:
        return cls(settings["mail_from"], settings.get("reply_to") or None, settings.get("public_url") or None)

    @property
    def domain(self) -> str:
        """The sender's own domain (IDNA form): Message-IDs are made on it, as mail providers expect."""
        return email_key(parseaddr(self.mail_from)[1]).rpartition("@")[2] or "localhost"

    @property
    def answers_to(self) -> str:
        """Where a reply (and a mailed unsubscribe) goes: Reply-To when set, else From."""
        return email_key(parseaddr(self.reply_to or self.mail_from)[1])

    def stamp(self, message: EmailMessage, to: str, subject: str, message_id: str) -> None:
        """The headers every message from this sender carries, in the usual order."""
        message["From"] = self.mail_from
        if self.reply_to:
            message["Reply-To"] = self.reply_to
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id

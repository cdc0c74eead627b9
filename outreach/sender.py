"""Who a message is from, as the store's settings say: the headers every outgoing email shares."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import cached_property
from typing import Any

from store.rules.emails import email_key


class _Headers(HeaderRegistry):
    """The stdlib's header registry, its classes made once: it makes a new class for every
    header it parses, a tenth of a campaign's time."""

    def __init__(self) -> None:
        super().__init__()
        self.made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if key not in self.made:
            self.made[key] = super().__getitem__(key)
        return self.made[key]


BUILD = policy.default.clone(header_factory=_Headers())
# Headers fold only past RFC 5322's limit of 998: a List-Unsubscribe's links then stay on
# one line, where the default's 78 would turn them into encoded words no client reads as links.
WIRE = BUILD.clone(max_line_length=998)


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

    @cached_property
    def _parsed(self) -> tuple[Any, Any]:
        """From and Reply-To parsed once for every message of a campaign."""
        return (BUILD.header_factory("From", self.mail_from),
                self.reply_to and BUILD.header_factory("Reply-To", self.reply_to))

    def stamp(self, message: EmailMessage, to: str, subject: str, message_id: str) -> None:
        """The headers every message from this sender carries, in the usual order."""
        sender, reply_to = self._parsed
        message["From"] = sender
        if reply_to:
            message["Reply-To"] = reply_to
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id

"""One email that is not part of a campaign (a sign-up confirmation, a self-service link),
from the sender the settings name, sent through any transport with `send_email`."""
from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from outreach.sender import BUILD, WIRE, Sender


def notice(settings: Mapping[str, Any], to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message to `to`, From and Reply-To as set, a Message-ID on the sender's domain."""
    sender = Sender.of(settings)
    message = EmailMessage(policy=BUILD)
    sender.stamp(message, to, subject, make_msgid(domain=sender.domain))
    message.set_content(body)
    message.policy = WIRE
    return message

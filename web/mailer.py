"""The mail `custdesk serve` sends on its own (a sign-up's confirmation link, a link to a
person's own details), through the transport named at start (`--outbox DIR` or
`--smtp HOST:PORT`, as `mail send` takes them).

A transport blocks (an SMTP server may take seconds), so it runs on a thread of its own,
never on the event loop nor on the store's worker; a message that cannot go is one log
line and the person's record stays as it is (a sign-up unconfirmed).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

from outreach.notices import notice
from outreach.transports import Transport
from store.base.errors import StoreError

log = logging.getLogger("custdesk.serve")


class Mailer:
    """One transport, used by one thread at a time."""

    def __init__(self, transport: Transport, described: str) -> None:
        self.transport, self.described = transport, described
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custdesk-mail")

    async def send(self, message: EmailMessage, stem: str) -> bool:
        """Whether the message went; a refusal or a transport down is logged in one line."""
        try:
            await asyncio.get_running_loop().run_in_executor(self.thread, self.transport.send_email, message, stem)
        except StoreError as err:
            log.warning("the mail to %s (%s) could not be sent: %s", message["To"], stem, err)
            return False
        return True

    def close(self) -> None:
        self.thread.submit(self.transport.close)
        self.thread.shutdown(wait=True, cancel_futures=False)


def confirmation(settings: Mapping[str, Any], to: str, link: str, days: int) -> EmailMessage:
    """The mail asking a new sign-up to confirm the address they gave."""
    shop = settings.get("shop_name") or "custdesk"
    body = (f"Hello,\n\nsomeone (we hope you) signed up with {shop} giving this address.\n"
            f"To confirm it, open this link within {days} days and press the button on its page:\n\n{link}\n\n"
            "If it was not you, ignore this mail: without the confirmation we send you nothing more.\n")
    return notice(settings, to, f"Please confirm your sign-up with {shop}", body)


def notice_of_link(settings: Mapping[str, Any], to: str, link: str) -> EmailMessage:
    """The mail carrying a person's link to their own details (asked for at /account)."""
    shop = settings.get("shop_name") or "custdesk"
    body = (f"Hello,\n\nsomeone (we hope you) asked {shop} for a link to the details we hold of this address.\n"
            f"This link shows them, lets you correct, download or ask us to erase them; it works for one hour:\n\n"
            f"{link}\n\nIf it was not you, ignore this mail: nobody can use the link without it.\n")
    return notice(settings, to, f"Your details at {shop}", body)

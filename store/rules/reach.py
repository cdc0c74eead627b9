"""Who a message on a channel can reach, and why a customer is skipped."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from store.model import Channel


def address_for(customer: Mapping[str, Any], channel: Channel) -> str | None:
    """Where a message on this channel goes: the email, or the mobile (else the phone) for SMS."""
    if channel == "sms":
        return customer.get("mobile") or customer.get("phone")
    return customer.get("email")


def skip_reason(customer: Mapping[str, Any], channel: Channel) -> str | None:
    """Why this customer gets no message on this channel, or None."""
    if customer.get("obfuscated_at"):
        return "obfuscated"
    if not customer.get("active"):
        return "inactive"
    if not address_for(customer, channel):
        return "no phone number" if channel == "sms" else "no email address"
    return None

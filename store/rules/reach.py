"""Who a message on a channel can reach, and why a customer is skipped."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from store.model import Channel
from store.rules import consent


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
    # Only a no stops the message: customers from before consent was asked (None) keep
    # getting what they got, as an existing customer relationship allows; each mail
    # lets them opt out in one click.
    if customer.get(consent.FIELDS[channel]) is False:
        return consent.opted_out(channel)
    return None

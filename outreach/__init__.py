"""Outbound adapters: campaigns delivered through SMTP or into an outbox folder."""

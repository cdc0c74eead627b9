"""The store's secret for signed links (store.rules.links): made on first use and kept
in the store, so every process serving the same store signs and checks alike, and a
restarted server still honours the links in mails it sent before."""
from __future__ import annotations

import secrets

from store.domain.session import Session
from store.model import SETTINGS
from store.rules import links

SECRET_ID = 2  # the settings table's second document (the first is the settings)


class Links:
    """Signing and checking the links a customer follows (see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _secret(self) -> bytes:
        doc = self.session.db.tables[SETTINGS].get(SECRET_ID)
        if doc is None:
            with self.session.db.transaction() as tx:
                doc = tx.get(SETTINGS, SECRET_ID)  # (another process may have made it meanwhile)
                if doc is None:
                    doc = {"link_secret": secrets.token_hex(32)}
                    tx.put(SETTINGS, SECRET_ID, doc)
        return bytes.fromhex(doc["link_secret"])

    def sign_link(self, purpose: str, *parts: str | int, ttl: float | None = None) -> str:
        """A token for `purpose` naming `parts`, valid `ttl` seconds (None: for ever)."""
        return links.sign(self._secret(), purpose, parts, ttl=ttl)

    def check_link(self, purpose: str, token: str) -> tuple[str, ...]:
        """The parts `token` names; LinkRefused if it is not a valid, unexpired `purpose` link."""
        return links.verify(self._secret(), purpose, token)

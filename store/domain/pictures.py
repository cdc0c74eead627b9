"""Profile pictures: one optional picture per customer, kept beside the store.

The pictures are kept by the engine (`store.engine.blobs`: a folder
`<store>.pictures/` beside a store file, a table on PostgreSQL), each named by
its content's hash; the customer's `picture` field names it. Setting or removing a picture is an
edit like any other (journaled, undoable): the file of the picture before stays
while the journal may bring it back. Obfuscation drops the picture and, once no
customer and no undo data names a file any more, the file itself.
"""
from __future__ import annotations

from pathlib import Path

from store.base.errors import RuleViolation
from store.domain import journal
from store.domain.session import Session
from store.model import CUSTOMERS, JOURNAL, Customer
from store.rules.pictures import mime_type, prepare_picture, read_picture


class Pictures:
    """One optional picture per customer (see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def has_pictures(self) -> bool:
        """Whether the store keeps any picture (cheap: an app asks before it starts)."""
        return self.session.db.blobs.any()

    def picture_names(self) -> set[str]:
        """The names of the pictures the store keeps (named by customers or by undo data)."""
        return self.session.db.blobs.names()

    def set_picture(self, customer_id: int, source: Path) -> Customer:
        """The picture in the file `source` becomes the customer's (PNG, JPEG or WebP; a large
        one is scaled down); a file that is not one is refused, and nothing changes."""
        picture = read_picture(source)
        with self.session.db.transaction() as tx:
            doc = self.session.current(tx, customer_id)
            if doc.get("obfuscated_at"):
                raise RuleViolation(f"customer {doc['number']} is obfuscated; it keeps no picture")
            self.session.db.blobs.write(picture.name, picture.data)  # (the same picture set twice is kept once)
            tx.put(CUSTOMERS, customer_id, {**doc, "picture": picture.name, "updated_at": journal.now()})
            self.session.write_entry(tx, "picture", f"Set the picture of customer {doc['number']}")
        return self.session.customer(customer_id)

    def remove_picture(self, customer_id: int) -> Customer:
        with self.session.db.transaction() as tx:
            doc = self.session.current(tx, customer_id)
            if not doc.get("picture"):
                raise RuleViolation(f"customer {doc['number']} has no picture")
            tx.put(CUSTOMERS, customer_id, {**doc, "picture": None, "updated_at": journal.now()})
            self.session.write_entry(tx, "picture", f"Removed the picture of customer {doc['number']}")
        return self.session.customer(customer_id)

    def picture(self, customer_id: int) -> tuple[bytes, str] | None:
        """The customer's picture and its media type (image/png …), or None: it has none, or its
        file is gone (a store copied without its `.pictures` folder) or is no picture.

        Handed out as pixels only, saved again as when a picture is set: a picture kept
        before every picture was (a small one was kept as given, with its EXIF position
        and anything appended) reaches no vCard or screen with more than its pixels."""
        name = self.session.customer(customer_id).get("picture")
        if not isinstance(name, str) or not name:
            return None
        data = self.session.db.blobs.read(name)
        if data is None:
            return None
        try:
            return prepare_picture(data, name).data, mime_type(name)
        except RuleViolation:  # (a damaged file in the folder: as if gone)
            return None

    def sweep_pictures(self) -> int:
        """Delete the pictures that no customer and no undo data names any more; returns how
        many. Called under the store's lock, after a commit."""
        names = self.session.db.blobs.names()
        if not names:
            return 0
        named = {d.get("picture") for d in self.session.db.tables[CUSTOMERS].values()}
        for entry in self.session.db.tables[JOURNAL].values():
            if entry.get("changes") is not None:
                named |= {before.get("picture") for table, _id, before, _rev in journal.changes_of(entry)
                          if table == CUSTOMERS and before}
        gone = names - named
        for name in gone:
            self.session.db.blobs.remove(name)
        return len(gone)

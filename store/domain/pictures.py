"""Profile pictures: one optional picture per customer, kept beside the store.

The files live in `<store>.pictures/`, each named by its content's hash; the
customer's `picture` field names its file. Setting or removing a picture is an
edit like any other (journaled, undoable): the file of the picture before stays
while the journal may bring it back. Obfuscation drops the picture and, once no
customer and no undo data names a file any more, the file itself.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from store.domain import journal
from store.domain.records import Records
from store.errors import RuleViolation
from store.files import atomic_write_bytes
from store.model import CUSTOMERS, JOURNAL, Customer
from store.rules.pictures import mime_type, read_picture


class Pictures(Records):
    @property
    def pictures_dir(self) -> Path:
        return self.path.with_name(self.path.name + ".pictures")

    def set_picture(self, customer_id: int, source: Path) -> Customer:
        """The picture in the file `source` becomes the customer's (PNG, JPEG or WebP; a large
        one is scaled down); a file that is not one is refused, and nothing changes."""
        picture = read_picture(source)
        with self._db.transaction() as tx:
            doc = self._current(tx, customer_id)
            if doc.get("obfuscated_at"):
                raise RuleViolation(f"customer {doc['number']} is obfuscated; it keeps no picture")
            target = self.pictures_dir / picture.name
            if not target.is_file():  # (the same picture set twice is one file)
                self.pictures_dir.mkdir(mode=0o700, exist_ok=True)
                atomic_write_bytes(target, picture.data)
            tx.put(CUSTOMERS, customer_id, {**doc, "picture": picture.name, "updated_at": journal.now()})
            self._journal(tx, "picture", f"Set the picture of customer {doc['number']}")
        return self.customer(customer_id)

    def remove_picture(self, customer_id: int) -> Customer:
        with self._db.transaction() as tx:
            doc = self._current(tx, customer_id)
            if not doc.get("picture"):
                raise RuleViolation(f"customer {doc['number']} has no picture")
            tx.put(CUSTOMERS, customer_id, {**doc, "picture": None, "updated_at": journal.now()})
            self._journal(tx, "picture", f"Removed the picture of customer {doc['number']}")
        return self.customer(customer_id)

    def picture(self, customer_id: int) -> tuple[bytes, str] | None:
        """The customer's picture and its media type (image/png …), or None: it has none, or its
        file is gone (a store copied without its `.pictures` folder)."""
        path = self.picture_path(customer_id)
        return None if path is None else (path.read_bytes(), mime_type(path.name))

    def picture_path(self, customer_id: int) -> Path | None:
        name = self.customer(customer_id).get("picture")
        if not isinstance(name, str) or not name:
            return None
        path = self.pictures_dir / Path(name).name  # (a name, never a path out of the folder)
        return path if path.is_file() else None

    def _sweep_pictures(self, candidates: Iterable[str] | None = None) -> int:
        """Delete the picture files (these, or all) that no customer and no undo data names
        any more; returns how many. Called under the store's lock, after a commit."""
        folder = self.pictures_dir
        if not folder.is_dir():
            return 0
        names = {Path(n).name for n in candidates} if candidates is not None else {p.name for p in folder.iterdir()}
        if not names:
            return 0
        named = {d.get("picture") for d in self._db.tables[CUSTOMERS].values()}
        for entry in self._db.tables[JOURNAL].values():
            if entry.get("changes") is not None:
                named |= {before.get("picture") for table, _id, before, _rev in journal.changes_of(entry)
                          if table == CUSTOMERS and before}
        swept = 0
        for name in names - named:
            path = folder / name
            if path.is_file():
                path.unlink()
                swept += 1
        return swept

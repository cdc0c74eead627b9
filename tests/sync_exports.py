"""JSON exports for the tests of unattended sync (issue 24): a QuickBooks query response
written from objects or as raw JSON text, a test card number, and a file synced as
`custdesk sync` syncs it."""
import json

from importers.sync import read_export
from store import Store

QBO_SIGNATURE = {"Id": "1", "DisplayName": "Ada Lovelace", "PrimaryEmailAddr": {"Address": "ada@example.com"}}
PAN = "4111111111111111"  # Luhn-valid, a test card number


def qbo(path, customers: list[dict] | str) -> object:
    """A QuickBooks query response; `customers` as objects, or as JSON text written as it is."""
    items = customers if isinstance(customers, str) else json.dumps(customers)
    path.write_text('{"QueryResponse": {"Customer": ' + items + "}}", encoding="utf-8")
    return path


def sync(store: Store, path, **kwargs):
    export = read_export(path)
    return store.sync(export.profile.name, path.name, export.digest, export.records, ids_issued=export.profile.ids_issued,
                      **kwargs)

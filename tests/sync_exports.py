"""JSON exports for the tests of unattended sync (issue 24): a QuickBooks query response
written from objects or as raw JSON text, a test card number, and a file synced as
`custdesk sync` syncs it; a customer in conflict with accounting (issue 27)."""
import json

from accounting_files import PEOPLE, xero

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


def conflicted(store: Store, tmp_path) -> tuple[dict, object]:
    """Müller & Söhne synced from a Xero export, activated with Radebeul as its city here,
    then moved to Meißen in accounting: a conflict on its city. Returns the customer and
    the export."""
    path = xero(tmp_path / "Contacts.csv", PEOPLE)
    sync(store, path)
    source = next(s for s in store.sources() if s["origin"]["id"] == "10001")
    customer = store.activate(source["id"], "corporate", {"city": "Radebeul"})
    report = sync(store, xero(path, [{**PEOPLE[0], "city": "Meißen"}, *PEOPLE[1:]]))
    assert [c["field"] for c in report.conflicts] == ["city"]
    return store.customer(customer["id"]), path

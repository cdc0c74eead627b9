"""Unattended sync (issue 24): a card number never reaches stdout, the journal or the raw row:
as a typed accounting id it is refused and masked, in a header or a cell it is masked, and
an id the accounting system issued stays whole."""
import json

from accounting_files import PEOPLE, xero, zoho
from helpers import custdesk, stored_bytes
from sync_exports import PAN, QBO_SIGNATURE, qbo, sync

from importers.sync import read_export
from store import Store


def test_a_card_number_as_a_typed_accounting_id_is_refused_masked_and_kept_nowhere(store_path, tmp_path):
    path = xero(tmp_path / "Contacts.csv", [{**PEOPLE[0], "id": PAN}, PEOPLE[1]])
    done = custdesk("--db", store_path, "sync", path)
    assert done.returncode == 1 and PAN not in done.stdout + done.stderr
    assert "1 new" in done.stdout and "row 2 (4111••••••••1111): the accounting id looks like a card number" in done.stdout
    spaced = xero(tmp_path / "Spaced.csv", [{**PEOPLE[0], "id": "4111 1111 1111 1111"}])
    assert custdesk("--db", store_path, "sync", spaced, "--json").returncode == 1
    with Store(store_path) as store:
        run = store.sync_runs()[1]
        assert run["errors"] == [{"id": "4111••••••••1111", "row": 2, "field": "external_id",
                                  "message": "the accounting id looks like a card number; card numbers are not stored"}]
        assert PAN not in json.dumps(store.journal(), ensure_ascii=False)
    assert all(PAN.encode() not in data and b"4111 1111 1111 1111" not in data for data in stored_bytes(store_path).values())


def test_an_issued_id_stays_whole_and_a_card_in_a_header_or_cell_is_masked(store, tmp_path):
    zoho_id = "4600000000026043"  # Luhn-valid, issued by Zoho: its key, not a card
    assert read_export(zoho(tmp_path / "Contacts.csv", [{**PEOPLE[0], "id": zoho_id[8:]}])).profile.ids_issued  # (Zoho's prefix)
    report = sync(store, tmp_path / "Contacts.csv")
    assert report.created == 1 and next(store.sources())["external_id"] == zoho_id

    path = qbo(tmp_path / "customers.json", [{**QBO_SIGNATURE, "Id": "77", PAN: "card as a key", "Notes": f"paid {PAN}",
                                              "Card": {PAN: "nested"}}])
    assert sync(store, path).created == 1
    raw = next(s for s in store.sources() if s["external_id"] == "77")["raw"]
    assert raw["4111••••••••1111"] == "card as a key" and raw["Card.4111••••••••1111"] == "nested"
    assert raw["Notes"] == "paid 4111••••••••1111"
    assert PAN not in json.dumps(raw)


def test_a_card_number_as_an_import_header_is_masked_on_stdout_and_in_the_raw_row(store_path, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(f"Name,Email,{PAN},4111 1111 1111 1111,4111••••••••1111\nAda Lovelace,ada@example.com,x,y,z\n",
                    encoding="utf-8")
    done = custdesk("--db", store_path, "import", path)
    assert done.returncode == 0, done.stderr
    assert "  4111••••••••1111 → (kept in the raw row only)" in done.stdout and PAN not in done.stdout + done.stderr
    with Store(store_path) as store:
        assert next(store.sources())["raw"] == {"Name": "Ada Lovelace", "Email": "ada@example.com", "4111••••••••1111": "x",
                                                "4111 •••• •••• 1111": "y", "4111••••••••1111 (2)": "z"}
    assert all(PAN.encode() not in data for data in stored_bytes(store_path).values())

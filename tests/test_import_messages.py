"""What an import says: rows it leaves out are not judged, records are named as people know them."""
from helpers import custdesk

from importers import plan_import, read_table
from store import Store
from store.model import prospect_name


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_an_update_import_does_not_judge_the_rows_it_skips(tmp_path):
    store = Store(tmp_path / "store.json")
    store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    f = write(tmp_path / "b.csv", "Name,Email,Phone\nAda Lovelace,ada@example.com,+44 20 7946 0018\n"
                                  "Bob Stone,bob@example.com,+44 12\nNo One,not-an-email,\n")
    p = plan_import(store, read_table(f), target="private", mode="update")
    assert p.rows["_status"].to_list() == ["update", "skipped", "skipped"]
    assert p.issues == [] and p.counts()["errors"] == 0 and p.counts()["warnings"] == 0 and not p.blocked
    store.close()
    done = custdesk("--db", tmp_path / "store.json", "import", f, "--into", "private", "--mode", "update")
    assert done.returncode == 0, done.stderr
    assert "1 updated, 0 unchanged, 2 skipped" in done.stdout and "0 with errors, 0 warnings" in done.stdout
    assert "row 3" not in done.stderr and "row 4" not in done.stderr


def test_a_create_import_skips_an_existing_row_whatever_its_cells_hold(tmp_path):
    store = Store(tmp_path / "store.json")
    store.add_customer("private", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    f = write(tmp_path / "c.csv", "Name,Email,Phone\nAda Lovelace,ada@example.com,4111 1111 1111 1111\n")
    p = plan_import(store, read_table(f), target="private")
    assert p.rows["_status"].to_list() == ["skipped"] and p.issues == [] and not p.blocked


def test_a_prospect_is_named_by_its_name_and_where_it_came_from(tmp_path):
    store = Store(tmp_path / "store.json")
    leads = write(tmp_path / "leads.csv", "Name,Email,Phone\nAda Lovelace,ada@example.com,+44 20 7946 0018\n")
    store.apply_batch(plan_import(store, read_table(leads)).batch())
    f = write(tmp_path / "customers.csv", "Name,Email,Phone\nAugusta King,augusta@example.com,+44 20 7946 0018\n")
    p = plan_import(store, read_table(f), target="private")
    assert p.rows["_note"].to_list() == ["phone belongs to prospect Ada Lovelace (leads.csv, row 2)"]


def test_prospect_names_for_each_door():
    assert prospect_name({"company": "Müller GmbH", "origin": {"profile": "datev", "file": "EXTF_Debitoren.csv", "row": "4"}}) \
        == "prospect Müller GmbH (sync datev, EXTF_Debitoren.csv, row 4)"
    assert prospect_name({"first_name": "Zoé", "origin": {"profile": "signup", "file": "web form", "kind": "private"}}) \
        == "prospect Zoé (web form)"
    assert prospect_name({"first_name": "Kim", "origin": {"file": "leads.xlsx", "sheet": "Leads", "row": 7}}) \
        == "prospect Kim (leads.xlsx, sheet Leads, row 7)"
    assert prospect_name({"email": "x@example.com"}) == "prospect x@example.com (added by hand)"
    assert prospect_name({}) == "prospect (no name) (added by hand)"

"""Unattended sync (issue 24): one path-to-text rule. A file name that is not UTF-8 is
imported, synced and exported, shown and journaled by it; every command prints a store,
config or picture path, or names one it refuses, by it."""
import os

from accounting_files import PEOPLE, xero
from helpers import contents, custdesk

from store import Store
from store.base.text import path_text


def test_a_file_name_that_is_not_utf8_is_imported_synced_and_exported(store_path, tmp_path):
    folder = os.fsencode(tmp_path)
    shown = "kunden-\\xe9␛[31m.csv"
    source = xero(tmp_path / os.fsdecode(b"kunden-\xe9\x1b[31m.csv"), PEOPLE)

    imported = custdesk("--db", store_path, "import", source, "--country", "DE")
    assert imported.returncode == 0, imported.stderr
    assert f"{shown}: 3 rows → 3 new" in imported.stdout and "\x1b" not in imported.stdout + imported.stderr

    synced = custdesk("--db", store_path, "sync", source)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith(f"{shown} (xero): 3 rows, 3 new")

    with Store(store_path) as store:
        origins = sorted(s["origin"]["file"] for s in store.sources())
        assert origins == [shown] * 6
        store.add_customer("corporate", {"company": "Analytical Engines GmbH", "email": "ada@example.com"})
    out = os.fsdecode(folder + b"/out-\xe9.csv")
    exported = custdesk("--db", store_path, "export", out)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == f"exported 1 customers to {path_text(out)}\n" and "out-\\xe9.csv" in exported.stdout
    assert os.path.exists(out)
    with Store(store_path) as store:
        summaries = [entry["summary"] for entry in store.journal()]
        assert summaries[0] == f"Exported 1 customer(s) as csv to {path_text(out)}"
        assert f"Synced {shown} (xero): 3 new, 0 updated, 0 removed, 0 conflict(s), 0 error(s)" in summaries
        assert f"Imported {shown} into sources: 3 new, 0 updated" in summaries
        assert [e["target"] for e in contents(store)["exports"].values()] == [path_text(out)]

    missing = custdesk("--db", store_path, "sync", os.fsdecode(folder + b"/nicht-\xfc.csv"))
    assert missing.returncode == 2 and missing.stderr.splitlines() == [f"custdesk: {path_text(folder)}/nicht-\\xfc.csv: no such file"]


def test_the_path_rule_shows_undecodable_bytes_and_controls(tmp_path):
    assert path_text(os.fsdecode(b"/tmp/kunden-\xe9.csv")) == "/tmp/kunden-\\xe9.csv"
    assert path_text(b"a\x1b]52;c;x\x07\xff") == "a␛]52;c;x␇\\xff"
    assert path_text(tmp_path / "Contacts.csv") == str(tmp_path / "Contacts.csv")


def test_every_command_prints_a_store_config_or_picture_path_by_the_one_rule(tmp_path):
    from PIL import Image

    folder = os.fsdecode(os.fsencode(tmp_path) + b"/l\xe4den")
    os.mkdir(folder)
    db = os.path.join(folder, "custdesk.json")
    with Store(db) as store:
        number = store.add_customer("corporate", {"company": "Analytical Engines GmbH", "email": "ada@example.com"})["number"]
    picture = os.path.join(folder, os.fsdecode(b"ada-\xff.png"))
    Image.new("RGB", (8, 8), "red").save(picture, format="PNG")

    stats = custdesk("--db", db, "stats")
    assert stats.returncode == 0 and stats.stdout.splitlines()[0] == path_text(db) and "l\\xe4den" in stats.stdout
    set_picture = custdesk("--db", db, "picture", number, picture)
    assert set_picture.returncode == 0, set_picture.stderr
    assert set_picture.stdout == f"{number}: picture set from {path_text(picture)}\n" and "ada-\\xff.png" in set_picture.stdout
    config = custdesk("config", "path", env={"CUSTDESK_CONFIG_DIR": folder})
    assert config.returncode == 0 and config.stdout == path_text(os.path.join(folder, "config.toml")) + "\n"


def test_an_export_or_template_refused_names_its_path_by_the_one_rule(store_path, tmp_path):
    Store(store_path).close()
    nowhere = os.fsdecode(os.fsencode(tmp_path) + b"/fehlt-\xe9/out.csv")
    for args in (("--db", store_path, "export", nowhere), ("template", nowhere)):
        refused = custdesk(*args)
        assert refused.returncode == 2
        assert refused.stderr == f"custdesk: {path_text(nowhere)}: folder {path_text(os.path.dirname(nowhere))} does not exist\n"

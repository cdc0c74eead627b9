"""Text from files is data wherever it goes: a vCard, a workbook, a terminal, an error log;
card numbers are never echoed in full; obfuscation leaves the real person nowhere."""
from __future__ import annotations

import pytest
from helpers import custdesk, person
from openpyxl import load_workbook

from exporters.customers import export_customers
from importers import plan_import, read_table
from store import RuleViolation, StoreError

HOSTILE_NAME = "Eve\r\nEMAIL:evil@example.com\rTEL:+1\x1b]52;c;ZXZpbA==\x07\x1b[2J"


def test_a_line_break_in_a_name_cannot_add_vcard_properties_and_lines_are_folded(store, tmp_path):
    store.add_customer("private", {"first_name": HOSTILE_NAME, "last_name": "Ö" * 80, "email": "eve@example.com"})
    export_customers(store, tmp_path / "out.vcf")
    data = (tmp_path / "out.vcf").read_bytes()
    lines = data.split(b"\r\n")
    assert b"\r" not in data.replace(b"\r\n", b"") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines)
    unfolded = data.replace(b"\r\n ", b"").decode()
    assert [line.split(":")[0] for line in unfolded.split("\r\n") if line] == \
        ["BEGIN", "VERSION", "FN", "N", "UID", "EMAIL", "END"]
    assert "Eve\\nEMAIL:evil@example.com\\nTEL:+1" in unfolded and "\x1b" not in unfolded


def test_control_characters_reach_a_workbook_as_symbols(store, tmp_path):
    store.add_customer("private", {"first_name": "Bell\x07", "last_name": "Tab\tKept", "email": "b@example.com",
                                   "notes": "line one\nline two"})
    export_customers(store, tmp_path / "out.xlsx")
    row = [c.value for c in next(load_workbook(tmp_path / "out.xlsx").active.iter_rows(min_row=2))]
    assert "Bell␇" in row and "Tab\tKept" in row and "line one\nline two" in row


def test_terminal_control_from_a_file_never_reaches_the_terminal_through_the_cli(tmp_path):
    f = tmp_path / "evil.csv"
    # The refusal quotes the address, and with it the clipboard write (OSC 52) and the screen clear.
    f.write_text("Name,Email\nEve,eve\x1b]52;c;ZXZpbA==\x07\x1b[2J@example\n")
    result = custdesk("--db", str(tmp_path / "s.json"), "import", str(f), "--dry-run")
    output = result.stdout + result.stderr
    assert "\x1b" not in output and "\x07" not in output
    assert "␛]52;c;zxzpba==␇␛[2j" in output  # shown as symbols (the address lower-cased), harmless


def test_card_numbers_are_refused_in_any_field_with_any_separator_and_never_echoed_in_full(store, tmp_path):
    f = tmp_path / "cards.csv"
    f.write_text("Name,Email,Phone,Tags,Notes\n"
                 "Ada,ada@example.com,4111 1111 1111 1111,,\n"
                 "Bob,bob@example.com,,vip; 5500_0000_0000_0004,\n"
                 "Cy,cy@example.com,,,paid with 4111.1111.1111.1111\n"
                 "Di,di@example.com,+49 30 1234567,,fine\n")
    plan = plan_import(store, read_table(f))
    assert [r["_status"] for r in plan.rows.to_dicts()] == ["error", "error", "error", "new"]
    plan.write_error_log(tmp_path / "errors.csv")
    log = (tmp_path / "errors.csv").read_text(encoding="utf-8-sig")
    assert "4111 •••• •••• 1111" in log and "5500_••••_••••_0004" in log and "4111.••••.••••.1111" in log
    for full in ("4111 1111 1111 1111", "0000_0000", "1111.1111"):
        assert full not in log


def test_a_customer_number_is_an_identifier_not_a_path_or_a_control_sequence(store, tmp_path):
    for bad in ("../../etc/passwd", "A\nB", "\x1b[2J"):
        with pytest.raises(RuleViolation, match="may hold only letters, digits"):
            store.add_customer("private", {**person(1), "number": bad})
    f = tmp_path / "n.csv"
    f.write_text("Name,Email,Customer number\nAda,ada@example.com,../x\n")
    plan = plan_import(store, read_table(f), target="private")  # the dry run says what the commit would
    assert plan.rows["_status"].to_list() == ["error"] and "may hold only letters" in plan.issues[0].message


def test_obfuscation_clears_the_external_id_and_the_campaign_reasons(store):
    customer = store.add_customer("private", {**person(1), "external_id": "XERO-42"})
    store.save_template("hello", "email", "Hi", "Hello {{ customer.first_name }}")
    campaign = store.start_campaign("hello", [customer["id"]])
    store.finish_campaign(campaign["id"], {"sent": 0, "skipped": [], "failed": [
        {"number": customer["number"], "reason": "550 <ada1@example.com> mailbox unavailable"}]})
    store.deactivate([customer["id"]])
    store.obfuscate(customer["id"])
    assert store.customer(customer["id"]).get("external_id") is None
    assert "ada1@example.com" not in str(store.campaign(campaign["id"]))
    for path in store.files():
        if path.exists():
            assert b"XERO-42" not in path.read_bytes() and b"ada1@example.com" not in path.read_bytes(), path.name


def test_a_failed_rewrite_leaves_the_customer_as_it_was_and_says_so(store, monkeypatch):
    customer = store.add_customer("private", person(1))
    store.deactivate([customer["id"]])
    from store.engine import database

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(database, "write_snapshot", full_disk)
    with pytest.raises(StoreError, match="could not save the change"):
        store.obfuscate(customer["id"])
    monkeypatch.undo()
    kept = store.customer(customer["id"])
    assert kept["first_name"] == "Ada1" and not kept.get("obfuscated_at")
    assert store.obfuscate(customer["id"])["obfuscated_at"]

"""Sync profiles against the vendors' documented exports (tests/vendor_samples.py): each
synced into a real store; headers matched normalised (case, `*`, spaces, punctuation),
optional columns optional, a required one missing refused in one line naming the file,
the profile and the column; DATEV's header record (EXTF or DTVF), address type "keine
Angabe" and VAT id in two parts; "removed" across the files of one profile."""
import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_exports import sync
from vendor_samples import DATEV_ROWS, SAMPLES, XERO, datev_text, write

from importers.sync import SyncError, header_key, profiles, read_export, recognise


def prospects(store) -> dict[str, dict]:
    return {s["origin"]["id"]: s for s in store.sources()}


def test_every_profile_has_a_documented_sample():
    assert set(SAMPLES) == set(profiles())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_documented_sample_syncs_into_the_store(store, tmp_path, name):
    sample = SAMPLES[name]
    path = write(tmp_path, sample)
    export = read_export(path)
    assert export.profile.name == name
    report = sync(store, path)
    assert (report.created, report.errors) == (len(sample.expected), [])
    stored = prospects(store)
    assert set(stored) == set(sample.expected)
    for account_id, expected in sample.expected.items():
        found = stored[account_id]
        seen = {"kind": found["origin"]["kind"], "archived": found["origin"]["archived"],
                **{field: found.get(field) for field in expected if field not in ("kind", "archived")}}
        assert {k: seen[k] for k in expected} == expected, account_id
        assert found["external_id"] == account_id and found["origin"]["profile"] == name


def _rewrite_header(data: bytes, header: list[str]) -> bytes:
    text = data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows[1:]])
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("rename", [
    lambda h: "*" + h if h == "ContactName" else h,  # the import template's mark
    str.upper,
    str.lower,
    " ".join,  # "C o n t a c t N a m e"
    lambda h: h.replace("Address", " Address ").replace("Name", "_name"),
])
def test_xero_headers_match_whatever_their_case_asterisks_and_spaces(tmp_path, rename):
    header = XERO.data.decode().splitlines()[0].split(",")
    path = tmp_path / "Contacts.csv"
    path.write_bytes(_rewrite_header(XERO.data, [rename(h) for h in header]))
    export = read_export(path)
    assert export.profile.name == "xero"
    assert [r.fields["company"] for r in export.records] == ["Nordlicht GmbH", "Ada Lovelace"]
    assert export.records[0].fields["vat_id"] == "DE136695976"


def test_an_optional_column_may_be_missing(store, tmp_path):
    rows = list(csv.reader(io.StringIO(XERO.data.decode())))
    keep = [i for i, h in enumerate(rows[0]) if h not in ("POAddressLine1", "TaxNumber", "EmailAddress")]
    path = tmp_path / "Contacts.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([[row[i] for i in keep] for row in rows])
    assert read_export(path).profile.name == "xero"
    report = sync(store, path)
    assert (report.created, report.errors) == (2, [])
    nord = prospects(store)["NORD-100"]
    assert nord["company"] == "Nordlicht GmbH" and nord.get("street") is None and nord["city"] == "Hamburg"


@pytest.mark.parametrize(("name", "dropped", "message"), [
    ("xero", "AccountNumber", "no column 'AccountNumber'"),
    ("sage", "Main Contact Name", "no column 'Main Contact Name'"),
    ("zoho", "Customer ID", "no column 'Customer ID'"),
])
def test_a_missing_required_column_is_one_line_naming_file_profile_and_column(store, tmp_path, name, dropped, message):
    sample = SAMPLES[name]
    rows = list(csv.reader(io.StringIO(sample.data.decode())))
    index = rows[0].index(dropped)
    path = tmp_path / sample.file
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([row[:index] + row[index + 1:] for row in rows])
    for chosen in (None, name):  # recognised by what it has, or named
        with pytest.raises(SyncError) as refused:
            read_export(path, chosen)
        text = str(refused.value)
        assert text.startswith(f"{path}: ") and f"(profile {name})" in text and message in text, text
        assert "\n" not in text
    assert list(store.sources()) == []


@pytest.mark.parametrize("mark", ["EXTF", "DTVF"])
def test_datev_from_a_third_party_program_or_from_datev_itself(store, tmp_path, mark):
    path = tmp_path / f"{mark}_Debitoren.csv"
    path.write_bytes(datev_text(mark))
    assert read_export(path).profile.name == "datev"
    report = sync(store, path)
    assert (report.created, report.errors) == (len(DATEV_ROWS), [])


def test_datev_without_its_header_record_is_not_taken_for_datev(tmp_path):
    path = tmp_path / "Debitoren.csv"
    path.write_bytes(b"\r\n".join(datev_text().split(b"\r\n")[1:]))
    with pytest.raises(SyncError, match="not an accounting export custdesk recognises"):
        read_export(path)


def test_datev_keine_angabe_is_decided_by_the_names_filled_never_refused(tmp_path):
    path = tmp_path / "EXTF.csv"
    path.write_bytes(datev_text())
    kinds = {r.id: (r.kind, r.fields["company"], r.fields["last_name"]) for r in read_export(path).records}
    assert kinds["10003"] == ("corporate", "Tischlerei Brandt", None)  # 0, a company's name
    assert kinds["10004"] == ("private", None, "Huber")  # 0, a person's name
    assert kinds["10005"] == ("corporate", "Verein der Freunde e.V.", None)  # none, DATEV's default


def test_datev_vat_id_is_eu_land_and_eu_ustid_and_a_country_alone_is_none(tmp_path):
    rows = [{**DATEV_ROWS[0], "Konto": "1", "EU-Land": "DE", "EU-UStID": "136695976"},
            {**DATEV_ROWS[0], "Konto": "2", "EU-Land": "DE", "EU-UStID": ""},
            {**DATEV_ROWS[0], "Konto": "3", "EU-Land": "DE", "EU-UStID": "DE136695976"},  # written whole: the prefix once
            {**DATEV_ROWS[0], "Konto": "4", "EU-Land": "", "EU-UStID": ""}]
    path = tmp_path / "EXTF.csv"
    path.write_bytes(datev_text(rows=rows))
    assert [r.fields["vat_id"] for r in read_export(path).records] == ["DE136695976", None, "DE136695976", None]


def test_a_contact_gone_from_the_next_days_export_is_removed_whatever_the_file_is_named(store, tmp_path):
    monday = write(tmp_path, XERO, "export-2026-12-01.csv")
    assert sync(store, monday).created == 2
    rows = XERO.data.decode().splitlines()
    tuesday = tmp_path / "export-2026-12-02.csv"
    tuesday.write_text("\n".join(rows[:2]) + "\n", encoding="utf-8")  # Ada Lovelace is gone
    report = sync(store, tuesday)
    assert (report.created, report.removed) == (0, 1)
    stored = prospects(store)
    assert stored["ADA-7"]["origin"]["removed"] is True and stored["NORD-100"]["origin"]["removed"] is False
    # back in Wednesday's export: no longer removed, nothing created twice
    wednesday = write(tmp_path, XERO, "export-2026-12-03.csv")
    report = sync(store, wednesday)
    assert report.created == 0 and prospects(store)["ADA-7"]["origin"]["removed"] is False


def test_another_profiles_export_removes_nothing(store, tmp_path):
    sync(store, write(tmp_path, XERO))
    report = sync(store, write(tmp_path, SAMPLES["sage"]))
    assert report.removed == 0
    assert not any(s["origin"].get("removed") for s in store.sources())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), name=st.sampled_from(sorted(n for n in SAMPLES if n not in ("quickbooks", "datev"))))
def test_a_valid_header_permuted_recased_and_starred_is_still_its_profile(tmp_path, data, name):
    sample = SAMPLES[name]
    text = sample.data.decode("utf-8")
    delimiter = ";" if name == "exact" else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    order = data.draw(st.permutations(range(len(rows[0]))))

    def disguise(header: str) -> str:
        case = data.draw(st.sampled_from([str, str.upper, str.lower, str.title]))
        star = data.draw(st.sampled_from(["", "*"]))
        pad = data.draw(st.sampled_from(["", " "]))
        return f"{pad}{star}{case(header)}{pad}"

    header = [disguise(rows[0][i]) for i in order]
    assert [header_key(h) for h in header] == [header_key(rows[0][i]) for i in order]
    path = tmp_path / sample.file
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *([row[i] for i in order] for row in rows[1:])])
    path.write_text(out.getvalue(), encoding="utf-8")
    found = recognise(path, path.read_bytes(), header)
    assert found is not None and found.name == name
    assert [r.id for r in read_export(path).records] == list(sample.expected)


def test_an_export_whose_encoding_cannot_be_told_syncs_once_it_is_named(tmp_path):
    from helpers import custdesk

    path = tmp_path / "Contacts.csv"
    path.write_bytes("*ContactName,AccountNumber,EmailAddress\nMarko Kovačič,C-7,marko@example.si\n".encode("cp1250"))
    refused = custdesk("--db", tmp_path / "s.json", "sync", path)
    assert refused.returncode == 2 and "unknown text encoding" in refused.stderr
    assert "--encoding windows-1250" in refused.stderr and not (tmp_path / "s.json").exists()
    done = custdesk("--db", tmp_path / "s.json", "sync", path, "--encoding", "windows-1250", "--json")
    assert done.returncode == 0, done.stderr
    assert read_export(path, encoding="windows-1250").records[0].fields["company"] == "Marko Kovačič"

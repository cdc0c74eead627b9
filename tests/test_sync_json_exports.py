"""Unattended sync (issue 24): any JSON export is records or one refusal naming the file;
an index key, a huge number and NaN are data; `custdesk sync` of several files refuses a bad
one in one line and syncs the rest."""
import json

import pytest
from accounting_files import PEOPLE, xero
from helpers import custdesk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_exports import PAN, QBO_SIGNATURE, qbo, sync

from importers.sync import read_export
from store.base.errors import StoreError


def test_an_index_key_a_huge_number_and_nan_are_data(store, tmp_path):
    digits = "9" * 4_301  # over Python's int max-str-digits: json.loads would raise ValueError
    path = qbo(tmp_path / "odd.json", '[{"Id": 7, "DisplayName": "Ada", "PrimaryEmailAddr": {"Address": "ada@example.com"}, '
                                      f'"_index": "mine", "_index (2)": "also mine", "Balance": {digits}, "Rate": 1e400, '
                                      '"Limit": NaN, "": "no name"}]')
    export = read_export(path)
    assert [r.id for r in export.records] == ["7"]
    raw = export.records[0].raw
    # (the file's own keys, named as a CSV header of those names is)
    assert raw["_index (2)"] == "mine" and raw["_index (2) (2)"] == "also mine" and raw["(column 9)"] == "no name"
    assert raw["Balance"] == digits and raw["Rate"] == "1e400" and raw["Limit"] == "NaN"
    assert export.records[0].row == 1
    assert sync(store, path).created == 1


@pytest.mark.parametrize(("text", "problem"), [
    ('[{"Id": "1", "DisplayName": "A\\ud800", "PrimaryEmailAddr": {"Address": "a@example.com"}}]',
     "record 1, 'DisplayName': a \\u escape that is no character"),
    ('[{"Id": "1", "\\udc80": "x"}]', "record 1, '\\x80': a \\u escape that is no character"),
    ('[{"Id": "1", "x": ["\\ud800"]}]', "a \\u escape that is no character"),
    ('[{"Id": "1", "' + "k" * 40_000 + '": "x"}]', "a key or value holds over 32,767 characters"),
    ('[{"Id": "1"}, 5]', "no list of records"),
    ('[{"Id": "1"', "not valid JSON"),
])
def test_a_json_export_that_cannot_be_data_is_one_refusal_naming_the_file(tmp_path, text, problem):
    path = qbo(tmp_path / "Customers.json", text)
    with pytest.raises(StoreError) as refused:
        read_export(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message, message


# JSON as exports and attackers write it: odd keys, surrogates, huge numbers, NaN, nesting.
_KEYS = st.one_of(st.sampled_from(["", "_index", "Id", "DisplayName", "PrimaryEmailAddr", "Address", "a.b", "*", "^x$",
                                   "\x00", "\x1b[31m", "\ud800", "4111 1111 1111 1111"]),
                  st.text(max_size=8))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=12), st.sampled_from(["\ud800", "\udfff", "BIGINT", "HUGEFLOAT", PAN]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)
_RECORD = st.builds(lambda base, extra: {**base, **extra},
                    st.sampled_from([QBO_SIGNATURE, {}, {"Id": "", "DisplayName": "x", "PrimaryEmailAddr": {"Address": ""}}]),
                    st.dictionaries(_KEYS, _VALUES, max_size=5))
_DOCUMENTS = st.one_of(_VALUES, st.lists(_RECORD, max_size=4),
                       st.builds(lambda items: {"QueryResponse": {"Customer": items}}, st.lists(_RECORD, max_size=4)))


def _json_text(document: object) -> str:
    # (json.dumps cannot write a 5,000-digit int or 1e400: stand-ins, swapped for the literal)
    return json.dumps(document).replace('"BIGINT"', "9" * 5_000).replace('"HUGEFLOAT"', "1e400")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_DOCUMENTS)
def test_any_json_shape_is_records_or_one_refusal(store, tmp_path, document):
    path = tmp_path / "Customers.json"
    path.write_text(_json_text(document), encoding="utf-8")
    try:
        export = read_export(path)
        report = store.sync(export.profile.name, path.name, export.digest, export.records,
                            ids_issued=export.profile.ids_issued, dry_run=True)
    except StoreError as err:
        assert str(err).startswith((f"{path}: ", "Customers.json: ")) and "\n" not in str(err), str(err)
    else:
        assert report.rows == len(export.records) and all(r.id for r in export.records)
        for record in export.records:
            json.dumps(record.raw, ensure_ascii=False).encode("utf-8")  # what the store keeps: no lone surrogate in it
            cells = json.dumps({k: v for k, v in record.raw.items() if v != record.id})  # (QuickBooks issues its ids)
            assert PAN not in cells and "4111 1111 1111 1111" not in cells


def test_sync_of_several_files_refuses_a_bad_one_in_one_line_and_syncs_the_rest(store_path, tmp_path):
    bad = qbo(tmp_path / "a-bad.json", '[{"Id": "1", "DisplayName": "\\ud800"}]')
    good = xero(tmp_path / "b-Contacts.csv", PEOPLE)
    done = custdesk("--db", store_path, "sync", bad, good)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"custdesk: {bad}: record 1, 'DisplayName': a \\u escape that is no character "
                                        "(a lone surrogate); not a customer export"]
    assert done.stdout.startswith("b-Contacts.csv (xero): 3 rows, 3 new")

"""The single-record rules and the column rules must judge alike."""
import pytest

from store.model import CUSTOMER_FIELDS
from store.rules.validation import clean_person, record_issues
from store.rules.validation_frame import clean_frame, frame_from_records

RECORDS = [
    {"first_name": " Ada ", "email": " Ada@Example.COM ", "phone": "030 1234567", "tags": "vip; newsletter,vip"},
    {"company": "Acme", "email": "broken@", "mobile": "call me"},
    {"last_name": "Hopper", "notes": "card 4111 1111 1111 1111", "phone": "+1 415 555 0134"},
    {"first_name": "Grace", "phone": "4111111111111111"},  # no phone number: a card number
    {"first_name": "Kurt", "mobile": "4111.1111.1111.1111", "tags": "vip; 5500_0000_0000_0004"},
    {"city": "Berlin"},
    {"first_name": "", "last_name": "  ", "company": "", "email": "x@example.com", "street": "5500 0000 0000 0004"},
    {"first_name": "Linus", "email": "LINUS@kernel.org", "phone": "0049 (0)30 123 456 78", "tags": ["a", " b ", "a"]},
]


def scalar(record, kind, allow_private):
    cleaned, issues = clean_person(record, fields=CUSTOMER_FIELDS, default_country="DE")
    issues += record_issues(cleaned, kind=kind, allow_private=allow_private)
    return cleaned, sorted((i.field, i.message, i.severity) for i in issues)


@pytest.mark.parametrize("kind,allow_private", [("private", True), ("private", False), ("corporate", True), (None, True)])
def test_both_paths_clean_and_judge_alike(kind, allow_private):
    frame, issues = clean_frame(frame_from_records(RECORDS, CUSTOMER_FIELDS), kind=kind,
                                allow_private=allow_private, default_country="DE")
    rows = frame.to_dicts()
    for index, record in enumerate(RECORDS):
        cleaned, expected = scalar(record, kind, allow_private)
        got = sorted((i["field"], i["message"], i["severity"]) for i in issues.filter(issues["index"] == index).to_dicts())
        assert got == expected, f"record {index}"
        for field in CUSTOMER_FIELDS:
            if field != "obfuscate_enabled":
                assert rows[index][field] == cleaned[field], f"record {index} field {field}"

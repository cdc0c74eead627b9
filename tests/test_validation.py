"""SPEC §3, value by value."""
import pytest

from store.rules.phones import normalise_phone
from store.rules.validation import clean_person, holds_card_number, luhn_valid, record_issues

FIELDS = ("first_name", "last_name", "company", "email", "phone", "mobile", "notes")


def clean(**data):
    return clean_person(data, fields=FIELDS, default_country="DE")


def test_text_is_trimmed_and_email_lower_cased():
    cleaned, issues = clean(first_name="  Ada ", email="  Ada@Example.COM ")
    assert cleaned["first_name"] == "Ada"
    assert cleaned["email"] == "ada@example.com"
    assert issues == []


@pytest.mark.parametrize("bad", ["ada@", "ada.example.com", "ada@example", "a b@example.com", "ada@@example.com", "ada..x@example.com"])
def test_invalid_email_is_an_error(bad):
    _, issues = clean(email=bad)
    assert [(i.field, i.severity) for i in issues] == [("email", "error")]
    assert "not a valid email address" in issues[0].message


def test_phone_is_normalised_with_the_default_country():
    cleaned, issues = clean(phone="030 1234567", mobile="+49 (0)151 2345 6789")
    assert cleaned["phone"] == "+49301234567"
    assert cleaned["mobile"] == "+4915123456789"
    assert issues == []


def test_unparsable_phone_is_kept_as_typed_with_a_warning():
    cleaned, issues = clean(phone="call reception")
    assert cleaned["phone"] == "call reception"
    assert [(i.field, i.severity) for i in issues] == [("phone", "warning")]


@pytest.mark.parametrize("text", ["4111 1111 1111 1111", "card: 4111-1111-1111-1111 exp 12/27", "5500000000000004"])
def test_card_numbers_are_refused(text):
    _, issues = clean(notes=text)
    assert [(i.field, i.severity) for i in issues] == [("notes", "error")]
    assert "card number" in issues[0].message


def test_another_systems_long_numeric_id_is_an_id_not_a_card_number():
    # Zoho Books contact ids are 13-19 digits; a tenth of them pass Luhn.
    cleaned, issues = clean_person({"external_id": "4600000010002", "notes": "4600000010002"}, fields=("external_id", "notes"), default_country=None)
    assert cleaned["external_id"] == "4600000010002"
    assert [(i.field, i.severity) for i in issues] == [("notes", "error")]


def test_card_like_digits_that_fail_luhn_or_length_pass():
    assert not holds_card_number("4111 1111 1111 1112")  # Luhn fails
    assert not holds_card_number("order 123456789012")  # 12 digits
    assert not holds_card_number("IBAN DE89370400440532013000")  # 20 digits: not a card run


def test_in_phone_fields_only_what_is_not_a_valid_phone_counts_as_a_card_number():
    # 16 digits that pass Luhn and are no phone number: the card error, the value masked.
    _, issues = clean(phone="4111 1111 1111 1111")
    assert [(i.severity, i.value) for i in issues] == [("error", "4111 •••• •••• 1111")]
    # A valid German mobile number whose digits happen to pass Luhn: a phone number.
    number = next(n for n in (f"+49 151 2345678{d}" for d in range(10))
                  if luhn_valid(n[1:].replace(" ", "")) and normalise_phone(n, "DE"))
    cleaned, issues = clean(phone=number)
    assert issues == [] and cleaned["phone"] == number.replace(" ", "")


def test_normalise_phone_is_cached_and_keeps_e164():
    assert normalise_phone("+4930123456", "US") == "+4930123456"


def test_record_needs_a_name_and_a_way_to_reach_it():
    issues = record_issues({}, kind="private", allow_private=True)
    assert {i.field for i in issues} == {"name", "email"}
    assert record_issues({"company": "X", "phone": "+4930123456"}, kind="private", allow_private=True) == []


def test_company_rules():
    rec = {"first_name": "Ada", "email": "a@example.com"}
    assert [i.message for i in record_issues(rec, kind="corporate", allow_private=True)] == ["a corporate customer needs a company name"]
    assert record_issues(rec, kind="private", allow_private=True) == []
    assert "private customers are not allowed" in record_issues(rec, kind="private", allow_private=False)[0].message


def test_the_email_fast_path_leaves_every_special_use_domain_to_the_library():
    # The fast path's list is a copy (the library is not imported to open a store); it must
    # stay the library's, or an address the library refuses would pass the fast path.
    import email_validator

    from store.rules.emails import SPECIAL_USE_DOMAINS, check_email

    assert sorted(SPECIAL_USE_DOMAINS) == sorted(email_validator.SPECIAL_USE_DOMAIN_NAMES)
    for domain in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        assert check_email(f"someone@shop.{domain}")[1] is not None

"""Mobile numbers as typed, checked and kept in E.164 (docs/sms.md#consent)."""

import pytest
from django.core.exceptions import ValidationError

from selfreport.phone import mobile_number, readable


@pytest.mark.parametrize(
    "typed", ["(206) 555-0123", "206-555-0123", "206.555.0123", "2065550123", "+1 206 555 0123", "1-206-555-0123"]
)
def test_a_us_number_in_any_usual_form_is_kept_in_e164(typed):
    assert mobile_number(typed) == "+12065550123"


def test_a_foreign_number_needs_its_country_code_and_keeps_it():
    assert mobile_number("+52 55 1234 5678") == "+525512345678"
    assert readable("+525512345678") == "+52 55 1234 5678"


def test_a_home_number_reads_as_people_write_it():
    assert readable("+12065550123") == "(206) 555-0123"


def test_the_default_region_comes_from_settings(settings):
    settings.SMS_DEFAULT_REGION = "MX"

    assert mobile_number("55 1234 5678") == "+525512345678"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a phone number"),
        ("not a number", "Enter a phone number"),
        ("206-555", "not a valid phone number"),
        ("(999) 555-0123", "not a valid phone number"),
        ("+1 800 555 1234", "cannot receive texts"),
    ],
)
def test_what_cannot_take_a_text_is_refused_with_why(typed, message):
    with pytest.raises(ValidationError) as refused:
        mobile_number(typed)

    assert message in refused.value.messages[0]

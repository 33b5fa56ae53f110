"""Mobile numbers: what a care manager types, checked and kept in E.164 (docs/sms.md#consent)."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

# Numbers that cannot receive a text: a landline, a pager, a premium or shared-cost line. The US
# and Canada do not tell mobiles from landlines by number (FIXED_LINE_OR_MOBILE): those pass.
NOT_TEXTABLE = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL,
}


def mobile_number(raw: str) -> str:
    """The number in E.164 (+12065550123); a ValidationError saying what is wrong otherwise.

    A number without a country code is read as one of SMS_DEFAULT_REGION (US by default).
    """
    try:
        number = phonenumbers.parse(raw, settings.SMS_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError("Enter a phone number, such as (206) 555-0123 or +1 206 555 0123.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("This is not a valid phone number: check the area code and the number of digits.")
    if phonenumbers.number_type(number) in NOT_TEXTABLE:
        raise ValidationError("This number cannot receive texts (a landline, toll-free or pager number).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_number_or_none(raw: str) -> str | None:
    try:
        return mobile_number(raw)
    except ValidationError:
        return None


def readable(e164: str) -> str:
    """As people write it: national form at home, international form for other countries."""
    number = phonenumbers.parse(e164)
    if phonenumbers.region_code_for_number(number) == settings.SMS_DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

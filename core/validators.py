"""Validators for Chinese resident ID numbers (居民身份证号码) and phone numbers."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

# GB 11643-1999: weights of the first 17 digits, and the check character for (sum mod 11).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")

# A time given to the API (a visit, an activity) is after 1970. Before 1901 Asia/Shanghai was
# on local mean time, +08:05:43, an offset RFC 3339 cannot write: the answer would not be a
# valid date-time (schemathesis, issue 17).
validate_recent_moment = MinValueValidator(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))


def id_check_char(first17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits of an ID number."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_gender(number: str) -> str:
    """'M' or 'F': the 17th digit is odd for men, even for women."""
    return "M" if int(number[16]) % 2 else "F"


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def validate_id_number(value: str) -> None:
    number = normalize_id_number(value)
    if not ID_RE.match(number):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a digit or X."), code="id_format"
        )
    try:
        born = id_birth_date(number)
    except ValueError:
        raise ValidationError(
            _("The birth date inside this ID number does not exist."), code="id_birth_date"
        ) from None
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        raise ValidationError(
            _("The birth date inside this ID number is out of range."), code="id_birth_date"
        )
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The check digit of this ID number is wrong; please check the number."),
            code="id_check_digit",
        )


def validate_phone(value: str) -> None:
    if value and not PHONE_RE.match(value.strip()):
        raise ValidationError(
            _("Enter an 11-digit mobile number or a landline such as 0395-1234567."),
            code="phone",
        )


def make_id_number(region: str, born: dt.date, sequence: int) -> str:
    """A well-formed ID number (for demo and test data): region, birth date, 3-digit sequence
    (odd for men, even for women) and the check character."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)

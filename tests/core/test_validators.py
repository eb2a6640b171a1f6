"""ID numbers (GB 11643-1999: 17 digits, a check character) and phone numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core.masking import mask_id_number
from core.validators import (
    id_birth_date,
    id_check_char,
    id_gender,
    make_id_number,
    normalize_id_number,
    validate_id_number,
    validate_phone,
)


def reference_check_char(first17: str) -> str:
    """The standard's own formula, written independently of core.validators: weight 2^(17-i)
    mod 11, and the check value (12 - sum) mod 11, with 10 written X."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17)) % 11
    value = (12 - total) % 11
    return "X" if value == 10 else str(value)


# The standard's worked example, and numbers checked with the reference formula.
GOOD = ["11010519491231002X", "440524198001010013", "110101199003070476", "320311197001011230"]


def code_of(number: str) -> str | None:
    try:
        validate_id_number(number)
    except ValidationError as exc:
        return exc.code
    return None


@pytest.mark.parametrize("number", GOOD)
def test_good_id_numbers_pass(number):
    assert code_of(number) is None


def test_the_check_character_follows_the_standard():
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052419800101001") == "3"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_agrees_with_the_reference_formula(first17):
    assert id_check_char(first17) == reference_check_char(first17)


@pytest.mark.parametrize("number", GOOD)
def test_every_other_check_character_is_refused(number):
    for char in "0123456789X":
        if char != number[-1]:
            assert code_of(number[:17] + char) == "id_check_digit"


def test_a_lowercase_x_is_normalised_and_accepted():
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert code_of("11010519491231002x") is None


@pytest.mark.parametrize(
    "first17",
    [
        "11010519490229002",  # 1949 is not a leap year
        "11010519491301002",  # month 13
        "11010519490000002",  # month 0
        "11010519490431002",  # 31 April
    ],
)
def test_a_birth_date_that_does_not_exist_is_refused(first17):
    assert code_of(first17 + id_check_char(first17)) == "id_birth_date"


@pytest.mark.parametrize("born", ["18991231", "21000101"])
def test_a_birth_date_out_of_range_is_refused(born):
    first17 = f"110105{born}002"
    assert code_of(first17 + id_check_char(first17)) == "id_birth_date"


def test_a_leap_day_birth_date_is_accepted():
    assert code_of(make_id_number("110105", dt.date(2000, 2, 29), 3)) is None


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1101051949123100",  # 16 characters
        "11010519491231002XX",  # 19 characters
        "01010519491231002X",  # region cannot start with 0
        "1101051949123100X2",  # X only at the end
        "11010519491231002Y",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        "110105 9491231002X",
    ],
)
def test_a_malformed_id_number_is_refused(number):
    assert code_of(number) == "id_format"


def test_birth_date_and_gender_are_read_from_the_number():
    assert id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_gender("11010519491231002X") == "F"  # 2 is even
    assert id_gender("440524188001010014") == "M"  # 1 is odd


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_made_numbers_validate_and_carry_their_birth_date_and_gender(born, sequence):
    number = make_id_number("411103", born, sequence)
    validate_id_number(number)
    assert id_birth_date(number) == born
    assert id_gender(number) == ("M" if sequence % 2 else "F")


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    position=st.integers(min_value=14, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_changing_one_sequence_digit_breaks_the_check(born, position, delta):
    number = make_id_number("411103", born, 123)
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    assert code_of(changed) == "id_check_digit"


def test_masking_keeps_the_region_and_the_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("") == ""
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    "phone", ["13812345678", "19912345678", "0395-1234567", "03951234567", "010-12345678", ""]
)
def test_good_phone_numbers_pass(phone):
    validate_phone(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "12812345678",
        "1381234567",
        "138123456789",
        "+8613812345678",
        "0395-123",
        "abc",
        "395-1234567",
    ],
)
def test_bad_phone_numbers_are_refused(phone):
    with pytest.raises(ValidationError) as exc:
        validate_phone(phone)
    assert exc.value.code == "phone"

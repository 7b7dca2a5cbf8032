"""Tests the IntOrString helpers (tutor.kube.intstr).

Upstream: staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go (GetScaledValueFromIntOrPercent,
GetValueFromIntOrPercent and their errors) and pkg/util/validation/validation.go (IsValidPercent).
"""

from __future__ import annotations

import pytest

from tutor.kube.intstr import (
    PERCENT_ERROR,
    IntOrStringError,
    get_scaled_value_from_int_or_percent,
    get_value_from_int_or_percent,
    int_value,
    percent_errors,
    percent_value,
)


@pytest.mark.parametrize(("value", "total", "round_up", "expected"), [
    (3, 10, True, 3),
    (0, 10, False, 0),
    (-1, 10, True, -1),  # ints are not validated here
    ("25%", 10, True, 3),
    ("25%", 10, False, 2),
    ("25%", 4, True, 1),
    ("25%", 4, False, 1),
    ("0%", 10, True, 0),
    ("100%", 7, False, 7),
    ("150%", 2, True, 3),
    ("33%", 3, True, 1),  # 0.99 up
    ("33%", 3, False, 0),
    ("-10%", 10, False, -1),  # Atoi takes a sign
])
def test_get_scaled_value(value: int | str, total: int, round_up: bool, expected: int) -> None:
    assert get_scaled_value_from_int_or_percent(value, total, round_up) == expected


@pytest.mark.parametrize(("value", "message"), [
    (None, "nil value for IntOrString"),
    ("5", "invalid value for IntOrString: invalid type: string is not a percentage"),
    ("", "invalid value for IntOrString: invalid type: string is not a percentage"),
    ("x%", 'invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax'),
    ("%", 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax'),
    ("5%%", 'invalid value for IntOrString: invalid value "5%%": strconv.Atoi: parsing "5%": invalid syntax'),
    (" 5%", 'invalid value for IntOrString: invalid value " 5%": strconv.Atoi: parsing " 5": invalid syntax'),
    (1.5, "invalid value for IntOrString: invalid type: neither int nor percentage"),
    (True, "invalid value for IntOrString: invalid type: neither int nor percentage"),
])
def test_get_scaled_value_errors(value: object, message: str) -> None:
    with pytest.raises(IntOrStringError) as info:
        get_scaled_value_from_int_or_percent(value, 10, True)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_get_value_from_int_or_percent_takes_every_string_as_a_percentage() -> None:
    assert get_value_from_int_or_percent("5", 10, True) == 1
    assert get_value_from_int_or_percent("50%%", 10, False) == 5
    assert get_value_from_int_or_percent(4, 10, False) == 4
    with pytest.raises(IntOrStringError) as info:
        get_value_from_int_or_percent("x", 10, True)
    assert str(info.value) == 'invalid value for IntOrString: invalid value "x": strconv.Atoi: parsing "x": invalid syntax'
    with pytest.raises(IntOrStringError, match="nil value for IntOrString"):
        get_value_from_int_or_percent(None, 10, True)


def test_int_value() -> None:
    assert int_value(7) == 7
    assert int_value("12") == 12
    assert int_value("12%") == 0  # Atoi fails: IntValue ignores the error


def test_percent_validation() -> None:
    assert percent_errors("25%") == []
    assert percent_errors("25") == [PERCENT_ERROR]
    assert percent_errors("-5%") == [PERCENT_ERROR]
    assert percent_value("120%") == 120
    assert percent_value("abc") is None
    assert percent_value(5) is None

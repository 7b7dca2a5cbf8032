"""Provides the ``IntOrString`` helpers of apimachinery: a count or a percentage of a total.

Upstream: kubernetes/kubernetes ``staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go``
(``GetScaledValueFromIntOrPercent``, ``GetValueFromIntOrPercent``, ``getIntOrPercentValueSafely``,
``getIntOrPercentValue``, ``IntValue``) and ``pkg/util/validation/validation.go`` (``IsValidPercent``).
An ``IntOrString`` is held as JSON holds it: an ``int`` (``2``) or a ``str`` (``"25%"``).
"""

from __future__ import annotations

import math
import re

from tutor.kube.strconv import NumError, atoi, quote

IntOrString = int | str
"""``intstr.IntOrString`` as it appears in JSON."""

_PERCENT = re.compile(r"[0-9]+%")
PERCENT_ERROR = (
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
    "regex used for validation is '[0-9]+%')"
)
"""``IsValidPercent``'s message (``validation.RegexError``, with its double space)."""


class IntOrStringError(ValueError):
    """An error of ``GetScaledValueFromIntOrPercent``/``GetValueFromIntOrPercent``, worded as upstream."""


def int_value(value: IntOrString) -> int:
    """``IntValue``: the int, or ``strconv.Atoi`` of the string (0 when that fails)."""
    if isinstance(value, str):
        try:
            return atoi(value)
        except NumError:
            return 0
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _scale(value: int, total: int, round_up: bool) -> int:
    # int(math.Ceil(float64(value) * float64(total) / 100)), in float64 as upstream computes it
    scaled = float(value) * float(total) / 100
    return int(math.ceil(scaled) if round_up else math.floor(scaled))


def _value_safely(value: object) -> tuple[int, bool]:
    """``getIntOrPercentValueSafely``: (value, is it a percentage)."""
    if _is_int(value):
        return int_value(value), False  # type: ignore[arg-type]
    if isinstance(value, str):
        if not value.endswith("%"):
            raise IntOrStringError("invalid type: string is not a percentage")
        try:
            return atoi(value[:-1]), True
        except NumError as err:
            raise IntOrStringError(f"invalid value {quote(value)}: {err}") from None
    raise IntOrStringError("invalid type: neither int nor percentage")


def _value_legacy(value: object) -> tuple[int, bool]:
    """``getIntOrPercentValue``: every string is a percentage, with or without its ``%`` signs."""
    if _is_int(value):
        return int_value(value), False  # type: ignore[arg-type]
    if isinstance(value, str):
        try:
            return atoi(value.replace("%", "")), True
        except NumError as err:
            raise IntOrStringError(f"invalid value {quote(value)}: {err}") from None
    raise IntOrStringError("invalid type: neither int nor percentage")


def _scaled(value: object, total: int, round_up: bool, *, legacy: bool) -> int:
    if value is None:
        raise IntOrStringError("nil value for IntOrString")
    try:
        number, is_percent = _value_legacy(value) if legacy else _value_safely(value)
    except IntOrStringError as err:
        raise IntOrStringError(f"invalid value for IntOrString: {err}") from None
    return _scale(number, total, round_up) if is_percent else number


def get_scaled_value_from_int_or_percent(value: IntOrString | None, total: int, round_up: bool) -> int:
    """``GetScaledValueFromIntOrPercent``: an int as is, ``"n%"`` as n% of ``total``.

    Args:
        value: The ``IntOrString``; None stands for Go's nil pointer.
        total: What a percentage is a percentage of (e.g. a deployment's replicas).
        round_up: Round a scaled percentage up (``math.Ceil``) rather than down (``math.Floor``).

    Returns:
        The value; ``"25%"`` of 10 is 3 rounded up and 2 rounded down.

    Raises:
        IntOrStringError: ``nil value for IntOrString``; ``invalid value for IntOrString: invalid
            type: string is not a percentage`` for ``"5"``; ``invalid value for IntOrString: invalid
            value "x%": strconv.Atoi: parsing "x": invalid syntax``; ``... invalid type: neither int
            nor percentage`` for any other JSON value.
    """
    return _scaled(value, total, round_up, legacy=False)


def get_value_from_int_or_percent(value: IntOrString | None, total: int, round_up: bool) -> int:
    """``GetValueFromIntOrPercent`` (deprecated upstream): every string is a percentage.

    Unlike :func:`get_scaled_value_from_int_or_percent`, ``"5"`` is 5% and every ``%`` sign is dropped
    before the number is read (``"5%%"`` is 5%).

    Raises:
        IntOrStringError: As :func:`get_scaled_value_from_int_or_percent`, less the "not a percentage" case.
    """
    return _scaled(value, total, round_up, legacy=True)


def percent_errors(text: str) -> list[str]:
    """``validation.IsValidPercent``: ``[]`` for ``"25%"``, else the message ``PERCENT_ERROR``."""
    return [] if _PERCENT.fullmatch(text) else [PERCENT_ERROR]


def percent_value(value: object) -> int | None:
    """The number of a valid percentage string (``"25%"`` gives 25), None for anything else.

    This is apps validation's ``getPercentValue`` (``pkg/apis/apps/validation/validation.go``).
    """
    if isinstance(value, str) and not percent_errors(value):
        try:
            return atoi(value[:-1])
        except NumError:  # more digits than an int holds: Go ignores the error and gets the clamped value
            return (1 << 63) - 1
    return None

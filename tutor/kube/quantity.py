"""Provides resource quantities: ``resource.ParseQuantity`` and ``Quantity.String()``, exactly (apimachinery
``pkg/api/resource/quantity.go`` and ``suffix.go``).

- :func:`parse_quantity_strict`: the value and format of a quantity, or upstream's error (``parseQuantityString``,
  ``suffixHandler.interpret``: decimal SI ``n u m k M G T P E``, binary SI ``Ki … Ei``, decimal exponents);
  :func:`parse_quantity` is None where that fails; :func:`milli_value` / :func:`value` are ``MilliValue()`` /
  ``Value()`` (rounded up).
- :func:`quantity_format` and :func:`format_quantity`: a quantity's format (``DecimalSI``, ``BinarySI``,
  ``DecimalExponent``) and ``Quantity.String()`` (``CanonicalizeBytes``: ``1500m``, ``1536Mi``, ``1k``).

Used by the practice cluster (decoding, quotas, the scheduler, Tables) and by the workshop's seat budgets.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"


SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"
_DIGITS = frozenset("0123456789")
_SUFFIX_LETTERS = frozenset("eEinumkKMGTP")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_MAX_ALLOWED = Fraction(2**63 - 1)
"""``maxAllowed``: where a BinarySI quantity is capped."""
_ORDER_LIMIT = 64
"""Powers of ten beyond which a value is held at ``10**64`` (or ``1n``): far past what an int64 of nano units holds,
so no comparison or ``Value()`` changes, and ``1e999999999`` never makes a billion-digit integer."""


class QuantityError(ValueError):
    """``ParseQuantity``'s error: :data:`ERR_FORMAT_WRONG`, :data:`ERR_NUMERIC` or :data:`ERR_SUFFIX`."""


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """``parseQuantityString``: (positive, value, numerator, denominator, suffix), leading zeros stripped."""
    positive, pos, end = True, 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    value, suffix_start = text[:pos], pos
    while pos < end and text[pos] in _SUFFIX_LETTERS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:  # a non-digit where only the exponent's digits may follow
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """``suffixHandler.interpret``: (base, exponent, format)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:].lstrip("+-")
        if digits and all(c in _DIGITS for c in digits) and suffix[1:].count("-") + suffix[1:].count("+") <= 1:
            exponent = int(suffix[1:]) if len(digits) <= 19 else (1 << 63)
            if -(1 << 63) <= exponent < (1 << 63):  # strconv.ParseInt(..., 64), then int32(parsed)
                return 10, (exponent + (1 << 31)) % (1 << 32) - (1 << 31), DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def parse_quantity_strict(text: str) -> tuple[Fraction, str]:
    """``resource.ParseQuantity``: the exact value (rounded up to ``1n``, BinarySI capped at ``maxAllowed``) and
    the format of ``text``.

    Raises:
        QuantityError: upstream's error: ``quantities must match the regular expression '...'``, ``unable to parse
            quantity's suffix`` or ``unable to parse numeric part of quantity``.
    """
    if not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return Fraction(0), DECIMAL_SI
    positive, value, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)
    if not any(c in _DIGITS for c in value):
        # "+", "." or ".k" are zero on the fast path; where it is not taken (a scale below 1n), inf.Dec.SetString
        # fails on them.
        if base == 10 and exponent < -9:
            raise QuantityError(ERR_NUMERIC)
        return Fraction(0), fmt
    digits = num.lstrip("0")
    significant = denom.lstrip("0")
    magnitude = len(digits) if digits else -(len(denom) - len(significant))  # power of ten of the first digit
    order = magnitude + (exponent if base == 10 else math.ceil(exponent * math.log10(2)))
    if not digits and not significant:
        amount = Fraction(0)
    elif order > _ORDER_LIMIT:
        amount = Fraction(10) ** _ORDER_LIMIT
    elif order < -_ORDER_LIMIT:
        amount = Fraction(1, 10**9)  # rounded up to the minimum
    else:
        kept = denom[:80] + ("1" if denom[80:].strip("0") else "")  # what the rounding to 1n can still see
        amount = Fraction(int(num + kept), 10 ** len(kept))
        amount *= Fraction(10) ** exponent if base == 10 else Fraction(2) ** exponent
        amount = Fraction(math.ceil(amount * 10**9), 10**9)  # rounded up to the minimum, 1n
    if fmt == BINARY_SI:
        amount = min(amount, _MAX_ALLOWED)
        if 0 < amount < 1:
            fmt = DECIMAL_SI
    return (amount if positive else -amount), fmt


def parse_quantity(text: Any) -> Fraction | None:
    """The exact value of a quantity (``"100m"`` is 1/10; numbers too); None when it does not parse."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float | Fraction):
        return Fraction(text)
    try:
        return parse_quantity_strict(str(text).strip())[0]
    except QuantityError:
        return None


def quantity_format(text: Any) -> str:
    """The format ``ParseQuantity`` gives a quantity: ``BinarySI`` for ``Ki``...``Ei``, ``DecimalExponent`` for
    ``1e3``, ``DecimalSI`` otherwise (numbers too, and what does not parse)."""
    if not isinstance(text, str):
        return DECIMAL_SI
    try:
        return parse_quantity_strict(text.strip())[1]
    except QuantityError:
        return DECIMAL_SI


def format_quantity(number: Fraction, fmt: str = DECIMAL_SI) -> str:
    """``Quantity.String()`` of an exact value (apimachinery ``quantity.go`` ``CanonicalizeBytes``): BinarySI
    only for whole values of at least 1024 in magnitude, else decimal with the largest suffix that keeps the
    mantissa whole (values finer than ``1n`` are rounded up, as ``ParseQuantity`` does)."""
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    magnitude = -number if number < 0 else number
    if fmt == BINARY_SI and magnitude >= 1024 and magnitude.denominator == 1:
        mantissa, exponent = int(magnitude), 0
        while mantissa % 1024 == 0 and exponent < len(_BINARY) - 1:
            mantissa //= 1024
            exponent += 1
        return f"{sign}{mantissa}{_BINARY[exponent]}"
    mantissa, exponent = math.ceil(magnitude * 10**9), -9
    while mantissa % 1000 == 0 and exponent < 18:
        mantissa //= 1000
        exponent += 3
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{mantissa}{_DECIMAL[exponent]}"


def value(text: Any) -> int:
    """``Quantity.Value()``: rounded up to an integer; 0 when it does not parse."""
    parsed = parse_quantity(text)
    return math.ceil(parsed) if parsed is not None else 0


def milli_value(text: Any) -> int:
    """``Quantity.MilliValue()``: thousandths, rounded up; 0 when it does not parse."""
    parsed = parse_quantity(text)
    return math.ceil(parsed * 1000) if parsed is not None else 0

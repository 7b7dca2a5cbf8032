"""Provides Go's ``strconv.Quote``, ``Atoi`` and ``ParseInt``, with the error texts Go gives.

Upstream: golang/go ``src/strconv/quote.go`` (``Quote``, ``appendQuotedWith``, ``appendEscapedRune``) and
``src/strconv/atoi.go`` (``NumError``, ``ParseUint``, ``ParseInt``, ``Atoi``). Kubernetes prints values with
``%q`` (``strconv.Quote``) in many messages (``Invalid value: "a b"``), and its parse errors wrap Go's
``strconv.Atoi: parsing "x": invalid syntax``.
"""

from __future__ import annotations

_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v"}
_SURROGATES = range(0xD800, 0xE000)
_ESCAPED_BYTES = range(0xDC80, 0xDD00)
"""``surrogateescape`` code points: a byte that is not valid UTF-8, kept as U+DC80 + byte."""


def _escaped_rune(code: int, quote: str) -> str:
    """``appendEscapedRune`` with ``ASCIIonly`` and ``graphicOnly`` false."""
    if code in _SURROGATES:
        code = 0xFFFD  # not a rune Go can hold: its JSON decoder and UTF-8 decoding give U+FFFD instead
    char = chr(code)
    if char in (quote, "\\"):
        return "\\" + char
    if char.isprintable():  # unicode.IsPrint: categories L, M, N, P, S and the ASCII space
        return char
    if code in _ESCAPES:
        return _ESCAPES[code]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote(text: str | bytes, quote_char: str = '"') -> str:
    """Return ``strconv.Quote(text)``: a double-quoted Go string literal.

    Printable runes (``unicode.IsPrint``) stay as they are; ``\\a \\b \\f \\n \\r \\t \\v``, the quote and
    the backslash are backslash-escaped; other control characters become ``\\x1b``, other unprintable
    runes ``\\u00a0`` or ``\\U000e0001``.

    Args:
        text: The string. Bytes are read as Go reads a string: UTF-8, where each byte that does not
            start a valid sequence prints as ``\\xff``. A ``str`` may carry such bytes as
            ``surrogateescape`` code points (U+DC80 to U+DCFF); any other lone surrogate is not a rune
            and prints as U+FFFD, as Go's decoders turn it into one.
        quote_char: The quotation mark; ``'`` gives ``strconv.QuoteRune``'s quoting of each rune.

    Returns:
        The quoted text, e.g. ``"a\\tb"`` for a tab between a and b.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="surrogateescape")
    out = [quote_char]
    for char in text:
        code = ord(char)
        if code in _ESCAPED_BYTES:
            out.append(f"\\x{code - 0xDC00:02x}")  # width == 1 && r == utf8.RuneError
        else:
            out.append(_escaped_rune(code, quote_char))
    out.append(quote_char)
    return "".join(out)


class NumError(ValueError):
    """``strconv.NumError``: ``strconv.<Func>: parsing "<Num>": <Err>``."""

    SYNTAX = "invalid syntax"
    """``strconv.ErrSyntax``."""
    RANGE = "value out of range"
    """``strconv.ErrRange``."""

    def __init__(self, func: str, num: str, err: str) -> None:
        self.func = func
        self.num = num
        self.err = err
        super().__init__(f"strconv.{func}: parsing {quote(num)}: {err}")


_INT_SIZE = 64
"""``strconv.IntSize`` on the 64-bit machines Kubernetes runs on."""
_MAX_UINT64 = (1 << 64) - 1


def _parse_uint(text: str, bit_size: int) -> int:
    """``ParseUint(text, 10, bit_size)``: the digits of an unsigned decimal number."""
    if text == "":
        raise NumError("ParseUint", text, NumError.SYNTAX)
    cutoff = _MAX_UINT64 // 10 + 1
    max_value = (1 << bit_size) - 1
    value = 0
    for byte in text.encode("utf-8", errors="surrogateescape"):
        if not 0x30 <= byte <= 0x39:  # a letter gives a digit >= base, anything else no digit: both ErrSyntax
            raise NumError("ParseUint", text, NumError.SYNTAX)
        if value >= cutoff:  # value*10 overflows: checked before the later bytes are looked at
            raise _RangeError(max_value)
        value = value * 10 + byte - 0x30
        if value > max_value:
            raise _RangeError(max_value)
    return value


class _RangeError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value


def parse_uint(text: str, bit_size: int = 64) -> int:
    """Return ``strconv.ParseUint(text, 10, bit_size)``.

    Args:
        text: Decimal digits only (no sign, no spaces, no other scripts' digits).
        bit_size: 8, 16, 32 or 64 (0 means ``uint``, 64 bits).

    Returns:
        The number.

    Raises:
        NumError: ``strconv.ParseUint: parsing "x": invalid syntax``, or ``... value out of range``.
    """
    try:
        return _parse_uint(text, bit_size or _INT_SIZE)
    except _RangeError:
        raise NumError("ParseUint", text, NumError.RANGE) from None


def parse_int(text: str, bit_size: int = 64) -> int:
    """Return ``strconv.ParseInt(text, 10, bit_size)``.

    Args:
        text: An optional ``+`` or ``-`` and decimal digits; nothing else (no spaces, no ``_``).
        bit_size: 8, 16, 32 or 64 (0 means ``int``, 64 bits).

    Returns:
        The number.

    Raises:
        NumError: ``strconv.ParseInt: parsing "x": invalid syntax``, or ``... value out of range`` when
            the number does not fit a signed integer of ``bit_size`` bits.
    """
    if text == "":
        raise NumError("ParseInt", text, NumError.SYNTAX)
    bits = bit_size or _INT_SIZE
    negative = text[0] == "-"
    digits = text[1:] if text[0] in "+-" else text
    try:
        magnitude = _parse_uint(digits, bits)
    except NumError:
        raise NumError("ParseInt", text, NumError.SYNTAX) from None
    except _RangeError as overflow:
        magnitude = overflow.value
    cutoff = 1 << (bits - 1)
    if (not negative and magnitude >= cutoff) or (negative and magnitude > cutoff):
        raise NumError("ParseInt", text, NumError.RANGE)
    return -magnitude if negative else magnitude


def atoi(text: str) -> int:
    """Return ``strconv.Atoi(text)`` (``ParseInt(text, 10, 0)`` with ``Atoi`` in its errors).

    Args:
        text: An optional sign and decimal digits.

    Returns:
        The number.

    Raises:
        NumError: ``strconv.Atoi: parsing "12a": invalid syntax`` or ``... value out of range``.
    """
    size = len(text.encode("utf-8", errors="surrogateescape"))
    if 0 < size < 19:  # Go's fast path for small numbers; its errors are the same as the slow path's
        digits = text[1:] if text[0] in "+-" else text
        if not digits or not all("0" <= c <= "9" for c in digits):
            raise NumError("Atoi", text, NumError.SYNTAX)
        return int(text)
    try:
        return parse_int(text, 0)
    except NumError as err:
        raise NumError("Atoi", err.num, err.err) from None

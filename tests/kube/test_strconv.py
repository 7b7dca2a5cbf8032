"""Tests Go's strconv.Quote / Atoi / ParseInt port (tutor.kube.strconv).

Expected texts follow golang/go src/strconv/quote.go (appendQuotedWith, appendEscapedRune) and
src/strconv/atoi.go (NumError, ParseUint, ParseInt, Atoi's fast path).
"""

from __future__ import annotations

import pytest

from tutor.kube.strconv import NumError, atoi, parse_int, quote


@pytest.mark.parametrize(("text", "quoted"), [
    ("", '""'),
    ("abc", '"abc"'),
    ('a"b', '"a\\"b"'),
    ("a\\b", '"a\\\\b"'),
    ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
    ("\x00\x1b\x7f", '"\\x00\\x1b\\x7f"'),
    ("é日本", '"é日本"'),  # printable runes stay
    ("\u00a0", '"\\u00a0"'),  # a space other than ASCII's is not printable
    ("\u200b", '"\\u200b"'),  # format character
    ("\U000e0001", '"\\U000e0001"'),
    ("\ud800", '"\ufffd"'),  # not a rune: what Go's decoders would have made of it
])
def test_quote(text: str, quoted: str) -> None:
    assert quote(text) == quoted


def test_quote_bytes_prints_invalid_utf8_bytes_as_hex() -> None:
    assert quote(b"a\xffb\xc3\xa9") == '"a\\xffbé"'
    assert quote(b"\xff".decode("utf-8", "surrogateescape")) == '"\\xff"'


def test_quote_with_single_quotes_is_quote_rune() -> None:
    assert quote("'", "'") == "'\\''"
    assert quote('"', "'") == "'\"'"


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("42", 42), ("+7", 7), ("-0", 0), ("-12", -12), ("007", 7),
    ("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -(2**63)),
])
def test_atoi(text: str, value: int) -> None:
    assert atoi(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("", 'strconv.Atoi: parsing "": invalid syntax'),
    ("+", 'strconv.Atoi: parsing "+": invalid syntax'),
    ("12a", 'strconv.Atoi: parsing "12a": invalid syntax'),
    (" 1", 'strconv.Atoi: parsing " 1": invalid syntax'),
    ("1_000", 'strconv.Atoi: parsing "1_000": invalid syntax'),  # underscores only with base 0
    ("٣", 'strconv.Atoi: parsing "٣": invalid syntax'),
    ("9223372036854775808", 'strconv.Atoi: parsing "9223372036854775808": value out of range'),
    ("-9223372036854775809", 'strconv.Atoi: parsing "-9223372036854775809": value out of range'),
    # ParseUint reports the overflow at the digit that overflows, before it looks at later bytes.
    ("99999999999999999999x", 'strconv.Atoi: parsing "99999999999999999999x": value out of range'),
])
def test_atoi_errors(text: str, message: str) -> None:
    with pytest.raises(NumError) as info:
        atoi(text)
    assert str(info.value) == message
    assert info.value.func == "Atoi" and info.value.num == text


@pytest.mark.parametrize(("text", "bits", "message"), [
    ("128", 8, 'strconv.ParseInt: parsing "128": value out of range'),
    ("-129", 8, 'strconv.ParseInt: parsing "-129": value out of range'),
    ("2147483648", 32, 'strconv.ParseInt: parsing "2147483648": value out of range'),
    ("x", 64, 'strconv.ParseInt: parsing "x": invalid syntax'),
    ("-", 64, 'strconv.ParseInt: parsing "-": invalid syntax'),
])
def test_parse_int_errors(text: str, bits: int, message: str) -> None:
    with pytest.raises(NumError, match=None) as info:
        parse_int(text, bits)
    assert str(info.value) == message


def test_parse_int_bounds() -> None:
    assert parse_int("-128", 8) == -128
    assert parse_int("127", 8) == 127
    assert parse_int("-2147483648", 32) == -(2**31)

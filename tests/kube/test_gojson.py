"""Tests the port of Go's encoding/json scanner and errors (tutor.kube.gojson).

Messages and offsets follow golang/go src/encoding/json/scanner.go (checkValid, eof, the state
functions, quoteChar) and decode.go (UnmarshalTypeError.Error, convertNumber).
"""

from __future__ import annotations

import pytest

from tutor.kube import gojson


@pytest.mark.parametrize(("data", "message", "offset"), [
    (b"{bad", "invalid character 'b' looking for beginning of object key string", 2),
    (b"", "unexpected end of JSON input", 0),
    (b"   ", "unexpected end of JSON input", 3),
    (b"[1,2", "unexpected end of JSON input", 4),
    (b'{"a":1', "unexpected end of JSON input", 6),
    (b'{"a" 1}', "invalid character '1' after object key", 6),
    (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair", 8),
    (b"[1 2]", "invalid character '2' after array element", 4),
    (b'{"a":1}x', "invalid character 'x' after top-level value", 8),
    (b"{} {}", "invalid character '{' after top-level value", 4),
    (b"nul", "invalid character ' ' in literal null (expecting 'l')", 3),  # eof() feeds a space
    (b"tRue", "invalid character 'R' in literal true (expecting 'r')", 2),
    (b"fals", "invalid character ' ' in literal false (expecting 'e')", 4),
    (b"-", "invalid character ' ' in numeric literal", 1),
    (b"-a", "invalid character 'a' in numeric literal", 2),
    (b"1.", "invalid character ' ' after decimal point in numeric literal", 2),
    (b"1e", "invalid character ' ' in exponent of numeric literal", 2),
    (b"01", "invalid character '1' after top-level value", 2),
    (b'"a\tb"', "invalid character '\\t' in string literal", 3),
    (b'"\\x"', "invalid character 'x' in string escape code", 3),
    (b'"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape", 6),
    (b"'a'", "invalid character '\\'' looking for beginning of value", 1),
    (b"\xff", "invalid character 'ÿ' looking for beginning of value", 1),  # the byte as a rune
    (b"NaN", "invalid character 'N' looking for beginning of value", 1),
    (b"[" * 10001, "invalid character '[' exceeded max depth", 10001),
])
def test_syntax_errors(data: bytes, message: str, offset: int) -> None:
    with pytest.raises(gojson.JSONSyntaxError) as info:
        gojson.loads(data)
    assert str(info.value) == message
    assert info.value.offset == offset


@pytest.mark.parametrize(("data", "value"), [
    (b' {"a": [1, 2.5, true, null, "x"]} ', {"a": [1, 2.5, True, None, "x"]}),
    (b'"\\ud83d\\ude00"', "\U0001f600"),  # a surrogate pair
    (b'"\\ud800x"', "\ufffdx"),  # a lone surrogate becomes U+FFFD, as in Go
    (b'"a\xffb"', "a\ufffdb"),  # invalid UTF-8 too
    (b'{"a":1,"a":2}', {"a": 2}),
])
def test_loads(data: bytes, value: object) -> None:
    assert gojson.loads(data) == value


def test_a_number_beyond_float64_is_a_type_error() -> None:
    with pytest.raises(gojson.UnmarshalTypeError) as info:
        gojson.loads(b"[1e400]")
    assert str(info.value) == "json: cannot unmarshal number 1e400 into Go value of type float64"


def test_syntax_errors_come_before_type_errors() -> None:
    with pytest.raises(gojson.JSONSyntaxError):
        gojson.loads(b"[1e400, x]")


def test_deep_nesting_go_accepts() -> None:
    gojson.check_valid(b"[" * 10000 + b"]" * 10000)


def test_unmarshal_type_error_wording() -> None:
    assert str(gojson.UnmarshalTypeError("array", "map[string]interface {}")) == (
        "json: cannot unmarshal array into Go value of type map[string]interface {}")
    assert str(gojson.UnmarshalTypeError("number", "string", struct="Container",
                                         field="spec.template.spec.containers.image")) == (
        "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image "
        "of type string")
    assert str(gojson.UnmarshalTypeError("bool", "string", field="kind")) == (
        "json: cannot unmarshal bool into Go struct field .kind of type string")


@pytest.mark.parametrize(("value", "name"), [
    ({}, "object"), ([], "array"), ("", "string"), (True, "bool"), (0, "number"), (1.5, "number"),
])
def test_value_name(value: object, name: str) -> None:
    assert gojson.value_name(value) == name


def test_type_name_is_reflect_type_of_as_percent_s_prints_it() -> None:
    # apimachinery pkg/util/mergepatch/errors.go ErrBadArgType: fmt.Errorf("... %s", reflect.TypeOf(actual))
    from tutor.kube.gojson import type_name

    assert [type_name(v) for v in ({}, [], "s", True, 1, 1.5, None)] == [
        "map[string]interface {}", "[]interface {}", "string", "bool", "int64", "float64", "%!s(<nil>)"]

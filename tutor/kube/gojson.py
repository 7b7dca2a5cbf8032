"""Provides JSON decoding that accepts and rejects what Go's ``encoding/json`` does, in Go's words.

Upstream: golang/go ``src/encoding/json/scanner.go`` (the state machine that ``checkValid`` runs over the
input before anything is decoded, ``SyntaxError`` with its byte offset, ``quoteChar``) and
``src/encoding/json/decode.go`` (``Unmarshal``, ``UnmarshalTypeError`` and the value names it uses:
``object``, ``array``, ``string``, ``number``, ``bool``; invalid UTF-8 and lone UTF-16 surrogates in
strings become U+FFFD). Kubernetes decodes request bodies and patches with it (or with
``sigs.k8s.io/json``, a fork that words its errors the same way), so its messages reach kubectl as is:
``invalid character 'b' looking for beginning of object key string``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from tutor.kube.strconv import quote

MAX_NESTING_DEPTH = 10000
"""``maxNestingDepth``: deeper nesting is a syntax error (``exceeded max depth``)."""

_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_PARSE_OBJECT_KEY, _PARSE_OBJECT_VALUE, _PARSE_ARRAY_VALUE = 0, 1, 2


class JSONSyntaxError(ValueError):
    """``json.SyntaxError``: the message, and ``offset``, the bytes read when the error was seen."""

    def __init__(self, msg: str, offset: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.offset = offset


class UnmarshalTypeError(ValueError):
    """``json.UnmarshalTypeError``: a JSON value that does not fit the Go type it is decoded into.

    ``str()`` is Go's ``Error()``: ``json: cannot unmarshal <value> into Go value of type <type>``, or
    ``... into Go struct field <struct>.<field> of type <type>`` when the value is a struct field
    (``struct`` is the name of the innermost struct type, ``field`` the path of JSON names from the
    root, without list indexes).
    """

    def __init__(self, value: str, go_type: str, *, struct: str = "", field: str = "") -> None:
        self.value = value
        self.go_type = go_type
        self.struct = struct
        self.field = field
        if struct or field:
            text = f"json: cannot unmarshal {value} into Go struct field {struct}.{field} of type {go_type}"
        else:
            text = f"json: cannot unmarshal {value} into Go value of type {go_type}"
        super().__init__(text)


def quote_char(c: int) -> str:
    """``quoteChar``: a byte as a syntax error shows it (``'b'``, ``'\\n'``, ``'\\''``, ``'"'``, ``'Ã'``)."""
    return quote(chr(c), "'")


class _Scanner:
    """``scanner``: one step function per state, fed one byte at a time."""

    def __init__(self) -> None:
        self.step: Callable[[int], None] = self.begin_value
        self.parse_state: list[int] = []
        self.end_top = False
        self.bytes = 0

    def error(self, c: int, context: str) -> None:
        raise JSONSyntaxError(f"invalid character {quote_char(c)} {context}", self.bytes)

    def push(self, c: int, state: int) -> None:
        self.parse_state.append(state)
        if len(self.parse_state) > MAX_NESTING_DEPTH:
            self.error(c, "exceeded max depth")

    def pop(self) -> None:
        self.parse_state.pop()
        if not self.parse_state:
            self.step = self.end_top_state
            self.end_top = True
        else:
            self.step = self.end_value

    def begin_value_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x5D:  # ]
            self.end_value(c)
        else:
            self.begin_value(c)

    def begin_value(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x7B:  # {
            self.step = self.begin_string_or_empty
            self.push(c, _PARSE_OBJECT_KEY)
        elif c == 0x5B:  # [
            self.step = self.begin_value_or_empty
            self.push(c, _PARSE_ARRAY_VALUE)
        elif c == 0x22:  # "
            self.step = self.in_string
        elif c == 0x2D:  # -
            self.step = self.neg
        elif c == 0x30:  # 0
            self.step = self.zero
        elif c == 0x74:  # t
            self.step = self.literal("true", 1)
        elif c == 0x66:  # f
            self.step = self.literal("false", 1)
        elif c == 0x6E:  # n
            self.step = self.literal("null", 1)
        elif c in _DIGITS:
            self.step = self.one
        else:
            self.error(c, "looking for beginning of value")

    def begin_string_or_empty(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x7D:  # }
            self.parse_state[-1] = _PARSE_OBJECT_VALUE
            self.end_value(c)
        else:
            self.begin_string(c)

    def begin_string(self, c: int) -> None:
        if c in _SPACE:
            return
        if c == 0x22:
            self.step = self.in_string
        else:
            self.error(c, "looking for beginning of object key string")

    def end_value(self, c: int) -> None:
        if not self.parse_state:
            self.step = self.end_top_state
            self.end_top = True
            self.end_top_state(c)
            return
        if c in _SPACE:
            self.step = self.end_value
            return
        state = self.parse_state[-1]
        if state == _PARSE_OBJECT_KEY:
            if c == 0x3A:  # :
                self.parse_state[-1] = _PARSE_OBJECT_VALUE
                self.step = self.begin_value
                return
            self.error(c, "after object key")
        elif state == _PARSE_OBJECT_VALUE:
            if c == 0x2C:  # ,
                self.parse_state[-1] = _PARSE_OBJECT_KEY
                self.step = self.begin_string
                return
            if c == 0x7D:
                self.pop()
                return
            self.error(c, "after object key:value pair")
        else:
            if c == 0x2C:
                self.step = self.begin_value
                return
            if c == 0x5D:
                self.pop()
                return
            self.error(c, "after array element")

    def end_top_state(self, c: int) -> None:
        # Go records the error and reports it on the next byte or at the end: the same message.
        if c not in _SPACE:
            self.error(c, "after top-level value")

    def in_string(self, c: int) -> None:
        if c == 0x22:
            self.step = self.end_value
        elif c == 0x5C:  # backslash
            self.step = self.in_string_escape
        elif c < 0x20:
            self.error(c, "in string literal")

    def in_string_escape(self, c: int) -> None:
        if c in b'bfnrt\\/"':
            self.step = self.in_string
        elif c == 0x75:  # u
            self.step = self.hex_escape(4)
        else:
            self.error(c, "in string escape code")

    def hex_escape(self, remaining: int) -> Callable[[int], None]:
        def step(c: int) -> None:
            if c not in _HEX:
                self.error(c, "in \\u hexadecimal character escape")
            self.step = self.hex_escape(remaining - 1) if remaining > 1 else self.in_string

        return step

    def neg(self, c: int) -> None:
        if c == 0x30:
            self.step = self.zero
        elif c in _DIGITS:
            self.step = self.one
        else:
            self.error(c, "in numeric literal")

    def one(self, c: int) -> None:
        if c in _DIGITS:
            return
        self.zero(c)

    def zero(self, c: int) -> None:
        if c == 0x2E:  # .
            self.step = self.dot
        elif c in b"eE":
            self.step = self.exponent
        else:
            self.end_value(c)

    def dot(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.dot0
        else:
            self.error(c, "after decimal point in numeric literal")

    def dot0(self, c: int) -> None:
        if c in _DIGITS:
            return
        if c in b"eE":
            self.step = self.exponent
        else:
            self.end_value(c)

    def exponent(self, c: int) -> None:
        if c in b"+-":
            self.step = self.exponent_sign
        else:
            self.exponent_sign(c)

    def exponent_sign(self, c: int) -> None:
        if c in _DIGITS:
            self.step = self.exponent0
        else:
            self.error(c, "in exponent of numeric literal")

    def exponent0(self, c: int) -> None:
        if c not in _DIGITS:
            self.end_value(c)

    def literal(self, word: str, index: int) -> Callable[[int], None]:
        """``stateT``, ``stateTr``, ... ``stateNul``: the rest of ``true``, ``false`` or ``null``."""
        expected = ord(word[index])

        def step(c: int) -> None:
            if c != expected:
                self.error(c, f"in literal {word} (expecting {quote_char(expected)})")
            self.step = self.literal(word, index + 1) if index + 1 < len(word) else self.end_value

        return step


def check_valid(data: bytes) -> None:
    """``checkValid``: raise what ``json.Unmarshal`` raises for input that is not one JSON value.

    Args:
        data: The raw input.

    Raises:
        JSONSyntaxError: ``invalid character 'x' looking for beginning of value`` and the like, or
            ``unexpected end of JSON input`` (for empty input too); ``offset`` counts the bytes read.
    """
    scanner = _Scanner()
    for c in data:
        scanner.bytes += 1
        scanner.step(c)
    if scanner.end_top:
        return
    scanner.step(0x20)  # eof(): a space ends a number; inside anything else it is an error or nothing
    if not scanner.end_top:
        raise JSONSyntaxError("unexpected end of JSON input", scanner.bytes)


_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _replace_surrogates(value: Any) -> Any:
    """Go's ``unquote`` turns a lone ``\\ud800`` into U+FFFD; Python keeps it (and cannot encode it)."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_replace_surrogates(key): _replace_surrogates(item) for key, item in value.items()}
    return value


def _parse_float(literal: str) -> float:
    """``convertNumber``: a number beyond float64 (``1e400``) fails instead of becoming infinity."""
    value = float(literal)
    if value in (math.inf, -math.inf):
        raise UnmarshalTypeError(f"number {literal}", "float64")
    return value


def _reject_constant(name: str) -> Any:
    """Python's decoder takes ``NaN`` and ``Infinity``; JSON (and Go) do not."""
    raise ValueError(name)


def loads(data: bytes) -> Any:
    """``json.Unmarshal`` into an ``interface{}``: reject what Go rejects, with Go's error.

    Python's decoder runs first; whatever it rejects goes through Go's scanner (:func:`check_valid`),
    which words the error, so well-formed input pays for no byte-by-byte scan.

    Args:
        data: The raw input.

    Returns:
        The value: dicts, lists, strings, ints (for numbers written without fraction or exponent, as
        Kubernetes' ``sigs.k8s.io/json`` keeps them), floats, booleans and None. Invalid UTF-8 and
        lone surrogates in strings become U+FFFD, as in Go. Of duplicate keys the last one wins.

    Raises:
        JSONSyntaxError: The input is not exactly one JSON value (whitespace around it allowed).
        UnmarshalTypeError: A number does not fit a float64 (``json: cannot unmarshal number 1e400 into
            Go value of type float64``).
        RecursionError: Well-formed input nested deeper than Python's decoder goes (about a thousand
            levels; Go accepts up to :data:`MAX_NESTING_DEPTH`, beyond which this is a JSONSyntaxError).
    """
    try:
        value = json.loads(data.decode("utf-8", errors="replace"), parse_float=_parse_float,
                           parse_constant=_reject_constant)
    except (UnmarshalTypeError, RecursionError):
        check_valid(data)  # Go checks the syntax of the whole input before it decodes anything
        raise
    except ValueError as err:
        check_valid(data)
        raise JSONSyntaxError(str(err), getattr(err, "pos", 0)) from None  # not reached: Go rejects it too
    if _ESCAPED_SURROGATE.search(data):
        value = _replace_surrogates(value)
    return value


def value_name(value: Any) -> str:
    """The ``Value`` of an ``UnmarshalTypeError`` for a decoded JSON value of the wrong type.

    Args:
        value: A value as :func:`loads` returns it (not None: null decodes into anything).

    Returns:
        ``object``, ``array``, ``string``, ``bool`` or ``number``.
    """
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def number_literal(value: int | float) -> str:
    """The ``number <literal>`` Value Go names when a number does not fit an integer type.

    Go quotes the literal as written; a decoded float is printed back with Python's shortest repr
    (``1.5``), which matches what was written except for spellings such as ``1e3`` or ``1.50``.
    """
    return f"number {value}"

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
import json.decoder
import json.scanner
import math
import re
import sys
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


def _fix_surrogates(text: str) -> str:
    """Go's ``unquote`` turns a lone ``\\ud800`` into U+FFFD; Python keeps it (and cannot encode it)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _replace_surrogates(value: Any) -> Any:
    """:func:`_fix_surrogates` on every string of a decoded value, keys included (without recursion)."""
    if isinstance(value, str):
        return _fix_surrogates(value)
    root: list[Any] = [value]
    work: list[tuple[Any, Any]] = [(root, 0)]
    while work:
        container, slot = work.pop()
        item = container[slot]
        if isinstance(item, str):
            container[slot] = _fix_surrogates(item)
        elif isinstance(item, list):
            work.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            fixed = {_fix_surrogates(key): entry for key, entry in item.items()}
            container[slot] = fixed
            work.extend((fixed, key) for key in fixed)
    return root[0]


def _parse_float(literal: str) -> float:
    """``convertNumber``: a number beyond float64 (``1e400``) fails instead of becoming infinity."""
    value = float(literal)
    if value in (math.inf, -math.inf):
        raise UnmarshalTypeError(f"number {literal}", "float64")
    return value


_MAX_DIGITS = sys.get_int_max_str_digits() or 1 << 62
"""The most digits Python turns into an int (4,300 by default): every longer integer is beyond float64 too."""


class BigNumber(float):
    """An integer literal of more digits than Python converts, kept as written (its value is ±infinity).

    Go decodes such a number only into a big type: into ``interface{}`` it fails as beyond float64, into an
    integer or float field it is a type error that quotes the literal (``number 1111...``).
    """

    literal: str

    def __new__(cls, literal: str) -> BigNumber:
        number = super().__new__(cls, -math.inf if literal.startswith("-") else math.inf)
        number.literal = literal
        return number

    def __reduce__(self) -> tuple[type[BigNumber], tuple[str]]:
        return BigNumber, (self.literal,)  # copies keep the literal


_FLOAT64_DIGITS = 309
"""An integer of more digits may be beyond float64 (about 1.8e308)."""
_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (_FLOAT64_DIGITS + 1))


def _parse_int(literal: str) -> int:
    """``convertNumber`` into ``interface{}``: an int64, else a float64; beyond float64 it fails, as in Go."""
    if len(literal) > _FLOAT64_DIGITS and (len(literal) > _MAX_DIGITS or math.isinf(float(literal))):
        raise UnmarshalTypeError(f"number {literal}", "float64")
    return int(literal)


def _parse_big_int(literal: str) -> int | float:
    """Python's int, for the digits it converts; longer literals become a :class:`BigNumber`."""
    if len(literal) > _MAX_DIGITS:
        return BigNumber(literal)
    return int(literal)


def _reject_constant(name: str) -> Any:
    """Python's decoder takes ``NaN`` and ``Infinity``; JSON (and Go) do not."""
    raise ValueError(name)


_WHITESPACE = re.compile(r"[ \t\n\r]*")
"""JSON's whitespace (``json.decoder.WHITESPACE``)."""


def _loads_deep(text: str, parse_int: Callable[[str], Any]) -> Any:
    """Decode JSON that :func:`check_valid` accepted, at any depth, without recursion.

    Python's decoder recurses once per level and stops near a thousand; Go's goes to
    :data:`MAX_NESTING_DEPTH`. This one keeps its own stack (strings and numbers still decode in C).
    """
    def skip(at: int) -> int:
        match = _WHITESPACE.match(text, at)
        return match.end() if match else at

    number = json.scanner.NUMBER_RE.match
    scanstring: Callable[[str, int, bool], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
    literals = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
    stack: list[list[Any] | dict[str, Any]] = []
    keys: list[str] = []
    index = skip(0)
    while True:
        char = text[index]
        value: Any
        if char in "{[":
            index = skip(index + 1)
            if text[index] in "}]":
                value, index = ({} if char == "{" else []), index + 1
            else:
                stack.append({} if char == "{" else [])
                if char == "{":
                    key, index = scanstring(text, index + 1, True)
                    keys.append(key)
                    index = skip(skip(index) + 1)  # the colon
                continue
        elif char == '"':
            value, index = scanstring(text, index + 1, True)
        elif char in literals:
            word, value = literals[char]
            index += len(word)
        else:
            match = number(text, index)
            assert match is not None  # check_valid accepted the input
            integer, fraction, exponent = match.groups()
            value = parse_int(integer) if not (fraction or exponent) else _parse_float(
                integer + (fraction or "") + (exponent or ""))
            index = match.end()
        while True:  # put the value into its container; close the containers that end here
            if not stack:
                return value
            top = stack[-1]
            if isinstance(top, dict):
                top[keys[-1]] = value
            else:
                top.append(value)
            index = skip(index)
            if text[index] == ",":
                index = skip(index + 1)
                if isinstance(top, dict):
                    key, index = scanstring(text, index + 1, True)
                    keys[-1] = key
                    index = skip(skip(index) + 1)
                break
            index += 1
            value = stack.pop()
            if isinstance(value, dict):
                keys.pop()


def loads(data: bytes, *, big_numbers: bool = False) -> Any:
    """``json.Unmarshal`` into an ``interface{}``: reject what Go rejects, with Go's error.

    Python's decoder runs first; whatever it rejects goes through Go's scanner (:func:`check_valid`),
    which words the error, so well-formed input pays for no byte-by-byte scan.

    Args:
        data: The raw input.
        big_numbers: Keep every integer (those of more digits than Python converts, 4,300, as
            :class:`BigNumber`) for a typed decode that follows to reject where it does not fit (what Go does
            when it decodes into a struct, or keeps the raw text); without it an integer beyond float64 fails
            (what Go does when it decodes into ``interface{}``).

    Returns:
        The value: dicts, lists, strings, ints (for numbers written without fraction or exponent, as
        Kubernetes' ``sigs.k8s.io/json`` keeps them), floats, booleans and None. Invalid UTF-8 and
        lone surrogates in strings become U+FFFD, as in Go. Of duplicate keys the last one wins. Input
        nested deeper than Python's decoder goes (about a thousand levels) is decoded without it, up to
        Go's :data:`MAX_NESTING_DEPTH`.

    Raises:
        JSONSyntaxError: The input is not exactly one JSON value (whitespace around it allowed), or it is
            nested deeper than :data:`MAX_NESTING_DEPTH` (``invalid character '[' exceeded max depth``).
        UnmarshalTypeError: A number does not fit a float64 (``json: cannot unmarshal number 1e400 into
            Go value of type float64``).
    """
    parse_int: Callable[[str], Any] = int
    if _LONG_DIGITS.search(data):  # a Python call per integer only where some integer needs it
        parse_int = _parse_big_int if big_numbers else _parse_int
    text = data.decode("utf-8", errors="replace")
    try:
        value = json.loads(text, parse_float=_parse_float, parse_int=parse_int, parse_constant=_reject_constant)
    except UnmarshalTypeError:
        check_valid(data)  # Go checks the syntax of the whole input before it decodes anything
        raise
    except RecursionError:
        check_valid(data)
        value = _loads_deep(text, parse_int)
    except ValueError as err:
        check_valid(data)
        raise JSONSyntaxError(str(err), getattr(err, "pos", 0)) from None  # not reached: Go rejects it too
    if _ESCAPED_SURROGATE.search(data):
        value = _replace_surrogates(value)
    return value


def valid(data: bytes) -> bool:
    """``json.Valid``: whether ``data`` is exactly one JSON value (numbers of any size, nesting to 10,000)."""
    try:
        loads(data, big_numbers=True)
    except JSONSyntaxError:
        return False
    except UnmarshalTypeError:
        return True  # a float beyond float64 is still valid syntax
    return True


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


def type_name(value: Any) -> str:
    """``reflect.TypeOf(value)`` as ``%s`` prints it, for a value decoded into ``interface{}``.

    Integers are ``int64`` (apimachinery's JSON decoder converts whole numbers to int64); a nil interface has no
    type, and ``%s`` of it prints ``%!s(<nil>)`` (as in apimachinery ``mergepatch.ErrBadArgType``).
    """
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    return "float64"


def number_literal(value: int | float) -> str:
    """The ``number <literal>`` Value Go names when a number does not fit an integer type.

    Go quotes the literal as written; a decoded float is printed back with Python's shortest repr
    (``1.5``), which matches what was written except for spellings such as ``1e3`` or ``1.50``; a
    :class:`BigNumber` as written.
    """
    if isinstance(value, BigNumber):
        return f"number {value.literal}"
    return f"number {value}"

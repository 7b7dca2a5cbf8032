"""Provides YAML bodies turned into JSON as kube-apiserver turns them: ``sigs.k8s.io/yaml``'s ``YAMLToJSON``.

A real apiserver decodes ``application/yaml`` bodies and server-side apply patches by converting the YAML
to JSON first (``sigs.k8s.io/yaml``), then decoding the JSON as it decodes any JSON body. The conversion
runs ``go.yaml.in/yaml/v2`` (yaml.v2 2.4) into ``interface{}`` and refuses what yaml.v2 refuses, in its
words; among that, what keeps a small document from becoming a huge one:

- aliases: every node decoded counts, the ones reached through an alias count twice; once more than 100
  of them came through aliases in a document of more than 1,000, a share of aliased decodes beyond 99 %
  (10 % for documents of 4,000,000 decodes, scaled in between) fails with ``document contains excessive
  aliasing``, so a "billion laughs" stops after a few thousand decodes; an anchor reached again from
  inside itself fails with ``anchor 'x' value contains itself``;
- nesting: more than 10,000 levels of flow or block collections fail with ``exceeded max depth of 10000``.

Nothing here recurses: deep documents take no Python stack. The result is JSON text, as upstream's, for the
JSON decoder that follows (so a YAML body gets the JSON body's errors, and its numbers keep their digits).

Upstream:
    kubernetes-sigs/yaml ``yaml.go`` (``YAMLToJSON``, ``yamlToJSONTarget``, ``convertToJSONableObject``);
    go.yaml.in/yaml/v2 (github.com/yaml/go-yaml, branch v2, v2.4) ``decode.go`` (``parser``,
    ``decoder.unmarshal``, ``allowedAliasRatio``, ``alias``, ``merge``, ``scalar``, ``fail``),
    ``resolve.go`` (``resolve``: YAML 1.1 plain scalars), ``scannerc.go`` (``max_flow_level``,
    ``max_indents``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import yaml

from tutor.kube import gojson

MAX_DEPTH = 10000
"""yaml.v2's ``max_flow_level`` and ``max_indents``."""
ALIAS_RATIO_RANGE_LOW = 400_000
ALIAS_RATIO_RANGE_HIGH = 4_000_000

_LONG = "tag:yaml.org,2002:"
_STR, _BOOL, _INT, _FLOAT, _NULL = _LONG + "str", _LONG + "bool", _LONG + "int", _LONG + "float", _LONG + "null"
_TIMESTAMP, _BINARY, _MERGE = _LONG + "timestamp", _LONG + "binary", _LONG + "merge"
_RESOLVABLE = frozenset({"", _STR, _BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP})

_LoaderBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's event parser when PyYAML has it (yaml.v2 is a port of libyaml: same events, same messages)."""


class YAMLError(ValueError):
    """What ``YAMLToJSON`` fails with, without its ``error converting YAML to JSON: `` prefix."""


def _fail(message: str) -> YAMLError:
    """``failf``: yaml.v2's errors all start with ``yaml: ``."""
    return YAMLError("yaml: " + message)


def allowed_alias_ratio(decode_count: int) -> float:
    """``allowedAliasRatio``: the share of decodes that may come from aliases."""
    if decode_count <= ALIAS_RATIO_RANGE_LOW:
        return 0.99
    if decode_count >= ALIAS_RATIO_RANGE_HIGH:
        return 0.10
    span = ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW
    return 0.99 - 0.89 * ((decode_count - ALIAS_RATIO_RANGE_LOW) / span)


# ---- the node tree (yaml.v2's parser) ----------------------------------------------------------------------
_SCALAR, _MAPPING, _SEQUENCE, _ALIAS = 0, 1, 2, 3


@dataclass(eq=False)
class _Node:
    kind: int
    tag: str = ""
    value: str = ""
    implicit: bool = False
    children: list[_Node] = field(default_factory=list)
    alias: _Node | None = None


def _parse_error(error: yaml.YAMLError) -> YAMLError:
    """``parser.fail``: ``yaml: line N: <problem>``; scanner errors count lines from 1, the others from 0."""
    if isinstance(error, yaml.reader.ReaderError):
        return _fail(error.reason)
    problem = getattr(error, "problem", None) or "unknown problem parsing YAML content"
    context_mark = getattr(error, "context_mark", None)
    problem_mark = getattr(error, "problem_mark", None)
    line = 0
    for mark in (context_mark, problem_mark):
        if mark is not None and mark.line != 0:
            line = mark.line + (1 if isinstance(error, yaml.scanner.ScannerError) else 0)
            break
    return _fail(f"line {line}: {problem}" if line else problem)


def _parse(data: bytes) -> _Node | None:
    """The first document's node tree (yaml.v2 reads no further), or None for an empty stream."""
    anchors: dict[str, _Node] = {}
    stack: list[_Node] = []
    root: _Node | None = None
    loader = _LoaderBase(data or b"\n")
    try:
        while loader.check_event():
            event = loader.get_event()
            node: _Node | None = None
            if isinstance(event, yaml.ScalarEvent):
                node = _Node(_SCALAR, event.tag or "", event.value, bool(event.implicit[0]))
            elif isinstance(event, yaml.AliasEvent):
                target = anchors.get(event.anchor or "")
                if target is None:
                    raise _fail(f"unknown anchor '{event.anchor}' referenced")
                node = _Node(_ALIAS, value=event.anchor or "", alias=target)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                kind = _SEQUENCE if isinstance(event, yaml.SequenceStartEvent) else _MAPPING
                node = _Node(kind, event.tag or "")
                if len(stack) >= MAX_DEPTH:  # libyaml stops sooner, at 1,000 (yaml_set_max_nest_level)
                    line = event.start_mark.line + 1 if event.start_mark is not None else 0
                    raise _fail(f"line {line}: exceeded max depth of {MAX_DEPTH}")
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                done = stack.pop()
                if not stack:
                    root = done
                continue
            elif isinstance(event, yaml.DocumentEndEvent):
                break
            else:
                continue
            anchor = getattr(event, "anchor", None)
            if anchor is not None and node.kind != _ALIAS:
                anchors[anchor] = node  # registered before its content: an alias inside it is to itself
            if stack:
                stack[-1].children.append(node)
            if node.kind in (_SEQUENCE, _MAPPING):
                stack.append(node)
            elif not stack:
                root = node
    except yaml.YAMLError as error:
        raise _parse_error(error) from None
    finally:
        loader.dispose()
    return root


# ---- scalars (yaml.v2's resolve) ------------------------------------------------------------------------
_BOOLS = {**dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
          **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False)}
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_SPECIAL_FLOATS = {**dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
                   **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
                   **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf)}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_TIMESTAMP_START = re.compile(r"[0-9]{4}-")
_MAX_INT64, _MAX_UINT64 = (1 << 63) - 1, (1 << 64) - 1


class _Timestamp(str):
    """A plain scalar that parses as a timestamp: kept as its text when decoded into ``interface{}``."""


class _BigInt(int):
    """An integer beyond uint64 (a ``*big.Int``): fine as a value, unsupported as a map key."""


class _Uint64(int):
    """An integer beyond int64 that fits uint64: fine as a value, unsupported as a map key."""


class _BigLiteral(str):
    """A decimal integer of more digits than Python converts (a ``*big.Int`` marshalled as its digits)."""


def _go_int(text: str) -> int | _BigLiteral | None:
    """``strconv.ParseInt(text, 0, 64)`` widened to any size: Go's base prefixes, a leading 0 for octal."""
    match = _GO_INT.match(text)
    if match is None:
        return None
    sign, digits = match.groups()
    if len(digits) > 2 and digits[1] in "xXoObB":
        base = {"x": 16, "o": 8, "b": 2}[digits[1].lower()]
        magnitude = int(digits[2:], base)
    elif digits.startswith("0"):
        magnitude = int(digits, 8) if len(digits) > 1 else 0
    elif len(digits) > 4000:
        return _BigLiteral(("-" if sign == "-" else "") + digits)
    else:
        magnitude = int(digits)
    return -magnitude if sign == "-" else magnitude


def _go_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)``: out of range is an error (Go returns it with ±Inf)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isinf(value) else value


def _looks_like_timestamp(text: str) -> bool:
    """``parseTimestamp``'s formats: a date, or a date and a time (RFC 3339, or space separated)."""
    if not _TIMESTAMP_START.match(text):
        return False
    return re.match(r"\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[-+]\d{2}:\d{2})?)?\Z",
                    text) is not None


def _resolve(tag: str, text: str) -> tuple[str, Any]:
    """``resolve``: the tag and value of a scalar."""
    if tag not in _RESOLVABLE:
        return tag, text
    rtag: str = _STR
    out: Any = text
    hint = text[:1]
    if tag not in (_STR, _BINARY):
        if text in _BOOLS:
            rtag, out = _BOOL, _BOOLS[text]
        elif text in _NULLS:
            rtag, out = _NULL, None
        elif text in _SPECIAL_FLOATS:
            rtag, out = _FLOAT, _SPECIAL_FLOATS[text]
        elif text == "<<":
            rtag, out = _MERGE, text
        elif hint == ".":
            value = _go_float(text)
            if value is not None:
                rtag, out = _FLOAT, value
        elif hint and hint in "+-0123456789":
            plain = text.replace("_", "")
            number = _go_int(plain)
            if tag in ("", _TIMESTAMP) and _looks_like_timestamp(text):
                rtag, out = _TIMESTAMP, _Timestamp(text)
            elif isinstance(number, _BigLiteral):
                rtag, out = _INT, number
            elif number is not None and -_MAX_INT64 - 1 <= number <= _MAX_INT64:
                rtag, out = _INT, number
            elif number is not None and 0 <= number <= _MAX_UINT64:
                rtag, out = _INT, _Uint64(number)
            elif _YAML_STYLE_FLOAT.match(plain) and _go_float(plain) is not None:
                rtag, out = _FLOAT, _go_float(plain)
            elif number is not None:
                rtag, out = _INT, _BigInt(number)
    if tag in ("", rtag, _STR, _BINARY):
        return rtag, out
    if tag == _FLOAT and rtag == _INT:
        return _FLOAT, float(out)
    short = rtag.replace(_LONG, "!!")
    raise _fail(f"cannot decode {short} `{text}` as a {tag.replace(_LONG, '!!')}")


# ---- JSON text (convertToJSONableObject and json.Marshal) ---------------------------------------------------
def _float32_key(value: float) -> str:
    """``strconv.FormatFloat(value, 'g', -1, 32)``, with ``.inf``/``-.inf``/``.nan`` as go-yaml spells them."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return ".inf" if value > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1, single) < 0 else "0"
    for digits in range(1, 10):
        text = f"{single:.{digits}e}" if digits > 1 else f"{single:.0e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, _, exponent_text = text.partition("e")
    exponent = int(exponent_text)
    figures = mantissa.replace(".", "").lstrip("-")
    sign = "-" if single < 0 else ""
    if exponent < -4 or exponent >= 21:
        rest = figures[1:]
        return f"{sign}{figures[0]}{'.' + rest if rest else ''}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{figures}"
    whole, fraction = figures[:exponent + 1].ljust(exponent + 1, "0"), figures[exponent + 1:]
    return f"{sign}{whole}{'.' + fraction if fraction else ''}"


def _go_syntax(value: Any) -> str:
    """Go's ``%+#v`` of a decoded value, as unsupported map keys are quoted (close enough for scalars)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _Uint64):
        return f"0x{value:x}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "map[interface {}]interface {}{" + ", ".join(
            f"{_go_syntax(k[1])}:{_go_syntax(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_syntax(v) for v in value) + "}"
    return str(value)


def _go_type(value: Any) -> str:
    """``reflect.TypeOf`` of a YAML-decoded key as ``%s`` prints it (YAML's own number types, else JSON's)."""
    if isinstance(value, _Uint64):
        return "uint64"
    if isinstance(value, _BigInt | _BigLiteral):
        return "*big.Int"
    return gojson.type_name(value)


def _key_string(key: Any, value: Any) -> str:
    """A map key as ``convertToJSONableObject`` turns it into a string, or its error."""
    if isinstance(key, str) and not isinstance(key, _BigLiteral):
        return str(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int) and not isinstance(key, _Uint64 | _BigInt) and not isinstance(key, bool):
        return str(key)
    if isinstance(key, float):
        return _float32_key(key)
    raise YAMLError(f"unsupported map key of type: {_go_type(key)}, key: {_go_syntax(key)}, "
                    f"value: {_go_syntax(value)}")


def _json_scalar(value: Any) -> str:
    """``json.Marshal`` of a scalar."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            text = "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
            raise YAMLError(f"json: unsupported value: {text}")
        return json.dumps(value)
    if isinstance(value, _BigLiteral):
        return str(value)
    if isinstance(value, str):
        return json.dumps(str(value), ensure_ascii=False)
    try:
        return json.dumps(value)
    except ValueError:  # an integer of more than 4,300 digits written in hex, octal or binary
        raise YAMLError("json: unsupported value: an integer too large to print") from None


# ---- the decoder (yaml.v2's decoder into interface{}) ------------------------------------------------------
def _is_merge(node: _Node) -> bool:
    """``isMerge``: the plain key ``<<`` (or one tagged ``!!merge``)."""
    return node.kind == _SCALAR and node.value == "<<" and (node.implicit or node.tag == _MERGE)


def _wants_map(node: _Node) -> bool:
    return node.kind == _MAPPING or node.kind == _ALIAS and node.alias is not None and node.alias.kind == _MAPPING


_Put = Any
"""Where a decoded value goes: a one-argument callable."""


class _Decoder:
    """Decodes the node tree into plain values, counting decodes as yaml.v2 does; iterative, not recursive."""

    def __init__(self) -> None:
        self.decode_count = 0
        self.alias_count = 0
        self.work: list[tuple[Any, ...]] = []

    def count(self, alias_depth: int) -> None:
        """``unmarshal``'s accounting: each node decoded once more, and once more through an alias."""
        self.decode_count += 1
        if alias_depth > 0:
            self.alias_count += 1
        if (self.alias_count > 100 and self.decode_count > 1000
                and self.alias_count / self.decode_count > allowed_alias_ratio(self.decode_count)):
            raise _fail("document contains excessive aliasing")

    @staticmethod
    def scalar(node: _Node) -> Any:
        if node.tag == "" and not node.implicit:
            return node.value
        tag, resolved = _resolve(node.tag, node.value)
        if tag == _BINARY:
            try:  # Go's base64 decoder skips line breaks
                raw = base64.b64decode(resolved.replace("\r", "").replace("\n", ""), validate=True)
            except (binascii.Error, ValueError):
                raise _fail("!!binary value contains invalid base64 data") from None
            resolved = raw.decode("utf-8", errors="replace")
        return resolved

    def decode(self, root: _Node) -> Any:
        """The value of ``root``: dicts (keys as decoded: strings, numbers, booleans, None), lists, scalars."""
        result: list[Any] = []
        work = self.work
        work.append(("node", root, 0, frozenset(), result.append))
        while work:
            frame = work.pop()
            if frame[0] == "set":  # a mapping entry, key and value decoded
                _, target, key_box, value_box = frame
                key = key_box[0]
                if isinstance(key, dict | list):
                    raise _fail(f"invalid map key: {_go_syntax(key)}")
                target[(type(key), key)] = value_box[0]  # Go's map keeps 1, 1.0 and true apart; a dict would not
            elif frame[0] == "merge":
                _, target, box = frame
                target.update(box[0])
            else:
                self.node(*frame[1:])
        return result[0] if result else None

    def node(self, node: _Node, depth: int, expanding: frozenset[_Node], put: _Put) -> None:
        self.count(depth)
        if node.kind == _ALIAS:
            if node in expanding:
                raise _fail(f"anchor '{node.value}' value contains itself")
            self.work.append(("node", node.alias, depth + 1, expanding | {node}, put))
        elif node.kind == _SCALAR:
            put(self.scalar(node))
        elif node.kind == _SEQUENCE:
            items: list[Any] = [None] * len(node.children)
            put(items)
            for index in range(len(node.children) - 1, -1, -1):
                self.work.append(("node", node.children[index], depth, expanding,
                                  lambda value, i=index: items.__setitem__(i, value)))
        else:
            mapping: dict[Any, Any] = {}
            put(mapping)
            pairs = list(zip(node.children[0::2], node.children[1::2], strict=False))
            for key_node, value_node in reversed(pairs):
                if _is_merge(key_node):
                    self.merge(mapping, value_node, depth, expanding)
                    continue
                key_box: list[Any] = []
                value_box: list[Any] = []
                self.work.append(("set", mapping, key_box, value_box))
                self.work.append(("node", value_node, depth, expanding, value_box.append))
                self.work.append(("node", key_node, depth, expanding, key_box.append))

    def merge(self, target: dict[Any, Any], node: _Node, depth: int, expanding: frozenset[_Node]) -> None:
        """``merge``: a mapping, an alias of one, or a sequence of those (the earlier ones win)."""
        items = node.children if node.kind == _SEQUENCE else [node]
        if not all(_wants_map(item) for item in items):
            raise _fail("map merge requires map or sequence of maps as the value")
        for item in items:  # pushed first to last, so decoded last to first: the earlier ones overwrite
            box: list[Any] = []
            self.work.append(("merge", target, box))
            self.work.append(("node", item, depth, expanding, box.append))


class _Text(str):
    """Output already in JSON form."""


def _to_json(value: Any) -> str:
    """``convertToJSONableObject`` then ``json.Marshal``: string keys (sorted, as Go's encoder sorts them)."""
    out: list[str] = []
    work: list[Any] = [value]
    while work:
        item = work.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            entries: dict[str, Any] = {}
            for (_, key), entry in item.items():
                entries[_key_string(key, entry)] = entry  # 1 and "1" spell one key: the last one wins
            ordered = sorted(entries.items(), key=lambda pair: pair[0].encode("utf-8", "surrogatepass"))
            work.append(_Text("}"))
            for index in range(len(ordered) - 1, -1, -1):
                key, entry = ordered[index]
                work.append(entry)
                work.append(_Text(("," if index else "") + json.dumps(key, ensure_ascii=False) + ":"))
            work.append(_Text("{"))
        elif isinstance(item, list):
            work.append(_Text("]"))
            for index in range(len(item) - 1, -1, -1):
                work.append(item[index])
                if index:
                    work.append(_Text(","))
            work.append(_Text("["))
        else:
            out.append(_json_scalar(item))
    return "".join(out)


def yaml_to_json(data: bytes) -> bytes:
    """``YAMLToJSON``: the first YAML document of ``data`` as JSON text.

    Args:
        data: The body.

    Returns:
        JSON (``null`` for an empty document).

    Raises:
        YAMLError: ``yaml: line 3: mapping values are not allowed in this context``, ``yaml: document
            contains excessive aliasing``, ``json: unsupported value: +Inf`` and the like; callers add
            upstream's ``error converting YAML to JSON: `` in front.
    """
    root = _parse(data)
    if root is None:
        return b"null"
    value = _Decoder().decode(root)
    return _to_json(value).encode("utf-8", errors="surrogatepass")

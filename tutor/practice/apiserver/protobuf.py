"""Provides the decoder of the Kubernetes protobuf request bodies kubectl sends, into the JSON object shape."""

from __future__ import annotations

import base64
import datetime as dt
from functools import cache
from typing import Any, Final, NamedTuple

from tutor.kube import gojson
from tutor.kube.strconv import quote
from tutor.practice.apiserver import gotypes
from tutor.practice.apiserver.errors import BadRequest, transform_decode_error
from tutor.practice.apiserver.structs import STRUCTS

# kubectl's typed generators (``kubectl create deployment|namespace|service|configmap|secret``) POST
# ``application/vnd.kubernetes.protobuf``: the 4 magic bytes ``k8s\x00``, then a proto2
# ``runtime.Unknown`` whose ``typeMeta`` names the kind and whose ``raw`` is the object encoded as proto2
# (``k8s.io.api.apps.v1.Deployment``, ...). This module reads that wire format with a small generic
# reader driven by field numbers, and returns what the same object looks like in the Kubernetes JSON
# API. The API messages (``apps/v1.Deployment``, ``core/v1.PodSpec``, ``meta/v1.ObjectMeta`` ...) are
# the Go structs of the one struct table (:mod:`tutor.practice.apiserver.structs`, generated from the
# ``protobuf`` tags of ``k8s.io/api`` and ``k8s.io/apimachinery``); :data:`_WIRE` adds the messages of
# apimachinery types with their own encodings (``runtime.Unknown``, ``runtime.TypeMeta``, ``Time``,
# ``IntOrString``, ``Quantity``, ``FieldsV1``, map entries), read from ``pkg/runtime/generated.proto``,
# ``pkg/apis/meta/v1/generated.proto``, ``pkg/util/intstr`` and ``pkg/api/resource``. Error wording
# from ``pkg/runtime/serializer/protobuf/protobuf.go``, the gogo-generated ``pkg/runtime/generated.pb.go``
# and the handlers' ``transformDecodeError``.
#
# The JSON shape mirrors Go's ``encoding/json`` on the decoded Go struct, which gogo-protobuf makes
# observable on the wire:
#
# * A message field present on the wire is emitted, even when empty (``"resources": {}``,
#   ``"strategy": {}``, ``"status": {}``): gogo always encodes non-pointer structs, which Go's JSON
#   always emits, and encodes pointer structs only when set.
# * An empty ``metav1.Time`` (``creationTimestamp`` in every create body) is omitted, as Go's
#   ``omitzero`` omits it; a set one is RFC 3339 in UTC, to the second (``2026-01-02T03:04:05Z``).
# * Scalars of non-pointer ``omitempty`` fields are dropped when zero (``generateName: ""``,
#   ``minReadySeconds: 0``, ``paused: false``); pointer fields (:data:`PTR`: ``spec.replicas``,
#   ``terminationGracePeriodSeconds``, ...) are kept whatever their value, since gogo encodes them only
#   when set; fields without ``omitempty`` (:data:`KEEP`: ``containerPort``, a container's ``name``) are
#   kept too.
# * Maps are dicts, repeated fields lists, ``IntOrString`` an int or a string, ``Quantity`` a string,
#   ``[]byte`` base64, and embedded Go structs (``LocalObjectReference`` in ``configMapKeyRef``,
#   ``ProbeHandler`` in a probe, ``VolumeSource`` in a volume) are inlined as Go's JSON inlines them.
#
# Fields the schema does not list are skipped, as a proto2 reader skips unknown fields. Malformed input
# raises :class:`~tutor.practice.apiserver.errors.BadRequest` worded as the real apiserver words it.

CONTENT_TYPE: Final = "application/vnd.kubernetes.protobuf"
"""The media type of a protobuf request body."""

MAGIC: Final = b"k8s\x00"
"""The prefix of every protobuf body: ``k8s`` and the encoding style 0 (a raw ``runtime.Unknown``)."""

_MASK64: Final = (1 << 64) - 1

# Wire types.
_VARINT, _FIXED64, _BYTES, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5

# Field flags.
REPEATED: Final = "repeated"
"""A ``repeated`` field: decoded into a list (packed varints accepted too)."""
PTR: Final = "ptr"
"""A Go pointer scalar (``*int32``, ``*bool``, ``*string``): kept whatever its value, since it is on the
wire only when set."""
KEEP: Final = "keep"
"""A Go scalar without ``omitempty`` in its JSON tag: kept even when zero."""

# Scalar types and the wire type each is read from.
_SCALAR_WIRE: Final = {
    "string": _BYTES,
    "bytes": _BYTES,  # base64 in JSON
    "raw": _BYTES,  # kept as bytes (runtime.Unknown.raw)
    "int32": _VARINT,
    "int64": _VARINT,
    "bool": _VARINT,
}
_ZERO: Final[dict[str, Any]] = {"string": "", "bytes": "", "raw": b"", "int32": 0, "int64": 0, "bool": False}


class Field(NamedTuple):
    """One field of a message, as the reader needs it.

    ``type`` is a scalar (``string``, ``bytes``, ``raw``, ``int32``, ``int64``, ``bool``), a well-known
    message (``time``, ``intstr``, ``quantity``, ``fieldsv1``), ``msg:<struct key>``, ``inline:<struct
    key>`` (a Go embedded struct whose fields JSON inlines into this object) or ``map:<value type>`` (a
    proto map of string keys; value type ``string``, ``bytes`` or ``quantity``).
    """

    json: str
    type: str
    flags: frozenset[str] = frozenset()
    go: str = ""
    """The Go field name the generated Go decoder names in its errors."""

    @property
    def go_name(self) -> str:
        """The Go field name (by default the JSON name, capitalised)."""
        return self.go or self.json[:1].upper() + self.json[1:]


def _f(json_name: str, type_: str, *flags: str) -> Field:
    return Field(json_name, type_, frozenset(flags))


_Schema = dict[int, Field]

# The messages of apimachinery types with their own wire forms: pkg/runtime (Unknown, TypeMeta),
# pkg/apis/meta/v1 (Time as Timestamp, FieldsV1), pkg/util/intstr, pkg/api/resource, and proto map entries.
_WIRE: dict[str, _Schema] = {
    "Unknown": {
        1: _f("typeMeta", "msg:TypeMeta"),
        2: _f("raw", "raw"),
        3: _f("contentEncoding", "string"),
        4: _f("contentType", "string"),
    },
    "TypeMeta": {1: _f("apiVersion", "string"), 2: _f("kind", "string")},
    "Timestamp": {1: _f("seconds", "int64", KEEP), 2: _f("nanos", "int32", KEEP)},
    "IntOrString": {
        1: _f("type", "int64", KEEP),
        2: _f("intVal", "int32", KEEP),
        3: _f("strVal", "string", KEEP),
    },
    "Quantity": {1: _f("string", "string", KEEP)},
    "FieldsV1": {1: _f("Raw", "raw")},
    # Proto map entries (key = 1, value = 2); Go keeps empty values in maps.
    "StringMapEntry": {1: _f("key", "string", KEEP), 2: _f("value", "string", KEEP)},
    "BytesMapEntry": {1: _f("key", "string", KEEP), 2: _f("value", "bytes", KEEP)},
    "QuantityMapEntry": {1: _f("key", "string", KEEP), 2: _f("value", "quantity")},
}

_PROTO_SCALARS: Final = {gotypes.STRING: "string", gotypes.BYTES: "bytes", gotypes.INT32: "int32",
                         gotypes.INT64: "int64", gotypes.BOOL: "bool"}
_PROTO_MESSAGES: Final = {gotypes.TIME: "time", gotypes.INTSTR: "intstr", gotypes.QUANTITY: "quantity",
                          gotypes.FIELDS: "fieldsv1"}
_PROTO_MAP_VALUES: Final = {gotypes.STRING: "string", gotypes.BYTES: "bytes", gotypes.QUANTITY: "quantity"}


@cache
def _struct_schema(key: str) -> _Schema:
    """The fields of a Go struct of the table by protobuf number, typed for the reader.

    A scalar is :data:`PTR` when the Go field is a pointer and :data:`KEEP` when its JSON tag lacks
    ``omitempty``; fields of types the reader does not decode (``float64``, ``runtime.RawExtension``)
    are left out, so the reader skips them as unknown fields.
    """
    schema: _Schema = {}
    for item in STRUCTS[key].fields:
        if not item.proto:
            continue
        type_, flags = item.type, set()
        if type_.kind == gotypes.LIST and type_.elem is not None:
            type_, flags = type_.elem, {REPEATED}
        if type_.kind in _PROTO_SCALARS:
            proto_type = _PROTO_SCALARS[type_.kind]
            if not flags:
                flags = {PTR} if item.pointer else set() if item.omitempty else {KEEP}
        elif type_.kind in _PROTO_MESSAGES:
            proto_type = _PROTO_MESSAGES[type_.kind]
        elif type_.kind == gotypes.STRUCT:
            proto_type = ("inline:" if item.inline else "msg:") + type_.struct
        elif type_.kind == gotypes.MAP and type_.elem is not None and type_.elem.kind in _PROTO_MAP_VALUES:
            proto_type = "map:" + _PROTO_MAP_VALUES[type_.elem.kind]
        else:
            continue
        schema[item.proto] = Field(item.json, proto_type, frozenset(flags), item.go_name)
    return schema


def _bare(message: str) -> str:
    """A message's name as gogo's errors give it: ``Deployment`` for ``apps/v1.Deployment``."""
    return message.rpartition(".")[2]


def _schema(message: str) -> _Schema:
    """A message's fields: a wire-level message of :data:`_WIRE`, or a struct of the table."""
    return _WIRE.get(message) or _struct_schema(message)


_KINDS: Final[dict[tuple[str, str], str]] = {
    ("apps/v1", "Deployment"): "apps/v1.Deployment",
    ("apps/v1", "ReplicaSet"): "apps/v1.ReplicaSet",
    ("v1", "Namespace"): "core/v1.Namespace",
    ("v1", "Service"): "core/v1.Service",
    ("v1", "Pod"): "core/v1.Pod",
    ("v1", "ConfigMap"): "core/v1.ConfigMap",
    ("v1", "Secret"): "core/v1.Secret",
    ("v1", "ServiceAccount"): "core/v1.ServiceAccount",
    ("rbac.authorization.k8s.io/v1", "Role"): "rbac/v1.Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "rbac/v1.ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "rbac/v1.RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "rbac/v1.ClusterRoleBinding",
    ("authentication.k8s.io/v1", "TokenRequest"): "authentication/v1.TokenRequest",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "authentication/v1.SelfSubjectReview",
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "authorization/v1.SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "authorization/v1.SelfSubjectRulesReview",
    ("v1", "ResourceQuota"): "core/v1.ResourceQuota",
    ("v1", "LimitRange"): "core/v1.LimitRange",
}
"""(apiVersion, kind) of the top-level objects :func:`decode` accepts -> their struct."""

SUPPORTED_KINDS: Final = frozenset(_KINDS)
"""The (apiVersion, kind) pairs :func:`decode` accepts."""

_SCHEME_NAME: Final = "kube-tutor practice cluster"


class _WireError(Exception):
    """A malformed body, worded as the gogo-protobuf generated Go code words it."""


_EOF: Final = "unexpected EOF"
_OVERFLOW: Final = "proto: integer overflow"
_NEGATIVE_LENGTH: Final = "proto: negative length found during unmarshaling"


class _Reader:
    """Reads the wire format from ``buf[pos:end]``."""

    __slots__ = ("buf", "pos", "end")

    def __init__(self, buf: bytes, pos: int, end: int) -> None:
        self.buf = buf
        self.pos = pos
        self.end = end

    def varint(self) -> int:
        """Read a base-128 varint as the uint64 Go accumulates (at most 10 bytes)."""
        value = 0
        shift = 0
        while True:
            if shift >= 64:
                raise _WireError(_OVERFLOW)
            if self.pos >= self.end:
                raise _WireError(_EOF)
            byte = self.buf[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value & _MASK64
            shift += 7

    def length(self) -> int:
        """Read the length of a length-delimited field and check it against what is left."""
        size = self.varint()
        if size >= 1 << 63:  # negative as Go's int
            raise _WireError(_NEGATIVE_LENGTH)
        if self.pos + size > self.end:
            raise _WireError(_EOF)
        return size

    def advance(self, count: int) -> None:
        """Step over ``count`` bytes."""
        if self.pos + count > self.end:
            raise _WireError(_EOF)
        self.pos += count

    def skip(self, wire_type: int) -> None:
        """Step over the value of an unknown field, as gogo's ``skipGenerated`` does."""
        if wire_type == _VARINT:
            self.varint()
        elif wire_type == _FIXED64:
            self.advance(8)
        elif wire_type == _BYTES:
            self.advance(self.length())
        elif wire_type == _START_GROUP:
            depth = 1
            while depth:
                inner = self.varint() & 0x7
                if inner == _END_GROUP:
                    depth -= 1
                elif inner == _START_GROUP:
                    depth += 1
                else:
                    self.skip(inner)
        elif wire_type == _END_GROUP:
            return
        elif wire_type == _FIXED32:
            self.advance(4)
        else:
            raise _WireError(f"proto: illegal wireType {wire_type}")


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _scalar(reader: _Reader, type_: str) -> Any:
    """Read one scalar whose wire type has been checked."""
    if type_ == "int64":
        return _signed(reader.varint(), 64)
    if type_ == "int32":
        return _signed(reader.varint(), 32)
    if type_ == "bool":
        return reader.varint() != 0
    size = reader.length()
    data = reader.buf[reader.pos : reader.pos + size]
    reader.pos += size
    if type_ == "string":
        return data.decode("utf-8", errors="replace")
    if type_ == "bytes":
        return base64.b64encode(data).decode("ascii")
    return bytes(data)


def _is_zero(value: Any) -> bool:
    return value is False or value == 0 or value == "" or value == b""


def _format_time(seconds: int) -> str:
    try:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    except OverflowError:
        raise _WireError("Time.MarshalJSON: year outside of range [0,9999]") from None
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def _message_value(buf: bytes, start: int, end: int, type_: str) -> Any:
    """Decode the value of a message-typed field that occupies ``buf[start:end]``."""
    if type_ == "time":
        if start == end:  # metav1.Time: an empty message is the zero time (omitted by the caller)
            return None
        return _format_time(_decode(buf, start, end, "Timestamp").get("seconds", 0))
    if type_ == "intstr":
        parts = _decode(buf, start, end, "IntOrString")
        if parts.get("type", 0) == 1:
            return parts.get("strVal", "")
        return parts.get("intVal", 0)
    if type_ == "quantity":
        return _decode(buf, start, end, "Quantity").get("string") or "0"
    if type_ == "fieldsv1":
        raw = _decode(buf, start, end, "FieldsV1").get("Raw", b"")
        try:
            return gojson.loads(raw) if raw else {}
        except (gojson.JSONSyntaxError, gojson.UnmarshalTypeError, RecursionError):
            raise _WireError("FieldsV1: the raw value is not JSON") from None
    return _decode(buf, start, end, type_.removeprefix("msg:"))


_MAP_ENTRIES: Final = {"string": "StringMapEntry", "bytes": "BytesMapEntry", "quantity": "QuantityMapEntry"}
_MAP_ZERO: Final = {"string": "", "bytes": "", "quantity": "0"}


def _decode(
    buf: bytes, start: int, end: int, message: str, out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Decode ``buf[start:end]`` as ``message`` into ``out`` (merging, as proto2 merges a repeated message)."""
    schema = _schema(message)
    out = {} if out is None else out
    reader = _Reader(buf, start, end)
    while reader.pos < reader.end:
        wire = reader.varint()
        number = _signed(wire >> 3, 32)
        wire_type = wire & 0x7
        if wire_type == _END_GROUP:
            raise _WireError(f"proto: {_bare(message)}: wiretype end group for non-group")
        if number <= 0:
            raise _WireError(f"proto: {_bare(message)}: illegal tag {number} (wire type {wire})")
        field = schema.get(number)
        if field is None:
            reader.skip(wire_type)
            continue
        repeated = REPEATED in field.flags
        scalar_wire = _SCALAR_WIRE.get(field.type)
        if scalar_wire is not None:
            if repeated and scalar_wire == _VARINT and wire_type == _BYTES:  # packed
                size = reader.length()
                packed = _Reader(buf, reader.pos, reader.pos + size)
                reader.pos += size
                items = out.setdefault(field.json, [])
                while packed.pos < packed.end:
                    items.append(_scalar(packed, field.type))
                continue
            if wire_type != scalar_wire:
                raise _WireError(f"proto: wrong wireType = {wire_type} for field {field.go_name}")
            value = _scalar(reader, field.type)
            if repeated:
                out.setdefault(field.json, []).append(value)
            elif field.flags & {PTR, KEEP} or not _is_zero(value):
                out[field.json] = value
            else:
                out.pop(field.json, None)
            continue
        if wire_type != _BYTES:
            raise _WireError(f"proto: wrong wireType = {wire_type} for field {field.go_name}")
        size = reader.length()
        sub_start, sub_end = reader.pos, reader.pos + size
        reader.pos = sub_end
        if field.type.startswith("inline:"):
            _decode(buf, sub_start, sub_end, field.type.removeprefix("inline:"), out)
        elif field.type.startswith("map:"):
            value_type = field.type.removeprefix("map:")
            entry = _decode(buf, sub_start, sub_end, _MAP_ENTRIES[value_type])
            out.setdefault(field.json, {})[entry.get("key", "")] = entry.get("value", _MAP_ZERO[value_type])
        elif repeated:
            out.setdefault(field.json, []).append(_message_value(buf, sub_start, sub_end, field.type))
        elif field.type.startswith("msg:") and isinstance(out.get(field.json), dict):
            _decode(buf, sub_start, sub_end, field.type.removeprefix("msg:"), out[field.json])
        else:
            value = _message_value(buf, sub_start, sub_end, field.type)
            if value is None:
                out.pop(field.json, None)
            else:
                out[field.json] = value
    return out


def _bad_request(
    reason: str, body: bytes, expected_kind: str | None, kind: str = "", api_version: str = ""
) -> BadRequest:
    """Word a decode failure as the apiserver's ``transformDecodeError`` does, given the target kind."""
    if expected_kind is None:
        return BadRequest(reason)
    return transform_decode_error(reason, expected_kind, body, kind, api_version.rsplit("/", 1)[-1])


def is_protobuf(content_type: str | None) -> bool:
    """Tell whether a ``Content-Type`` header announces a Kubernetes protobuf body.

    Args:
        content_type: The header value, e.g. ``application/vnd.kubernetes.protobuf`` (parameters and
            case are ignored); None or empty for a request without the header.

    Returns:
        True for ``application/vnd.kubernetes.protobuf``, False for anything else (JSON, YAML, patches).
    """
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == CONTENT_TYPE


def decode(body: bytes, *, expected_kind: str | None = None) -> dict[str, Any]:
    """Decode a protobuf request body into the object as the Kubernetes JSON API shapes it.

    Args:
        body: The request body: ``k8s\\x00`` and a ``runtime.Unknown`` wrapping the object.
        expected_kind: The kind the endpoint creates or updates (``"Deployment"`` for
            ``.../deployments``). When given, a missing ``kind``/``apiVersion`` is defaulted from it as
            the apiserver defaults them from the endpoint, and errors are worded as the apiserver's
            create and update handlers word them (``Deployment in version "v1" cannot be handled as
            a Deployment: unexpected EOF``); when None, errors carry the bare decoder message
            (``unexpected EOF``). It does not restrict which kind is decoded: comparing the decoded
            ``kind`` with the endpoint is the caller's business.

    Returns:
        The object: ``apiVersion`` and ``kind`` from the ``typeMeta``, then ``metadata``, ``spec``,
        ``status``, ... with camelCase JSON names (the notes atop this module say what is kept).

    Raises:
        BadRequest: The body is empty, lacks the ``k8s\\x00`` prefix, is not well-formed protobuf
            (truncated, varint overflow, wrong wire type, illegal tag), misses its kind or version, or
            names a kind this module does not decode (see :data:`SUPPORTED_KINDS`).
    """
    data = bytes(body)
    if not data:
        raise _bad_request("empty data", data, expected_kind)
    if not data.startswith(MAGIC):
        expected = "[" + " ".join(str(b) for b in MAGIC) + "]"
        raise _bad_request(
            f"provided data does not appear to be a protobuf message, expected prefix {expected}",
            data,
            expected_kind,
        )
    if len(data) == len(MAGIC):
        raise _bad_request("empty body", data, expected_kind)
    try:
        unknown = _decode(data, len(MAGIC), len(data), "Unknown")
    except _WireError as exc:
        raise _bad_request(str(exc), data, expected_kind) from None
    type_meta = unknown.get("typeMeta", {})
    api_version: str = type_meta.get("apiVersion", "")
    kind: str = type_meta.get("kind", "")
    if expected_kind is not None:
        kind = kind or expected_kind
        if not api_version:
            api_version = next((v for v, k in _KINDS if k == kind), "")
    type_meta_text = f"runtime.TypeMeta{{APIVersion:{quote(api_version)}, Kind:{quote(kind)}}}"
    if not kind:
        raise _bad_request(f"Object 'Kind' is missing in '{type_meta_text}'", data, expected_kind)
    if not api_version:
        raise _bad_request(f"Object 'apiVersion' is missing in '{type_meta_text}'", data, expected_kind, kind)
    message = _KINDS.get((api_version, kind))
    if message is None:
        raise _bad_request(
            f"no kind {quote(kind)} is registered for version {quote(api_version)}"
            f" in scheme {quote(_SCHEME_NAME)}",
            data,
            expected_kind,
            kind,
            api_version,
        )
    raw: bytes = unknown.get("raw", b"")
    try:
        obj = _decode(raw, 0, len(raw), message)
    except _WireError as exc:
        raise _bad_request(str(exc), data, expected_kind, kind, api_version) from None
    return {"apiVersion": api_version, "kind": kind, **obj}

"""Provides decoding checks for request bodies: JSON types and unknown fields, as the apiserver's decoder.

A real apiserver decodes a body into Go structs (``sigs.k8s.io/json``, a fork of Go's ``encoding/json``
with its error wording): a wrongly typed field fails with ``json: cannot unmarshal string into Go struct
field Pod.spec of type v1.PodSpec`` (the innermost struct, then the path of JSON names), and with
``fieldValidation=Strict`` (what kubectl sends) an unknown field fails with ``strict decoding error:
unknown field "spec.foo"`` (list items by index). The structs are the one table of
:mod:`tutor.practice.apiserver.structs`, to full depth. Values of types with their own decoders (times,
quantities, raw JSON) are not checked.
"""

from __future__ import annotations

import json
from typing import Any

from tutor.kube import gojson, quantity
from tutor.practice.apiserver import errors, gotypes, yamljson
from tutor.practice.apiserver.gotypes import GoType
from tutor.practice.apiserver.structs import KINDS, STRUCTS

_UNCHECKED = frozenset({gotypes.TIME, gotypes.QUANTITY, gotypes.FIELDS, gotypes.RAW})
_INT_BITS = {gotypes.INT32: 32, gotypes.INT64: 64}


class _DecodeError(Exception):
    """A value its Go type does not decode (the error its ``UnmarshalJSON`` returns, as it returns it)."""


class _TypeError(_DecodeError):
    def __init__(self, error: gojson.UnmarshalTypeError) -> None:
        super().__init__(str(error))
        self.error = error


_NILABLE = frozenset({gotypes.LIST, gotypes.MAP, gotypes.BYTES})
"""Kinds whose zero value is nil (``null``, or nothing under ``omitempty``)."""
_ZEROS: dict[str, Any] = {gotypes.STRING: "", gotypes.INT32: 0, gotypes.INT64: 0, gotypes.FLOAT64: 0,
                          gotypes.BOOL: False, gotypes.INTSTR: 0}
"""The JSON of a scalar's zero value (``intstr.IntOrString``'s is the integer 0)."""


def _zero(type_: GoType) -> Any:
    """The JSON of a type's zero value: ``{}`` for a struct, ``null`` for what is nil or has its own encoder."""
    if type_.kind == gotypes.STRUCT:
        return {}
    return _ZEROS.get(type_.kind)


class _Walk:
    """Decodes a value into a struct type in thought: type errors, and the unknown fields' paths.

    With ``drop``, the value becomes what the Go struct encodes back to: unknown fields go, and a ``null`` is
    the zero value it decodes to (``{}`` for a struct, ``""`` or ``0``; nothing where a pointer, a slice or a
    map under ``omitempty`` is nil, or a zero scalar is omitted), so ``containers: [null]`` is a container with
    no name for validation to refuse, never a ``None`` where a map is assumed.
    """

    def __init__(self, *, drop: bool = False) -> None:
        self.unknown: list[str] = []
        self.drop = drop

    def type_error(self, value: Any, type_: GoType, struct: str, path: str) -> _TypeError:
        name = gojson.value_name(value)
        if name == "number" and (type_.kind in _INT_BITS or isinstance(value, gojson.BigNumber)):
            name = gojson.number_literal(value)  # a fraction, or out of the integer's range
        return _TypeError(gojson.UnmarshalTypeError(name, type_.go, struct=struct, field=path))

    def walk(self, value: Any, type_: GoType, struct: str, path: str, where: str) -> None:
        """Check ``value`` against ``type_``; ``path`` names fields as type errors do, ``where`` with indexes."""
        kind = type_.kind
        if value is None:
            return  # JSON null decodes to the zero value
        if kind in _UNCHECKED:
            big = _big_number(value)
            if big is not None:  # its own decoder would not hold it either: never stored as infinity
                raise self.type_error(big, type_, struct, path)
            if kind == gotypes.QUANTITY and not isinstance(value, int | float):
                # Quantity.UnmarshalJSON (apimachinery pkg/api/resource/quantity.go): the text between the quotes
                # (or the raw JSON of anything else), trimmed, through ParseQuantity; its error as it is.
                text = value if isinstance(value, str) else json.dumps(value)
                try:
                    quantity.parse_quantity_strict(text.strip())
                except quantity.QuantityError as error:
                    raise _DecodeError(str(error)) from None
            return
        if kind in (gotypes.STRING, gotypes.BYTES):
            ok = isinstance(value, str)
        elif kind in _INT_BITS:
            limit = 1 << (_INT_BITS[kind] - 1)
            ok = isinstance(value, int) and not isinstance(value, bool) and -limit <= value < limit
        elif kind == gotypes.FLOAT64:
            ok = isinstance(value, int | float) and not isinstance(value, bool | gojson.BigNumber)
        elif kind == gotypes.BOOL:
            ok = isinstance(value, bool)
        elif kind == gotypes.INTSTR:
            ok = isinstance(value, int | str) and not isinstance(value, bool)
        elif kind == gotypes.STRUCT:
            ok = isinstance(value, dict)
            if ok:
                self.struct(value, type_.struct, path, where)
        elif kind == gotypes.LIST:
            ok = isinstance(value, list)
            if ok and type_.elem is not None:
                for index, item in enumerate(value):
                    if item is None and self.drop:
                        value[index] = _zero(type_.elem)
                    self.walk(item, type_.elem, struct, path, f"{where}[{index}]")
        else:  # a map
            ok = isinstance(value, dict)
            if ok and type_.elem is not None:
                for map_key, item in value.items():
                    if item is None and self.drop:
                        value[map_key] = _zero(type_.elem)
                    self.walk(item, type_.elem, struct, path, where)
        if not ok:
            raise self.type_error(value, type_, struct, path)

    def struct(self, value: dict[str, Any], key: str, path: str, where: str) -> None:
        fields = gotypes.json_fields(STRUCTS, key)
        name = STRUCTS[key].name
        for json_name, item in list(value.items()):
            child = f"{path}.{json_name}" if path else json_name
            child_where = f"{where}.{json_name}" if where else json_name
            found = fields.get(json_name)
            if found is None:
                self.unknown.append(child_where)
                if self.drop:
                    del value[json_name]
                continue
            if item is None and self.drop and found.type.kind not in _UNCHECKED:
                nil = found.pointer or found.type.kind in _NILABLE
                if (nil or found.type.kind != gotypes.STRUCT) and found.omitempty:
                    del value[json_name]  # nil, or a zero scalar: omitted
                elif not nil:
                    value[json_name] = _zero(found.type)
                continue
            self.walk(item, found.type, name, child, child_where)


def _big_number(value: Any) -> gojson.BigNumber | None:
    """The first :class:`~tutor.kube.gojson.BigNumber` in a value, looked for without recursion."""
    work = [value]
    while work:
        item = work.pop()
        if isinstance(item, gojson.BigNumber):
            return item
        if isinstance(item, dict):
            work.extend(item.values())
        elif isinstance(item, list):
            work.extend(item)
    return None


def _root(kind: str) -> GoType | None:
    key = KINDS.get(kind)
    return gotypes.struct(key) if key is not None else None


def check_body(obj: dict[str, Any], kind: str, field_validation: str | None) -> list[str]:
    """Check a decoded body against the kind's struct, and drop the fields it does not have.

    Args:
        obj: the object as sent; its unknown fields are removed (what decoding into the Go struct does).
        kind: its kind (from the URL; ``Scale``, ``Binding`` for those subresources).
        field_validation: the request's ``fieldValidation`` (``Strict``, ``Warn``, ``Ignore`` or None).

    Returns:
        Warnings for unknown fields (``Warn`` and the default), to send as ``Warning`` headers.

    Raises:
        errors.BadRequest: a wrongly typed field, or unknown fields with ``fieldValidation=Strict``.
    """
    root = _root(kind)
    if root is None:
        return []
    walk = _Walk(drop=True)
    try:
        walk.walk(obj, root, STRUCTS[root.struct].name, "", "")
    except _DecodeError as error:
        raise errors.BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: {error}') from None
    if not walk.unknown or field_validation == "Ignore":
        return []
    listed = [f'unknown field "{path}"' for path in walk.unknown]
    if field_validation == "Strict":
        raise errors.BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: strict decoding error: '
                                + ", ".join(listed))
    return listed


# ---- the kind of a JSON body --------------------------------------------------------------------
_FIND_KIND = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
"""``reflect.Type.String()`` of the anonymous struct ``SimpleMetaFactory.Interpret`` decodes into."""
_FIND_KIND_FIELDS = ("apiVersion", "kind")


def _fold(name: str) -> str:
    """Go's ``foldName``: keys match struct fields case-insensitively (``KIND``, even ``\u212aind``)."""
    return "".join(c.upper().lower() if len(c.upper()) == 1 else c for c in name)


def _interpret(data: bytes) -> Any:
    """``SimpleMetaFactory.Interpret``: decode, and check the body can tell its apiVersion and kind.

    Upstream: kubernetes/kubernetes ``staging/src/k8s.io/apimachinery/pkg/runtime/serializer/json/meta.go``
    (``json.Unmarshal`` into the struct above, then ``schema.ParseGroupVersion``).
    """
    try:
        value = gojson.loads(data, big_numbers=True)  # decoded into the struct: a big number is its type error
    except (gojson.JSONSyntaxError, gojson.UnmarshalTypeError) as err:
        raise ValueError(f"couldn't get version/kind; json parse error: {err}") from None
    if value is None:
        return value  # null decodes into a struct as nothing at all
    if not isinstance(value, dict):
        error = gojson.UnmarshalTypeError(gojson.value_name(value), _FIND_KIND)
        raise ValueError(f"couldn't get version/kind; json parse error: {error}")
    found: dict[str, Any] = {}
    for key, item in value.items():
        field = next((f for f in _FIND_KIND_FIELDS if f == key), None) or next(
            (f for f in _FIND_KIND_FIELDS if _fold(f) == _fold(key)), None)
        if field is None or item is None:
            continue
        if not isinstance(item, str):  # the first error is the one reported
            error = gojson.UnmarshalTypeError(gojson.value_name(item), "string", field=field)
            raise ValueError(f"couldn't get version/kind; json parse error: {error}")
        found[field] = item
    api_version = found.get("apiVersion", "")
    if api_version.count("/") > 1:
        raise ValueError(f"unexpected GroupVersion string: {api_version}")
    return value


def decode_json_body(data: bytes, into_kind: str | None, *, original: bytes | None = None) -> dict[str, Any]:
    """Decode a JSON request body as the create and update handlers do, with their error messages.

    Args:
        data: The body.
        into_kind: The kind the endpoint takes (``ConfigMap``), for the messages; None words errors
            bare, as for subresources.
        original: The body as sent, when ``data`` is its conversion (YAML): error messages quote it.

    Returns:
        The object; ``{}`` for ``null`` (which decodes into an empty object).

    Raises:
        errors.BadRequest: The body is not JSON (``invalid character 'b' looking for beginning of object
            key string``), not an object (``json: cannot unmarshal array into Go value of type struct
            {...}``), has a non-string ``apiVersion`` or ``kind``, or an apiVersion with two slashes;
            wrapped as ``transformDecodeError`` wraps them (``the object provided is unrecognized (must
            be of type ConfigMap): couldn't get version/kind; json parse error: ... ({bad)``).
    """
    try:
        value = _interpret(data)
    except ValueError as err:
        if into_kind is None:
            raise errors.BadRequest(str(err)) from None
        raise errors.transform_decode_error(str(err), into_kind, data if original is None else original) from None
    return value if isinstance(value, dict) else {}


def decode_yaml_body(data: bytes, into_kind: str | None) -> dict[str, Any]:
    """Decode a YAML request body as the apiserver's YAML serializer does: to JSON, then as JSON.

    Upstream: kubernetes/apimachinery ``pkg/runtime/serializer/json/json.go`` (``Serializer.Decode``:
    ``yaml.YAMLToJSON``, then the JSON decoding), :mod:`~tutor.practice.apiserver.yamljson`.

    Raises:
        errors.BadRequest: ``the object provided is unrecognized (must be of type ConfigMap): error converting
            YAML to JSON: yaml: document contains excessive aliasing (<the body in hex>)`` and the JSON
            body's errors.
    """
    try:
        converted = yamljson.yaml_to_json(data)
    except yamljson.YAMLError as err:
        reason = f"error converting YAML to JSON: {err}"
        if into_kind is None:
            raise errors.BadRequest(reason) from None
        raise errors.transform_decode_error(reason, into_kind, data) from None
    return decode_json_body(converted, into_kind, original=data)


def decode_delete_options(data: bytes, *, yaml: bool = False) -> dict[str, Any]:
    """Decode the ``DeleteOptions`` body of a DELETE as its handler does (400 with the decoder's error).

    Upstream: kubernetes/apiserver ``pkg/endpoints/handlers/delete.go`` (``DeleteResource``: since 1.35 a
    body that does not decode is ``errors.NewBadRequest(err.Error())``); the body decodes into
    ``metav1.DeleteOptions`` (type errors name ``DeleteOptions.<field>``; unknown fields are dropped).
    """
    try:
        if yaml:
            data = yamljson.yaml_to_json(data)
    except yamljson.YAMLError as err:
        raise errors.BadRequest(f"error converting YAML to JSON: {err}") from None
    options = decode_json_body(data, None)
    root = _root("DeleteOptions")
    assert root is not None
    try:
        _Walk(drop=True).walk(options, root, STRUCTS[root.struct].name, "", "")
    except _DecodeError as error:
        raise errors.BadRequest(str(error)) from None
    return options

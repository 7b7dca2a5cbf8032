"""Provides the PATCH semantics of the practice cluster: strategic merge, JSON merge, JSON patch and apply.

``apply_patch`` reproduces what the API server does with the body of a ``PATCH`` request
(``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go``):

* ``application/strategic-merge-patch+json``: a port of ``StrategicMergeMapPatch``
  (``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``) driven by the ``patchStrategy``/
  ``patchMergeKey`` struct tags of ``k8s.io/api`` as the struct table (``structs``) has them for the
  kinds the practice cluster serves. Fields without tags merge like maps and replace like lists.
* ``application/merge-patch+json``: RFC 7386 as ``evanphx/json-patch`` v4 implements it.
* ``application/json-patch+json``: RFC 6902, applied with the ``jsonpatch`` library; the paths
  are first resolved as ``evanphx/json-patch`` v4 resolves them, to keep its quirks (``replace``
  of a missing key adds it) and its error messages.
* ``application/apply-patch+yaml`` (server-side apply): the server applies a whole object with field ownership
  (:mod:`tutor.practice.apiserver.fieldmanager`: merge, conflicts, pruning); ``apply_patch`` keeps, for an apply
  to a subresource, a strategic merge of the body onto the live object.

Errors are the API errors a real server answers with, worded as it words them (Go's
``encoding/json`` messages included). Every failure raises an ``ApiError`` from
``tutor.practice.apiserver.errors``, never anything else.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import jsonpatch

from tutor.kube import gojson, strconv
from tutor.practice.apiserver import gotypes, yamljson
from tutor.practice.apiserver.errors import (
    ApiError,
    BadRequest,
    Invalid,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from tutor.practice.apiserver.structs import KINDS, STRUCTS

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES: tuple[str, ...] = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)
"""The patch content types, in the order the API server lists them in its 415 message."""

MAX_JSON_PATCH_OPERATIONS = 10000


def validate_patch(content_type: str, body: bytes) -> None:
    """What ``PatchResource`` checks before any patcher runs: the type (415), then the body's syntax.

    Upstream (Kubernetes 1.37): kubernetes/apiserver ``pkg/endpoints/handlers/patch.go``
    (``validateAndTranscodePatch``): a JSON, merge or strategic-merge patch that is not valid JSON
    (``json.Valid``) is ``invalid JSON patch``; an apply patch that does not convert from YAML
    (``yaml.ToJSON``, k8s.io/apimachinery ``pkg/util/yaml``; a body that starts with ``{`` is taken as JSON
    unchecked) is ``error encoding patch: <the conversion's error>``.

    Raises:
        UnsupportedMediaType: not a patch type.
        BadRequest: the body does not parse.
    """
    media_type = patch_type(content_type)
    if media_type == APPLY_PATCH:
        if body.lstrip(b" \t\r\n\v\f").startswith(b"{"):
            return
        try:
            yamljson.yaml_to_json(body)
        except yamljson.YAMLError as err:
            raise BadRequest(f"error encoding patch: error converting YAML to JSON: {err}") from None
    elif not gojson.valid(body):
        raise BadRequest("invalid JSON patch")


def patch_type(content_type: str) -> str:
    """The patch type of a ``Content-Type`` (what precedes a ``;`` after its first character), else 415."""
    media_type = content_type.split(";", 1)[0] if content_type.find(";") > 0 else content_type
    if media_type not in PATCH_TYPES:
        raise UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(PATCH_TYPES)
        )
    return media_type


def apply_patch(
    original: dict,
    content_type: str,
    body: bytes,
    *,
    kind: str,
    field_validation: str | None = None,
) -> dict:
    """Apply the body of a ``PATCH`` request to an object and return the patched copy.

    Args:
        original: The live object (JSON-like dict); never modified.
        content_type: The request's ``Content-Type``; parameters such as ``; charset=utf-8`` are ignored.
        body: The request body.
        kind: The object's kind (``Deployment``, ``Pod``, ...); selects the strategic merge schema.
        field_validation: The request's ``fieldValidation`` parameter. ``Strict`` and ``Warn`` only
            change how decoding errors of JSON and merge patches are worded, as upstream does.

    Returns:
        A new object; nested values are not shared with ``original`` or the body.

    Raises:
        UnsupportedMediaType: ``content_type`` is not a patch type.
        BadRequest: The body does not decode, is not of the shape its type requires, or carries
            malformed strategic merge directives.
        Invalid: A JSON patch operation fails (``test`` fails, a path is missing, ...): 422 with
            upstream's generic message and the failure as the cause, like the real server.
        ApiError: Other strategic merge failures a real server answers with 500 (e.g. an unknown
            ``$patch`` directive), or more than 10000 JSON patch operations (413).
    """
    media_type = patch_type(content_type)
    strict = field_validation in ("Strict", "Warn")
    try:
        if media_type == STRATEGIC_MERGE_PATCH:
            return _apply_strategic(original, body, kind)
        if media_type == MERGE_PATCH:
            return _apply_merge(original, body, strict)
        if media_type == JSON_PATCH:
            return _apply_json_patch(original, body, strict)
        return _apply_apply(original, body, kind)
    except ApiError:
        raise
    except RecursionError:
        raise BadRequest("exceeded max depth") from None
    except Exception as err:  # a safety net: the handler must only ever see API errors
        raise ApiError(f"error applying patch: {err}") from None


# ---------------------------------------------------------------------------------------------
# Go encoding/json decoding (tutor.kube.gojson)

_GoJSONError = (gojson.JSONSyntaxError, gojson.UnmarshalTypeError)
"""What ``json.Unmarshal`` of a patch body fails with, worded as Go words it."""


def _cannot_unmarshal(value: Any, go_type: str) -> str:
    return str(gojson.UnmarshalTypeError(gojson.value_name(value), go_type))


_GO_MAP = "map[string]interface {}"

# ---------------------------------------------------------------------------------------------
# Go value formatting, for messages


def _go_v(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (``map[k:v]``, ``[a b]``, ``<nil>``)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    return str(value)


def _go_eq(a: Any, b: Any) -> bool:
    """Go's ``==`` on two ``interface{}`` JSON values: same kind and equal (bools are not numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------------------------
# Strategic merge patch schema: the patchStrategy / patchMergeKey struct tags of k8s.io/api, read from
# the one struct table (tutor.practice.apiserver.structs). A field maps to (patch strategy, merge key,
# the struct of the value or of the list's elements).

_Field = tuple[str, str, str | None]
_MERGE = "merge"
_REPLACE = "replace"
_NO_METADATA: _Field = ("", "", None)
_OBJECT = ""
"""The root of a kind the table does not know: only its ``metadata`` (ObjectMeta) is known."""
_OBJECT_META = "meta/v1.ObjectMeta"


@cache
def _lookup(struct: str | None, name: str) -> _Field:
    """``LookupPatchMetadataForStruct``: the strategy, merge key and value struct of ``struct.name``.

    ``retainKeys`` is not implemented: ``merge,retainKeys`` merges, ``retainKeys`` alone merges like a map.
    """
    if struct is None:
        return _NO_METADATA
    if struct == _OBJECT:
        return ("", "", _OBJECT_META) if name == "metadata" else _NO_METADATA
    item = gotypes.json_fields(STRUCTS, struct).get(name)
    if item is None:
        return _NO_METADATA
    strategies = item.patch_strategy.split(",")
    strategy = _MERGE if _MERGE in strategies else _REPLACE if _REPLACE in strategies else ""
    value = item.type.elem if item.type.kind == gotypes.LIST else item.type
    sub = value.struct if value is not None and value.kind == gotypes.STRUCT else None
    return strategy, item.patch_merge_key, sub


def _root_struct(kind: str) -> str:
    """The struct of a kind's top level; any other kind only has ``metadata`` (ObjectMeta) known."""
    return KINDS.get(kind, _OBJECT)


# ---------------------------------------------------------------------------------------------
# Strategic merge patch (a port of strategicpatch.StrategicMergeMapPatch)

_DIRECTIVE = "$patch"
_DELETE, _REPLACE_DIRECTIVE, _MERGE_DIRECTIVE = "delete", "replace", "merge"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER = "$setElementOrder"


class _SMPError(Exception):
    """A strategic merge failure; ``status`` is the HTTP code the API server answers with."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


# mergepatch sentinel errors; interpretStrategicMergePatchError maps these to 400 or 422.
def _bad_primitive_list() -> _SMPError:
    return _SMPError("invalid patch format of primitive list", 400)


def _bad_retain_keys() -> _SMPError:
    return _SMPError("invalid patch format of retainKeys", 400)


def _bad_set_element_order() -> _SMPError:
    return _SMPError("invalid patch format of setElementOrder list", 400)


def _no_list_of_lists() -> _SMPError:
    return _SMPError("lists of lists are not supported", 422)


def _no_merge_key(m: dict, key: str) -> _SMPError:
    return _SMPError(f"map: {_go_v(m)} does not contain declared merge key: {key}")


def _bad_arg_type(expected: str, actual: Any) -> _SMPError:
    return _SMPError(f"expected a {expected}, but received a {gojson.type_name(actual)}")


def _bad_patch_type(directive: Any, m: dict) -> _SMPError:
    return _SMPError(f"unknown patch type: {_go_v(directive)} in map: {_go_v(m)}")


def _strategic_merge(original: dict, patch: dict | None, struct: str) -> dict:
    """Apply a strategic merge patch to copies of ``original`` and ``patch``."""
    if patch is None:
        return copy.deepcopy(original)
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), struct)


def _merge_map(original: dict | None, patch: dict, struct: str | None) -> dict:
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == _REPLACE_DIRECTIVE:
            del patch[_DIRECTIVE]
            return _clean(patch)
        if directive == _DELETE:
            return {}
        raise _bad_patch_type(directive, patch)
    if original is None:
        original = {}
    _apply_retain_keys(original, patch)
    _merge_set_element_order(original, patch, struct)
    for key, patch_value in list(patch.items()):
        is_delete_list = False
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            key = _extract_key(key, _DELETE_FROM_PRIMITIVE_LIST)
            is_delete_list = True
        if patch_value is None:
            original.pop(key, None)
            continue
        if key not in original:
            original[key] = _clean(patch_value)
            continue
        current = original[key]
        if isinstance(current, dict) and isinstance(patch_value, dict):
            strategy, _, sub = _lookup(struct, key)
            original[key] = _clean(patch_value) if strategy == _REPLACE else _merge_map(current, patch_value, sub)
        elif isinstance(current, list) and isinstance(patch_value, list):
            strategy, merge_key, sub = _lookup(struct, key)
            original[key] = _merge_slice_handler(current, patch_value, strategy, merge_key, sub, is_delete_list)
        else:
            original[key] = _clean(patch_value)
    return original


def _clean(value: Any) -> Any:
    """Drop the nulls and directives of a value that is taken from the patch as is.

    Upstream copies such values verbatim and lets the typed decode that follows drop what no Go
    field holds (``$`` keys) and zero what is ``null``; the practice cluster stores plain dicts, so
    it drops both here.
    """
    if isinstance(value, dict):
        if value.get(_DIRECTIVE) == _DELETE:
            return {}
        return {k: _clean(v) for k, v in value.items() if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_clean(v) for v in value if not (isinstance(v, dict) and v.get(_DIRECTIVE) == _DELETE)]
    return value


def _extract_key(key: str, prefix: str) -> str:
    parts = key.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        raise _bad_primitive_list() if prefix == _DELETE_FROM_PRIMITIVE_LIST else _bad_set_element_order()
    return parts[1]


def _apply_retain_keys(original: dict, patch: dict) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    if not isinstance(retain, list):
        raise _bad_retain_keys()
    for key, value in patch.items():
        if value is None or key.startswith(_DELETE_FROM_PRIMITIVE_LIST) or key.startswith(_SET_ELEMENT_ORDER):
            continue
        if key not in retain:
            raise _bad_retain_keys()
    for key in list(original):
        if key not in retain:
            del original[key]


def _merge_set_element_order(original: dict, patch: dict, struct: str | None) -> None:
    """``mergePatchIntoOriginal``: merge each ``$setElementOrder/<list>`` with its list, then order it."""
    for key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _bad_arg_type("[]interface {}", order)
        list_key = _extract_key(key, _SET_ELEMENT_ORDER)
        found_original, found_patch = list_key in original, list_key in patch
        original_list: list = []
        patch_list: list = []
        if found_original:
            if not isinstance(original[list_key], list):
                raise _bad_arg_type("[]interface {}", original[list_key])
            original_list = original[list_key]
        if found_patch:
            if not isinstance(patch[list_key], list):
                raise _bad_arg_type("[]interface {}", patch[list_key])
            patch_list = patch[list_key]
        strategy, merge_key, sub = _lookup(struct, list_key)
        _validate_patch_with_set_order_list(patch_list, order, merge_key)
        if found_original and not found_patch:
            merged = original_list
        elif found_patch and not found_original:
            merged = _clean(patch_list)
        elif found_original and found_patch:
            merged = _merge_slice_handler(list(original_list), patch_list, strategy, merge_key, sub, False)
        else:
            continue
        if merge_key:
            patch_items, server_only = _partition_maps(merged, order, merge_key)
        else:
            patch_items, server_only = _partition_primitives(merged, order)
        kind_is_map = _slice_element_is_map(original_list, patch_list)
        original[list_key] = _normalize_element_order(patch_items, server_only, order, original_list, merge_key,
                                                      kind_is_map)
        patch.pop(list_key, None)


def _validate_patch_with_set_order_list(patch_list: list, order: list, merge_key: str) -> None:
    if not order or not patch_list:
        return
    if merge_key:
        non_delete, _ = _extract_to_delete_items(patch_list)
    else:
        non_delete = patch_list
    patch_index = order_index = 0
    while patch_index < len(non_delete) and order_index < len(order):
        item = non_delete[patch_index]
        if isinstance(item, dict) and _DIRECTIVE in item:
            patch_index += 1
            continue
        if _merge_key_value_equal(item, order[order_index], merge_key):
            patch_index += 1
        order_index += 1
    if patch_index < len(non_delete) and order_index >= len(order):
        raise _SMPError(f"The order in patch list:\n{_go_v(patch_list)}\n doesn't match {_SET_ELEMENT_ORDER} "
                        f"list:\n{_go_v(order)}\n")


def _merge_key_value_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_eq(left, right)
    if not isinstance(left, dict):
        raise _bad_arg_type(_GO_MAP, left)
    if not isinstance(right, dict):
        raise _bad_arg_type(_GO_MAP, right)
    if merge_key not in left:
        raise _no_merge_key(left, merge_key)
    if merge_key not in right:
        raise _no_merge_key(right, merge_key)
    return _go_eq(left[merge_key], right[merge_key])


def _slice_element_is_map(*lists: list) -> bool:
    """``sliceElementType``: whether the (uniformly typed) elements are maps."""
    first: Any = _MISSING
    for items in lists:
        for item in items:
            if first is _MISSING:
                first = item
                if isinstance(item, list):
                    raise _no_list_of_lists()
            elif gojson.type_name(first) != gojson.type_name(item):
                raise _SMPError("list element types are not identical: " + _go_v(list(lists)))
    if first is _MISSING:
        raise _SMPError("no elements in any of the given slices")
    return isinstance(first, dict)


_MISSING = object()


def _merge_slice_handler(original: list, patch: list, strategy: str, merge_key: str, sub: str | None,
                         is_delete_list: bool) -> list:
    if strategy == _MERGE:
        return _merge_slice(original, patch, merge_key, sub, is_delete_list)
    return _clean(patch)


def _merge_slice(original: list, patch: list, merge_key: str, sub: str | None, is_delete_list: bool) -> list:
    if not original and not patch:
        return original
    is_map = _slice_element_is_map(original, patch)
    if not is_map:
        if is_delete_list:
            return [v for v in original if not any(_go_eq(v, d) for d in patch)]
        merged = _deduplicate_scalars(original + patch)
    else:
        if not merge_key:
            raise _SMPError("cannot merge lists without merge key for type struct")
        original, patch = _merge_slice_with_special_elements(original, patch, merge_key)
        merged = _merge_slice_without_special_elements(original, patch, merge_key, sub)
    if merge_key:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    else:
        patch_items, server_only = _partition_primitives(merged, patch)
    return _normalize_element_order(patch_items, server_only, patch, original, merge_key, is_map)


def _merge_slice_with_special_elements(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    without_special = []
    replace = False
    for item in patch:
        if _DIRECTIVE not in item:
            without_special.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == _DELETE:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            value = item[merge_key]
            original = [o for o in original if not (isinstance(o, dict) and merge_key in o
                                                     and _go_eq(o[merge_key], value))]
        elif directive == _REPLACE_DIRECTIVE:
            replace = True
        elif directive == _MERGE_DIRECTIVE:
            raise _SMPError("merging lists cannot yet be specified in the patch")
        else:
            raise _bad_patch_type(directive, item)
    if replace:
        return _clean(without_special), []
    return original, without_special


def _find_map(items: list, merge_key: str, value: Any) -> int | None:
    """``findMapInSliceBasedOnKeyValue``: the index of the map whose merge key equals ``value``."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _SMPError(f"value for key {index} is not a map.")
        if merge_key in item and _go_eq(item[merge_key], value):
            return index
    return None


def _merge_slice_without_special_elements(original: list, patch: list, merge_key: str, sub: str | None) -> list:
    original = list(original)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find_map(original, merge_key, item[merge_key])
        if index is None:
            original.append(_clean(item))
        else:
            original[index] = _merge_map(original[index], item, sub)
    return original


def _deduplicate_scalars(items: list) -> list:
    """``deduplicateScalars``, including its order (a duplicate is replaced by the last element)."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_eq(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _extract_to_delete_items(items: list) -> tuple[list, list]:
    keep: list[Any] = []
    delete: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg_type(_GO_MAP, item)
        (delete if item.get(_DIRECTIVE) == _DELETE else keep).append(item)
    return keep, delete


def _partition_primitives(items: list, partition_by: list) -> tuple[list, list]:
    in_patch: list[Any] = []
    server_only: list[Any] = []
    for item in items:
        (in_patch if any(_go_eq(item, p) for p in partition_by) else server_only).append(item)
    return in_patch, server_only


def _partition_maps(items: list, partition_by: list, merge_key: str) -> tuple[list, list]:
    in_patch: list[Any] = []
    server_only: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise _bad_arg_type(_GO_MAP, item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        found = _find_map(partition_by, merge_key, item[merge_key]) is not None
        (in_patch if found else server_only).append(item)
    return in_patch, server_only


def _index(items: list, value: Any, merge_key: str, is_map: bool) -> int:
    def key_of(item: Any) -> Any:
        if is_map:
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    wanted = key_of(value)
    for i, item in enumerate(items):
        candidate = key_of(item)
        if (wanted is None and candidate is None) or _go_eq(wanted, candidate):
            return i
    return -1


def _normalize_slice_order(to_sort: list, order: list, merge_key: str, is_map: bool) -> list:
    to_delete: list = []
    if is_map:
        for items in (to_sort, order):
            for item in items:
                if not isinstance(item, dict):
                    raise _bad_arg_type(_GO_MAP, item)
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
        to_sort, to_delete = _extract_to_delete_items(to_sort)

    def less(a: Any, b: Any) -> bool:
        ia = _index(order, a, merge_key, is_map)
        if ia >= 0:
            ib = _index(order, b, merge_key, is_map)
            if ib >= 0:
                return ia < ib
        return True

    # sort.SliceStable: an insertion sort for short lists (the comparator is not a strict order when
    # an item is missing from `order`, so the algorithm matters).
    result = list(to_sort)
    for i in range(1, len(result)):
        j = i
        while j > 0 and less(result[j], result[j - 1]):
            result[j], result[j - 1] = result[j - 1], result[j]
            j -= 1
    return result + to_delete


def _merge_sorted_slice(left: list, right: list, server_order: list, merge_key: str, is_map: bool) -> list:
    """``mergeSortedSlice``: interleave server-only items (left) with patch items (right)."""
    out = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, is_map)
            ri = _index(server_order, right[j], merge_key, is_map)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _normalize_element_order(patch: list, server_only: list, patch_order: list, server_order: list,
                             merge_key: str, is_map: bool) -> list:
    patch = _normalize_slice_order(patch, patch_order, merge_key, is_map)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, is_map)
    return _merge_sorted_slice(server_only, patch, server_order, merge_key, is_map)


def _smp_error_to_api(err: _SMPError) -> ApiError:
    """``interpretStrategicMergePatchError`` plus the handler's fallback for plain errors (500)."""
    if err.status == 400:
        return BadRequest(str(err))
    if err.status == 422:
        return _unprocessable(str(err))
    return ApiError(str(err))


def _unprocessable(cause: str) -> Invalid:
    """``errors.NewGenericServerResponse(422, "", GroupResource{}, "", cause, 0, false)`` (kubernetes/apiserver
    ``pkg/endpoints/handlers/patch.go``): the generic message and ``"details": {}``; with
    ``isUnexpectedResponse`` false the cause is not kept (kubernetes/apimachinery ``pkg/api/errors/errors.go``),
    so kubectl prints ``The request is invalid: the server rejected our request due to an error in our request``.
    """
    del cause
    return Invalid("the server rejected our request due to an error in our request", details={})


def _apply_strategic(original: dict, body: bytes, kind: str) -> dict:
    try:
        patch = gojson.loads(body)
    except _GoJSONError as err:
        raise BadRequest(str(err)) from None
    if patch is not None and not isinstance(patch, dict):
        raise BadRequest(_cannot_unmarshal(patch, _GO_MAP))
    try:
        return _strategic_merge(original, patch, _root_struct(kind))
    except _SMPError as err:
        raise _smp_error_to_api(err) from None


# ---------------------------------------------------------------------------------------------
# JSON merge patch (evanphx/json-patch v4 MergePatch)


def _prune_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value if v is not None]
    return value


def _merge_docs(doc: dict, patch: dict) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
        elif key not in doc:
            doc[key] = _prune_nulls(value)
        else:
            current = doc[key]
            if not isinstance(current, dict):
                doc[key] = _prune_nulls(value)
            elif not isinstance(value, dict):
                doc[key] = value
            else:
                _merge_docs(current, value)


def _apply_merge(original: dict, body: bytes, strict: bool) -> dict:
    try:  # evanphx/json-patch keeps numbers as written (json.RawMessage): the typed decode after judges them
        patch = gojson.loads(body, big_numbers=True)
    except _GoJSONError as err:
        raise BadRequest(f"error decoding patch: {err}" if strict else "Invalid JSON Patch") from None
    if strict and patch is not None and not isinstance(patch, dict):
        raise BadRequest(f"error decoding patch: {_cannot_unmarshal(patch, _GO_MAP)}")
    if not isinstance(patch, dict):
        raise BadRequest("Invalid JSON Patch")
    doc = copy.deepcopy(original)
    _merge_docs(doc, copy.deepcopy(patch))
    return doc


# ---------------------------------------------------------------------------------------------
# JSON patch (RFC 6902), with evanphx/json-patch v4 path resolution and messages


class _OpError(Exception):
    """A failed JSON patch operation, worded as evanphx/json-patch (the 422 cause)."""


_MISSING_VALUE = "missing value"
_INVALID_INDEX = "invalid index referenced"


def _decode_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _encode_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _atoi(key: str) -> int:
    """``strconv.Atoi``; raises ``_OpError`` with Go's message."""
    try:
        return strconv.atoi(key)
    except strconv.NumError as err:
        raise _OpError(str(err)) from None


def _find_object(doc: Any, path: str) -> tuple[Any, str, list[str]] | None:
    """``findObject``: the container of the last path element, that element, and the canonical parent path."""
    split = path.split("/")
    if len(split) < 2:
        return None
    canonical: list[str] = []
    current = doc
    for part in split[1:-1]:
        token = _decode_pointer_token(part)
        if isinstance(current, dict):
            nxt = current.get(token)
        elif isinstance(current, list):
            try:
                idx = _atoi(token)
            except _OpError:
                return None
            if idx < 0 or idx >= len(current):
                return None
            nxt, token = current[idx], str(idx)
        else:
            return None
        if not isinstance(nxt, (dict, list)):
            return None
        canonical.append(token)
        current = nxt
    return current, _decode_pointer_token(split[-1]), canonical


def _pointer(parents: list[str], key: str) -> str:
    return "".join("/" + _encode_pointer_token(t) for t in [*parents, key])


def _list_index(container: list, key: str, *, adding: bool) -> int:
    """The index ``key`` names in ``container`` (negative indices count from the end, as upstream allows)."""
    idx = _atoi(key)
    size = len(container) + (1 if adding else 0)
    if idx >= size or idx < -size:
        raise _OpError(f"Unable to access invalid index: {idx}: {_INVALID_INDEX}")
    return idx + size if idx < 0 else idx


def _op_string(op: dict, field: str) -> tuple[str | None, str]:
    """``Operation.Path``/``From``: the field's string, or ``None`` and the decoding error."""
    if field not in op or op[field] is None:
        what = "operation missing path field" if field == "path" else "operation, missing from field"
        return None, f"{what}: {_MISSING_VALUE}"
    value = op[field]
    if not isinstance(value, str):
        return None, _cannot_unmarshal(value, "string")
    return value, ""


def _json_equal(have: Any, want: Any) -> bool:
    """``lazyNode.equal`` as evanphx v4 compares: objects by the live object's keys, scalars exactly."""
    if isinstance(have, dict):
        return isinstance(want, dict) and all(k in want and _json_equal(v, want[k]) for k, v in have.items())
    if isinstance(have, list):
        return isinstance(want, list) and len(have) == len(want) and all(
            _json_equal(a, b) for a, b in zip(have, want, strict=True))
    return type(have) is type(want) and have == want


def _apply_op(doc: Any, op: dict) -> Any:
    """Apply one operation; returns the (possibly new) document."""
    kind = op.get("op") if isinstance(op.get("op"), str) else "unknown"
    if kind not in ("add", "remove", "replace", "move", "test", "copy"):
        raise _OpError(f"Unexpected kind: {kind}")
    if kind in ("move", "copy"):
        source, err = _op_string(op, "from")
        if source is None:
            raise _OpError(f"{kind} operation failed to decode from: {err}")
        found = _find_object(doc, source)
        if found is None:
            raise _OpError(f"{kind} operation does not apply: doc is missing from path: {source}: {_MISSING_VALUE}")
        container, key, parents = found
        context = f"error in move for path: '{key}'" if kind == "move" else f"error in copy for from: '{source}'"
        try:
            if isinstance(container, list):
                key = str(_list_index(container, key, adding=False))
        except _OpError as e:
            raise _OpError(f"{context}: {e}") from None
        if kind == "move" and isinstance(container, dict) and key not in container:
            raise _OpError(f"{context}: Unable to remove nonexistent key: {key}: {_MISSING_VALUE}")
        value = container.get(key) if isinstance(container, dict) else container[int(key)]
        source_pointer = _pointer(parents, key)
    path, err = _op_string(op, "path")
    if path is None:
        if kind in ("add", "remove", "copy"):
            raise _OpError(f"{kind} operation failed to decode path: {_MISSING_VALUE}")
        raise _OpError(f"{kind} operation failed to decode path: {err}")

    if kind == "replace" and path == "":
        value = op.get("value")
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else doc
    if kind == "test" and path == "":
        if not _json_equal(doc, op.get("value")):
            raise _OpError(f"testing value {path} failed: test failed")
        return doc

    found = _find_object(doc, path)
    if found is None:
        missing = {
            "add": f'add operation does not apply: doc is missing path: "{path}"',
            "remove": f'remove operation does not apply: doc is missing path: "{path}"',
            "replace": f"replace operation does not apply: doc is missing path: {path}",
            "test": f"test operation does not apply: is missing path: {path}",
            "move": f"move operation does not apply: doc is missing destination path: {path}",
            "copy": f"copy operation does not apply: doc is missing destination path: {path}",
        }[kind]
        raise _OpError(f"{missing}: {_MISSING_VALUE}")
    container, key, parents = found

    if kind == "test":
        if isinstance(container, list):
            try:
                index = _list_index(container, key, adding=False)
            except _OpError as e:
                raise _OpError(f"error in test for path: '{path}': {e}") from None
            have = container[index]
        else:
            have = container.get(key)
        want = op.get("value")
        if (have is None and want is None) or (have is not None and "value" in op and _json_equal(have, want)):
            return doc
        raise _OpError(f"testing value {path} failed: test failed")

    if kind == "remove":
        if isinstance(container, dict):
            if key not in container:
                raise _OpError(f"error in remove for path: '{path}': Unable to remove nonexistent key: {key}: "
                               f"{_MISSING_VALUE}")
        else:
            try:
                key = str(_list_index(container, key, adding=False))
            except _OpError as e:
                raise _OpError(f"error in remove for path: '{path}': {e}") from None
        return jsonpatch.apply_patch(doc, [{"op": "remove", "path": _pointer(parents, key)}], in_place=True)

    if kind == "replace":
        if isinstance(container, list):
            try:
                key = str(_list_index(container, key, adding=False))
            except _OpError:
                raise _OpError(f"replace operation does not apply: doc is missing key: {path}: "
                               f"{_MISSING_VALUE}") from None
            operation = "replace"
        else:
            operation = "replace" if key in container else "add"  # upstream's replace adds a missing key
        return jsonpatch.apply_patch(
            doc, [{"op": operation, "path": _pointer(parents, key), "value": copy.deepcopy(op.get("value"))}],
            in_place=True)

    # add, and the second half of move and copy
    if kind == "add":
        value = op.get("value")
        context = f"error in add for path: '{path}'"
    elif kind == "move":
        context = f"error in move for path: '{path}'"
    else:
        context = "error while adding value during copy"
    if isinstance(container, list) and key != "-":
        try:
            key = str(_list_index(container, key, adding=True))
        except _OpError as e:
            if "invalid syntax" in str(e):
                raise _OpError(f"{context}: value was not a proper array index: '{key}': {e}") from None
            raise _OpError(f"{context}: {e}") from None
    target = _pointer(parents, key)
    if kind == "move":
        return jsonpatch.apply_patch(doc, [{"op": "move", "from": source_pointer, "path": target}], in_place=True)
    return jsonpatch.apply_patch(doc, [{"op": "add", "path": target, "value": copy.deepcopy(value)}],
                                 in_place=True)


def _apply_json_patch(original: dict, body: bytes, strict: bool) -> dict:
    try:  # evanphx/json-patch keeps values as written (json.RawMessage): the typed decode after judges them
        ops = gojson.loads(body, big_numbers=True)
    except _GoJSONError as err:
        raise BadRequest(f"error decoding patch: {err}" if strict else str(err)) from None
    if ops is None:
        ops = []
    if not isinstance(ops, list):
        go_type = "[]handlers.jsonPatchOp" if strict else "jsonpatch.Patch"
        message = _cannot_unmarshal(ops, go_type)
        raise BadRequest(f"error decoding patch: {message}" if strict else message)
    for op in ops:
        if op is not None and not isinstance(op, dict):
            go_type = "handlers.jsonPatchOp" if strict else "jsonpatch.Operation"
            message = _cannot_unmarshal(op, go_type)
            raise BadRequest(f"error decoding patch: {message}" if strict else message)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise RequestEntityTooLarge(f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, "
                                    f"got {len(ops)}")
    doc: Any = copy.deepcopy(original)
    for op in ops:
        try:
            doc = _apply_op(doc, op or {})
        except _OpError as err:
            raise _unprocessable(str(err)) from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as err:
            raise _unprocessable(str(err)) from None
    if not isinstance(doc, dict):
        raise _unprocessable("the patched document is not an object")
    return doc


# ---------------------------------------------------------------------------------------------
# Server-side apply (simplified)


def _apply_apply(original: dict, body: bytes, kind: str) -> dict:
    """``applyPatcher``: ``sigs.k8s.io/yaml.Unmarshal`` of the body (YAML to JSON, with yaml.v2's alias and
    depth limits, see :mod:`~tutor.practice.apiserver.yamljson`), then the merge. Its errors are
    ``error decoding patch: ...`` (``error decoding YAML: ...`` before Kubernetes 1.37).

    The server's own apply of a whole object is :func:`tutor.practice.apiserver.fieldmanager.apply`; this strategic
    merge remains for apply patches of subresources."""
    intended = decode_apply(body)
    try:
        return _strategic_merge(original, intended, _root_struct(kind))
    except _SMPError as err:
        raise _smp_error_to_api(err) from None


def decode_apply(body: bytes) -> dict:
    """The configuration of an apply patch: ``sigs.k8s.io/yaml.Unmarshal`` of the body into an object."""
    try:
        intended = gojson.loads(body)
    except _GoJSONError:
        try:
            intended = gojson.loads(yamljson.yaml_to_json(body))
        except yamljson.YAMLError as err:
            raise BadRequest(f"error decoding patch: error converting YAML to JSON: {err}") from None
        except _GoJSONError as err:
            raise BadRequest(f"error decoding patch: error unmarshaling JSON: while decoding JSON: {err}") from None
    if intended is not None and not isinstance(intended, dict):
        raise BadRequest("error decoding patch: error unmarshaling JSON: while decoding JSON: "
                         + _cannot_unmarshal(intended, _GO_MAP))
    return intended or {}

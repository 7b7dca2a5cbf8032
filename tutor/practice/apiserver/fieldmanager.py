"""Managed fields and server-side apply, as the API server keeps them.

Ports, for the kinds the practice cluster serves:

* sigs.k8s.io/structured-merge-diff ``typed/compare.go`` (what an update added, modified, removed),
  ``typed/tofieldset.go`` (the fields an apply configuration sets), ``typed/merge.go`` (an apply merged onto the
  live object), ``merge/update.go`` (``Updater.Update``/``Apply``: ownership, conflicts, pruning what an applier
  stopped applying), ``fieldpath/serialize*.go`` (``FieldsV1``: ``f:``, ``k:``, ``v:`` and ``.``) and
  ``fieldpath/path.go`` (``.spec.template.spec.containers[name="web"].image``);
* kubernetes/apimachinery ``pkg/util/managedfields/internal``: the manager identifiers (``buildmanagerinfo.go``),
  ``stripmeta.go`` (metadata a manager never owns), ``managedfieldsupdater.go`` (an updater's fields are added to
  what it owned; its time changes only when it changed something), ``skipnonapplied.go`` (an object stored without
  managed fields is not tracked by updates), ``managedfields.go`` (entry order), ``conflict.go`` (``Apply failed
  with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas``) and
  ``pkg/util/managedfields/scalehandler.go`` (``/scale``'s ``spec.replicas`` is the parent's);
* kubernetes/apiserver ``pkg/endpoints/handlers/create.go`` (``managerOrUserAgent``: the manager is the
  ``fieldManager`` parameter, else the user agent up to its first ``/``).

The schema (which lists are keyed by what, which maps and structs are atomic) comes from the OpenAPI schemas the
cluster serves (``openapi_schemas.json.gz``, as kube-openapi's ``schemaconv`` reads them: ``x-kubernetes-list-type``
and ``-list-map-keys``, else ``x-kubernetes-patch-strategy: merge`` with its merge key, else atomic); the zero
object a create is compared with comes from the Go structs table (``structs.py``: what Go's encoder writes for a
new, empty object).

The bridge from client-side apply is ported too: kubectl's server-side apply may take over what
``last-applied-configuration`` says client-side apply set and nobody changed since (``lastappliedmanager.go``), and
keeps that annotation in step (``lastappliedupdater.go``).

Not ported: the cap of ten update managers (``capmanagers.go``), and the controllers' own entries (the practice
cluster's controllers write to the store, not through the API, and leave managed fields as they are).
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from tutor.practice.apiserver import errors, gotypes
from tutor.practice.apiserver.openapi import DATA
from tutor.practice.apiserver.structs import KINDS, STRUCTS

log = logging.getLogger(__name__)

PE = tuple[str, str]
"""A path element: ``("f", name)``, ``("k", '{"name":"web"}')``, ``("v", '"x"')`` or ``("i", "0")``."""
Path = tuple[PE, ...]
FieldSet = set[Path]

_MISSING: Any = object()

# ---- the schema ----------------------------------------------------------------------------------------------
# A type reference: ("named", name) | ("list", relationship, keys, elem, key defaults) | ("map", elem) | ("leaf",)
TypeRef = tuple[Any, ...]
_LEAF: TypeRef = ("leaf",)


class _Schema:
    """The structure of the served kinds, read once from the OpenAPI data; kept compact."""

    def __init__(self) -> None:
        loaded = json.loads(gzip.decompress(DATA.read_bytes()))
        schemas: dict[str, Any] = loaded["schemas"]
        self.named: dict[str, tuple[bool, dict[str, TypeRef]]] = {}
        """name -> (atomic, {field: type}) for object schemas with properties."""
        self.roots: dict[tuple[str, str], str] = {}
        """(apiVersion, kind) -> schema name."""
        for name, schema in schemas.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                gv = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
                self.roots[(gv, gvk["kind"])] = name
            if "properties" in schema:
                atomic = schema.get("x-kubernetes-map-type") == "atomic"
                self.named[name] = (atomic, {k: self._ref(v, schemas) for k, v in schema["properties"].items()})
        del loaded, schemas

    def _ref(self, prop: dict[str, Any], schemas: dict[str, Any]) -> TypeRef:
        ref = prop.get("$ref") or next((a["$ref"] for a in prop.get("allOf", []) if "$ref" in a), None)
        if ref:
            name = ref.rpartition("/")[2]
            target = schemas.get(name, {})
            if "properties" not in target:
                return _LEAF  # Quantity, IntOrString, Time, RawExtension...: scalars or untyped
            return ("named", name)
        kind = prop.get("type")
        if kind == "array":
            elem = self._ref(prop.get("items", {}), schemas)
            list_type = prop.get("x-kubernetes-list-type", "")
            keys: tuple[str, ...] = tuple(prop.get("x-kubernetes-list-map-keys", ()))
            if not list_type:
                if "merge" in prop.get("x-kubernetes-patch-strategy", "").split(","):
                    key = prop.get("x-kubernetes-patch-merge-key", "")
                    list_type, keys = ("map", (key,)) if key else ("set", ())
                else:
                    list_type = "atomic"
            item_ref = (prop.get("items", {}).get("$ref") or next(
                (a["$ref"] for a in prop.get("items", {}).get("allOf", []) if "$ref" in a), ""))
            item = schemas.get(item_ref.rpartition("/")[2], {}).get("properties", {})
            key_defaults = tuple(item.get(k, {}).get("default") for k in keys)
            return ("list", list_type, keys, elem, key_defaults)
        if kind == "object" and "additionalProperties" in prop:
            if prop.get("x-kubernetes-map-type") == "atomic":
                return _LEAF
            return ("map", self._ref(prop["additionalProperties"], schemas))
        return _LEAF


_SCHEMA: _Schema | None = None
_LOCK = threading.Lock()


def schema() -> _Schema:
    global _SCHEMA
    with _LOCK:
        if _SCHEMA is None:
            _SCHEMA = _Schema()
        return _SCHEMA


def root_type(api_version: str, kind: str) -> TypeRef:
    name = schema().roots.get((api_version, kind))
    return ("named", name) if name else _LEAF


def _fields_of(t: TypeRef) -> tuple[bool, dict[str, TypeRef]] | None:
    """(atomic, fields) of a struct type; None for a map or a leaf."""
    if t[0] == "named":
        return schema().named.get(t[1], (True, {}))
    return None


def _child_type(t: TypeRef, key: str) -> TypeRef:
    if t[0] == "named":
        return schema().named.get(t[1], (True, {}))[1].get(key, _LEAF)
    if t[0] == "map":
        return t[1]
    return _LEAF


def _is_mapish(t: TypeRef) -> bool:
    if t[0] == "map":
        return True
    fields = _fields_of(t)
    return fields is not None and not fields[0]


def _declared(t: TypeRef, key: str) -> bool:
    return t[0] == "named" and key in schema().named.get(t[1], (True, {}))[1]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _item_pe(t: TypeRef, index: int, item: Any) -> PE:
    """``listItemToPathElement``: a keyed item by its keys (a key it lacks by the key field's default, as
    ``keyedAssociativeListItemToPathElement`` does), a set item by its value, else its index."""
    _, relationship, keys, _, key_defaults = t
    if relationship == "map" and isinstance(item, dict):
        found = {k: item[k] if k in item else default for k, default in zip(keys, key_defaults, strict=True)
                 if k in item or default is not None}
        return ("k", _dumps(found))
    if relationship == "set":
        return ("v", _dumps(item))
    return ("i", str(index))


def _index(t: TypeRef, items: list[Any] | None) -> dict[PE, Any]:
    out: dict[PE, Any] = {}
    for i, item in enumerate(items or []):
        out.setdefault(_item_pe(t, i, item), item)
    return out


# ---- compare (typed/compare.go) --------------------------------------------------------------------------------
class Comparison:
    def __init__(self) -> None:
        self.added: FieldSet = set()
        self.modified: FieldSet = set()
        self.removed: FieldSet = set()


def compare(lhs: Any, rhs: Any, t: TypeRef) -> Comparison:
    out = Comparison()
    _compare(lhs, rhs, t, (), out)
    return out


def _container(value: Any, kind: type) -> tuple[bool, Any]:
    """(the value is of the kind, or absent or null; the container or None)."""
    if value is _MISSING or value is None:
        return True, None
    return (True, value) if isinstance(value, kind) else (False, None)


def _compare(lhs: Any, rhs: Any, t: TypeRef, path: Path, out: Comparison) -> None:
    if lhs is _MISSING and rhs is _MISSING:
        return
    leaf = True
    if t[0] == "list" and t[1] != "atomic":
        (lok, lv), (rok, rv) = _container(lhs, list), _container(rhs, list)
        if lok and rok and (lv or rv):  # two empty lists compare as a leaf (emptyPromoteToLeaf)
            leaf = False
            left, right = _index(t, lv), _index(t, rv)
            for pe in list(left) + [pe for pe in right if pe not in left]:
                _compare(left.get(pe, _MISSING), right.get(pe, _MISSING), t[3], path + (pe,), out)
    elif _is_mapish(t):
        (lok, lm), (rok, rm) = _container(lhs, dict), _container(rhs, dict)
        if lok and rok and (lm or rm):
            leaf = False
            left, right = lm or {}, rm or {}
            for key in list(left) + [k for k in right if k not in left]:
                _compare(left.get(key, _MISSING), right.get(key, _MISSING), _child_type(t, key),
                         path + (("f", key),), out)
    if leaf:
        if lhs is _MISSING:
            out.added.add(path)
        elif rhs is _MISSING:
            out.removed.add(path)
        elif lhs != rhs:
            out.modified.add(path)
    elif lhs is _MISSING:
        out.added.add(path)
    elif rhs is _MISSING:
        out.removed.add(path)


# ---- to field set (typed/tofieldset.go) --------------------------------------------------------------------------
def to_field_set(value: Any, t: TypeRef) -> FieldSet:
    out: FieldSet = set()
    _to_set(value, t, (), out)
    return out


def _to_set(value: Any, t: TypeRef, path: Path, out: FieldSet) -> None:
    if t[0] == "list":
        if t[1] == "atomic":
            out.add(path)
            return
        if not isinstance(value, list):
            return
        for pe, item in _index(t, value).items():
            _to_set(item, t[3], path + (pe,), out)
            out.add(path + (pe,))
        return
    if t[0] == "leaf" or not _is_mapish(t):
        out.add(path)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        child = path + (("f", key),)
        _to_set(item, _child_type(t, key), child, out)
        if item is None or (isinstance(item, dict) and not item) or not _declared(t, key):
            out.add(child)


# ---- merge (typed/merge.go) ------------------------------------------------------------------------------------
def merge(lhs: Any, rhs: Any, t: TypeRef) -> Any:
    """The apply configuration ``rhs`` merged onto the live ``lhs``."""
    if t[0] == "list" and t[1] != "atomic" and isinstance(lhs, list) and isinstance(rhs, list):
        left, right = _index(t, lhs), _index(t, rhs)
        out = [merge(item, right[pe], t[3]) if pe in right else item for pe, item in left.items()]
        out.extend(item for pe, item in right.items() if pe not in left)
        return out
    if _is_mapish(t) and isinstance(lhs, dict) and isinstance(rhs, dict):
        merged = dict(lhs)
        for key, value in rhs.items():
            merged[key] = merge(lhs[key], value, _child_type(t, key)) if key in lhs else value
        return merged
    return rhs


def ensure_named(paths: FieldSet, t: TypeRef) -> FieldSet:
    """``EnsureNamedFieldsAreMembers``: the set with every struct field on the way to its members (not map keys,
    not list items)."""
    out = set(paths)
    for path in paths:
        current = t
        for i, pe in enumerate(path):
            if pe[0] == "f":
                if _declared(current, pe[1]):
                    out.add(path[:i + 1])
                current = _child_type(current, pe[1])
            else:
                current = current[3] if current[0] == "list" else _LEAF
    return out


def remove_paths(value: Any, t: TypeRef, paths: FieldSet) -> Any:
    """``RemoveItems``: ``value`` without the fields and items at ``paths``."""
    return _remove(value, t, (), paths)


def _remove(value: Any, t: TypeRef, path: Path, paths: FieldSet) -> Any:
    if t[0] == "list" and t[1] != "atomic" and isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            child = path + (_item_pe(t, i, item),)
            if child in paths:
                continue
            out.append(_remove(item, t[3], child, paths))
        return out
    if _is_mapish(t) and isinstance(value, dict):
        result = {}
        for key, item in value.items():
            child = path + (("f", key),)
            if child in paths:
                continue
            result[key] = _remove(item, _child_type(t, key), child, paths)
        return result
    return value


# ---- FieldsV1 (fieldpath/serialize.go) and path strings (fieldpath/path.go) ---------------------------------------
def _pe_order(pe: PE) -> tuple[int, Any]:
    kind, text = pe
    rank = "fkvi".index(kind)
    if kind == "i":
        return rank, int(text)
    return rank, text


def encode_fields(paths: Iterable[Path]) -> dict[str, Any]:
    """A set as ``FieldsV1``: ``{"f:spec": {"f:replicas": {}}}``, ``"."`` where a member has children."""
    root: dict[PE, Any] = {}
    members: set[Path] = set(paths)
    for path in members:
        node = root
        for pe in path:
            node = node.setdefault(pe, {})

    def write(node: dict[PE, Any], prefix: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if node and prefix in members and prefix:
            out["."] = {}
        for pe in sorted(node, key=_pe_order):
            out[f"{pe[0]}:{pe[1]}"] = write(node[pe], prefix + (pe,))
        return out

    return write(root, ())


def decode_fields(fields: Any) -> FieldSet:
    out: FieldSet = set()

    def read(node: Any, prefix: Path) -> None:
        if not isinstance(node, dict):
            return
        if prefix and (not node or "." in node):
            out.add(prefix)
        for key, child in node.items():
            if key == "." or ":" not in key:
                continue
            kind, _, text = key.partition(":")
            read(child, prefix + ((kind, text),))

    read(fields, ())
    return out


def path_string(path: Path) -> str:
    """``fieldpath.Path.String``: ``.spec.template.spec.containers[name="web"].image``."""
    out = []
    for kind, text in path:
        if kind == "f":
            out.append("." + text)
        elif kind == "k":
            keys = json.loads(text)
            out.append("[" + ",".join(f"{k}={_dumps(v)}" for k, v in keys.items()) + "]")
        elif kind == "v":
            out.append(f"[={text}]")
        else:
            out.append(f"[{text}]")
    return "".join(out)


def sorted_paths(paths: Iterable[Path]) -> list[Path]:
    """The order ``Set.Iterate`` walks a set: at each level the members, then the children, each sorted."""
    members = set(paths)
    root: dict[PE, Any] = {}
    for path in members:
        node = root
        for pe in path:
            node = node.setdefault(pe, {})
    out: list[Path] = []

    def walk(node: dict[PE, Any], prefix: Path) -> None:
        keys = sorted(node, key=_pe_order)
        out.extend(prefix + (pe,) for pe in keys if prefix + (pe,) in members)
        for pe in keys:
            walk(node[pe], prefix + (pe,))

    walk(root, ())
    return out


# ---- managers ------------------------------------------------------------------------------------------------
_STRIP: FieldSet = {(("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),)} | {
    (("f", "metadata"), ("f", name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields",
        "resourceVersion")}


class Entry:
    """One manager's entry of ``metadata.managedFields``."""

    def __init__(self, manager: str, operation: str, api_version: str, subresource: str = "",
                 time: str | None = None, fields: FieldSet | None = None) -> None:
        self.manager, self.operation, self.api_version = manager, operation, api_version
        self.subresource, self.time = subresource, time
        self.fields: FieldSet = fields or set()

    @property
    def key(self) -> tuple[str, str, str, str]:
        """``BuildManagerIdentifier``: an applier is one manager whatever the version it applied."""
        return self.manager, self.operation, "" if self.operation == "Apply" else self.api_version, self.subresource

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = encode_fields(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def describe(self) -> str:
        """``printManager``: ``"kubectl" with subresource "scale" using apps/v1``."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


def decode_entries(managed: Any) -> list[Entry]:
    out: list[Entry] = []
    if not isinstance(managed, list):
        return out
    for item in managed:
        if not isinstance(item, dict):
            continue
        time = item.get("time")
        out.append(Entry(str(item.get("manager", "")), str(item.get("operation", "")),
                         str(item.get("apiVersion", "")), str(item.get("subresource", "")),
                         time if isinstance(time, str) else None, decode_fields(item.get("fieldsV1") or {})))
    return out


def encode_entries(entries: list[Entry]) -> list[dict[str, Any]]:
    """``sortEncodedManagedFields``: by operation, time, manager, apiVersion, subresource."""
    kept = [e for e in entries if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [e.encode() for e in kept]


def manager_name(field_manager: str | None, user_agent: str) -> str:
    """``managerOrUserAgent`` (kubernetes/apiserver ``pkg/endpoints/handlers/create.go``): the ``fieldManager``
    parameter, else the user agent's printable characters before ``/`` (``kubectl`` for ``kubectl/v1.37.1
    (linux/amd64) kubernetes/...``), at most 128 bytes; ``unknown`` when that is empty (``buildManagerInfo``)."""
    if field_manager:
        return field_manager
    prefix = ""
    for char in user_agent.split("/", 1)[0]:
        if not char.isprintable():
            continue
        if len((prefix + char).encode()) > 128:
            break
        prefix += char
    return prefix or "unknown"


def _ignored(paths: FieldSet, ignore: tuple[str, ...]) -> FieldSet:
    """Drop the paths under the reset fields (``ExcludeFields``: a prefix drops its children) and stripped metadata."""
    return {p for p in paths if p not in _STRIP and not (p and p[0][0] == "f" and p[0][1] in ignore)}


def zero_object(api_version: str, kind: str) -> dict[str, Any]:
    """The JSON of a new, empty Go object of a kind (``scope.Creater.New``): what a create is compared with."""
    key = KINDS.get(kind)
    if key is None:
        return {}
    out = _zero_struct(key, 0)
    out.update({"apiVersion": api_version, "kind": kind})
    return out


_STRUCTLIKE = (gotypes.STRUCT, gotypes.TIME, gotypes.QUANTITY, gotypes.INTSTR, gotypes.RAW, gotypes.FIELDS)


def _zero_struct(key: str, depth: int) -> dict[str, Any]:
    """``runtime.DefaultUnstructuredConverter.ToUnstructured`` of a zero struct: ``omitempty`` drops a nil pointer,
    slice or map and a zero scalar, never a struct (``isZero`` is false for structs)."""
    out: dict[str, Any] = {}
    if depth > 8 or key not in STRUCTS:
        return out
    for name, field in gotypes.json_fields(STRUCTS, key).items():
        kind = field.type.kind
        if field.omitempty and (field.pointer or kind not in _STRUCTLIKE):
            continue
        if field.pointer or kind in (gotypes.LIST, gotypes.MAP, gotypes.BYTES, gotypes.TIME, gotypes.RAW,
                                     gotypes.FIELDS):
            out[name] = None
        elif kind == gotypes.STRUCT:
            out[name] = _zero_struct(field.type.struct, depth + 1)
        elif kind in (gotypes.INT32, gotypes.INT64, gotypes.FLOAT64, gotypes.INTSTR):
            out[name] = 0
        elif kind == gotypes.BOOL:
            out[name] = False
        elif kind == gotypes.QUANTITY:
            out[name] = "0"
        else:
            out[name] = ""
    return out


# ---- the operations ----------------------------------------------------------------------------------------------
def _with_meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def update(live: dict[str, Any] | None, new: dict[str, Any], *, manager: str, api_version: str, now: str,
           subresource: str = "", ignore: tuple[str, ...] = ("status",)) -> None:
    """``FieldManager.UpdateNoErrors`` of a create (``live`` None), an update or a patch: sets ``new``'s managed
    fields. The manager gains what it added or changed; every manager loses what the update changed or removed.
    Should that fail, the live object's managed fields stay, as upstream restores them."""
    try:
        _update(live, new, manager=manager, api_version=api_version, now=now, subresource=subresource,
                ignore=ignore)
    except Exception:  # noqa: BLE001 - "[SHOULD NOT HAPPEN] failed to update managedFields"
        log.exception("failed to update managedFields of %s", (new.get("metadata") or {}).get("name"))
        meta = new.get("metadata")
        if isinstance(meta, dict):
            kept = _with_meta(live).get("managedFields") if live is not None else None
            if kept:
                meta["managedFields"] = kept
            else:
                meta.pop("managedFields", None)


def _update(live: dict[str, Any] | None, new: dict[str, Any], *, manager: str, api_version: str, now: str,
            subresource: str, ignore: tuple[str, ...]) -> None:
    new_meta = new.setdefault("metadata", {})
    if live is None:
        entries: list[Entry] = []
        base: dict[str, Any] = zero_object(api_version, str(new.get("kind", "")))
    else:
        base = live
        given = new_meta.get("managedFields")
        if isinstance(given, list) and not given:
            entries = []  # isResetManagedFields: an empty list resets them
        else:
            entries = decode_entries(given) or decode_entries(_with_meta(live).get("managedFields"))
        if not entries:  # skipNonAppliedManager: an object stored without managed fields stays without
            new_meta.pop("managedFields", None)
            return
    t = root_type(api_version, str(new.get("kind", "")))
    diff = compare(base, new, t)
    changed = _ignored(diff.added | diff.modified, ignore)
    removed = _ignored(diff.removed, ignore)  # Comparison.ExcludeFields: the reset fields, whatever happened
    for entry in entries:
        entry.fields -= changed | removed
    if changed:
        key = Entry(manager, "Update", api_version, subresource).key
        own = next((e for e in entries if e.key == key), None)
        if own is None:
            own = Entry(manager, "Update", api_version, subresource)
            entries.append(own)
        own.fields |= changed
        own.time = now
    encoded = encode_entries(entries)
    if encoded:
        new_meta["managedFields"] = encoded
    else:
        new_meta.pop("managedFields", None)


def update_scale(parent: dict[str, Any], new_replicas: int, *, manager: str, api_version: str) -> None:
    """An update of ``/scale`` (``ScaleHandler``): the scale's manager owns the parent's ``.spec.replicas``.

    A manager new to the parent gets no time (``ToParent`` takes the times of the parent's entries).
    """
    meta = parent.setdefault("metadata", {})
    entries = decode_entries(meta.get("managedFields"))
    if not entries:
        return
    replicas: Path = (("f", "spec"), ("f", "replicas"))
    if (parent.get("spec") or {}).get("replicas") == new_replicas:
        return
    key = Entry(manager, "Update", api_version, "scale").key
    own = None
    for entry in entries:
        if entry.key == key:
            own = entry
        else:
            entry.fields.discard(replicas)
    if own is None:
        own = Entry(manager, "Update", api_version, "scale")
        entries.append(own)
    own.fields.add(replicas)
    meta["managedFields"] = encode_entries(entries)


def apply(live: dict[str, Any] | None, config: dict[str, Any], *, manager: str, api_version: str, now: str,
          force: bool) -> dict[str, Any]:
    """``FieldManager.Apply``: the configuration merged onto the live object, with the applier owning what it set.

    Returns:
        The new object with its managed fields (the live object's values when applying changes none).

    Raises:
        errors.Conflict: another manager owns a field the configuration changes (and not ``force``).
    """
    kind = str(config.get("kind", ""))
    t = root_type(api_version, kind)
    base = live if live is not None else zero_object(api_version, kind)
    entries = decode_entries(_with_meta(base).get("managedFields")) if live is not None else []
    config = {k: v for k, v in config.items()}
    config_meta = dict(_with_meta(config))
    config_meta.pop("managedFields", None)
    config["metadata"] = config_meta
    merged = merge(base, config, t)
    config_set = to_field_set(config, t)
    applied = _ignored(config_set, ("status",))
    applier_key = Entry(manager, "Apply", api_version).key
    own = next((e for e in entries if e.key == applier_key), None)
    last = own.fields if own is not None else set()
    others: FieldSet = set().union(*(e.fields for e in entries if e.key != applier_key))
    # Updater.prune: what the applier last applied, no longer applies and nobody else manages goes (named
    # fields count as members, EnsureNamedFieldsAreMembers, so a field someone owns keeps its parents)
    stale = {p for p in ensure_named(last, t) - ensure_named(config_set | others, t)
             if p not in _STRIP and p[:1] not in ((("f", "apiVersion"),), (("f", "kind"),))}
    if stale:
        merged = remove_paths(merged, t, stale)
    diff = compare(base, merged, t)
    changed = diff.added | diff.modified
    conflicts = [(e, p) for e in sorted(entries, key=lambda e: json.dumps(e.key)) if e.key != applier_key
                 for p in sorted_paths(e.fields & changed)]
    if conflicts and not force and manager == "kubectl" and live is not None:
        # lastAppliedManager: kubectl's server-side apply may take over what client-side apply last applied
        # and nobody changed since
        allowed = _allowed_from_last_applied(live, api_version, t)
        conflicts = [(e, p) for e, p in conflicts if p not in allowed]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for entry in entries:
        if entry.key != applier_key:
            entry.fields -= changed | diff.removed
    if own is None:
        own = Entry(manager, "Apply", api_version)
        entries.append(own)
    own.fields, own.api_version = applied, api_version
    if live is None or _strip_meta(merged) != _strip_meta(live):
        own.time = now  # managedFieldsUpdater: the time changes only when the object does
    merged = dict(merged)
    merged["metadata"] = dict(merged.get("metadata") or {})
    merged["metadata"]["managedFields"] = encode_entries(entries)
    annotations = merged["metadata"].get("annotations")
    if manager == "kubectl" and live is not None and isinstance(annotations, dict) and (
            _with_meta(live).get("annotations") or {}).get(LAST_APPLIED):
        # lastAppliedUpdater: kubectl's server-side apply keeps client-side apply's annotation in step
        merged["metadata"]["annotations"] = {**annotations, LAST_APPLIED: build_last_applied(config)}
    return merged


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def build_last_applied(config: dict[str, Any]) -> str:
    """``buildLastApplied``: the applied object without the annotation, as ``json.Encoder`` writes it (sorted
    keys, ``<``, ``>`` and ``&`` escaped, a final newline)."""
    obj = dict(config)
    meta = dict(_with_meta(config))
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    obj["metadata"] = meta
    text = json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text + "\n"


def _allowed_from_last_applied(live: dict[str, Any], api_version: str, t: TypeRef) -> FieldSet:
    """``allowedConflictsFromLastApplied``: the fields of the last-applied annotation whose live value is still
    the one it applied."""
    text = (_with_meta(live).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(text) if isinstance(text, str) and text else None
    except ValueError:
        return set()
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return set()
    diff = compare(last, live, t)
    return to_field_set(last, t) - diff.modified - diff.added - diff.removed


def _strip_meta(obj: dict[str, Any]) -> dict[str, Any]:
    out = dict(obj)
    meta = dict(_with_meta(obj))
    meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


def conflict_error(conflicts: list[tuple[Entry, Path]]) -> errors.Conflict:
    """``NewConflictError``: 409 ``Conflict`` with one ``FieldManagerConflict`` cause a field (conflict.go)."""
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {e.describe()}",
               "field": path_string(p)} for e, p in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path_string(path)}"
    else:
        lines: list[str] = []
        by_manager: dict[str, list[Path]] = {}
        described: dict[str, str] = {}
        for entry, path in conflicts:
            ident = json.dumps(entry.key)
            by_manager.setdefault(ident, []).append(path)
            described[ident] = entry.describe()
        for ident in sorted(by_manager):
            lines.append(f"conflicts with {described[ident]}:")
            lines.extend(f"- {path_string(p)}" for p in by_manager[ident])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.Conflict(message, details={"causes": causes})

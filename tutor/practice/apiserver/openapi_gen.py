"""Generates ``openapi_schemas.json.gz``, the OpenAPI v3 schemas the practice cluster serves, from upstream's.

Run by hand when upstream changes (tests never run it; they need no network)::

    python -m tutor.practice.apiserver.openapi_gen --spec SPEC \\
        --doc core/v1=API/core/v1/types_swagger_doc_generated.go --types core/v1=API/core/v1/types.go \\
        --doc apps/v1=API/apps/v1/types_swagger_doc_generated.go --types apps/v1=API/apps/v1/types.go \\
        --doc discovery/v1=API/discovery/v1/types_swagger_doc_generated.go --types discovery/v1=API/discovery/v1/types.go \\
        --doc batch/v1=API/batch/v1/types_swagger_doc_generated.go --types batch/v1=API/batch/v1/types.go \\
        --doc autoscaling/v2=API/autoscaling/v2/types_swagger_doc_generated.go --types autoscaling/v2=API/autoscaling/v2/types.go \\
        --doc meta/v1=APIMACHINERY/pkg/apis/meta/v1/types_swagger_doc_generated.go \\
        --types meta/v1=APIMACHINERY/pkg/apis/meta/v1/types.go \\
        --go autoscaling/v2=API/autoscaling/v2/types.go --go core/v1=API/core/v1/types.go \\
        --go meta/v1=APIMACHINERY/pkg/apis/meta/v1/types.go \\
        --doc PKG=API/PKG/types_swagger_doc_generated.go --types PKG=API/PKG/types.go --go PKG=API/PKG/types.go \\
          (each of rbac/v1, authentication/v1, authorization/v1, coordination/v1, scheduling/v1) \\
        --source "<where SPEC and API come from>" > tutor/practice/apiserver/openapi_schemas.json

    gzip -9n tutor/practice/apiserver/openapi_schemas.json

``SPEC`` is a directory of the OpenAPI v3 documents kube-apiserver serves, as kubernetes/kubernetes keeps them in
``api/openapi-spec/v3/`` (``api__v1_openapi.json``, ``apis__apps__v1_openapi.json``, ...). The output keeps, of
every group/version the practice cluster serves, the component schemas reachable from its served kinds (and their
lists): the rest of a document (every path and operation of every upstream resource) is not needed by kubectl's
``explain``, and the practice cluster writes its own ``paths`` (:mod:`tutor.practice.apiserver.openapi`).

``API`` is a checkout of kubernetes/api at the commit :mod:`tutor.practice.apiserver.structs` was generated from.
When ``SPEC`` is older than that commit, every field the Go structs table has and the spec lacks is added (and
every struct only the new fields reach), typed as kube-openapi's generator types Go fields
(kubernetes/kube-openapi ``pkg/generators/openapi.go``, ``pkg/builder3``) and described by the same doc comment
the ``types_swagger_doc_generated.go`` file holds, so ``explain`` knows every field the practice cluster decodes.
Every type and field those files describe gets its description of that commit (the same text the OpenAPI
generator writes from the same comments), and every field of a ``+enum`` type of ``types.go`` its ``enum`` and
``Possible enum values`` lines (kube-openapi ``pkg/generators/enum.go``).

The checked-in data (its ``source`` says so) was made from the copy of upstream's documents that kubernetes/client-go
keeps in ``openapi/openapitest/testdata`` (api/v1, apps/v1, batch/v1, discovery.k8s.io/v1, of an older release)
with the overlay above: a kubernetes/kubernetes checkout at v1.37 was out of reach. autoscaling/v2 is not in that
copy, so HorizontalPodAutoscaler's schemas are made from its Go structs (and so are those of rbac, authentication,
authorization, coordination and scheduling: a group's Go package is its first label, ``rbac/v1``) (``--go``, read as ``structs_gen`` reads
them) the same way. Regenerating from ``api/openapi-spec/v3`` of v1.37 itself needs no change to this script.
The ``+listType``, ``+listMapKey``, ``+mapType`` and ``+structType`` tags of ``types.go`` become their
``x-kubernetes-*`` extensions (which server-side apply reads). Not carried over for fields the copy lacks:
``+optional`` (such a field is required when its JSON tag has no ``omitempty`` and it is no pointer).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from tutor.practice.apiserver import gotypes, structs_gen
from tutor.practice.apiserver.gotypes import GoType, Struct
from tutor.practice.apiserver.openapi import REF, closure
from tutor.practice.apiserver.resources import RESOURCES
from tutor.practice.apiserver.structs import STRUCTS

PACKAGES = {
    "core/v1": "io.k8s.api.core.v1", "apps/v1": "io.k8s.api.apps.v1", "discovery/v1": "io.k8s.api.discovery.v1",
    "autoscaling/v1": "io.k8s.api.autoscaling.v1", "meta/v1": "io.k8s.apimachinery.pkg.apis.meta.v1",
    "autoscaling/v2": "io.k8s.api.autoscaling.v2", "batch/v1": "io.k8s.api.batch.v1",
    "rbac/v1": "io.k8s.api.rbac.v1", "authentication/v1": "io.k8s.api.authentication.v1",
    "authorization/v1": "io.k8s.api.authorization.v1", "coordination/v1": "io.k8s.api.coordination.v1",
    "scheduling/v1": "io.k8s.api.scheduling.v1",
}
"""Go package (as ``structs.py`` keys name it) -> the OpenAPI name prefix of its types."""
_SPECIAL = {
    gotypes.TIME: "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    gotypes.QUANTITY: "io.k8s.apimachinery.pkg.api.resource.Quantity",
    gotypes.INTSTR: "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    gotypes.FIELDS: "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    gotypes.RAW: "io.k8s.apimachinery.pkg.runtime.RawExtension",
}
_SCALARS: dict[str, dict[str, Any]] = {
    gotypes.STRING: {"type": "string"}, gotypes.INT32: {"type": "integer", "format": "int32"},
    gotypes.INT64: {"type": "integer", "format": "int64"}, gotypes.BOOL: {"type": "boolean"},
    gotypes.FLOAT64: {"type": "number", "format": "double"}, gotypes.BYTES: {"type": "string", "format": "byte"},
}
_ZERO = {gotypes.STRING: "", gotypes.INT32: 0, gotypes.INT64: 0, gotypes.BOOL: False, gotypes.FLOAT64: 0}


def spec_file(group: str, version: str) -> str:
    """``api__v1_openapi.json`` / ``apis__apps__v1_openapi.json``: upstream's file of a group/version."""
    return f"api__{version}_openapi.json" if not group else f"apis__{group}__{version}_openapi.json"




# ---- the Go doc comments, as types_swagger_doc_generated.go keeps them ------------------------------------
_MAP = re.compile(r"^var map_(\w+) = map\[string\]string\{\n(.*?)^\}", re.M | re.S)
_ENTRY = re.compile(r'^\s*"([^"]*)":\s*("(?:[^"\\]|\\.)*"),?\s*$', re.M)


def parse_swagger_doc(text: str) -> dict[str, dict[str, str]]:
    """``{type: {field json name or "": description}}`` of a ``types_swagger_doc_generated.go``."""
    docs: dict[str, dict[str, str]] = {}
    for match in _MAP.finditer(text):
        docs[match.group(1)] = {m.group(1): json.loads(m.group(2)) for m in _ENTRY.finditer(match.group(2))}
    return docs


_TYPE = re.compile(r"^type (\w+) string\s*$")
_CONST = re.compile(r'^\s*(?:const\s+)?(\w+)\s+(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def parse_enums(text: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The ``+enum`` string types of a Go file and their constants: ``{type: {value: (const name, comment)}}``.

    As kube-openapi's ``parseEnums`` (``pkg/generators/enum.go``): a type tagged ``+enum`` in its doc comment;
    each typed constant of it with its doc comment's lines joined by spaces; of two constants with one value,
    the one with the longer comment.
    """
    lines = text.splitlines()
    enums: dict[str, dict[str, tuple[str, str]]] = {}

    def comment_above(index: int) -> list[str]:
        out: list[str] = []
        while index > 0 and lines[index - 1].strip().startswith("//"):
            index -= 1
            out.insert(0, lines[index].strip()[2:])
        return out

    for i, line in enumerate(lines):
        match = _TYPE.match(line)
        if match and any(c.strip() == "+enum" for c in comment_above(i)):
            enums[match.group(1)] = {}
    for i, line in enumerate(lines):
        match = _CONST.match(line)
        if not match or match.group(2) not in enums:
            continue
        name, type_name, value = match.group(1), match.group(2), json.loads(f'"{match.group(3)}"')
        comment = " ".join(comment_above(i))
        values = enums[type_name]
        old = values.get(value)
        if old is None or len(old[1]) < len(comment) or (len(old[1]) == len(comment) and old[1] > comment):
            values[value] = (name, comment)
    return enums


_STRUCT_LINE = re.compile(r"^type (\w+) struct \{\s*$")
_JSON_TAG = re.compile(r'json:"([^",]*)')


def parse_list_tags(text: str) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, dict[str, Any]]]:
    """The ``+listType``, ``+listMapKey`` and ``+mapType`` tags of a Go file's struct fields and the
    ``+structType``/``+mapType`` tags of its structs, as the extensions kube-openapi's generator writes for them
    (``x-kubernetes-list-type``, ``x-kubernetes-list-map-keys``, ``x-kubernetes-map-type``)."""
    fields: dict[tuple[str, str], dict[str, Any]] = {}
    types: dict[str, dict[str, Any]] = {}
    comments: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            comments.append(stripped[2:].strip())
            continue
        tags = [c[1:] for c in comments if c.startswith("+")]
        comments = []
        match = _STRUCT_LINE.match(line)
        if match:
            current = match.group(1)
            for tag in tags:
                if tag in ("structType=atomic", "mapType=atomic"):
                    types[current] = {"x-kubernetes-map-type": "atomic"}
            continue
        if stripped.startswith("}"):
            current = ""
            continue
        json_name = _JSON_TAG.search(line)
        if not current or not json_name or not tags:
            continue
        ext: dict[str, Any] = {}
        for tag in tags:
            key, _, value = tag.partition("=")
            if key == "listType":
                ext["x-kubernetes-list-type"] = value
            elif key == "listMapKey":
                ext.setdefault("x-kubernetes-list-map-keys", []).append(value)
            elif key in ("mapType", "structType"):
                ext["x-kubernetes-map-type"] = value
        if ext:
            fields[(current, json_name.group(1))] = ext
    return fields, types


def apply_list_tags(schemas: dict[str, Any], prefix: str, text: str) -> None:
    """Set the extensions of :func:`parse_list_tags` on the schemas of one package (``prefix``)."""
    fields, types = parse_list_tags(text)
    for (type_name, json_name), ext in fields.items():
        prop = schemas.get(f"{prefix}.{type_name}", {}).get("properties", {}).get(json_name)
        if prop is not None:
            prop.update(ext)
            schemas[f"{prefix}.{type_name}"]["properties"][json_name] = dict(sorted(prop.items()))
    for type_name, ext in types.items():
        if f"{prefix}.{type_name}" in schemas:
            schemas[f"{prefix}.{type_name}"].update(ext)


def enum_description(values: dict[str, tuple[str, str]]) -> str:
    """``enumType.DescriptionLines`` as ``generateDescription`` joins them to a field's description."""
    lines = []
    for value, (name, comment) in values.items():
        text = re.sub(r"\s+", " ", comment.strip().removeprefix(name).strip())
        lines.append(f" - `{json.dumps(value)}` {text}".rstrip(" "))
    return "Possible enum values:\n" + "\n".join(sorted(lines))


def refresh_docs(schemas: dict[str, Any], docs: dict[str, dict[str, dict[str, str]]],
                 enums: dict[str, dict[str, tuple[str, str]]], structs: dict[str, Struct] = STRUCTS) -> None:
    """Give every type and field of ``docs`` its doc comment of now, and every field of a ``+enum`` type the
    ``Possible enum values`` lines and ``enum`` that kube-openapi's generator writes (``generateProperty``)."""
    go_types = {openapi_name(key): gotypes.json_fields(structs, key) for key in structs}
    inlined = {openapi_name(key): struct_doc(structs, key, docs) for key in structs}
    for package, by_type in docs.items():
        prefix = PACKAGES.get(package) or f"io.k8s.api.{package.replace('/', '.')}"
        for type_name, fields in by_type.items():
            fields = inlined.get(f"{prefix}.{type_name}", fields)
            schema = schemas.get(f"{prefix}.{type_name}")
            if schema is None:
                continue
            if fields.get(""):
                schema["description"] = fields[""]
            properties = schema.get("properties", {})
            typed = go_types.get(f"{prefix}.{type_name}", {})
            for name, prop in properties.items():
                description = fields.get(name, prop.get("description", ""))
                go_field = typed.get(name)
                values = None
                if go_field is not None and go_field.type.kind == gotypes.STRING:
                    values = enums.get(go_field.type.go.rpartition(".")[2])
                if values:
                    description = (description + "\n\n" if description else "") + enum_description(values)
                    prop["enum"] = sorted(values)
                if description:
                    prop["description"] = description
                properties[name] = dict(sorted(prop.items()))


# ---- the overlay: fields of the Go structs the spec does not have --------------------------------------------
def struct_doc(structs: dict[str, Struct], key: str, docs: dict[str, dict[str, dict[str, str]]]) -> dict[str, str]:
    """The doc comments of a struct's JSON fields, those of embedded structs (``TypeMeta``'s ``kind`` and
    ``apiVersion``) included, as openapi-gen reads an inlined member's comments."""
    package = key.partition(".")[0]
    own = dict(docs.get(package, {}).get(structs[key].name, {}))
    for item in structs[key].fields:
        if item.inline and item.type.struct in structs:
            for name, text in struct_doc(structs, item.type.struct, docs).items():
                if name:
                    own.setdefault(name, text)
    return own


def go_structs(packages: dict[str, structs_gen.Package], roots: tuple[str, ...]) -> dict[str, Struct]:
    """The Go structs reachable from ``roots``, read as ``structs_gen`` reads them (for kinds no upstream document
    in the spec directory describes)."""
    generator = structs_gen.Generator(packages)
    for root in roots:
        generator.want(root)
    out: dict[str, Struct] = {}
    index = 0
    while index < len(generator.wanted):
        key = generator.wanted[index]
        index += 1
        pkg_key, _, bare = key.rpartition(".")
        package = packages[pkg_key]
        fields = []
        for go_field in package.structs[bare]:
            json_name, *options = go_field.tags.get("json", "").split(",")
            if json_name == "-":
                continue
            if not json_name and not go_field.embedded:
                json_name = go_field.name
            flags = (("ptr",) if go_field.type.startswith("*") else ()) + (
                ("omitempty",) if "omitempty" in options or "omitzero" in options else ())
            patch = (go_field.tags.get("patchStrategy", ""), go_field.tags.get("patchMergeKey", ""))
            fields.append(gotypes.field(json_name, generator.resolve(package, go_field.type.lstrip("*")), 0,
                                        *flags, go=go_field.name, patch=patch))
        out[key] = Struct(generator.go_name(key), tuple(fields))
    return out


def openapi_name(struct_key: str) -> str:
    package, _, name = struct_key.partition(".")
    if struct_key == "core/v1.EphemeralContainerCommon":
        return "io.k8s.api.core.v1.EphemeralContainer"
    return f"{PACKAGES[package]}.{name}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF + name}


def type_schema(go_type: GoType, pointer: bool, new: list[str]) -> dict[str, Any]:
    """The schema kube-openapi's generator writes for a field of a Go type (v3: a ``$ref`` inside ``allOf``).

    Args:
        new: Collects the struct keys the schema refers to.
    """
    if go_type.kind in _SCALARS:
        return dict(_SCALARS[go_type.kind])
    if go_type.kind in _SPECIAL:
        name = _SPECIAL[go_type.kind]
        if go_type.go == "v1.MicroTime":
            name = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
        return {"allOf": [_ref(name)]}
    if go_type.kind == gotypes.STRUCT:
        new.append(go_type.struct)
        schema: dict[str, Any] = {"allOf": [_ref(openapi_name(go_type.struct))]}
        if not pointer:
            schema["default"] = {}
        return schema
    assert go_type.elem is not None
    elem = type_schema(go_type.elem, False, new)
    if go_type.elem.kind in _ZERO:
        elem["default"] = _ZERO[go_type.elem.kind]
    if go_type.kind == gotypes.LIST:
        return {"type": "array", "items": elem}
    return {"type": "object", "additionalProperties": elem}


def field_schema(item: gotypes.Field, description: str, new: list[str]) -> dict[str, Any]:
    schema = type_schema(item.type, item.pointer, new)
    if description:
        schema["description"] = description
    if not item.pointer and not item.omitempty and item.type.kind in _ZERO:
        schema["default"] = _ZERO[item.type.kind]
    if item.patch_strategy:
        schema["x-kubernetes-patch-strategy"] = item.patch_strategy
    if item.patch_merge_key:
        schema["x-kubernetes-patch-merge-key"] = item.patch_merge_key
    return dict(sorted(schema.items()))


def overlay(schemas: dict[str, Any], docs: dict[str, dict[str, dict[str, str]]],
            structs: dict[str, Struct] = STRUCTS, roots: tuple[str, ...] = ()) -> list[str]:
    """Add the fields (and structs) of ``structs`` that ``schemas`` lacks, starting from the structs ``schemas``
    has and from ``roots`` (struct keys); returns what it added."""
    added: list[str] = []
    by_name = {openapi_name(key): key for key in structs}
    todo = [name for name in by_name if name in schemas] + [openapi_name(key) for key in roots]
    done: set[str] = set()
    while todo:
        name = todo.pop()
        if name in done or name not in by_name:
            continue
        done.add(name)
        key = by_name[name]
        doc = struct_doc(structs, key, docs)
        schema = schemas.get(name)
        if schema is None:
            schema = {"type": "object", "properties": {}}
            if doc.get(""):
                schema["description"] = doc[""]
            required = [f.json for f in gotypes.json_fields(structs, key).values()
                        if not f.omitempty and not f.pointer]
            if required:
                schema["required"] = required
            schemas[name] = schema
            added.append(name)
        properties = schema.setdefault("properties", {})
        new: list[str] = []
        for json_name, item in gotypes.json_fields(structs, key).items():
            if json_name in properties:
                new.extend(r for r in _struct_refs(item.type))
                continue
            properties[json_name] = field_schema(item, doc.get(json_name, ""), new)
            added.append(f"{name}.{json_name}")
        schema["properties"] = dict(sorted(properties.items()))
        todo.extend(openapi_name(k) for k in new)
    return added


def _struct_refs(go_type: GoType) -> list[str]:
    while go_type.elem is not None:
        go_type = go_type.elem
    return [go_type.struct] if go_type.kind == gotypes.STRUCT else []


def generate(spec: Path, docs: dict[str, dict[str, dict[str, str]]], source: str,
             enums: dict[str, dict[str, tuple[str, str]]] | None = None,
             packages: dict[str, structs_gen.Package] | None = None,
             go_sources: dict[str, str] | None = None) -> dict[str, Any]:
    """The data ``openapi.py`` serves: ``{"source", "schemas": {name: schema}, "groupVersions": {gv: [names]}}``.

    A kind whose group/version has no document in ``spec`` is made from its Go structs in ``packages``.
    """
    schemas: dict[str, Any] = {}
    roots: dict[str, list[str]] = {}
    from_go: list[tuple[str, str, str]] = []
    for res in RESOURCES:
        path = spec / spec_file(res.group, res.version)
        if not path.exists():
            # k8s.io/api's directory of a group is its first label: rbac.authorization.k8s.io -> rbac/v1
            package = f"{res.group.split('.')[0] or 'core'}/{res.version}"
            if packages and package in packages and res.kind in packages[package].structs:
                from_go.append((package, res.kind, res.group))
                continue
            print(f"openapi_gen: no {path.name}: {res.group_version} {res.kind} gets no schema", file=sys.stderr)
            continue
        document = json.loads(path.read_text())["components"]["schemas"]
        wanted = {res.kind, res.kind_list}
        names = [name for name, schema in document.items()
                 if any(gvk.get("group", "") == res.group and gvk.get("version") == res.version
                        and gvk.get("kind") in wanted for gvk in schema.get("x-kubernetes-group-version-kind", []))]
        for name in closure(document, names):
            schemas.setdefault(name, document[name])
        roots.setdefault(res.group_version, []).extend(names)
    added = overlay(schemas, docs)
    every_struct = dict(STRUCTS)
    for package, kind, group in from_go:
        assert packages is not None
        list_kind = f"{kind}List"
        has_list = list_kind in packages[package].structs
        kind_roots = (f"{package}.{kind}", f"{package}.{list_kind}") if has_list else (f"{package}.{kind}",)
        structs = go_structs(packages, kind_roots)
        added += overlay(schemas, docs, structs, kind_roots)
        every_struct = {**structs, **every_struct}
        version = package.rpartition("/")[2]
        group_version = f"{group}/{version}" if group else version
        for root, item_kind in zip(kind_roots, (kind, list_kind), strict=False):
            name = openapi_name(root)
            schemas[name]["x-kubernetes-group-version-kind"] = [{"group": group, "kind": item_kind, "version": version}]
            roots.setdefault(group_version, []).append(name)
    refresh_docs(schemas, docs, enums or {}, every_struct)
    for package, text in (go_sources or {}).items():
        apply_list_tags(schemas, PACKAGES.get(package) or f"io.k8s.api.{package.replace('/', '.')}", text)
    for name in added:
        print(f"openapi_gen: added {name}", file=sys.stderr)
    return {"source": source, "schemas": dict(sorted(schemas.items())),
            "groupVersions": {gv: sorted(names) for gv, names in roots.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True, help="directory of upstream's OpenAPI v3 documents")
    parser.add_argument("--doc", action="append", default=[], metavar="PKG=FILE",
                        help="a types_swagger_doc_generated.go of k8s.io/api (core/v1=..., apps/v1=...)")
    parser.add_argument("--types", action="append", default=[], metavar="PKG=FILE",
                        help="a types.go of k8s.io/api, for its +enum types and their constants and its "
                             "+listType, +listMapKey, +mapType and +structType tags")
    parser.add_argument("--go", action="append", default=[], metavar="PKG=FILE",
                        help="Go types (as structs_gen takes them) for kinds the spec directory has no document of")
    parser.add_argument("--source", required=True, help="where the inputs come from (kept in the output)")
    args = parser.parse_args(argv)
    packages: dict[str, structs_gen.Package] = {}
    for item in args.go:
        key, _, path = item.partition("=")
        parsed = structs_gen.parse(key, Path(path).read_text(encoding="utf-8"))
        existing = packages.setdefault(key, parsed)
        if existing is not parsed:
            existing.structs.update(parsed.structs)
            existing.named.update(parsed.named)
            existing.type_aliases.update(parsed.type_aliases)
            existing.aliases.update(parsed.aliases)
    docs = {}
    for item in args.doc:
        package, _, path = item.partition("=")
        docs[package] = parse_swagger_doc(Path(path).read_text())
    enums: dict[str, dict[str, tuple[str, str]]] = {}
    go_sources: dict[str, str] = {}
    for item in args.types:
        package, _, path = item.partition("=")
        go_sources[package] = Path(path).read_text()
        enums.update(parse_enums(go_sources[package]))
    data = generate(args.spec, docs, args.source, enums, packages, go_sources)
    json.dump(data, sys.stdout, separators=(",", ":"), sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

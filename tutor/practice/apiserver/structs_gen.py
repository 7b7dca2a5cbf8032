"""Generates ``structs.py``, the practice cluster's table of Go API structs, from upstream Go sources.

Run by hand when upstream changes (tests never run it; they need no network)::

    python -m tutor.practice.apiserver.structs_gen \\
        --go core/v1=API/core/v1/types.go --go apps/v1=API/apps/v1/types.go \\
        --go discovery/v1=API/discovery/v1/types.go --go meta/v1=APIMACHINERY/pkg/apis/meta/v1/types.go \\
        --go autoscaling/v1=API/autoscaling/v1/types.go \\
        --commit k8s.io/api=<sha> --commit k8s.io/apimachinery=<sha> > tutor/practice/apiserver/structs.py

``API`` is a checkout of kubernetes/api (``staging/src/k8s.io/api`` of kubernetes/kubernetes) and
``APIMACHINERY`` one of kubernetes/apimachinery. The Go struct definitions are the source the upstream
OpenAPI documents (types, ``x-kubernetes-patch-strategy``/``-merge-key``) and ``generated.proto``
files (field numbers) are generated from: each field's tags carry its JSON name and options, its
protobuf number and its strategic-merge-patch strategy and merge key, so one reading gives all three.
The table holds the structs reachable from the kinds in :data:`ROOTS`.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from tutor.practice.apiserver import gotypes
from tutor.practice.apiserver.gotypes import GoType

ROOTS: tuple[str, ...] = (
    "core/v1.Pod", "core/v1.PodTemplate", "core/v1.Service", "core/v1.Endpoints", "core/v1.Event",
    "core/v1.Namespace", "core/v1.Node", "core/v1.ConfigMap", "core/v1.Secret", "core/v1.ServiceAccount",
    "apps/v1.Deployment", "apps/v1.ReplicaSet", "discovery/v1.EndpointSlice",
    "core/v1.Binding", "autoscaling/v1.Scale", "meta/v1.DeleteOptions",
    "rbac/v1.Role", "rbac/v1.ClusterRole", "rbac/v1.RoleBinding", "rbac/v1.ClusterRoleBinding",
    "authentication/v1.TokenRequest", "authentication/v1.SelfSubjectReview",
    "authorization/v1.SelfSubjectAccessReview", "authorization/v1.SelfSubjectRulesReview",
    "core/v1.ResourceQuota", "core/v1.LimitRange",
)
"""The kinds the practice cluster stores, or decodes from protobuf (Secret) or patches (PodTemplate), and the
bodies of its subresources and deletes (Binding, Scale, DeleteOptions)."""

IMPORTS: dict[str, str] = {
    "k8s.io/api/core/v1": "core/v1",
    "k8s.io/apimachinery/pkg/apis/meta/v1": "meta/v1",
}
"""Go import paths of the parsed packages (an import alias, e.g. apps' ``v1``, refers to one of them)."""

SPECIAL: dict[str, GoType] = {
    "meta/v1.Time": gotypes.scalar(gotypes.TIME, "v1.Time"),
    "meta/v1.MicroTime": gotypes.scalar(gotypes.TIME, "v1.MicroTime"),
    "meta/v1.FieldsV1": gotypes.scalar(gotypes.FIELDS, "v1.FieldsV1"),
    "resource.Quantity": gotypes.scalar(gotypes.QUANTITY, "resource.Quantity"),
    "intstr.IntOrString": gotypes.scalar(gotypes.INTSTR, "intstr.IntOrString"),
    "runtime.RawExtension": gotypes.scalar(gotypes.RAW, "runtime.RawExtension"),
    "types.UID": gotypes.scalar(gotypes.STRING, "types.UID"),
}
"""apimachinery types with their own JSON and protobuf forms (``types.UID`` is a named string)."""

SCALARS: dict[str, GoType] = {
    "string": gotypes.scalar(gotypes.STRING), "int32": gotypes.scalar(gotypes.INT32),
    "int64": gotypes.scalar(gotypes.INT64), "int": gotypes.scalar(gotypes.INT64, "int"),
    "bool": gotypes.scalar(gotypes.BOOL), "float64": gotypes.scalar(gotypes.FLOAT64),
}
_CONSTANTS = {getattr(gotypes, name): name for name in (
    "STRING", "INT32", "INT64", "BOOL", "FLOAT64", "BYTES", "TIME", "QUANTITY", "INTSTR", "FIELDS", "RAW")}

_SHARED_MIN_FIELDS = 5
"""A struct with more fields than this, all equal to another's, shares its fields (EphemeralContainerCommon)."""

_STRUCT = re.compile(r"^type (\w+) struct \{\s*$")
_NAMED = re.compile(r"^type (\w+) (= )?(\S+)\s*(?://.*)?$")
_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?([\w.*\[\]{}]+)\s+`([^`]*)`\s*(?://.*)?$")
_TAG = re.compile(r'(\w+):"([^"]*)"')
_IMPORT = re.compile(r'^\s*(?:(\w+)\s+)?"([^"]+)"\s*$')


@dataclass
class GoField:
    """A field line of a Go struct: name, type expression, tags, and whether it is embedded."""

    name: str
    type: str
    tags: dict[str, str]
    embedded: bool


@dataclass
class Package:
    """What one Go package defines: structs, named types and the imports its files name."""

    key: str
    structs: dict[str, list[GoField]] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)
    """Defined types (``type Protocol string``): name -> underlying type expression."""
    type_aliases: dict[str, str] = field(default_factory=dict)
    """Aliases (``type A = B``), which keep B's name."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Import alias -> package key (``metav1`` -> ``meta/v1``) or its last path element."""


def parse(key: str, source: str) -> Package:
    """Read the struct and named type definitions of one Go file."""
    package = Package(key)
    lines = re.sub(r"/\*.*?\*/", "", source, flags=re.S).splitlines()
    in_imports = False
    current: list[GoField] | None = None
    for line in lines:
        if line.startswith("import ("):
            in_imports = True
            continue
        if in_imports:
            if line.startswith(")"):
                in_imports = False
                continue
            match = _IMPORT.match(line)
            if match:
                path = match.group(2)
                alias = match.group(1) or path.rsplit("/", 1)[-1]
                package.aliases[alias] = IMPORTS.get(path, path.rsplit("/", 1)[-1])
            continue
        if current is not None:
            if line.startswith("}"):
                current = None
            elif line.strip() and not line.strip().startswith("//"):
                match = _FIELD.match(line)
                if match is None:
                    raise SystemExit(f"{key}: cannot read struct field line: {line!r}")
                name, type_, tags = match.groups()
                current.append(GoField(name or type_.lstrip("*").rpartition(".")[2], type_,
                                       dict(_TAG.findall(tags)), name is None))
            continue
        match = _STRUCT.match(line)
        if match:
            current = package.structs.setdefault(match.group(1), [])
            continue
        match = _NAMED.match(line)
        if match and match.group(3) not in ("interface", "func"):
            (package.type_aliases if match.group(2) else package.named)[match.group(1)] = match.group(3)
    return package


class Generator:
    """Resolves Go types to ``gotypes`` constructors and writes the table."""

    def __init__(self, packages: dict[str, Package]) -> None:
        self.packages = packages
        self.wanted: list[str] = []
        self.seen: set[str] = set()

    def qualify(self, package: Package, name: str) -> str:
        """``metav1.ObjectMeta`` in package apps/v1 -> ``meta/v1.ObjectMeta``; ``Container`` -> ``core/v1.Container``."""
        if "." in name:
            alias, _, bare = name.partition(".")
            return f"{package.aliases.get(alias, alias)}.{bare}"
        return f"{package.key}.{name}"

    def go_name(self, key: str) -> str:
        return key.rpartition("/")[2]

    def resolve(self, package: Package, type_: str) -> GoType:
        """The type of a Go type expression (without a leading pointer)."""
        if type_ == "[]byte":
            return gotypes.scalar(gotypes.BYTES, "[]uint8")
        if type_.startswith("[]"):
            return gotypes.list_of(self.resolve(package, type_[2:]))
        if type_.startswith("map["):
            key_type, _, value = type_[4:].partition("]")
            elem = self.resolve(package, value)
            return gotypes.map_of(elem, f"map[{self.resolve(package, key_type).go}]{elem.go}")
        if type_.startswith("*"):
            raise SystemExit(f"{package.key}: pointer inside a composite type: {type_}")
        if type_ in SCALARS:
            return SCALARS[type_]
        qualified = self.qualify(package, type_)
        if qualified in SPECIAL:
            return SPECIAL[qualified]
        pkg_key, _, bare = qualified.rpartition(".")
        owner = self.packages.get(pkg_key)
        if owner is None:
            raise SystemExit(f"{package.key}: type {type_} ({qualified}) is in no parsed package")
        if bare in owner.structs:
            self.want(qualified)
            return gotypes.struct(qualified)
        if bare in owner.type_aliases:
            return self.resolve(owner, owner.type_aliases[bare])
        if bare in owner.named:
            return replace(self.resolve(owner, owner.named[bare]), go=self.go_name(qualified))
        raise SystemExit(f"{package.key}: unknown type {type_}")

    def want(self, key: str) -> None:
        if key not in self.seen:
            self.seen.add(key)
            self.wanted.append(key)

    def struct_lines(self, key: str) -> list[str]:
        pkg_key, _, bare = key.rpartition(".")
        package = self.packages[pkg_key]
        lines = [f"    {_q(key)}: Struct({_q(self.go_name(key))}, ("]
        for go_field in package.structs[bare]:
            json_name, *options = go_field.tags.get("json", "").split(",")
            if json_name == "-":
                continue
            if not json_name and not go_field.embedded:
                json_name = go_field.name  # Go's default: the field name as is
            # An embedded struct without a JSON name has its fields promoted (",inline" says so too).
            pointer = go_field.type.startswith("*")
            expression = render(self.resolve(package, go_field.type.lstrip("*")))
            proto = go_field.tags.get("protobuf", "")
            number = int(proto.split(",")[1]) if proto else 0
            args = [_q(json_name), expression, str(number)]
            if pointer:
                args.append('"ptr"')
            if "omitempty" in options or "omitzero" in options:
                args.append('"omitempty"')
            default_go = json_name[:1].upper() + json_name[1:]
            if go_field.name != default_go:
                args.append(f"go={_q(go_field.name)}")
            strategy = go_field.tags.get("patchStrategy", "")
            merge_key = go_field.tags.get("patchMergeKey", "")
            if strategy or merge_key:
                args.append(f"patch=({_q(strategy)}, {_q(merge_key)})")
            lines.append(f"        field({', '.join(args)}),")
        lines.append("    )),")
        return lines

    def render(self, commits: list[str], argv: list[str]) -> str:
        for root in ROOTS:
            self.want(root)
        body: list[str] = []
        same: list[str] = []
        first_with: dict[tuple[str, ...], str] = {}
        index = 0
        while index < len(self.wanted):
            key = self.wanted[index]
            lines = self.struct_lines(key)
            fields = tuple(lines[1:])
            if fields in first_with and len(fields) > _SHARED_MIN_FIELDS:  # upstream copies some structs field for field
                same.append(f"STRUCTS[{_q(key)}] = Struct({_q(self.go_name(key))}, "
                            f"STRUCTS[{_q(first_with[fields])}].fields)")
            else:
                first_with[fields] = key
                body += lines
            index += 1
        kinds = "\n".join(f"    {_q(root.rpartition('.')[2])}: {_q(root)}," for root in ROOTS)
        text = "\n".join(body)
        names = sorted({name for name in _CONSTANTS.values() if f"scalar({name}" in text}
                       | {"Struct", "field", "struct", "list_of", "map_of", "scalar"} & set(re.findall(r"\w+", text)),
                       key=lambda name: (not name.isupper(), not name[:1].isupper(), name))
        imports = "from tutor.practice.apiserver.gotypes import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        header = HEADER.format(command=" ".join(argv), imports=imports,
                               commits="\n".join(f"    {c}" for c in commits) or "    (none given)")
        copies = "".join(line + "\n" for line in same)
        return (header + "STRUCTS: dict[str, Struct] = {\n" + text + "\n}\n"
                + '"""Go structs by key (``core/v1.PodSpec``): every struct reachable from :data:`KINDS`."""\n\n'
                + (f"# Structs with the same fields as one above.\n{copies}\n" if copies else "")
                + "KINDS: dict[str, str] = {\n" + kinds + "\n}\n"
                + '"""The top-level kinds of the table and their struct keys."""\n')


def _q(text: str) -> str:
    """A Python string literal in double quotes (the house style)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(type_: GoType) -> str:
    """The ``gotypes`` constructor call that builds ``type_``, as short as it can be."""
    if type_.kind == gotypes.STRUCT:
        return f"struct({_q(type_.struct)})"
    if type_.kind in (gotypes.LIST, gotypes.MAP):
        assert type_.elem is not None
        function, default = ("list_of", "[]") if type_.kind == gotypes.LIST else ("map_of", "map[string]")
        named = "" if type_.go == default + type_.elem.go else f", {_q(type_.go)}"
        return f"{function}({render(type_.elem)}{named})"
    constant = _CONSTANTS[type_.kind]
    return f"scalar({constant})" if type_.go == type_.kind else f"scalar({constant}, {_q(type_.go)})"


HEADER = '''"""The Go API structs of the practice cluster: GENERATED by ``structs_gen.py``, do not edit.

Regenerate with::

    {command}

from the upstream Go sources at these commits::

{commits}

Each field is ``field(json name, type, protobuf number, flags, go=Go name, patch=(patchStrategy,
patchMergeKey))``; see :mod:`tutor.practice.apiserver.gotypes`.
"""

from __future__ import annotations

{imports}

'''


def main(argv: list[str] | None = None) -> int:
    """Parse the Go files given and print the generated module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--go", action="append", required=True, metavar="PKG=FILE",
                        help="a Go file and its package key, e.g. core/v1=api/core/v1/types.go")
    parser.add_argument("--commit", action="append", default=[], metavar="REPO=SHA",
                        help="the upstream commit the files come from, for the header")
    args = parser.parse_args(argv)
    packages: dict[str, Package] = {}
    for item in args.go:
        key, _, path = item.partition("=")
        parsed = parse(key, Path(path).read_text(encoding="utf-8"))
        existing = packages.setdefault(key, parsed)
        if existing is not parsed:
            existing.structs.update(parsed.structs)
            existing.named.update(parsed.named)
            existing.aliases.update(parsed.aliases)
    shown = ["python -m tutor.practice.apiserver.structs_gen"] + [
        f"--go {item.partition('=')[0]}=.../{Path(item.partition('=')[2]).name}" for item in args.go
    ] + [f"--commit {c}" for c in args.commit]
    commits = [c.replace("=", " ") for c in args.commit]
    sys.stdout.write(Generator(packages).render(commits, shown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

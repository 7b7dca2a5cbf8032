"""Provides discovery documents (aggregated v2 and legacy) and ``/version`` (OpenAPI v3: ``openapi.py``)."""

from __future__ import annotations

from typing import Any

from tutor.practice.apiserver.resources import RESOURCES, Resource, group_versions

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
SERVER_GIT_VERSION = "v1.37.0"
"""Within the +/-1 minor skew of the bundled kubectl 1.37, so `kubectl version` prints no warning."""


def version_info() -> dict[str, str]:
    major, minor, _ = SERVER_GIT_VERSION[1:].split(".")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": SERVER_GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-08-26T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _response_kind(res: Resource, sub: str | None = None) -> dict[str, str]:
    if sub == "scale":
        return {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    if sub == "binding":
        return {"group": "", "version": "v1", "kind": "Binding"}
    if sub == "eviction":
        return {"group": "policy", "version": "v1", "kind": "Eviction"}
    if sub in ("exec", "attach"):
        return {"group": "", "version": "v1", "kind": f"Pod{sub.capitalize()}Options"}
    if sub == "portforward":
        return {"group": "", "version": "v1", "kind": "PodPortForwardOptions"}
    if sub == "token":
        return {"group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest"}
    if sub == "proxy":  # PodProxyOptions, ServiceProxyOptions, NodeProxyOptions
        return {"group": "", "version": "v1", "kind": f"{res.kind}ProxyOptions"}
    return {"group": res.group, "version": res.version, "kind": res.kind}


_SUB_VERBS = {"log": ["get"], "binding": ["create"], "eviction": ["create"], "exec": ["create", "get"],
              "attach": ["create", "get"], "portforward": ["create", "get"],
              "proxy": ["create", "delete", "get", "patch", "update"], "token": ["create"]}


def _aggregated_resource(res: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": res.plural,
        "responseKind": _response_kind(res),
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    if res.subresources:
        entry["subresources"] = [
            {"subresource": sub, "responseKind": _response_kind(res, sub),
             "verbs": _SUB_VERBS.get(sub, ["get", "patch", "update"])}
            for sub in res.subresources
        ]
    return entry


def aggregated(core: bool) -> dict[str, Any]:
    """``/api`` (core=True) or ``/apis`` as an APIGroupDiscoveryList."""
    items = []
    for group, versions in group_versions().items():
        if (group == "") != core:
            continue
        item: dict[str, Any] = {"metadata": {"name": group} if group else {}, "versions": []}
        for version in versions:
            resources = [_aggregated_resource(r) for r in RESOURCES if r.group == group and r.version == version]
            item["versions"].append({"version": version, "resources": resources, "freshness": "Current"})
        items.append(item)
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}


def legacy_api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def legacy_group_list() -> dict[str, Any]:
    groups = []
    for group, versions in group_versions().items():
        if not group:
            continue
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def legacy_group(group: str) -> dict[str, Any] | None:
    versions = group_versions().get(group)
    if not versions or not group:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def legacy_resource_list(group: str, version: str) -> dict[str, Any] | None:
    resources = [r for r in RESOURCES if r.group == group and r.version == version]
    if not resources:
        return None
    entries: list[dict[str, Any]] = []
    for res in resources:
        entry: dict[str, Any] = {"name": res.plural, "singularName": res.singular, "namespaced": res.namespaced,
                                 "kind": res.kind, "verbs": list(res.verbs)}
        if res.short_names:
            entry["shortNames"] = list(res.short_names)
        if res.categories:
            entry["categories"] = list(res.categories)
        entries.append(entry)
        for sub in res.subresources:
            rk = _response_kind(res, sub)
            sub_entry: dict[str, Any] = {"name": f"{res.plural}/{sub}", "singularName": "",
                                         "namespaced": res.namespaced, "kind": rk["kind"],
                                         "verbs": _SUB_VERBS.get(sub, ["get", "patch", "update"])}
            if rk["group"] != res.group or rk["version"] != res.version:
                sub_entry["group"], sub_entry["version"] = rk["group"], rk["version"]
            entries.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}

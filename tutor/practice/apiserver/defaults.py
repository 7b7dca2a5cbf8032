"""Provides defaulting and validation of objects written through the API, like the apiserver's."""

from __future__ import annotations

import json
import re
from typing import Any

from tutor.kube import intstr
from tutor.practice.apiserver import errors

Obj = dict[str, Any]

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def default_container(c: Obj) -> None:
    image = c.get("image", "")
    tag_part = image.rsplit("/", 1)[-1]
    if "imagePullPolicy" not in c:
        untagged = ":" not in tag_part and "@" not in tag_part
        c["imagePullPolicy"] = "Always" if untagged or tag_part.endswith(":latest") else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")


def default_pod_spec(spec: Obj) -> None:
    for c in spec.get("containers") or []:
        default_container(c)
    for c in spec.get("initContainers") or []:
        default_container(c)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def default_pod(pod: Obj) -> None:
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault("tolerations", [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ])
    pod.setdefault("status", {"phase": "Pending", "qosClass": "BestEffort"})


def default_template(template: Obj) -> None:
    template.setdefault("metadata", {})
    template["metadata"].pop("creationTimestamp", None)
    default_pod_spec(template.setdefault("spec", {}))


def default_deployment(d: Obj) -> None:
    spec = d.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    default_template(spec.setdefault("template", {}))
    d.setdefault("status", {})


def default_replicaset(rs: Obj) -> None:
    spec = rs.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    default_template(spec.setdefault("template", {}))
    rs.setdefault("status", {"replicas": 0})


def default_service(svc: Obj) -> None:
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if not port.get("targetPort"):
            port["targetPort"] = port.get("port")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("ipFamilies", ["IPv4"])
    svc.setdefault("status", {"loadBalancer": {}})


DEFAULTERS = {
    "pods": default_pod,
    "deployments": default_deployment,
    "replicasets": default_replicaset,
    "services": default_service,
}


def apply_defaults(plural: str, obj: Obj) -> None:
    fn = DEFAULTERS.get(plural)
    if fn:
        fn(obj)
    if plural == "namespaces":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active"}
        meta = obj.setdefault("metadata", {})
        labels = meta.setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = meta.get("name", "")


# ---- validation --------------------------------------------------------------------------------

def _int_or_string_value(value: Any) -> str:
    """An ``IntOrString`` as a field error shows its bad value: JSON (``0``, ``"120%"``)."""
    return json.dumps(value, ensure_ascii=False)


def _positive_int_or_percent_causes(path: str, value: Any) -> list[tuple[str, str]]:
    """``ValidatePositiveIntOrPercent`` (pkg/apis/apps/validation/validation.go)."""
    if isinstance(value, str):
        return [(path, f"Invalid value: {_int_or_string_value(value)}: {msg}") for msg in intstr.percent_errors(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return [] if value >= 0 else [(path, f"Invalid value: {value}: must be greater than or equal to 0")]
    return [(path, f"Invalid value: {_int_or_string_value(value)}: must be an integer or percentage (e.g '5%')")]


def _int_or_percent_value(value: Any) -> int:
    """Apps validation's ``getIntOrPercentValue``: the percentage's number, else ``IntValue()``."""
    percent = intstr.percent_value(value)
    if percent is not None:
        return percent
    return intstr.int_value(value) if isinstance(value, int | str) and not isinstance(value, bool) else 0


def _rolling_update_causes(path: str, rolling_update: Obj) -> list[tuple[str, str]]:
    """``ValidateRollingUpdateDeployment``; a missing value is the zero ``IntOrString`` (the int 0)."""
    max_unavailable = rolling_update.get("maxUnavailable", 0)
    max_surge = rolling_update.get("maxSurge", 0)
    causes = _positive_int_or_percent_causes(f"{path}.maxUnavailable", max_unavailable)
    causes += _positive_int_or_percent_causes(f"{path}.maxSurge", max_surge)
    if _int_or_percent_value(max_unavailable) == 0 and _int_or_percent_value(max_surge) == 0:
        causes.append((f"{path}.maxUnavailable", f"Invalid value: {_int_or_string_value(max_unavailable)}: "
                                                "may not be 0 when `maxSurge` is 0"))
    percent = intstr.percent_value(max_unavailable)
    if percent is not None and percent > 100:
        causes.append((f"{path}.maxUnavailable",
                       f"Invalid value: {_int_or_string_value(max_unavailable)}: must not be greater than 100%"))
    return causes


def _name_causes(plural: str, name: str | None, generate: bool) -> list[tuple[str, str]]:
    if not name:
        if generate:
            return []
        return [("metadata.name", "Required value: name or generateName is required")]
    pattern, what = (_DNS1035_LABEL, "a DNS-1035 label") if plural == "services" else (
        (_DNS1123_LABEL, "a lowercase RFC 1123 label") if plural == "namespaces"
        else (_DNS1123_SUBDOMAIN, "a lowercase RFC 1123 subdomain"))
    if len(name) > (63 if plural in ("services", "namespaces") else 253) or not pattern.match(name):
        if what == "a DNS-1035 label":
            rule = ("must consist of lower case alphanumeric characters or '-', start with an alphabetic "
                    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
        elif what == "a lowercase RFC 1123 label":
            rule = ("must consist of lower case alphanumeric characters or '-', and must start and end "
                    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        else:
            rule = ("must consist of lower case alphanumeric characters, '-' or '.', and must start and "
                    "end with an alphanumeric character (e.g. 'example.com', regex used for validation "
                    "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        return [("metadata.name", f'Invalid value: "{name}": {what} {rule}')]
    return []


def _containers_causes(path: str, spec: Obj) -> list[tuple[str, str]]:
    causes: list[tuple[str, str]] = []
    containers = spec.get("containers")
    if not containers:
        return [(f"{path}.containers", "Required value")]
    seen = set()
    for i, c in enumerate(containers):
        name = c.get("name")
        if not name:
            causes.append((f"{path}.containers[{i}].name", "Required value"))
        elif name in seen:
            causes.append((f"{path}.containers[{i}].name", f'Duplicate value: "{name}"'))
        seen.add(name)
        if not c.get("image"):
            causes.append((f"{path}.containers[{i}].image", "Required value"))
    return causes


def validate(plural: str, obj: Obj) -> None:
    """Raise ``errors.Invalid`` with the apiserver's field messages when ``obj`` is not valid."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or meta.get("generateName") or ""
    causes = _name_causes(plural, meta.get("name"), bool(meta.get("generateName")))
    kind = obj.get("kind", "")
    group = {"deployments": "apps", "replicasets": "apps"}.get(plural, "")
    spec = obj.get("spec") or {}
    if plural in ("deployments", "replicasets"):
        replicas = spec.get("replicas", 1)
        if not isinstance(replicas, int) or replicas < 0:
            causes.append(("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0"))
        selector = spec.get("selector")
        template = spec.get("template") or {}
        tlabels = (template.get("metadata") or {}).get("labels") or {}
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            causes.append(("spec.selector", "Required value"))
        else:
            from tutor.practice.apiserver.selectors import LabelSelector

            try:
                if not LabelSelector.from_dict(selector).matches(tlabels):
                    causes.append(("spec.template.metadata.labels",
                                   f"Invalid value: {_go_map(tlabels)}: `selector` does not match template `labels`"))
            except errors.ApiError as error:
                causes.append(("spec.selector", error.message))
        causes += _containers_causes("spec.template.spec", template.get("spec") or {})
        if plural == "deployments":
            strategy = spec.get("strategy") or {}
            if strategy.get("type") not in (None, "RollingUpdate", "Recreate"):
                causes.append(("spec.strategy.type",
                               f'Unsupported value: "{strategy.get("type")}": supported values: '
                               '"Recreate", "RollingUpdate"'))
            ru = strategy.get("rollingUpdate")
            if strategy.get("type") == "Recreate" and ru:
                causes.append(("spec.strategy.rollingUpdate",
                               "Forbidden: may not be specified when strategy `type` is 'Recreate'"))
            if isinstance(ru, dict) and strategy.get("type") in (None, "RollingUpdate"):
                causes += _rolling_update_causes("spec.strategy.rollingUpdate", ru)
            pds = spec.get("progressDeadlineSeconds")
            mrs = spec.get("minReadySeconds", 0)
            if isinstance(pds, int) and isinstance(mrs, int) and pds <= mrs:
                causes.append(("spec.progressDeadlineSeconds",
                               f"Invalid value: {pds}: must be greater than minReadySeconds"))
    elif plural == "pods":
        causes += _containers_causes("spec", spec)
    elif plural == "services":
        ports = spec.get("ports") or []
        if not ports and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
            causes.append(("spec.ports", "Required value"))
        for i, port in enumerate(ports):
            p = port.get("port")
            if not isinstance(p, int) or not 1 <= p <= 65535:
                causes.append((f"spec.ports[{i}].port",
                               f"Invalid value: {p}: must be between 1 and 65535, inclusive"))
            node_port = port.get("nodePort")
            if node_port is not None and spec.get("type") not in ("NodePort", "LoadBalancer"):
                causes.append((f"spec.ports[{i}].nodePort",
                               "Forbidden: may not be used when `type` is 'ClusterIP'"))
            elif node_port is not None and not 30000 <= node_port <= 32767:
                causes.append((f"spec.ports[{i}].nodePort",
                               f"Invalid value: {node_port}: provided port is not in the valid range. "
                               "The range of valid ports is 30000-32767"))
        if len(ports) > 1:
            for i, port in enumerate(ports):
                if not port.get("name"):
                    causes.append((f"spec.ports[{i}].name", "Required value"))
        if spec.get("type") not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
            causes.append(("spec.type", f'Unsupported value: "{spec.get("type")}": supported values: '
                           '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'))
    if causes:
        raise errors.invalid(kind, group, name, causes)


def _go_map(labels: dict[str, str]) -> str:
    """A composite value in a field error, rendered as JSON (apimachinery field/errors.go, 1.34+)."""
    return json.dumps(dict(sorted(labels.items())), separators=(",", ":"))

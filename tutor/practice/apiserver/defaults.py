"""Provides defaulting and validation of objects written through the API, like the apiserver's.

Validation ports, each citing its upstream function:

- kubernetes/apimachinery ``pkg/api/validation/objectmeta.go`` (``ValidateObjectMeta``: labels,
  annotations, ``ValidateOwnerReferences``, ``ValidateFinalizers``; ``ValidateImmutableField``) and
  ``pkg/apis/meta/v1/validation/validation.go`` (``ValidateLabels``, ``ValidateLabelSelector``);
  the label key and value rules are ``content.IsLabelKey``/``IsLabelValue``, ported once in
  :mod:`tutor.practice.apiserver.selectors`;
- kubernetes/kubernetes ``pkg/apis/apps/validation/validation.go`` (``ValidateDeploymentSpec``,
  ``ValidateReplicaSetSpec``, ``ValidatePodTemplateSpecForReplicaSet``, ``ValidateDeploymentStatus``,
  ``ValidateReplicaSetStatus``) with the selector immutability of ``pkg/registry/apps/*/strategy.go``;
  ``pkg/apis/core/validation/validation.go`` (``ValidatePodTemplateSpec``, ``ValidatePodBinding``);
  ``pkg/apis/autoscaling/validation/validation.go`` (``ValidateScale``);
- kubernetes/apimachinery ``pkg/util/validation/field/errors.go`` for the wording of each field error
  (``Invalid value: <value>: <detail>``, composite values rendered as JSON since 1.34).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from tutor.kube import intstr, qos
from tutor.kube.strconv import quote
from tutor.practice.apiserver import errors, gotypes, quota
from tutor.practice.apiserver.gotypes import GoType
from tutor.practice.apiserver.selectors import LabelSelector, label_key_errors, label_value_errors
from tutor.practice.apiserver.structs import STRUCTS

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


SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
"""``scheduling.SystemPriorityClasses()`` (``pkg/apis/scheduling/types.go``: ``SystemCriticalPriority`` + 1000 and
+ 0)."""


def default_pod(pod: Obj) -> None:
    spec = pod.setdefault("spec", {})
    default_pod_spec(spec)
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and not isinstance(grace, bool) and grace < 0:
        # The pod strategy turns a negative grace period into 1 on create and update, rather than refusing
        # it (kubernetes/kubernetes#115606; test/e2e/node/pods.go checks it).
        spec["terminationGracePeriodSeconds"] = 1
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    # The Priority admission plugin (plugin/pkg/admission/priority/admission.go): the two built-in classes.
    spec.setdefault("priority", SYSTEM_PRIORITY_CLASSES.get(spec.get("priorityClassName") or "", 0))
    spec.setdefault("tolerations", [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ])
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        # SetDefaults_Pod: a limit without a request requests the limit.
        resources = c.get("resources")
        limits = resources.get("limits") if isinstance(resources, dict) else None
        if isinstance(limits, dict) and limits:
            requests = resources.get("requests")
            if not isinstance(requests, dict):
                requests = resources["requests"] = {}
            for name, quantity in limits.items():
                requests.setdefault(name, quantity)
    status = pod.setdefault("status", {"phase": "Pending"})
    if isinstance(status, dict) and "qosClass" not in status:
        status["qosClass"] = qos.pod_qos(pod)  # the pod strategy's PrepareForCreate


def default_template(template: Obj) -> None:
    template.setdefault("metadata", {})
    template["metadata"].pop("creationTimestamp", None)
    default_pod_spec(template.setdefault("spec", {}))


def _default(obj: Obj, key: str, value: Any) -> Any:
    """Set a field that is missing or null (a nil pointer), as ``SetDefaults_*`` do; return its value."""
    if obj.get(key) is None:
        obj[key] = value
    return obj[key]


def default_deployment(d: Obj) -> None:
    """``SetDefaults_Deployment`` (kubernetes ``pkg/apis/apps/v1/defaults.go``)."""
    spec = d.setdefault("spec", {})
    _default(spec, "replicas", 1)
    strategy = _default(spec, "strategy", {})
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        ru = _default(strategy, "rollingUpdate", {})
        _default(ru, "maxUnavailable", "25%")
        _default(ru, "maxSurge", "25%")
    _default(spec, "revisionHistoryLimit", 10)
    _default(spec, "progressDeadlineSeconds", 600)
    default_template(spec.setdefault("template", {}))
    d.setdefault("status", {})


def default_replicaset(rs: Obj) -> None:
    spec = rs.setdefault("spec", {})
    _default(spec, "replicas", 1)
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


def default_secret(secret: Obj) -> None:
    """``SetDefaults_Secret`` (``type`` Opaque) and ``Convert_v1_Secret_To_core_Secret`` (``pkg/apis/core/v1/
    conversion.go``): each ``stringData`` entry is written into ``data`` (base64), overriding it; ``stringData`` is
    never stored."""
    if not secret.get("type"):
        secret["type"] = "Opaque"
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        current = secret.get("data")
        data: Obj = current if isinstance(current, dict) else {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode("utf-8", "surrogateescape")).decode()
        secret["data"] = data


DEFAULTERS = {
    "secrets": default_secret,
    "pods": default_pod,
    "deployments": default_deployment,
    "replicasets": default_replicaset,
    "services": default_service,
    "resourcequotas": quota.default_resourcequota,
    "limitranges": quota.default_limitrange,
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


# ---- field errors (apimachinery pkg/util/validation/field/errors.go) ------------------------------
Cause = tuple[str, str]
"""A field error: its path and ``ErrorBody()`` (``("spec.replicas", "Invalid value: -1: must be ...")``)."""

IS_NEGATIVE = "must be greater than or equal to 0"
"""``apimachineryvalidation.IsNegativeErrorMsg``."""
FIELD_IMMUTABLE = "field is immutable"
"""``apimachineryvalidation.FieldImmutableErrorMsg``."""
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * (1 << 10)
"""``TotalAnnotationSizeLimitB``: 256 kB of annotation keys and values."""
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
"""``helper.IsStandardFinalizerName`` (``pkg/apis/core/helper/helpers.go``)."""


def _json_string(text: str) -> str:
    """A string as Go's ``json.Marshal`` writes it: UTF-8 kept, ``<``, ``>``, ``&``, U+2028/9 escaped."""
    out = json.dumps(text, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(char, escaped)
    return out


def _zero(type_: GoType | None) -> Any:
    if type_ is None or type_.kind in (gotypes.LIST, gotypes.MAP, gotypes.BYTES, gotypes.RAW, gotypes.FIELDS):
        return None
    if type_.kind == gotypes.STRUCT:
        return {}
    if type_.kind == gotypes.STRING:
        return ""
    if type_.kind == gotypes.BOOL:
        return False
    if type_.kind == gotypes.TIME:
        return None
    return 0  # numbers, IntOrString (the int 0), a zero Quantity prints "0"


def _empty(value: Any) -> bool:
    """``omitempty``'s empty value: false, 0, "", nil, an empty slice or map."""
    return value is None or value is False or value == 0 or value in ("", [], {})


def go_json(value: Any, type_: GoType | None = None, *, internal: bool = False) -> str:
    """``json.Marshal`` of an API value, as a field error renders a composite bad value.

    Args:
        value: The value as decoded from JSON.
        type_: Its Go type, for struct field order and ``omitempty``; without one a map's keys are sorted
            (as Go sorts a map's) and nothing is omitted.
        internal: Render the struct as the apiserver's *internal* type does: those have no JSON tags, so
            every field is written under its Go name, a missing one as its zero value (``{"Type":"Foo",
            "RollingUpdate":null}``).

    Returns:
        Compact JSON.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _json_string(value)
    elem = type_.elem if type_ is not None and type_.kind in (gotypes.LIST, gotypes.MAP) else None
    if isinstance(value, list):
        return "[" + ",".join(go_json(item, elem, internal=internal) for item in value) + "]"
    if not isinstance(value, Mapping):
        return _json_string(str(value))
    if type_ is None or type_.kind != gotypes.STRUCT:
        return "{" + ",".join(f"{_json_string(str(k))}:{go_json(value[k], elem, internal=internal)}"
                              for k in sorted(value)) + "}"
    parts: list[str] = []
    _struct_json(value, type_.struct, parts, internal)
    return "{" + ",".join(parts) + "}"


def _struct_json(value: Mapping[str, Any], key: str, parts: list[str], internal: bool) -> None:
    for item in STRUCTS[key].fields:
        if item.inline:
            _struct_json(value, item.type.struct, parts, internal)
            continue
        present = item.json in value and value[item.json] is not None
        if internal:
            field_value = value[item.json] if present else _zero(None if item.pointer else item.type)
            parts.append(f"{_json_string(item.go_name)}:{go_json(field_value, item.type, internal=True)}")
            continue
        if item.pointer and not present or item.omitempty and not item.pointer and _empty(value.get(item.json)):
            continue
        field_value = value[item.json] if present else _zero(item.type)
        parts.append(f"{_json_string(item.json)}:{go_json(field_value, item.type)}")


def _bad_value(value: Any, type_: GoType | None = None, *, internal: bool = False) -> str:
    """``ErrorBody``'s rendering of a bad value: numbers and booleans with ``%v``, strings quoted (``%q``),
    anything else as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    return go_json(value, type_, internal=internal)


def _invalid(path: str, value: Any, detail: str, type_: GoType | None = None, *, internal: bool = False) -> Cause:
    """``field.Invalid``."""
    return path, f"Invalid value: {_bad_value(value, type_, internal=internal)}: {detail}"


def _required(path: str, detail: str = "") -> Cause:
    """``field.Required``."""
    return path, "Required value" + (f": {detail}" if detail else "")


def _forbidden(path: str, detail: str) -> Cause:
    """``field.Forbidden``."""
    return path, f"Forbidden: {detail}"


def _not_supported(path: str, value: Any, valid: list[str], type_: GoType | None = None, *,
                   internal: bool = False) -> Cause:
    """``field.NotSupported``."""
    supported = ", ".join(quote(v) for v in valid)
    return path, (f"Unsupported value: {_bad_value(value, type_, internal=internal)}"
                  + (f": supported values: {supported}" if valid else ""))


def _too_long(path: str, max_length: int) -> Cause:
    """``field.TooLong``."""
    return path, f"Too long: may not be more than {max_length} byte{'' if max_length == 1 else 's'}"


def _nonnegative(path: str, value: Any) -> list[Cause]:
    """``ValidateNonnegativeField`` (a value the decoder did not give an integer is not checked here)."""
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [_invalid(path, value, IS_NEGATIVE)]
    return []


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _struct(key: str) -> GoType:
    return gotypes.struct(key)


# ---- object metadata (apimachinery pkg/api/validation/objectmeta.go) -------------------------------
def _labels_causes(labels: Any, path: str) -> list[Cause]:
    """``ValidateLabels`` (keys in sorted order: Go visits a map in random order)."""
    causes: list[Cause] = []
    if not isinstance(labels, Mapping):
        return causes
    for key in sorted(labels):
        causes += [_invalid(path, key, msg) for msg in label_key_errors(str(key))]
        value = labels[key]
        if isinstance(value, str):
            causes += [_invalid(path, value, msg) for msg in label_value_errors(value)]
    return causes


def _annotations_causes(annotations: Any, path: str) -> list[Cause]:
    """``ValidateAnnotations``: qualified-name keys (any case) and at most 256 kB in all."""
    if not isinstance(annotations, Mapping):
        return []
    causes = [_invalid(path, key, msg) for key in sorted(annotations) for msg in label_key_errors(str(key).lower())]
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(_too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def parse_group_version(text: str) -> tuple[str, str] | None:
    """``schema.ParseGroupVersion``: (group, version), or None for its error (more than one ``/``)."""
    if text in ("", "/"):
        return "", ""
    if text.count("/") == 0:
        return "", text
    if text.count("/") == 1:
        group, _, version = text.partition("/")
        return group, version
    return None


def _owner_references_causes(references: Any, path: str) -> list[Cause]:
    """``ValidateOwnerReferences`` and ``validateOwnerReference``."""
    causes: list[Cause] = []
    if not isinstance(references, list):
        return causes
    first_controller = ""
    for index, ref in enumerate(references):
        ref = ref if isinstance(ref, Mapping) else {}
        at = f"{path}[{index}]"
        api_version = str(ref.get("apiVersion") or "")
        gv = parse_group_version(api_version)
        if not api_version:
            causes.append(_required(f"{at}.apiVersion", "must not be empty"))
        elif gv is None or not gv[1]:
            causes.append(_invalid(f"{at}.apiVersion", api_version, "must be <group>/<version> or <version>"))
        for name in ("kind", "name", "uid"):
            if not ref.get(name):
                causes.append(_required(f"{at}.{name}", "must not be empty"))
        group, version = gv or ("", "")
        if (group, version, ref.get("kind") or "") == ("", "v1", "Event"):  # BannedOwners
            causes.append(_invalid(at, ref, "/v1, Kind=Event is disallowed from being an owner",
                                   _struct("meta/v1.OwnerReference")))
        if ref.get("controller") is True:
            current = f"{ref.get('kind') or ''}/{ref.get('name') or ''}"
            if first_controller:
                causes.append(_invalid(path, references, 'Only one reference can have Controller set to true. '
                                       f'Found "true" in references for {first_controller} and {current}',
                                       gotypes.list_of(_struct("meta/v1.OwnerReference"))))
            else:
                first_controller = current
    return causes


def _finalizers_causes(finalizers: Any, path: str) -> list[Cause]:
    """``ValidateFinalizers`` and core's ``validateKubeFinalizerName``."""
    if not isinstance(finalizers, list):
        return []
    names = [f for f in finalizers if isinstance(f, str)]
    causes = [_invalid(path, name, msg) for name in names for msg in label_key_errors(name)]
    if "orphan" in names and "foregroundDeletion" in names:
        causes.append(_invalid(path, names, "finalizer orphan and foregroundDeletion cannot be both set"))
    for index, name in enumerate(names):
        if "/" not in name and name not in _STANDARD_FINALIZERS:
            causes.append(_invalid(f"{path}[{index}]", name,
                                   "name is neither a standard finalizer name nor is it fully qualified"))
    return causes


def _object_meta_causes(meta: Mapping[str, Any], path: str = "metadata") -> list[Cause]:
    """The parts of ``ValidateObjectMeta`` after the name: labels, annotations, owners, finalizers."""
    return (_labels_causes(meta.get("labels"), f"{path}.labels")
            + _annotations_causes(meta.get("annotations"), f"{path}.annotations")
            + _owner_references_causes(meta.get("ownerReferences"), f"{path}.ownerReferences")
            + _finalizers_causes(meta.get("finalizers"), f"{path}.finalizers"))


def _label_selector_causes(selector: Mapping[str, Any], path: str) -> list[Cause]:
    """``ValidateLabelSelector`` with ``AllowInvalidLabelValueInSelector: false``."""
    causes = _labels_causes(selector.get("matchLabels"), f"{path}.matchLabels")
    expressions = selector.get("matchExpressions")
    for index, expr in enumerate(expressions if isinstance(expressions, list) else []):
        expr = expr if isinstance(expr, Mapping) else {}
        at = f"{path}.matchExpressions[{index}]"
        operator = expr.get("operator") or ""
        values = expr.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                causes.append(_required(f"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                causes.append(_forbidden(f"{at}.values",
                                         "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            causes.append(_invalid(f"{at}.operator", operator, "not a valid selector operator"))
        causes += [_invalid(f"{at}.key", str(expr.get("key") or ""), msg)
                   for msg in label_key_errors(str(expr.get("key") or ""))]
        for value_index, value in enumerate(values):
            if isinstance(value, str):
                causes += [_invalid(f"{at}.values[{value_index}]", value, msg) for msg in label_value_errors(value)]
    return causes


# ---- names --------------------------------------------------------------------------------------
_PATH_SEGMENT_NAMED = frozenset({"roles", "clusterroles", "rolebindings", "clusterrolebindings"})
"""Kinds whose names need only be a path segment (``system:discovery``): kubernetes ``pkg/apis/rbac/validation/
validation.go`` (``ValidateRBACName = path.IsValidPathSegmentName``)."""


def path_segment_name_errors(name: str) -> list[str]:
    """``IsValidPathSegmentName`` (kubernetes/apimachinery ``pkg/api/validation/path/name.go``)."""
    for illegal in (".", ".."):
        if name == illegal:
            return [f"may not be '{illegal}'"]
    return [f"may not contain '{illegal}'" for illegal in ("/", "%") if illegal in name]


def _name_causes(plural: str, name: str | None, generate: bool) -> list[Cause]:
    if not name:
        if generate:
            return []
        return [_required("metadata.name", "name or generateName is required")]
    if plural in _PATH_SEGMENT_NAMED:
        return [_invalid("metadata.name", name, message) for message in path_segment_name_errors(name)]
    pattern, what = (_DNS1035_LABEL, "a DNS-1035 label") if plural == "services" else (
        (_DNS1123_LABEL, "a lowercase RFC 1123 label") if plural == "namespaces"
        else (_DNS1123_SUBDOMAIN, "a lowercase RFC 1123 subdomain"))
    if len(name) > (63 if plural in ("services", "namespaces") else 253) or not pattern.fullmatch(name):
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
        return [_invalid("metadata.name", name, f"{what} {rule}")]
    return []


# ---- apps (kubernetes pkg/apis/apps/validation/validation.go) --------------------------------------
def _positive_int_or_percent_causes(path: str, value: Any) -> list[Cause]:
    """``ValidatePositiveIntOrPercent``."""
    if isinstance(value, str):
        return [_invalid(path, value, msg, gotypes.scalar(gotypes.INTSTR)) for msg in intstr.percent_errors(value)]
    if isinstance(value, int) and not isinstance(value, bool):
        return _nonnegative(path, value)
    return [_invalid(path, value, "must be an integer or percentage (e.g '5%')", gotypes.scalar(gotypes.INTSTR))]


def _int_or_percent_value(value: Any) -> int:
    """Apps validation's ``getIntOrPercentValue``: the percentage's number, else ``IntValue()``."""
    percent = intstr.percent_value(value)
    if percent is not None:
        return percent
    return intstr.int_value(value) if isinstance(value, int | str) and not isinstance(value, bool) else 0


def _rolling_update_causes(path: str, rolling_update: Mapping[str, Any]) -> list[Cause]:
    """``ValidateRollingUpdateDeployment``; a missing value is the zero ``IntOrString`` (the int 0)."""
    max_unavailable = rolling_update.get("maxUnavailable", 0)
    max_surge = rolling_update.get("maxSurge", 0)
    causes = _positive_int_or_percent_causes(f"{path}.maxUnavailable", max_unavailable)
    causes += _positive_int_or_percent_causes(f"{path}.maxSurge", max_surge)
    if _int_or_percent_value(max_unavailable) == 0 and _int_or_percent_value(max_surge) == 0:
        causes.append(_invalid(f"{path}.maxUnavailable", max_unavailable, "may not be 0 when `maxSurge` is 0",
                               gotypes.scalar(gotypes.INTSTR)))
    percent = intstr.percent_value(max_unavailable)
    if percent is not None and percent > 100:
        causes.append(_invalid(f"{path}.maxUnavailable", max_unavailable, "must not be greater than 100%",
                               gotypes.scalar(gotypes.INTSTR)))
    return causes


def _strategy_causes(strategy: Obj) -> list[Cause]:
    """``ValidateDeploymentStrategy`` (an unknown type shows the internal struct, which has no JSON tags)."""
    kind = strategy.get("type") or "RollingUpdate"
    rolling_update = strategy.get("rollingUpdate")
    if kind == "Recreate":
        return [_forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")] \
            if rolling_update is not None else []
    if kind == "RollingUpdate":
        if not isinstance(rolling_update, Mapping):
            return [_required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")]
        return _rolling_update_causes("spec.strategy.rollingUpdate", rolling_update)
    return [_not_supported("spec.strategy", strategy, ["Recreate", "RollingUpdate"],
                           _struct("apps/v1.DeploymentStrategy"), internal=True)]


def _containers_causes(path: str, spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        return [_required(f"{path}.containers")]
    seen = set()
    for i, c in enumerate(containers):
        name = c.get("name")
        if not name:
            causes.append(_required(f"{path}.containers[{i}].name"))
        elif name in seen:
            causes.append((f"{path}.containers[{i}].name", f"Duplicate value: {quote(name)}"))
        seen.add(name)
        if not c.get("image"):
            causes.append(_required(f"{path}.containers[{i}].image"))
    return causes


def _pod_template_causes(template: Obj, selector: LabelSelector | None, owner: str) -> list[Cause]:
    """``ValidatePodTemplateSpecForReplicaSet``: matches the selector, then ``ValidatePodTemplateSpec``."""
    tmeta = template.get("metadata") or {}
    labels = tmeta.get("labels") or {}
    causes: list[Cause] = []
    if selector is not None and not selector.empty() and not selector.matches(labels):
        causes.append(_invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    causes += _labels_causes(labels, "spec.template.labels")
    causes += _annotations_causes(tmeta.get("annotations"), "spec.template.annotations")
    spec = template.get("spec") or {}
    causes += _containers_causes("spec.template.spec", spec)
    restart = spec.get("restartPolicy", "Always")
    if restart != "Always":
        causes.append(_not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if spec.get("activeDeadlineSeconds") is not None:
        causes.append(_forbidden("spec.template.spec.activeDeadlineSeconds",
                                 f"activeDeadlineSeconds in {owner} is not Supported"))
    return causes


def _selector_and_template_causes(spec: Obj, owner: str) -> list[Cause]:
    """The selector part of ``ValidateDeploymentSpec``/``ValidateReplicaSetSpec`` and the template."""
    causes: list[Cause] = []
    raw = spec.get("selector")
    selector_type = _struct("meta/v1.LabelSelector")
    selector: LabelSelector | None
    if raw is None:
        causes.append(_required("spec.selector"))
        selector = None  # LabelSelectorAsSelector(nil) is labels.Nothing(): it matches no template
        tlabels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        causes.append(_invalid("spec.template.metadata.labels", tlabels, "`selector` does not match template `labels`"))
    else:
        causes += _label_selector_causes(raw, "spec.selector")
        if not raw.get("matchLabels") and not raw.get("matchExpressions"):
            causes.append(_invalid("spec.selector", raw, "empty selector is invalid for deployment", selector_type))
        try:
            selector = LabelSelector.from_dict(raw)
        except errors.ApiError:
            causes.append(_invalid("spec.selector", raw, "invalid label selector", selector_type))
            return causes
    return causes + _pod_template_causes(spec.get("template") or {}, selector, owner)


def _deployment_spec_causes(spec: Obj) -> list[Cause]:
    """``ValidateDeploymentSpec``."""
    causes = _nonnegative("spec.replicas", spec.get("replicas"))
    causes += _selector_and_template_causes(spec, "ReplicaSet")
    causes += _strategy_causes(spec.get("strategy") or {})
    causes += _nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    if spec.get("revisionHistoryLimit") is not None:
        causes += _nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        causes += _nonnegative("spec.progressDeadlineSeconds", deadline)
        if isinstance(deadline, int) and deadline <= _int(spec.get("minReadySeconds")):
            causes.append(_invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    return causes


def _replicaset_spec_causes(spec: Obj) -> list[Cause]:
    """``ValidateReplicaSetSpec``."""
    causes = _nonnegative("spec.replicas", spec.get("replicas"))
    causes += _nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    return causes + _selector_and_template_causes(spec, "ReplicaSet")


def _apps_status_causes(plural: str, status: Obj) -> list[Cause]:
    """``ValidateDeploymentStatus`` / ``ValidateReplicaSetStatus``."""
    names = (("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
              "unavailableReplicas") if plural == "deployments" else
             ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"))
    causes = [c for name in names for c in _nonnegative(f"status.{name}", status.get(name))]
    if plural == "deployments" and status.get("collisionCount") is not None:
        causes += _nonnegative("status.collisionCount", status.get("collisionCount"))
    replicas = _int(status.get("replicas"))
    bounded = ("updatedReplicas", "readyReplicas", "availableReplicas") if plural == "deployments" else (
        "fullyLabeledReplicas", "readyReplicas", "availableReplicas")
    for name in bounded:
        if _int(status.get(name)) > replicas:
            causes.append(_invalid(f"status.{name}", _int(status.get(name)), "cannot be greater than status.replicas"))
    if _int(status.get("availableReplicas")) > _int(status.get("readyReplicas")):
        causes.append(_invalid("status.availableReplicas", _int(status.get("availableReplicas")),
                               "cannot be greater than readyReplicas"))
    return causes


# ---- entry points -------------------------------------------------------------------------------
def _group(plural: str) -> str:
    return {"deployments": "apps", "replicasets": "apps"}.get(plural, "")


def _raise(plural: str, obj: Obj, causes: list[Cause]) -> None:
    if causes:
        meta = obj.get("metadata") or {}
        name = meta.get("name") or meta.get("generateName") or ""
        unique = list(dict.fromkeys(causes))  # utilerrors.NewAggregate prints each message once
        raise errors.invalid(obj.get("kind", ""), _group(plural), name, unique)


def validate(plural: str, obj: Obj) -> None:
    """Raise ``errors.Invalid`` with the apiserver's field messages when ``obj`` is not valid."""
    meta = obj.get("metadata") or {}
    causes = _name_causes(plural, meta.get("name"), bool(meta.get("generateName")))
    causes += _object_meta_causes(meta)
    spec = obj.get("spec") or {}
    if plural == "deployments":
        causes += _deployment_spec_causes(spec)
    elif plural == "replicasets":
        causes += _replicaset_spec_causes(spec)
    elif plural == "pods":
        causes += _containers_causes("spec", spec)
    elif plural == "services":
        causes += _service_causes(spec)
    elif plural in ("secrets", "configmaps"):
        causes += _data_causes(plural, obj)
    _raise(plural, obj, causes)


MAX_SECRET_SIZE = 1024 * 1024
"""``api.MaxSecretSize`` (and ``MaxConfigMapSize``, ``RuntimeObjectSizeLimit``)."""
_CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def config_map_key_errors(key: str) -> list[str]:
    """``IsConfigMapKey`` (kubernetes/apimachinery ``pkg/util/validation/validation.go``)."""
    out = []
    if len(key) > 253:
        out.append("must be no more than 253 characters")
    if not _CONFIG_MAP_KEY.fullmatch(key):
        out.append("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                   "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
    if key == ".":
        out.append("must not be '.'")
    elif key == "..":
        out.append("must not be '..'")
    elif key.startswith(".."):
        out.append("must not start with '..'")
    return out


def base64_error(text: str) -> str | None:
    """Go's ``base64.StdEncoding.Decode`` of a ``[]byte`` field's JSON string: ``illegal base64 data at input byte
    N`` (``CorruptInputError``: the first character that cannot be there, or the start of an unfinished
    quantum), or None. ``\\r`` and ``\\n`` are skipped; padding is required."""
    if _BASE64.fullmatch(text.replace("\r", "").replace("\n", "")):
        return None
    body = text.rstrip("=")
    for index, char in enumerate(body):
        if char not in _BASE64_ALPHABET:
            return f"illegal base64 data at input byte {index}"
    stripped = len(body.replace("\r", "").replace("\n", ""))
    if len(body) < len(text):  # padding where it cannot be, or too much of it
        return f"illegal base64 data at input byte {len(body) if stripped % 4 < 2 else len(text) - 1}"
    return f"illegal base64 data at input byte {stripped - stripped % 4}"


_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\r\n")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _data_causes(plural: str, obj: Obj) -> list[Cause]:
    """``ValidateSecret`` / ``ValidateConfigMap`` (``pkg/apis/core/validation/validation.go``): each key an
    ``IsConfigMapKey``, the data at most 1 MiB."""
    causes: list[Cause] = []
    size = 0
    fields = ("data",) if plural == "secrets" else ("data", "binaryData")
    for name in fields:
        data = obj.get(name)
        if not isinstance(data, dict):
            continue
        if name == "data" and plural == "secrets" or name == "binaryData":
            for key in sorted(data):
                problem = base64_error(data[key]) if isinstance(data[key], str) else None
                if problem is not None:  # a decode error: no object was made (sigs.k8s.io/json into []byte)
                    kind = "Secret" if plural == "secrets" else "ConfigMap"
                    raise errors.BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: {problem}')
        for key in sorted(data):
            causes += [_invalid(f"{name}[{key}]", key, msg) for msg in config_map_key_errors(key)]
            value = data[key]
            if isinstance(value, str):
                size += len(value) * 3 // 4 if plural == "secrets" or name == "binaryData" else len(value.encode())
    if size > MAX_SECRET_SIZE:  # ValidateSecret: field.TooLong(dataPath, ...); ValidateConfigMap: the whole object
        causes.append(_too_long("data" if plural == "secrets" else "", MAX_SECRET_SIZE))
    return causes


def validate_update(plural: str, new: Obj, old: Obj) -> None:
    """What an update may not change (after ``validate``): an apps/v1 selector is immutable.

    Upstream: ``pkg/registry/apps/deployment/strategy.go`` and ``replicaset/strategy.go``
    ``ValidateUpdate`` (``ValidateImmutableField(newSelector, oldSelector, spec.selector)``).
    """
    if plural == "secrets" and new.get("type") != old.get("type"):
        _raise(plural, new, [_invalid("type", new.get("type"), FIELD_IMMUTABLE)])
    if plural in ("deployments", "replicasets"):
        selector = (new.get("spec") or {}).get("selector")
        if not _same_selector(selector, (old.get("spec") or {}).get("selector")):
            _raise(plural, new, [_invalid("spec.selector", selector, FIELD_IMMUTABLE, _struct("meta/v1.LabelSelector"))])


def _same_selector(a: Any, b: Any) -> bool:
    """``apiequality.Semantic.DeepEqual`` of two selectors: a missing map or list equals an empty one."""
    def norm(selector: Any) -> Any:
        if not isinstance(selector, Mapping):
            return selector
        return {k: v for k, v in selector.items() if v not in (None, [], {})}
    return bool(norm(a) == norm(b))


def validate_status_update(plural: str, new: Obj, old: Obj) -> None:
    """``Validate<Kind>StatusUpdate``: the status of a Deployment or ReplicaSet is consistent.

    Types were checked when the body was decoded (``schema``): a string where the status has an int32 never
    gets this far.
    """
    if plural in ("deployments", "replicasets"):
        status = new.get("status") or {}
        causes = _apps_status_causes(plural, status)
        if plural == "deployments":
            new_count = _int(status.get("collisionCount"), -1)
            old_count = _int((old.get("status") or {}).get("collisionCount"), -1)
            if old_count >= 0 and new_count < old_count:  # IsDecremented
                causes.append(_invalid("status.collisionCount", max(new_count, 0), "cannot be decremented"))
        _raise(plural, new, causes)


def validate_scale(name: str, scale: Obj) -> int:
    """``ValidateScale`` of a Scale written to a ``/scale`` subresource; returns ``spec.replicas``.

    Types were checked when the body was decoded as an ``autoscaling/v1`` Scale (``schema``).

    Raises:
        errors.Invalid: ``Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: ...``.
    """
    replicas = _int((scale.get("spec") or {}).get("replicas"))
    if replicas < 0:
        raise errors.invalid("Scale", "autoscaling", name, [_invalid("spec.replicas", replicas, IS_NEGATIVE)])
    return replicas


def _service_causes(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    ports = spec.get("ports") or []
    if not ports and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
        causes.append(_required("spec.ports"))
    for i, port in enumerate(ports):
        p = port.get("port")
        if not isinstance(p, int) or not 1 <= p <= 65535:
            causes.append(_invalid(f"spec.ports[{i}].port", _int(p), "must be between 1 and 65535, inclusive"))
        node_port = port.get("nodePort")
        if node_port is not None and spec.get("type") not in ("NodePort", "LoadBalancer"):
            causes.append(_forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"))
        elif node_port is not None and not 30000 <= node_port <= 32767:
            causes.append(_invalid(f"spec.ports[{i}].nodePort", node_port, "provided port is not in the valid range. "
                                   "The range of valid ports is 30000-32767"))
    if len(ports) > 1:
        for i, port in enumerate(ports):
            if not port.get("name"):
                causes.append(_required(f"spec.ports[{i}].name"))
    if spec.get("type") not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        causes.append(_not_supported("spec.type", spec.get("type"),
                                     ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
    if spec.get("selector"):
        causes += _labels_causes(spec.get("selector"), "spec.selector")
    return causes

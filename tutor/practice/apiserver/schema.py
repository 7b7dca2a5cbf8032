"""Provides decoding checks for request bodies: JSON types and unknown fields, as the apiserver's decoder.

A real apiserver decodes a body into Go structs: a wrongly typed field fails with
``json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec``, and with
``fieldValidation=Strict`` (what kubectl sends) an unknown field fails with
``strict decoding error: unknown field "spec.foo"``. This module knows the fields of the structs the
practice cluster serves down to containers and service ports; deeper structures (probes, volumes,
affinity, security contexts) are accepted as any object.
"""

from __future__ import annotations

from typing import Any

from tutor.kube import gojson
from tutor.practice.apiserver import errors

# A type is: "string" | "integer" | "boolean" | "object" (any map) | "any" | "intorstring"
#            | ("map", type) | ("list", type) | ("struct", go_name, {field: type})
STR, INT, BOOL, OBJ, ANY, INTSTR = "string", "integer", "boolean", "object", "any", "intorstring"


def _struct(go_name: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    return ("struct", go_name, fields)


LABEL_SELECTOR = _struct("v1.LabelSelector", matchLabels=("map", STR), matchExpressions=("list", OBJ))
OBJECT_META = _struct(
    "v1.ObjectMeta", name=STR, generateName=STR, namespace=STR, selfLink=STR, uid=STR, resourceVersion=STR,
    generation=INT, creationTimestamp=ANY, deletionTimestamp=ANY, deletionGracePeriodSeconds=INT,
    labels=("map", STR), annotations=("map", STR), ownerReferences=("list", OBJ), finalizers=("list", STR),
    managedFields=("list", OBJ))
CONTAINER_PORT = _struct("v1.ContainerPort", name=STR, hostPort=INT, containerPort=INT, protocol=STR, hostIP=STR)
ENV_VAR = _struct("v1.EnvVar", name=STR, value=STR, valueFrom=OBJ)
CONTAINER = _struct(
    "v1.Container", name=STR, image=STR, command=("list", STR), args=("list", STR), workingDir=STR,
    ports=("list", CONTAINER_PORT), envFrom=("list", OBJ), env=("list", ENV_VAR), resources=OBJ,
    resizePolicy=("list", OBJ), restartPolicy=STR, restartPolicyRules=("list", OBJ), volumeMounts=("list", OBJ),
    volumeDevices=("list", OBJ), livenessProbe=OBJ, readinessProbe=OBJ, startupProbe=OBJ, lifecycle=OBJ,
    terminationMessagePath=STR, terminationMessagePolicy=STR, imagePullPolicy=STR, securityContext=OBJ,
    stdin=BOOL, stdinOnce=BOOL, tty=BOOL)
POD_SPEC = _struct(
    "v1.PodSpec", volumes=("list", OBJ), initContainers=("list", CONTAINER), containers=("list", CONTAINER),
    ephemeralContainers=("list", OBJ), restartPolicy=STR, terminationGracePeriodSeconds=INT,
    activeDeadlineSeconds=INT, dnsPolicy=STR, nodeSelector=("map", STR), serviceAccountName=STR,
    serviceAccount=STR, automountServiceAccountToken=BOOL, nodeName=STR, hostNetwork=BOOL, hostPID=BOOL,
    hostIPC=BOOL, shareProcessNamespace=BOOL, securityContext=OBJ, imagePullSecrets=("list", OBJ), hostname=STR,
    subdomain=STR, affinity=OBJ, schedulerName=STR, tolerations=("list", OBJ), hostAliases=("list", OBJ),
    priorityClassName=STR, priority=INT, dnsConfig=OBJ, readinessGates=("list", OBJ), runtimeClassName=STR,
    enableServiceLinks=BOOL, preemptionPolicy=STR, overhead=OBJ, topologySpreadConstraints=("list", OBJ),
    setHostnameAsFQDN=BOOL, os=OBJ, hostUsers=BOOL, schedulingGates=("list", OBJ), resourceClaims=("list", OBJ),
    resources=OBJ, hostnameOverride=STR)
POD_TEMPLATE = _struct("v1.PodTemplateSpec", metadata=OBJECT_META, spec=POD_SPEC)
DEPLOYMENT_SPEC = _struct(
    "v1.DeploymentSpec", replicas=INT, selector=LABEL_SELECTOR, template=POD_TEMPLATE,
    strategy=_struct("v1.DeploymentStrategy", type=STR,
                     rollingUpdate=_struct("v1.RollingUpdateDeployment", maxUnavailable=INTSTR, maxSurge=INTSTR)),
    minReadySeconds=INT, revisionHistoryLimit=INT, paused=BOOL, progressDeadlineSeconds=INT)
REPLICASET_SPEC = _struct("v1.ReplicaSetSpec", replicas=INT, minReadySeconds=INT, selector=LABEL_SELECTOR,
                          template=POD_TEMPLATE)
SERVICE_PORT = _struct("v1.ServicePort", name=STR, protocol=STR, appProtocol=STR, port=INT, targetPort=INTSTR,
                       nodePort=INT)
SERVICE_SPEC = _struct(
    "v1.ServiceSpec", ports=("list", SERVICE_PORT), selector=("map", STR), clusterIP=STR, clusterIPs=("list", STR),
    type=STR, externalIPs=("list", STR), sessionAffinity=STR, loadBalancerIP=STR,
    loadBalancerSourceRanges=("list", STR), externalName=STR, externalTrafficPolicy=STR, healthCheckNodePort=INT,
    publishNotReadyAddresses=BOOL, sessionAffinityConfig=OBJ, ipFamilies=("list", STR), ipFamilyPolicy=STR,
    allocateLoadBalancerNodePorts=BOOL, loadBalancerClass=STR, internalTrafficPolicy=STR, trafficDistribution=STR)


def _top(kind: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    return _struct(kind, apiVersion=STR, kind=STR, metadata=OBJECT_META, **fields)


KINDS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "Deployment": _top("Deployment", spec=DEPLOYMENT_SPEC, status=OBJ),
    "ReplicaSet": _top("ReplicaSet", spec=REPLICASET_SPEC, status=OBJ),
    "Pod": _top("Pod", spec=POD_SPEC, status=OBJ),
    "Service": _top("Service", spec=SERVICE_SPEC, status=OBJ),
    "Namespace": _top("Namespace", spec=OBJ, status=OBJ),
    "ConfigMap": _top("ConfigMap", data=("map", STR), binaryData=("map", STR), immutable=BOOL),
    "ServiceAccount": _top("ServiceAccount", secrets=("list", OBJ), imagePullSecrets=("list", OBJ),
                           automountServiceAccountToken=BOOL),
}

_GO = {STR: "string", INT: "int32", BOOL: "bool", OBJ: "map[string]interface {}", INTSTR: "intstr.IntOrString"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _go_type(schema: Any) -> str:
    if isinstance(schema, str):
        return _GO.get(schema, "interface {}")
    if schema[0] == "map":
        return f"map[string]{_go_type(schema[1])}"
    if schema[0] == "list":
        return f"[]{_go_type(schema[1])}"
    return schema[1]


class _Walk:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.unknown: list[str] = []

    def type_error(self, value: Any, path: str, schema: Any) -> errors.BadRequest:
        return errors.BadRequest(
            f'{self.kind} in version "v1" cannot be handled as a {self.kind}: json: cannot unmarshal '
            f"{_json_type(value)} into Go struct field {self.kind}.{path} of type {_go_type(schema)}")

    def walk(self, value: Any, schema: Any, path: str) -> None:
        if value is None:
            return  # JSON null decodes to the zero value
        if schema == ANY:
            return
        if schema == STR:
            if not isinstance(value, str):
                raise self.type_error(value, path, schema)
        elif schema == INT:
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                    isinstance(value, float) and not value.is_integer()):
                raise self.type_error(value, path, schema)
        elif schema == BOOL:
            if not isinstance(value, bool):
                raise self.type_error(value, path, schema)
        elif schema == OBJ:
            if not isinstance(value, dict):
                raise self.type_error(value, path, schema)
        elif schema == INTSTR:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise self.type_error(value, path, schema)
        elif schema[0] == "map":
            if not isinstance(value, dict):
                raise self.type_error(value, path, schema)
            for item in value.values():
                self.walk(item, schema[1], path)
        elif schema[0] == "list":
            if not isinstance(value, list):
                raise self.type_error(value, path, schema)
            for item in value:
                self.walk(item, schema[1], path)
        else:
            _, _, fields = schema
            if not isinstance(value, dict):
                raise self.type_error(value, path, schema)
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                if key not in fields:
                    self.unknown.append(child)
                    continue
                self.walk(item, fields[key], child)


def check_body(obj: dict[str, Any], kind: str, field_validation: str | None) -> list[str]:
    """Check a decoded body against the kind's fields.

    Args:
        obj: the object as sent.
        kind: its kind (from the URL).
        field_validation: the request's ``fieldValidation`` (``Strict``, ``Warn``, ``Ignore`` or None).

    Returns:
        Warnings for unknown fields (``Warn`` and the default), to send as ``Warning`` headers.

    Raises:
        errors.BadRequest: a wrongly typed field, or unknown fields with ``fieldValidation=Strict``.
    """
    schema = KINDS.get(kind)
    if schema is None:
        return []
    walk = _Walk(kind)
    walk.walk(obj, schema, "")
    if not walk.unknown or field_validation == "Ignore":
        return []
    listed = ", ".join(f'unknown field "{p}"' for p in _paths_with_indexes(obj, walk.unknown))
    if field_validation == "Strict":
        raise errors.BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: strict decoding error: '
                                f"{listed}")
    return [f'unknown field "{p}"' for p in _paths_with_indexes(obj, walk.unknown)]


def _paths_with_indexes(obj: dict[str, Any], paths: list[str]) -> list[str]:
    """The apiserver names list items by index (``spec.template.spec.containers[0].imag``)."""
    out = []
    for path in paths:
        out.append(_index_path(obj, path.split(".")) or path)
    return out


def _index_path(value: Any, parts: list[str]) -> str | None:
    if not parts:
        return ""
    if isinstance(value, dict):
        head, rest = parts[0], parts[1:]
        if head not in value:
            return None
        tail = _index_path(value[head], rest)
        if tail is None:
            return None
        return head + (("." + tail) if tail and not tail.startswith("[") else tail)
    if isinstance(value, list):
        for index, item in enumerate(value):
            tail = _index_path(item, parts)
            if tail is not None:
                return f"[{index}]" + ("." + tail if tail and not tail.startswith("[") else tail)
    return None


def drop_unknown(obj: dict[str, Any], kind: str) -> None:
    """Remove the fields the kind does not have (what decoding into the Go struct does)."""
    schema = KINDS.get(kind)
    if schema is not None:
        _drop(obj, schema)


def _drop(value: Any, schema: Any) -> None:
    if isinstance(schema, tuple) and schema[0] == "struct" and isinstance(value, dict):
        for key in list(value):
            if key not in schema[2]:
                del value[key]
            else:
                _drop(value[key], schema[2][key])
    elif isinstance(schema, tuple) and schema[0] == "list" and isinstance(value, list):
        for item in value:
            _drop(item, schema[1])
    elif isinstance(schema, tuple) and schema[0] == "map" and isinstance(value, dict):
        for item in value.values():
            _drop(item, schema[1])


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
        value = gojson.loads(data)
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
    if api_version.count("/") > 1 and api_version != "/":
        raise ValueError(f"unexpected GroupVersion string: {api_version}")
    return value


def decode_json_body(data: bytes, into_kind: str | None) -> dict[str, Any]:
    """Decode a JSON request body as the create and update handlers do, with their error messages.

    Args:
        data: The body.
        into_kind: The kind the endpoint takes (``ConfigMap``), for the messages; None words errors
            bare, as for subresources.

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
        raise errors.transform_decode_error(str(err), into_kind, data) from None
    return value if isinstance(value, dict) else {}

"""Provides the decoder of the Kubernetes protobuf request bodies kubectl sends, into the JSON object shape."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any, Final, NamedTuple

from tutor.kube.strconv import quote
from tutor.practice.apiserver.errors import BadRequest, transform_decode_error

# kubectl's typed generators (``kubectl create deployment|namespace|service|configmap|secret``) POST
# ``application/vnd.kubernetes.protobuf``: the 4 magic bytes ``k8s\x00``, then a proto2
# ``runtime.Unknown`` whose ``typeMeta`` names the kind and whose ``raw`` is the object encoded as proto2
# (``k8s.io.api.apps.v1.Deployment``, ...). This module reads that wire format with a small generic
# reader driven by the declarative :data:`_SCHEMA` table (message name -> field number -> JSON name,
# type, flags), copied from the upstream ``generated.proto`` files, and returns what the same object
# looks like in the Kubernetes JSON API. Field numbers were read from kubernetes/kubernetes
# ``staging/src/k8s.io/...``: ``api/apps/v1/generated.proto`` (0122c43a), ``api/core/v1/generated.proto``
# (0032f46b), ``apimachinery/pkg/apis/meta/v1/generated.proto`` (65075ef1, tenstad/kubernetes fork),
# ``apimachinery/pkg/runtime/generated.proto`` (203d8ac8), ``pkg/util/intstr`` (009a4a8b) and
# ``pkg/api/resource`` (0f9f0907); error wording from ``pkg/runtime/serializer/protobuf/protobuf.go``,
# the gogo-generated ``pkg/runtime/generated.pb.go`` and the handlers' ``transformDecodeError``.
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
_GO_NAMES: Final = {"metadata": "ObjectMeta", "apiVersion": "APIVersion", "uid": "UID"}


class Field(NamedTuple):
    """One field of a message in :data:`_SCHEMA`.

    ``type`` is a scalar (``string``, ``bytes``, ``raw``, ``int32``, ``int64``, ``bool``), a well-known
    message (``time``, ``intstr``, ``quantity``, ``fieldsv1``), ``msg:<Message>``, ``inline:<Message>``
    (a Go embedded struct whose fields JSON inlines into this object) or ``map:<value type>`` (a proto
    map of string keys; value type ``string``, ``bytes`` or ``quantity``).
    """

    json: str
    type: str
    flags: frozenset[str] = frozenset()

    @property
    def go_name(self) -> str:
        """The Go field name the generated Go decoder names in its errors."""
        return _GO_NAMES.get(self.json) or self.json[:1].upper() + self.json[1:]


def _f(json_name: str, type_: str, *flags: str) -> Field:
    return Field(json_name, type_, frozenset(flags))


_Schema = dict[int, Field]

# The messages of k8s.io/apimachinery/pkg/runtime, pkg/apis/meta/v1, pkg/util/intstr, pkg/api/resource.
_META: dict[str, _Schema] = {
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
    "ObjectMeta": {
        1: _f("name", "string"),
        2: _f("generateName", "string"),
        3: _f("namespace", "string"),
        4: _f("selfLink", "string"),
        5: _f("uid", "string"),
        6: _f("resourceVersion", "string"),
        7: _f("generation", "int64"),
        8: _f("creationTimestamp", "time"),
        9: _f("deletionTimestamp", "time"),
        10: _f("deletionGracePeriodSeconds", "int64", PTR),
        11: _f("labels", "map:string"),
        12: _f("annotations", "map:string"),
        13: _f("ownerReferences", "msg:OwnerReference", REPEATED),
        14: _f("finalizers", "string", REPEATED),
        17: _f("managedFields", "msg:ManagedFieldsEntry", REPEATED),
    },
    "OwnerReference": {
        5: _f("apiVersion", "string", KEEP),
        1: _f("kind", "string", KEEP),
        3: _f("name", "string", KEEP),
        4: _f("uid", "string", KEEP),
        6: _f("controller", "bool", PTR),
        7: _f("blockOwnerDeletion", "bool", PTR),
    },
    "ManagedFieldsEntry": {
        1: _f("manager", "string"),
        2: _f("operation", "string"),
        3: _f("apiVersion", "string"),
        4: _f("time", "time"),
        6: _f("fieldsType", "string"),
        7: _f("fieldsV1", "fieldsv1"),
        8: _f("subresource", "string"),
    },
    "LabelSelector": {
        1: _f("matchLabels", "map:string"),
        2: _f("matchExpressions", "msg:LabelSelectorRequirement", REPEATED),
    },
    "LabelSelectorRequirement": {
        1: _f("key", "string", KEEP),
        2: _f("operator", "string", KEEP),
        3: _f("values", "string", REPEATED),
    },
    "Condition": {
        1: _f("type", "string", KEEP),
        2: _f("status", "string", KEEP),
        3: _f("observedGeneration", "int64"),
        4: _f("lastTransitionTime", "time"),
        5: _f("reason", "string", KEEP),
        6: _f("message", "string", KEEP),
    },
    # Proto map entries (key = 1, value = 2); Go keeps empty values in maps.
    "StringMapEntry": {1: _f("key", "string", KEEP), 2: _f("value", "string", KEEP)},
    "BytesMapEntry": {1: _f("key", "string", KEEP), 2: _f("value", "bytes", KEEP)},
    "QuantityMapEntry": {1: _f("key", "string", KEEP), 2: _f("value", "quantity")},
}

# The messages of k8s.io/api/apps/v1.
_APPS: dict[str, _Schema] = {
    "Deployment": {
        1: _f("metadata", "msg:ObjectMeta"),
        2: _f("spec", "msg:DeploymentSpec"),
        3: _f("status", "msg:DeploymentStatus"),
    },
    "DeploymentSpec": {
        1: _f("replicas", "int32", PTR),
        2: _f("selector", "msg:LabelSelector"),
        3: _f("template", "msg:PodTemplateSpec"),
        4: _f("strategy", "msg:DeploymentStrategy"),
        5: _f("minReadySeconds", "int32"),
        6: _f("revisionHistoryLimit", "int32", PTR),
        7: _f("paused", "bool"),
        9: _f("progressDeadlineSeconds", "int32", PTR),
        10: _f("podReplacementPolicy", "string", PTR),
    },
    "DeploymentStrategy": {1: _f("type", "string"), 2: _f("rollingUpdate", "msg:RollingUpdateDeployment")},
    "RollingUpdateDeployment": {1: _f("maxUnavailable", "intstr"), 2: _f("maxSurge", "intstr")},
    "DeploymentStatus": {
        1: _f("observedGeneration", "int64"),
        2: _f("replicas", "int32"),
        3: _f("updatedReplicas", "int32"),
        7: _f("readyReplicas", "int32"),
        4: _f("availableReplicas", "int32"),
        5: _f("unavailableReplicas", "int32"),
        9: _f("terminatingReplicas", "int32", PTR),
        6: _f("conditions", "msg:DeploymentCondition", REPEATED),
        8: _f("collisionCount", "int32", PTR),
    },
    "DeploymentCondition": {
        1: _f("type", "string", KEEP),
        2: _f("status", "string", KEEP),
        6: _f("lastUpdateTime", "time"),
        7: _f("lastTransitionTime", "time"),
        4: _f("reason", "string"),
        5: _f("message", "string"),
    },
    "ReplicaSet": {
        1: _f("metadata", "msg:ObjectMeta"),
        2: _f("spec", "msg:ReplicaSetSpec"),
        3: _f("status", "msg:ReplicaSetStatus"),
    },
    "ReplicaSetSpec": {
        1: _f("replicas", "int32", PTR),
        4: _f("minReadySeconds", "int32"),
        2: _f("selector", "msg:LabelSelector"),
        3: _f("template", "msg:PodTemplateSpec"),
    },
    "ReplicaSetStatus": {
        1: _f("replicas", "int32", KEEP),
        2: _f("fullyLabeledReplicas", "int32"),
        4: _f("readyReplicas", "int32"),
        5: _f("availableReplicas", "int32"),
        7: _f("terminatingReplicas", "int32", PTR),
        3: _f("observedGeneration", "int64"),
        6: _f("conditions", "msg:ReplicaSetCondition", REPEATED),
    },
    "ReplicaSetCondition": {
        1: _f("type", "string", KEEP),
        2: _f("status", "string", KEEP),
        3: _f("lastTransitionTime", "time"),
        4: _f("reason", "string"),
        5: _f("message", "string"),
    },
}

# The messages of k8s.io/api/core/v1 that Namespace, Service, ConfigMap, Secret and Pod (templates) use.
_CORE: dict[str, _Schema] = {
    "Namespace": {
        1: _f("metadata", "msg:ObjectMeta"),
        2: _f("spec", "msg:NamespaceSpec"),
        3: _f("status", "msg:NamespaceStatus"),
    },
    "NamespaceSpec": {1: _f("finalizers", "string", REPEATED)},
    "NamespaceStatus": {1: _f("phase", "string"), 2: _f("conditions", "msg:NamespaceCondition", REPEATED)},
    "NamespaceCondition": {
        1: _f("type", "string", KEEP),
        2: _f("status", "string", KEEP),
        4: _f("lastTransitionTime", "time"),
        5: _f("reason", "string"),
        6: _f("message", "string"),
    },
    "ConfigMap": {
        1: _f("metadata", "msg:ObjectMeta"),
        4: _f("immutable", "bool", PTR),
        2: _f("data", "map:string"),
        3: _f("binaryData", "map:bytes"),
    },
    "Secret": {
        1: _f("metadata", "msg:ObjectMeta"),
        5: _f("immutable", "bool", PTR),
        2: _f("data", "map:bytes"),
        4: _f("stringData", "map:string"),
        3: _f("type", "string"),
    },
    "Service": {
        1: _f("metadata", "msg:ObjectMeta"),
        2: _f("spec", "msg:ServiceSpec"),
        3: _f("status", "msg:ServiceStatus"),
    },
    "ServiceSpec": {
        1: _f("ports", "msg:ServicePort", REPEATED),
        2: _f("selector", "map:string"),
        3: _f("clusterIP", "string"),
        18: _f("clusterIPs", "string", REPEATED),
        4: _f("type", "string"),
        5: _f("externalIPs", "string", REPEATED),
        7: _f("sessionAffinity", "string"),
        8: _f("loadBalancerIP", "string"),
        9: _f("loadBalancerSourceRanges", "string", REPEATED),
        10: _f("externalName", "string"),
        11: _f("externalTrafficPolicy", "string"),
        12: _f("healthCheckNodePort", "int32"),
        13: _f("publishNotReadyAddresses", "bool"),
        14: _f("sessionAffinityConfig", "msg:SessionAffinityConfig"),
        19: _f("ipFamilies", "string", REPEATED),
        17: _f("ipFamilyPolicy", "string", PTR),
        20: _f("allocateLoadBalancerNodePorts", "bool", PTR),
        21: _f("loadBalancerClass", "string", PTR),
        22: _f("internalTrafficPolicy", "string", PTR),
        23: _f("trafficDistribution", "string", PTR),
    },
    "ServicePort": {
        1: _f("name", "string"),
        2: _f("protocol", "string"),
        6: _f("appProtocol", "string", PTR),
        3: _f("port", "int32", KEEP),
        4: _f("targetPort", "intstr"),
        5: _f("nodePort", "int32"),
    },
    "SessionAffinityConfig": {1: _f("clientIP", "msg:ClientIPConfig")},
    "ClientIPConfig": {1: _f("timeoutSeconds", "int32", PTR)},
    "ServiceStatus": {
        1: _f("loadBalancer", "msg:LoadBalancerStatus"),
        2: _f("conditions", "msg:Condition", REPEATED),
    },
    "LoadBalancerStatus": {1: _f("ingress", "msg:LoadBalancerIngress", REPEATED)},
    "LoadBalancerIngress": {
        1: _f("ip", "string"),
        2: _f("hostname", "string"),
        3: _f("ipMode", "string", PTR),
        4: _f("ports", "msg:PortStatus", REPEATED),
    },
    "PortStatus": {
        1: _f("port", "int32", KEEP),
        2: _f("protocol", "string", KEEP),
        3: _f("error", "string", PTR),
    },
    "Pod": {
        1: _f("metadata", "msg:ObjectMeta"),
        2: _f("spec", "msg:PodSpec"),
        3: _f("status", "msg:PodStatus"),
    },
    "PodTemplateSpec": {1: _f("metadata", "msg:ObjectMeta"), 2: _f("spec", "msg:PodSpec")},
    "PodSpec": {
        1: _f("volumes", "msg:Volume", REPEATED),
        20: _f("initContainers", "msg:Container", REPEATED),
        2: _f("containers", "msg:Container", REPEATED),
        34: _f("ephemeralContainers", "msg:EphemeralContainer", REPEATED),
        3: _f("restartPolicy", "string"),
        4: _f("terminationGracePeriodSeconds", "int64", PTR),
        5: _f("activeDeadlineSeconds", "int64", PTR),
        6: _f("dnsPolicy", "string"),
        7: _f("nodeSelector", "map:string"),
        8: _f("serviceAccountName", "string"),
        9: _f("serviceAccount", "string"),
        21: _f("automountServiceAccountToken", "bool", PTR),
        10: _f("nodeName", "string"),
        11: _f("hostNetwork", "bool"),
        12: _f("hostPID", "bool"),
        13: _f("hostIPC", "bool"),
        27: _f("shareProcessNamespace", "bool", PTR),
        14: _f("securityContext", "msg:PodSecurityContext"),
        15: _f("imagePullSecrets", "msg:LocalObjectReference", REPEATED),
        16: _f("hostname", "string"),
        17: _f("subdomain", "string"),
        18: _f("affinity", "msg:Affinity"),
        19: _f("schedulerName", "string"),
        22: _f("tolerations", "msg:Toleration", REPEATED),
        23: _f("hostAliases", "msg:HostAlias", REPEATED),
        24: _f("priorityClassName", "string"),
        25: _f("priority", "int32", PTR),
        26: _f("dnsConfig", "msg:PodDNSConfig"),
        28: _f("readinessGates", "msg:PodReadinessGate", REPEATED),
        29: _f("runtimeClassName", "string", PTR),
        30: _f("enableServiceLinks", "bool", PTR),
        31: _f("preemptionPolicy", "string", PTR),
        32: _f("overhead", "map:quantity"),
        33: _f("topologySpreadConstraints", "msg:TopologySpreadConstraint", REPEATED),
        35: _f("setHostnameAsFQDN", "bool", PTR),
        36: _f("os", "msg:PodOS"),
        37: _f("hostUsers", "bool", PTR),
        38: _f("schedulingGates", "msg:PodSchedulingGate", REPEATED),
        39: _f("resourceClaims", "msg:PodResourceClaim", REPEATED),
        40: _f("resources", "msg:ResourceRequirements"),
        41: _f("hostnameOverride", "string", PTR),
        42: _f("workloadRef", "msg:WorkloadReference"),
    },
    "PodSecurityContext": {
        1: _f("seLinuxOptions", "msg:SELinuxOptions"),
        8: _f("windowsOptions", "msg:WindowsSecurityContextOptions"),
        2: _f("runAsUser", "int64", PTR),
        6: _f("runAsGroup", "int64", PTR),
        3: _f("runAsNonRoot", "bool", PTR),
        4: _f("supplementalGroups", "int64", REPEATED),
        12: _f("supplementalGroupsPolicy", "string", PTR),
        5: _f("fsGroup", "int64", PTR),
        7: _f("sysctls", "msg:Sysctl", REPEATED),
        9: _f("fsGroupChangePolicy", "string", PTR),
        10: _f("seccompProfile", "msg:SeccompProfile"),
        11: _f("appArmorProfile", "msg:AppArmorProfile"),
        13: _f("seLinuxChangePolicy", "string", PTR),
    },
    "SELinuxOptions": {
        1: _f("user", "string"),
        2: _f("role", "string"),
        3: _f("type", "string"),
        4: _f("level", "string"),
    },
    "WindowsSecurityContextOptions": {
        1: _f("gmsaCredentialSpecName", "string", PTR),
        2: _f("gmsaCredentialSpec", "string", PTR),
        3: _f("runAsUserName", "string", PTR),
        4: _f("hostProcess", "bool", PTR),
    },
    "Sysctl": {1: _f("name", "string", KEEP), 2: _f("value", "string", KEEP)},
    "SeccompProfile": {1: _f("type", "string", KEEP), 2: _f("localhostProfile", "string", PTR)},
    "AppArmorProfile": {1: _f("type", "string", KEEP), 2: _f("localhostProfile", "string", PTR)},
    "LocalObjectReference": {1: _f("name", "string")},
    "Affinity": {
        1: _f("nodeAffinity", "msg:NodeAffinity"),
        2: _f("podAffinity", "msg:PodAffinity"),
        3: _f("podAntiAffinity", "msg:PodAffinity"),
    },
    "NodeAffinity": {
        1: _f("requiredDuringSchedulingIgnoredDuringExecution", "msg:NodeSelector"),
        2: _f("preferredDuringSchedulingIgnoredDuringExecution", "msg:PreferredSchedulingTerm", REPEATED),
    },
    "NodeSelector": {1: _f("nodeSelectorTerms", "msg:NodeSelectorTerm", REPEATED)},
    "NodeSelectorTerm": {
        1: _f("matchExpressions", "msg:NodeSelectorRequirement", REPEATED),
        2: _f("matchFields", "msg:NodeSelectorRequirement", REPEATED),
    },
    "NodeSelectorRequirement": {
        1: _f("key", "string", KEEP),
        2: _f("operator", "string", KEEP),
        3: _f("values", "string", REPEATED),
    },
    "PreferredSchedulingTerm": {1: _f("weight", "int32", KEEP), 2: _f("preference", "msg:NodeSelectorTerm")},
    # PodAntiAffinity has the same fields as PodAffinity.
    "PodAffinity": {
        1: _f("requiredDuringSchedulingIgnoredDuringExecution", "msg:PodAffinityTerm", REPEATED),
        2: _f("preferredDuringSchedulingIgnoredDuringExecution", "msg:WeightedPodAffinityTerm", REPEATED),
    },
    "PodAffinityTerm": {
        1: _f("labelSelector", "msg:LabelSelector"),
        2: _f("namespaces", "string", REPEATED),
        3: _f("topologyKey", "string", KEEP),
        4: _f("namespaceSelector", "msg:LabelSelector"),
        5: _f("matchLabelKeys", "string", REPEATED),
        6: _f("mismatchLabelKeys", "string", REPEATED),
    },
    "WeightedPodAffinityTerm": {
        1: _f("weight", "int32", KEEP),
        2: _f("podAffinityTerm", "msg:PodAffinityTerm"),
    },
    "Toleration": {
        1: _f("key", "string"),
        2: _f("operator", "string"),
        3: _f("value", "string"),
        4: _f("effect", "string"),
        5: _f("tolerationSeconds", "int64", PTR),
    },
    "HostAlias": {1: _f("ip", "string", KEEP), 2: _f("hostnames", "string", REPEATED)},
    "PodDNSConfig": {
        1: _f("nameservers", "string", REPEATED),
        2: _f("searches", "string", REPEATED),
        3: _f("options", "msg:PodDNSConfigOption", REPEATED),
    },
    "PodDNSConfigOption": {1: _f("name", "string"), 2: _f("value", "string", PTR)},
    "PodReadinessGate": {1: _f("conditionType", "string", KEEP)},
    "TopologySpreadConstraint": {
        1: _f("maxSkew", "int32", KEEP),
        2: _f("topologyKey", "string", KEEP),
        3: _f("whenUnsatisfiable", "string", KEEP),
        4: _f("labelSelector", "msg:LabelSelector"),
        5: _f("minDomains", "int32", PTR),
        6: _f("nodeAffinityPolicy", "string", PTR),
        7: _f("nodeTaintsPolicy", "string", PTR),
        8: _f("matchLabelKeys", "string", REPEATED),
    },
    "PodOS": {1: _f("name", "string", KEEP)},
    "PodSchedulingGate": {1: _f("name", "string", KEEP)},
    "PodResourceClaim": {
        1: _f("name", "string", KEEP),
        3: _f("resourceClaimName", "string", PTR),
        4: _f("resourceClaimTemplateName", "string", PTR),
    },
    "WorkloadReference": {
        1: _f("name", "string"),
        2: _f("podGroup", "string"),
        3: _f("podGroupReplicaKey", "string"),
    },
    # EphemeralContainerCommon has the same field numbers as Container.
    "Container": {
        1: _f("name", "string", KEEP),
        2: _f("image", "string"),
        3: _f("command", "string", REPEATED),
        4: _f("args", "string", REPEATED),
        5: _f("workingDir", "string"),
        6: _f("ports", "msg:ContainerPort", REPEATED),
        19: _f("envFrom", "msg:EnvFromSource", REPEATED),
        7: _f("env", "msg:EnvVar", REPEATED),
        8: _f("resources", "msg:ResourceRequirements"),
        23: _f("resizePolicy", "msg:ContainerResizePolicy", REPEATED),
        24: _f("restartPolicy", "string", PTR),
        25: _f("restartPolicyRules", "msg:ContainerRestartRule", REPEATED),
        9: _f("volumeMounts", "msg:VolumeMount", REPEATED),
        21: _f("volumeDevices", "msg:VolumeDevice", REPEATED),
        10: _f("livenessProbe", "msg:Probe"),
        11: _f("readinessProbe", "msg:Probe"),
        22: _f("startupProbe", "msg:Probe"),
        12: _f("lifecycle", "msg:Lifecycle"),
        13: _f("terminationMessagePath", "string"),
        20: _f("terminationMessagePolicy", "string"),
        14: _f("imagePullPolicy", "string"),
        15: _f("securityContext", "msg:SecurityContext"),
        16: _f("stdin", "bool"),
        17: _f("stdinOnce", "bool"),
        18: _f("tty", "bool"),
    },
    "EphemeralContainer": {
        1: _f("ephemeralContainerCommon", "inline:Container"),
        2: _f("targetContainerName", "string"),
    },
    "ContainerPort": {
        1: _f("name", "string"),
        2: _f("hostPort", "int32"),
        3: _f("containerPort", "int32", KEEP),
        4: _f("protocol", "string"),
        5: _f("hostIP", "string"),
    },
    "ContainerResizePolicy": {1: _f("resourceName", "string", KEEP), 2: _f("restartPolicy", "string", KEEP)},
    "ContainerRestartRule": {
        1: _f("action", "string", KEEP),
        2: _f("exitCodes", "msg:ContainerRestartRuleOnExitCodes"),
    },
    "ContainerRestartRuleOnExitCodes": {
        1: _f("operator", "string", KEEP),
        2: _f("values", "int32", REPEATED),
    },
    "EnvFromSource": {
        1: _f("prefix", "string"),
        2: _f("configMapRef", "msg:ConfigMapEnvSource"),
        3: _f("secretRef", "msg:ConfigMapEnvSource"),
    },
    # SecretEnvSource has the same fields as ConfigMapEnvSource.
    "ConfigMapEnvSource": {
        1: _f("localObjectReference", "inline:LocalObjectReference"),
        2: _f("optional", "bool", PTR),
    },
    "EnvVar": {
        1: _f("name", "string", KEEP),
        2: _f("value", "string"),
        3: _f("valueFrom", "msg:EnvVarSource"),
    },
    "EnvVarSource": {
        1: _f("fieldRef", "msg:ObjectFieldSelector"),
        2: _f("resourceFieldRef", "msg:ResourceFieldSelector"),
        3: _f("configMapKeyRef", "msg:KeySelector"),
        4: _f("secretKeyRef", "msg:KeySelector"),
        5: _f("fileKeyRef", "msg:FileKeySelector"),
    },
    "ObjectFieldSelector": {1: _f("apiVersion", "string"), 2: _f("fieldPath", "string", KEEP)},
    "ResourceFieldSelector": {
        1: _f("containerName", "string"),
        2: _f("resource", "string", KEEP),
        3: _f("divisor", "quantity"),
    },
    # ConfigMapKeySelector and SecretKeySelector have the same fields.
    "KeySelector": {
        1: _f("localObjectReference", "inline:LocalObjectReference"),
        2: _f("key", "string", KEEP),
        3: _f("optional", "bool", PTR),
    },
    "FileKeySelector": {
        1: _f("volumeName", "string", KEEP),
        2: _f("path", "string", KEEP),
        3: _f("key", "string", KEEP),
        4: _f("optional", "bool", PTR),
    },
    "ResourceRequirements": {
        1: _f("limits", "map:quantity"),
        2: _f("requests", "map:quantity"),
        3: _f("claims", "msg:ResourceClaim", REPEATED),
    },
    "ResourceClaim": {1: _f("name", "string", KEEP), 2: _f("request", "string")},
    "VolumeMount": {
        1: _f("name", "string", KEEP),
        2: _f("readOnly", "bool"),
        7: _f("recursiveReadOnly", "string", PTR),
        3: _f("mountPath", "string", KEEP),
        4: _f("subPath", "string"),
        5: _f("mountPropagation", "string", PTR),
        6: _f("subPathExpr", "string"),
    },
    "VolumeDevice": {1: _f("name", "string", KEEP), 2: _f("devicePath", "string", KEEP)},
    "Probe": {
        1: _f("handler", "inline:ProbeHandler"),
        2: _f("initialDelaySeconds", "int32"),
        3: _f("timeoutSeconds", "int32"),
        4: _f("periodSeconds", "int32"),
        5: _f("successThreshold", "int32"),
        6: _f("failureThreshold", "int32"),
        7: _f("terminationGracePeriodSeconds", "int64", PTR),
    },
    "ProbeHandler": {
        1: _f("exec", "msg:ExecAction"),
        2: _f("httpGet", "msg:HTTPGetAction"),
        3: _f("tcpSocket", "msg:TCPSocketAction"),
        4: _f("grpc", "msg:GRPCAction"),
    },
    "ExecAction": {1: _f("command", "string", REPEATED)},
    "HTTPGetAction": {
        1: _f("path", "string"),
        2: _f("port", "intstr"),
        3: _f("host", "string"),
        4: _f("scheme", "string"),
        5: _f("httpHeaders", "msg:HTTPHeader", REPEATED),
    },
    "HTTPHeader": {1: _f("name", "string", KEEP), 2: _f("value", "string", KEEP)},
    "TCPSocketAction": {1: _f("port", "intstr"), 2: _f("host", "string")},
    "GRPCAction": {1: _f("port", "int32", KEEP), 2: _f("service", "string", PTR)},
    "Lifecycle": {
        1: _f("postStart", "msg:LifecycleHandler"),
        2: _f("preStop", "msg:LifecycleHandler"),
        3: _f("stopSignal", "string", PTR),
    },
    "LifecycleHandler": {
        1: _f("exec", "msg:ExecAction"),
        2: _f("httpGet", "msg:HTTPGetAction"),
        3: _f("tcpSocket", "msg:TCPSocketAction"),
        4: _f("sleep", "msg:SleepAction"),
    },
    "SleepAction": {1: _f("seconds", "int64", KEEP)},
    "SecurityContext": {
        1: _f("capabilities", "msg:Capabilities"),
        2: _f("privileged", "bool", PTR),
        3: _f("seLinuxOptions", "msg:SELinuxOptions"),
        10: _f("windowsOptions", "msg:WindowsSecurityContextOptions"),
        4: _f("runAsUser", "int64", PTR),
        8: _f("runAsGroup", "int64", PTR),
        5: _f("runAsNonRoot", "bool", PTR),
        6: _f("readOnlyRootFilesystem", "bool", PTR),
        7: _f("allowPrivilegeEscalation", "bool", PTR),
        9: _f("procMount", "string", PTR),
        11: _f("seccompProfile", "msg:SeccompProfile"),
        12: _f("appArmorProfile", "msg:AppArmorProfile"),
        13: _f("ulimits", "msg:Ulimit", REPEATED),
    },
    "Capabilities": {1: _f("add", "string", REPEATED), 2: _f("drop", "string", REPEATED)},
    "Ulimit": {1: _f("name", "string", KEEP), 2: _f("hard", "int64", KEEP), 3: _f("soft", "int64", KEEP)},
    "Volume": {1: _f("name", "string", KEEP), 2: _f("volumeSource", "inline:VolumeSource")},
    # Only the volume sources a practice cluster can make sense of; the cloud ones are skipped.
    "VolumeSource": {
        1: _f("hostPath", "msg:HostPathVolumeSource"),
        2: _f("emptyDir", "msg:EmptyDirVolumeSource"),
        6: _f("secret", "msg:SecretVolumeSource"),
        7: _f("nfs", "msg:NFSVolumeSource"),
        10: _f("persistentVolumeClaim", "msg:PersistentVolumeClaimVolumeSource"),
        16: _f("downwardAPI", "msg:DownwardAPIVolumeSource"),
        19: _f("configMap", "msg:ConfigMapVolumeSource"),
        26: _f("projected", "msg:ProjectedVolumeSource"),
        30: _f("image", "msg:ImageVolumeSource"),
    },
    "HostPathVolumeSource": {1: _f("path", "string", KEEP), 2: _f("type", "string", PTR)},
    "EmptyDirVolumeSource": {1: _f("medium", "string"), 2: _f("sizeLimit", "quantity")},
    "SecretVolumeSource": {
        1: _f("secretName", "string"),
        2: _f("items", "msg:KeyToPath", REPEATED),
        3: _f("defaultMode", "int32", PTR),
        4: _f("optional", "bool", PTR),
    },
    "ConfigMapVolumeSource": {
        1: _f("localObjectReference", "inline:LocalObjectReference"),
        2: _f("items", "msg:KeyToPath", REPEATED),
        3: _f("defaultMode", "int32", PTR),
        4: _f("optional", "bool", PTR),
    },
    "KeyToPath": {1: _f("key", "string", KEEP), 2: _f("path", "string", KEEP), 3: _f("mode", "int32", PTR)},
    "NFSVolumeSource": {
        1: _f("server", "string", KEEP),
        2: _f("path", "string", KEEP),
        3: _f("readOnly", "bool"),
    },
    "PersistentVolumeClaimVolumeSource": {1: _f("claimName", "string", KEEP), 2: _f("readOnly", "bool")},
    "DownwardAPIVolumeSource": {
        1: _f("items", "msg:DownwardAPIVolumeFile", REPEATED),
        2: _f("defaultMode", "int32", PTR),
    },
    "DownwardAPIVolumeFile": {
        1: _f("path", "string", KEEP),
        2: _f("fieldRef", "msg:ObjectFieldSelector"),
        3: _f("resourceFieldRef", "msg:ResourceFieldSelector"),
        4: _f("mode", "int32", PTR),
    },
    "ProjectedVolumeSource": {
        1: _f("sources", "msg:VolumeProjection", REPEATED),
        2: _f("defaultMode", "int32", PTR),
    },
    "VolumeProjection": {
        1: _f("secret", "msg:ObjectProjection"),
        2: _f("downwardAPI", "msg:DownwardAPIProjection"),
        3: _f("configMap", "msg:ObjectProjection"),
        4: _f("serviceAccountToken", "msg:ServiceAccountTokenProjection"),
    },
    # SecretProjection and ConfigMapProjection have the same fields.
    "ObjectProjection": {
        1: _f("localObjectReference", "inline:LocalObjectReference"),
        2: _f("items", "msg:KeyToPath", REPEATED),
        4: _f("optional", "bool", PTR),
    },
    "DownwardAPIProjection": {1: _f("items", "msg:DownwardAPIVolumeFile", REPEATED)},
    "ServiceAccountTokenProjection": {
        1: _f("audience", "string"),
        2: _f("expirationSeconds", "int64", PTR),
        3: _f("path", "string", KEEP),
    },
    "ImageVolumeSource": {1: _f("reference", "string"), 2: _f("pullPolicy", "string")},
    "PodStatus": {
        17: _f("observedGeneration", "int64"),
        1: _f("phase", "string"),
        2: _f("conditions", "msg:PodCondition", REPEATED),
        3: _f("message", "string"),
        4: _f("reason", "string"),
        11: _f("nominatedNodeName", "string"),
        5: _f("hostIP", "string"),
        16: _f("hostIPs", "msg:IPAddress", REPEATED),
        6: _f("podIP", "string"),
        12: _f("podIPs", "msg:IPAddress", REPEATED),
        7: _f("startTime", "time"),
        10: _f("initContainerStatuses", "msg:ContainerStatus", REPEATED),
        8: _f("containerStatuses", "msg:ContainerStatus", REPEATED),
        9: _f("qosClass", "string"),
        13: _f("ephemeralContainerStatuses", "msg:ContainerStatus", REPEATED),
        14: _f("resize", "string"),
        19: _f("allocatedResources", "map:quantity"),
        20: _f("resources", "msg:ResourceRequirements"),
    },
    "PodCondition": {
        1: _f("type", "string", KEEP),
        7: _f("observedGeneration", "int64"),
        2: _f("status", "string", KEEP),
        3: _f("lastProbeTime", "time"),
        4: _f("lastTransitionTime", "time"),
        5: _f("reason", "string"),
        6: _f("message", "string"),
    },
    # HostIP and PodIP.
    "IPAddress": {1: _f("ip", "string", KEEP)},
    "ContainerStatus": {
        1: _f("name", "string", KEEP),
        2: _f("state", "msg:ContainerState"),
        3: _f("lastState", "msg:ContainerState"),
        4: _f("ready", "bool", KEEP),
        5: _f("restartCount", "int32", KEEP),
        6: _f("image", "string", KEEP),
        7: _f("imageID", "string", KEEP),
        8: _f("containerID", "string"),
        9: _f("started", "bool", PTR),
        10: _f("allocatedResources", "map:quantity"),
        11: _f("resources", "msg:ResourceRequirements"),
        15: _f("stopSignal", "string", PTR),
    },
    "ContainerState": {
        1: _f("waiting", "msg:ContainerStateWaiting"),
        2: _f("running", "msg:ContainerStateRunning"),
        3: _f("terminated", "msg:ContainerStateTerminated"),
    },
    "ContainerStateWaiting": {1: _f("reason", "string"), 2: _f("message", "string")},
    "ContainerStateRunning": {1: _f("startedAt", "time")},
    "ContainerStateTerminated": {
        1: _f("exitCode", "int32", KEEP),
        2: _f("signal", "int32"),
        3: _f("reason", "string"),
        4: _f("message", "string"),
        5: _f("startedAt", "time"),
        6: _f("finishedAt", "time"),
        7: _f("containerID", "string"),
    },
}

_SCHEMA: Final[dict[str, _Schema]] = {**_META, **_APPS, **_CORE}
"""Message name -> field number -> :class:`Field`, from the upstream ``generated.proto`` files."""

_KINDS: Final[dict[tuple[str, str], str]] = {
    ("apps/v1", "Deployment"): "Deployment",
    ("apps/v1", "ReplicaSet"): "ReplicaSet",
    ("v1", "Namespace"): "Namespace",
    ("v1", "Service"): "Service",
    ("v1", "Pod"): "Pod",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
}
"""(apiVersion, kind) of the top-level objects :func:`decode` accepts -> their message."""

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
            return json.loads(raw) if raw else {}
        except (ValueError, RecursionError):
            raise _WireError("FieldsV1: the raw value is not JSON") from None
    return _decode(buf, start, end, type_.removeprefix("msg:"))


_MAP_ENTRIES: Final = {"string": "StringMapEntry", "bytes": "BytesMapEntry", "quantity": "QuantityMapEntry"}
_MAP_ZERO: Final = {"string": "", "bytes": "", "quantity": "0"}


def _decode(
    buf: bytes, start: int, end: int, message: str, out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Decode ``buf[start:end]`` as ``message`` into ``out`` (merging, as proto2 merges a repeated message)."""
    schema = _SCHEMA[message]
    out = {} if out is None else out
    reader = _Reader(buf, start, end)
    while reader.pos < reader.end:
        wire = reader.varint()
        number = _signed(wire >> 3, 32)
        wire_type = wire & 0x7
        if wire_type == _END_GROUP:
            raise _WireError(f"proto: {message}: wiretype end group for non-group")
        if number <= 0:
            raise _WireError(f"proto: {message}: illegal tag {number} (wire type {wire})")
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

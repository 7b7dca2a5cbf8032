"""Tests the decoder of Kubernetes protobuf request bodies against bodies the real kubectl sent."""

from __future__ import annotations

import base64
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from tutor.practice.apiserver.errors import BadRequest
from tutor.practice.apiserver.protobuf import CONTENT_TYPE, MAGIC, SUPPORTED_KINDS, decode, is_protobuf

FIXTURES = Path(__file__).parent / "data" / "protobuf"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text())
CAPTURES: dict[str, Any] = MANIFEST["captures"]
PROTOBUF_CAPTURES = sorted(name for name, entry in CAPTURES.items() if entry["expect_protobuf"])


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.bin").read_bytes()


def expected(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


# A tiny proto2 encoder, to build bodies kubectl does not send (Pods, strategies, malformed input).


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def num(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def ld(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return key(number, 2) + varint(len(data)) + data


def msg(number: int, *parts: bytes) -> bytes:
    return ld(number, b"".join(parts))


def strmap(number: int, mapping: dict[str, str]) -> bytes:
    return b"".join(msg(number, ld(1, k), ld(2, v)) for k, v in mapping.items())


def quantities(number: int, mapping: dict[str, str]) -> bytes:
    return b"".join(msg(number, ld(1, k), msg(2, ld(1, v))) for k, v in mapping.items())


def body(api_version: str, kind: str, raw: bytes) -> bytes:
    """A body as kubectl frames it: magic, then runtime.Unknown {typeMeta, raw, "", ""}."""
    return MAGIC + msg(1, ld(1, api_version), ld(2, kind)) + ld(2, raw) + ld(3, "") + ld(4, "")


def error_of(data: bytes, **kwargs: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        decode(data, **kwargs)
    return caught.value.message


# --- bodies captured from kubectl -------------------------------------------------------------------


def test_every_fixture_is_in_the_manifest() -> None:
    on_disk = sorted(p.stem for p in FIXTURES.glob("*.bin"))
    assert on_disk == PROTOBUF_CAPTURES
    assert len(PROTOBUF_CAPTURES) >= 10
    assert MANIFEST["kubectl"].startswith("v1.")


@pytest.mark.parametrize("name", PROTOBUF_CAPTURES)
def test_fixture_was_posted_as_protobuf(name: str) -> None:
    (write,) = CAPTURES[name]["writes"]
    assert write["method"] == "POST"
    assert is_protobuf(write["content_type"])
    assert fixture(name).startswith(MAGIC)


@pytest.mark.parametrize("name", PROTOBUF_CAPTURES)
def test_fixture_decodes_to_what_kubectl_prints_as_json(name: str) -> None:
    # <name>.json is `kubectl <same args> --dry-run=client -o json`: kubectl's own Go JSON rendering
    # of the object it encoded into the body.
    assert decode(fixture(name)) == expected(name)


def test_commands_that_kubectl_sends_as_json_are_recorded() -> None:
    json_captures = {name: entry for name, entry in CAPTURES.items() if not entry["expect_protobuf"]}
    assert {"expose-kubernetes-bootcamp", "run-pod"} <= set(json_captures)
    for entry in json_captures.values():
        for write in entry["writes"]:
            assert not is_protobuf(write["content_type"])
            json.loads(write["body"])


def test_kubernetes_bootcamp_deployment() -> None:
    assert decode(fixture("deployment-kubernetes-bootcamp")) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "kubernetes-bootcamp", "labels": {"app": "kubernetes-bootcamp"}},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "kubernetes-bootcamp"}},
            "template": {
                "metadata": {"labels": {"app": "kubernetes-bootcamp"}},
                "spec": {
                    "containers": [
                        {
                            "name": "kubernetes-bootcamp",
                            "image": "gcr.io/google-samples/kubernetes-bootcamp:v1",
                            "resources": {},
                        }
                    ]
                },
            },
            "strategy": {},
        },
        "status": {},
    }
    path = CAPTURES["deployment-kubernetes-bootcamp"]["writes"][0]["path"]
    assert path.startswith("/apis/apps/v1/namespaces/default/deployments?")


def test_deployment_with_port_and_replicas() -> None:
    obj = decode(fixture("deployment-web"))
    assert obj["metadata"] == {"name": "web", "labels": {"app": "web"}}
    assert obj["spec"]["replicas"] == 2
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    (container,) = obj["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "nginx"
    assert container["image"] == "nginx:1.25"
    assert container["ports"] == [{"containerPort": 80}]


def test_zero_replicas_is_kept() -> None:
    assert decode(fixture("deployment-zero"))["spec"]["replicas"] == 0


def test_deployment_with_two_images_in_a_namespace() -> None:
    obj = decode(fixture("deployment-multi"))
    assert obj["metadata"]["namespace"] == "lesson-1"
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("nginx", "nginx:1.25"),
        ("busybox", "busybox:1.36"),
    ]


def test_deployment_with_command() -> None:
    (container,) = decode(fixture("deployment-command"))["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sleep", "3600"]


def test_namespace() -> None:
    obj = decode(fixture("namespace-lesson-1"))
    assert obj["apiVersion"] == "v1"
    assert obj["kind"] == "Namespace"
    assert obj["metadata"] == {"name": "lesson-1"}


def test_nodeport_service() -> None:
    obj = decode(fixture("service-nodeport-web"))
    assert obj["kind"] == "Service"
    assert obj["metadata"] == {"name": "web", "labels": {"app": "web"}}
    assert obj["spec"] == {
        "ports": [{"name": "8080-80", "protocol": "TCP", "port": 8080, "targetPort": 80}],
        "selector": {"app": "web"},
        "type": "NodePort",
    }


def test_nodeport_service_with_fixed_node_port() -> None:
    (port,) = decode(fixture("service-nodeport-fixed"))["spec"]["ports"]
    assert port == {"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080}


def test_clusterip_services() -> None:
    other = decode(fixture("service-clusterip-other"))["spec"]
    assert other["type"] == "ClusterIP"
    assert other["ports"] == [{"name": "5678-8080", "protocol": "TCP", "port": 5678, "targetPort": 8080}]
    assert other["selector"] == {"app": "other"}
    headless = decode(fixture("service-clusterip-headless"))["spec"]
    assert headless["clusterIP"] == "None"
    assert "ports" not in headless


def test_loadbalancer_and_externalname_services() -> None:
    lb = decode(fixture("service-loadbalancer-lb"))["spec"]
    assert lb["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in lb["ports"]] == [(80, 8080), (443, 8443)]
    ext = decode(fixture("service-externalname-ext"))["spec"]
    assert ext["type"] == "ExternalName"
    assert ext["externalName"] == "example.com"


def test_configmaps() -> None:
    assert decode(fixture("configmap-settings"))["data"] == {"color": "blue", "size": "large"}
    blob = decode(fixture("configmap-binary"))
    assert blob["data"] == {"mode": "raw"}
    assert base64.b64decode(blob["binaryData"]["blob.bin"]) == bytes(range(256))


def test_secrets() -> None:
    creds = decode(fixture("secret-generic-creds"))
    assert {k: base64.b64decode(v) for k, v in creds["data"].items()} == {
        "user": b"admin",
        "password": b"s3cret",
    }
    assert "type" not in creds
    regcred = decode(fixture("secret-docker-registry"))
    assert regcred["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(regcred["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example"]["username"] == "student"


def test_accepts_bytearray_and_memoryview() -> None:
    data = fixture("namespace-lesson-1")
    assert decode(bytearray(data)) == decode(memoryview(data)) == decode(data)


# --- bodies built here ------------------------------------------------------------------------------

CREATED = 1767323045  # 2026-01-02T03:04:05Z


def pod_raw() -> bytes:
    metadata = msg(
        1,
        ld(1, "web-0"), ld(2, ""), ld(3, "lesson-1"), ld(4, ""), ld(5, "uid-1"), ld(6, ""), num(7, 3),
        msg(8, num(1, CREATED), num(2, 999)),
        strmap(11, {"app": "web", "tier": "frontend"}),
        strmap(12, {"note": ""}),
        msg(13, ld(5, "apps/v1"), ld(1, "ReplicaSet"), ld(3, "web-abc"), ld(4, "uid-rs"), num(6, 1), num(7, 1)),
        ld(14, "example.com/cleanup"),
    )  # fmt: skip
    container = msg(
        2,
        ld(1, "web"), ld(2, "nginx:1.25"), ld(3, "nginx"), ld(4, "-g"), ld(4, "daemon off;"), ld(5, "/srv"),
        msg(6, ld(1, "http"), num(2, 0), num(3, 80), ld(4, "TCP"), ld(5, "")),
        msg(6, ld(1, ""), num(2, 8443), num(3, 443), ld(4, "TCP"), ld(5, "127.0.0.1")),
        msg(7, ld(1, "GREETING"), ld(2, "hello")),
        msg(7, ld(1, "COLOR"), ld(2, ""), msg(3, msg(3, msg(1, ld(1, "settings")), ld(2, "color")))),
        msg(7, ld(1, "POD"), ld(2, ""), msg(3, msg(1, ld(1, "v1"), ld(2, "metadata.name")))),
        msg(8, quantities(1, {"cpu": "500m", "memory": "128Mi"}), quantities(2, {"cpu": "250m"})),
        msg(9, ld(1, "config"), num(2, 1), ld(3, "/etc/config"), ld(4, "")),
        msg(10, msg(1, msg(2, ld(1, "/healthz"), msg(2, num(1, 1), num(2, 0), ld(3, "http")), ld(4, "HTTP"))),
            num(2, 3), num(3, 1), num(4, 10), num(5, 1), num(6, 3)),
        msg(11, msg(1, msg(3, msg(1, num(1, 0), num(2, 80), ld(3, ""))))),
        ld(13, "/dev/termination-log"), ld(20, "File"), ld(14, "IfNotPresent"),
        msg(15, num(4, 1000), num(7, 0)),
        num(16, 0), num(17, 0), num(18, 0),
    )  # fmt: skip
    spec = msg(
        2,
        msg(1, ld(1, "config"), msg(2, msg(19, msg(1, ld(1, "settings")), num(3, 420)))),
        msg(1, ld(1, "scratch"), msg(2, msg(2, ld(1, ""), msg(2, ld(1, "1Gi"))))),
        container,
        ld(3, "Always"), num(4, 0), ld(6, "ClusterFirst"), strmap(7, {"disk": "ssd"}), ld(8, "builder"),
        ld(9, ""), ld(10, "node-1"), num(11, 0),
        msg(14, num(2, 1000), num(4, 1), num(4, 2), num(5, 2000)),
        ld(19, "default-scheduler"),
        msg(22, ld(1, "node.kubernetes.io/not-ready"), ld(2, "Exists"), ld(3, ""), ld(4, "NoExecute"), num(5, 300)),
        num(25, -5),
        num(30, 1),
    )  # fmt: skip
    status = msg(
        3,
        ld(1, "Running"),
        msg(2, ld(1, "Ready"), ld(2, "True"), msg(3), msg(4, num(1, CREATED + 60)), ld(5, ""), ld(6, "")),
        ld(5, "10.0.0.1"), ld(6, "10.244.0.7"), msg(12, ld(1, "10.244.0.7")),
        msg(7, num(1, CREATED)),
        msg(8, ld(1, "web"), msg(2, msg(2, msg(1, num(1, CREATED + 5)))), num(4, 1), num(5, 0),
            ld(6, "nginx:1.25"), ld(7, ""), ld(8, ""), num(9, 1)),
        ld(9, "Burstable"),
    )  # fmt: skip
    return metadata + spec + status


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-0",
        "namespace": "lesson-1",
        "uid": "uid-1",
        "generation": 3,
        "creationTimestamp": "2026-01-02T03:04:05Z",
        "labels": {"app": "web", "tier": "frontend"},
        "annotations": {"note": ""},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-abc",
                "uid": "uid-rs",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        "finalizers": ["example.com/cleanup"],
    },
    "spec": {
        "volumes": [
            {"name": "config", "configMap": {"name": "settings", "defaultMode": 420}},
            {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.25",
                "command": ["nginx"],
                "args": ["-g", "daemon off;"],
                "workingDir": "/srv",
                "ports": [
                    {"name": "http", "containerPort": 80, "protocol": "TCP"},
                    {"hostPort": 8443, "containerPort": 443, "protocol": "TCP", "hostIP": "127.0.0.1"},
                ],
                "env": [
                    {"name": "GREETING", "value": "hello"},
                    {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}},
                    {
                        "name": "POD",
                        "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
                    },
                ],
                "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
                "volumeMounts": [{"name": "config", "readOnly": True, "mountPath": "/etc/config"}],
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "initialDelaySeconds": 3,
                    "timeoutSeconds": 1,
                    "periodSeconds": 10,
                    "successThreshold": 1,
                    "failureThreshold": 3,
                },
                "readinessProbe": {"tcpSocket": {"port": 80}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
                "securityContext": {"runAsUser": 1000, "allowPrivilegeEscalation": False},
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 0,
        "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"disk": "ssd"},
        "serviceAccountName": "builder",
        "nodeName": "node-1",
        "securityContext": {"runAsUser": 1000, "supplementalGroups": [1, 2], "fsGroup": 2000},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
        ],
        "priority": -5,
        "enableServiceLinks": True,
    },
    "status": {
        "phase": "Running",
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "lastTransitionTime": "2026-01-02T03:05:05Z",
            }
        ],
        "hostIP": "10.0.0.1",
        "podIP": "10.244.0.7",
        "podIPs": [{"ip": "10.244.0.7"}],
        "startTime": "2026-01-02T03:04:05Z",
        "containerStatuses": [
            {
                "name": "web",
                "state": {"running": {"startedAt": "2026-01-02T03:04:10Z"}},
                "ready": True,
                "restartCount": 0,
                "image": "nginx:1.25",
                "imageID": "",
                "started": True,
            }
        ],
        "qosClass": "Burstable",
    },
}


def test_pod() -> None:
    assert decode(body("v1", "Pod", pod_raw())) == POD


def deployment_raw() -> bytes:
    return (
        msg(1, ld(1, "web"), msg(8))
        + msg(
            2,
            num(1, 3),
            msg(
                2,
                strmap(1, {"app": "web"}),
                msg(2, ld(1, "tier"), ld(2, "In"), ld(3, "frontend"), ld(3, "backend")),
            ),
            msg(3, msg(1, strmap(11, {"app": "web"})), msg(2, msg(2, ld(1, "web"), ld(2, "nginx:1.25")))),
            msg(
                4,
                ld(1, "RollingUpdate"),
                msg(2, msg(1, num(1, 0), num(2, 0)), msg(2, num(1, 1), ld(3, "25%"))),
            ),
            num(5, 5),
            num(6, 0),
            num(7, 1),
            num(9, 600),
        )
        + msg(3, num(1, 0), num(2, 0))
    )


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 3,
        "selector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "backend"]}],
        },
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
        },
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        "minReadySeconds": 5,
        "revisionHistoryLimit": 0,
        "paused": True,
        "progressDeadlineSeconds": 600,
    },
    "status": {},
}


def test_deployment_strategy_and_selector_expressions() -> None:
    assert decode(body("apps/v1", "Deployment", deployment_raw())) == DEPLOYMENT


def test_replicaset() -> None:
    raw = msg(
        1,
        ld(1, "web-abc"),
        msg(13, ld(5, "apps/v1"), ld(1, "Deployment"), ld(3, "web"), ld(4, "u"), num(6, 1)),
    )
    raw += msg(2, num(1, 2), msg(2, strmap(1, {"app": "web"})), num(4, 0))
    raw += msg(
        3, num(1, 0), num(3, 4), msg(6, ld(1, "ReplicaFailure"), ld(2, "False"), msg(3, num(1, CREATED)))
    )
    assert decode(body("apps/v1", "ReplicaSet", raw)) == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-abc",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u", "controller": True}
            ],
        },
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
        "status": {
            "replicas": 0,
            "observedGeneration": 4,
            "conditions": [
                {"type": "ReplicaFailure", "status": "False", "lastTransitionTime": "2026-01-02T03:04:05Z"}
            ],
        },
    }


def test_service_with_session_affinity_and_policies() -> None:
    raw = msg(1, ld(1, "svc")) + msg(
        2,
        msg(1, ld(1, "http"), ld(2, "TCP"), ld(6, "http"), num(3, 80), msg(4, num(1, 1), num(2, 0), ld(3, "web"))),
        ld(3, "10.96.0.10"), ld(18, "10.96.0.10"), ld(4, "NodePort"), ld(7, "ClientIP"), ld(11, "Local"),
        msg(14, msg(1, num(1, 10800))), ld(19, "IPv4"), ld(17, "SingleStack"), ld(22, "Cluster"),
    )  # fmt: skip
    assert decode(body("v1", "Service", raw))["spec"] == {
        "ports": [
            {"name": "http", "protocol": "TCP", "appProtocol": "http", "port": 80, "targetPort": "web"}
        ],
        "clusterIP": "10.96.0.10",
        "clusterIPs": ["10.96.0.10"],
        "type": "NodePort",
        "sessionAffinity": "ClientIP",
        "externalTrafficPolicy": "Local",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster",
    }


UNKNOWN_FIELDS = (
    num(90, 7)
    + key(91, 1) + b"\x01" * 8
    + key(92, 5) + b"\x02" * 4
    + ld(93, b"\xff\x00 anything")
    + key(94, 3) + num(1, 1) + key(2, 3) + ld(3, "nested") + key(2, 4) + key(94, 4)
)  # fmt: skip


def test_unknown_fields_are_skipped_at_every_level() -> None:
    raw = (
        UNKNOWN_FIELDS
        + msg(1, ld(1, "web"), ld(15, "removed clusterName"), UNKNOWN_FIELDS)
        + msg(
            2, UNKNOWN_FIELDS, num(1, 1), msg(3, msg(2, msg(2, ld(1, "web"), UNKNOWN_FIELDS, ld(2, "nginx"))))
        )
    )
    data = MAGIC + UNKNOWN_FIELDS + msg(1, ld(1, "apps/v1"), UNKNOWN_FIELDS, ld(2, "Deployment")) + ld(2, raw)
    assert decode(data) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    }


def test_packed_repeated_integers() -> None:
    packed = ld(4, varint(1) + varint(2) + varint(1 << 40))
    raw = msg(2, msg(2, ld(1, "c")), msg(14, packed, num(4, 7)))
    assert decode(body("v1", "Pod", raw))["spec"]["securityContext"] == {
        "supplementalGroups": [1, 2, 1 << 40, 7]
    }


def test_negative_and_wrapped_integers() -> None:
    raw = msg(2, num(25, -1), num(4, -30), num(5, (1 << 32) + 5))
    spec = decode(body("v1", "Pod", raw))["spec"]
    assert spec["priority"] == -1
    assert spec["terminationGracePeriodSeconds"] == -30
    assert spec["activeDeadlineSeconds"] == (1 << 32) + 5


def test_last_value_wins_and_zero_drops_an_omitempty_field() -> None:
    raw = msg(1, ld(1, "first"), ld(1, "second"), ld(3, "ns"), ld(3, ""))
    assert decode(body("v1", "Namespace", raw))["metadata"] == {"name": "second"}


def test_repeated_occurrences_of_a_message_field_merge() -> None:
    raw = msg(1, ld(1, "web")) + msg(1, strmap(11, {"app": "web"}))
    assert decode(body("v1", "Namespace", raw))["metadata"] == {"name": "web", "labels": {"app": "web"}}


def test_explicit_epoch_time_is_not_the_zero_time() -> None:
    raw = msg(1, ld(1, "old"), msg(8, num(1, 0)))
    assert decode(body("v1", "Namespace", raw))["metadata"]["creationTimestamp"] == "1970-01-01T00:00:00Z"


def test_managed_fields_are_decoded() -> None:
    entry = msg(17, ld(1, "kubectl"), ld(2, "Update"), ld(3, "v1"), msg(4, num(1, CREATED)), ld(6, "FieldsV1"),
                msg(7, ld(1, b'{"f:data":{".":{}}}')))  # fmt: skip
    assert decode(body("v1", "ConfigMap", msg(1, ld(1, "cm"), entry)))["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2026-01-02T03:04:05Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}}},
        }
    ]


def test_missing_kind_and_version_default_from_the_endpoint() -> None:
    data = MAGIC + msg(1) + ld(2, msg(1, ld(1, "web")))
    obj = decode(data, expected_kind="Deployment")
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]) == ("apps/v1", "Deployment", {"name": "web"})


def test_supported_kinds() -> None:
    assert SUPPORTED_KINDS == {
        ("apps/v1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("v1", "Namespace"),
        ("v1", "Service"),
        ("v1", "Pod"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),  # kubectl create serviceaccount, role, rolebinding, token, auth ... send these
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("authentication.k8s.io/v1", "TokenRequest"),
        ("authentication.k8s.io/v1", "SelfSubjectReview"),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
        ("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
        ("v1", "ResourceQuota"),  # kubectl create quota
        ("v1", "LimitRange"),
    }
    for api_version, kind in SUPPORTED_KINDS:
        assert decode(body(api_version, kind, b"")) == {"apiVersion": api_version, "kind": kind}


def test_schema_is_consistent() -> None:
    from tutor.practice.apiserver.protobuf import (
        _MAP_ENTRIES,
        _SCALAR_WIRE,
        _WIRE,
        KEEP,
        PTR,
        REPEATED,
        _schema,
    )
    from tutor.practice.apiserver.structs import STRUCTS

    well_known = {"time", "intstr", "quantity", "fieldsv1"}
    messages = {name: _schema(name) for name in [*_WIRE, *STRUCTS]}
    for message, fields in messages.items():
        assert len({f.json for f in fields.values()}) == len(fields), message
        for number, field in fields.items():
            assert 0 < number < 1 << 29, (message, number)
            assert field.flags <= {REPEATED, PTR, KEEP}, (message, field)
            prefix, _, target = field.type.partition(":")
            if prefix in ("msg", "inline"):
                assert target in messages, (message, field)
            elif prefix == "map":
                assert target in _MAP_ENTRIES, (message, field)
            else:
                assert field.type in _SCALAR_WIRE or field.type in well_known, (message, field)


def test_deeply_nested_fields_v1_is_a_bad_request() -> None:
    entry = msg(17, msg(7, ld(1, b"[" * 100_000)))
    assert "FieldsV1" in error_of(body("v1", "ConfigMap", msg(1, entry)))


# --- content types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        CONTENT_TYPE,
        "application/vnd.kubernetes.protobuf; charset=utf-8",
        " Application/Vnd.Kubernetes.Protobuf ",
    ],
)
def test_is_protobuf(content_type: str) -> None:
    assert is_protobuf(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "application/yaml",
        "application/strategic-merge-patch+json",
        "application/vnd.kubernetes.protobuf+json",
        "application/apply-patch+yaml",
    ],
)
def test_is_not_protobuf(content_type: str | None) -> None:
    assert not is_protobuf(content_type)


# --- malformed bodies -------------------------------------------------------------------------------


def test_empty_body() -> None:
    assert error_of(b"") == "empty data"
    assert error_of(b"", expected_kind="Deployment") == (
        "the object provided is unrecognized (must be of type Deployment): empty data (<empty>)"
    )


def test_only_the_magic() -> None:
    assert error_of(MAGIC) == "empty body"


@pytest.mark.parametrize("data", [b"k8s", b"k8s\x01" + fixture("namespace-lesson-1")[4:], b"\x00" * 16])
def test_bad_magic(data: bytes) -> None:
    assert error_of(data) == (
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )


def test_json_sent_as_protobuf() -> None:
    data = b'{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"x"}}'
    assert error_of(data, expected_kind="Namespace") == (
        "the object provided is unrecognized (must be of type Namespace): provided data does not appear"
        ' to be a protobuf message, expected prefix [107 56 115 0] ({"kind":"Namespace","apiVersio ...)'
    )


def test_truncated_wrapper() -> None:
    data = fixture("deployment-web")
    assert error_of(data[:30]) == "unexpected EOF"
    assert error_of(data[:30], expected_kind="Deployment") == (
        "the object provided is unrecognized (must be of type Deployment): unexpected EOF"
        f" ({data[:30].hex()})"
    )


def test_truncated_object() -> None:
    raw = deployment_raw()
    data = MAGIC + msg(1, ld(1, "apps/v1"), ld(2, "Deployment")) + key(2, 2) + varint(len(raw)) + raw[:-3]
    assert error_of(data) == "unexpected EOF"  # the raw field claims more bytes than there are
    data = body("apps/v1", "Deployment", raw[:-3])
    assert error_of(data, expected_kind="Deployment") == (
        'Deployment in version "v1" cannot be handled as a Deployment: unexpected EOF'
    )


def test_every_prefix_of_every_fixture_decodes_or_is_a_bad_request() -> None:
    for name in PROTOBUF_CAPTURES:
        data = fixture(name)
        for end in range(len(data)):
            try:
                decode(data[:end])
            except BadRequest:
                pass
        with pytest.raises(BadRequest):
            decode(data[: len(data) // 2])


def test_random_corruption_decodes_or_is_a_bad_request() -> None:
    rng = random.Random(20260102)
    for name in PROTOBUF_CAPTURES:
        original = fixture(name)
        for _ in range(200):
            data = bytearray(original)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(4, len(data))] = rng.randrange(256)
            try:
                decode(bytes(data))
            except BadRequest:
                pass


def test_garbage() -> None:
    rng = random.Random(7)
    for _ in range(500):
        try:
            decode(MAGIC + rng.randbytes(rng.randint(1, 64)))
        except BadRequest:
            pass
    assert error_of(MAGIC + b"\xff\xff\xff") == "unexpected EOF"


def test_truncated_varint() -> None:
    assert error_of(MAGIC + b"\x0a\x80") == "unexpected EOF"
    assert error_of(body("v1", "Pod", msg(2, key(25, 0) + b"\x80\x80"))) == "unexpected EOF"


def test_varint_overflow() -> None:
    assert error_of(MAGIC + b"\x0a" + b"\xff" * 10 + b"\x01") == "proto: integer overflow"


def test_negative_length() -> None:
    assert error_of(MAGIC + key(2, 2) + varint(1 << 63)) == "proto: negative length found during unmarshaling"


def test_wrong_wire_type_for_a_message() -> None:
    data = body("apps/v1", "Deployment", num(1, 1))
    assert error_of(data) == "proto: wrong wireType = 0 for field ObjectMeta"
    assert error_of(data, expected_kind="Deployment") == (
        'Deployment in version "v1" cannot be handled as a Deployment: proto: wrong wireType = 0 for field ObjectMeta'
    )


def test_wrong_wire_type_for_a_scalar() -> None:
    assert error_of(body("apps/v1", "Deployment", msg(2, ld(1, "3")))) == (
        "proto: wrong wireType = 2 for field Replicas"
    )
    assert error_of(body("v1", "Namespace", msg(1, num(1, 3)))) == "proto: wrong wireType = 0 for field Name"
    assert error_of(MAGIC + num(1, 5)) == "proto: wrong wireType = 0 for field TypeMeta"


def test_illegal_tag_and_end_group() -> None:
    assert (
        error_of(body("apps/v1", "Deployment", b"\x00")) == "proto: Deployment: illegal tag 0 (wire type 0)"
    )
    assert error_of(body("apps/v1", "Deployment", key(1, 4))) == (
        "proto: Deployment: wiretype end group for non-group"
    )
    assert error_of(MAGIC + key(1, 4)) == "proto: Unknown: wiretype end group for non-group"


def test_illegal_wire_type_in_an_unknown_field() -> None:
    assert error_of(body("v1", "Namespace", key(99, 6) + b"\x00")) == "proto: illegal wireType 6"


def test_unterminated_and_deeply_nested_groups() -> None:
    assert error_of(body("v1", "Namespace", key(99, 3) + num(1, 1))) == "unexpected EOF"
    assert error_of(body("v1", "Namespace", key(99, 3) * 100_000)) == "unexpected EOF"


def test_unsupported_kind() -> None:
    data = body("apps/v1", "StatefulSet", msg(1, ld(1, "db")))
    message = error_of(data)
    assert message.startswith('no kind "StatefulSet" is registered for version "apps/v1" in scheme ')
    assert error_of(data, expected_kind="StatefulSet").startswith(
        'StatefulSet in version "v1" cannot be handled as a StatefulSet: no kind "StatefulSet" is registered'
    )
    assert 'no kind "Deployment" is registered for version "v1"' in error_of(body("v1", "Deployment", b""))


def test_missing_kind_or_version() -> None:
    assert error_of(MAGIC + msg(1, ld(1, "apps/v1")) + ld(2, b"")) == (
        """Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:"apps/v1", Kind:""}'"""
    )
    assert error_of(MAGIC + msg(1, ld(2, "Deployment"))) == (
        """Object 'apiVersion' is missing in 'runtime.TypeMeta{APIVersion:"", Kind:"Deployment"}'"""
    )


def test_time_out_of_range() -> None:
    data = body("v1", "Namespace", msg(1, msg(8, num(1, 1 << 62))))
    assert "year outside of range" in error_of(data)


def test_invalid_fields_v1() -> None:
    data = body("v1", "Namespace", msg(1, msg(17, msg(7, ld(1, b"{not json")))))
    assert "FieldsV1" in error_of(data)


def test_bad_request_renders_as_a_status() -> None:
    with pytest.raises(BadRequest) as caught:
        decode(b"nope", expected_kind="Pod")
    status = caught.value.status()
    assert (status["code"], status["reason"], status["status"]) == (400, "BadRequest", "Failure")
    assert status["message"].startswith("the object provided is unrecognized (must be of type Pod): ")


# --- the fixtures are still what kubectl sends (opt-in: runs the real kubectl) ---------------------


@pytest.mark.skipif(
    os.environ.get("KUBE_TUTOR_RECAPTURE") != "1", reason="set KUBE_TUTOR_RECAPTURE=1 to run the real kubectl"
)
def test_fixtures_match_a_fresh_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("protobuf_capture", FIXTURES / "capture.py")
    assert spec is not None and spec.loader is not None
    capture = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, capture)  # dataclasses look their module up
    spec.loader.exec_module(capture)
    manifest = capture.run_captures(tmp_path, capture._kubectl())
    for name in PROTOBUF_CAPTURES:
        assert manifest["captures"][name]["exit_code"] == 0
        assert (tmp_path / f"{name}.bin").read_bytes() == fixture(name), name
        assert json.loads((tmp_path / f"{name}.json").read_text()) == expected(name), name

"""Provides tests of the server-side Tables (``tutor.practice.apiserver.tables``) and ages (``durations``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tutor.kube.duration import age, human_duration
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.selectors import label_selector_string
from tutor.practice.apiserver.tables import PRINTERS, table

NOW = datetime(2026, 11, 26, 3, 42, 11, tzinfo=UTC)
IMAGE_V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
IMAGE_V10 = "jocatalin/kubernetes-bootcamp:v10"


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp ``seconds`` before NOW."""
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(kind: str, *objects: dict[str, Any]) -> list[list[Any]]:
    """The cells of each row of a Table of ``objects``."""
    return [row["cells"] for row in table(kind, list(objects), now=NOW, resource_version="1")["rows"]]


def columns(kind: str) -> list[tuple[str, str, int]]:
    """(name, type, priority) of each column of a kind's Table."""
    result = table(kind, [], now=NOW, resource_version="1")
    return [(c["name"], c["type"], c["priority"]) for c in result["columnDefinitions"]]


# ---- human_duration / age ---------------------------------------------------------------------
MINUTE, HOUR, DAY, YEAR = 60, 3600, 86400, 365 * 86400


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1.9, "0s"),  # Go truncates toward zero: int(-1.9) == -1
        (-1, "0s"),
        (-0.5, "0s"),
        (0, "0s"),
        (0.99, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "60s"),
        (119, "119s"),
        (119.999, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (179, "2m59s"),
        (180, "3m"),
        (599, "9m59s"),
        (600, "10m"),
        (659, "10m"),
        (3 * HOUR - 1, "179m"),
        (137 * MINUTE, "137m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + 59, "3h"),
        (3 * HOUR + MINUTE, "3h1m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR, "8h"),
        (48 * HOUR - 1, "47h"),
        (48 * HOUR, "2d"),
        (49 * HOUR, "2d1h"),
        (3 * DAY, "3d"),
        (8 * DAY - 1, "7d23h"),
        (8 * DAY, "8d"),
        (2 * YEAR - 1, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + DAY, "2y1d"),
        (3 * YEAR, "3y"),
        (8 * YEAR - HOUR, "7y364d"),
        (8 * YEAR, "8y"),
        (10 * YEAR + 100 * DAY, "10y"),
        (math.nan, "<invalid>"),
    ],
)
def test_human_duration_boundaries(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-26T01:25:11Z", "137m"),
        ("2026-11-26T03:42:11Z", "0s"),
        ("2026-11-26T03:42:12Z", "0s"),  # 1 s in the future: clock skew tolerated
        ("2026-11-26T03:42:16Z", "<invalid>"),
        ("2026-11-26T03:42:05.999999Z", "5s"),  # metav1.MicroTime
        ("2026-11-26T04:42:11+01:00", "0s"),
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("0001-01-01T00:00:00Z", "<unknown>"),  # Go's zero time
        ("yesterday", "<unknown>"),
    ],
)
def test_age(timestamp: str | None, expected: str) -> None:
    assert age(timestamp, NOW) == expected


def test_age_accepts_naive_now_as_utc() -> None:
    assert age("2026-11-26T01:25:11Z", NOW.replace(tzinfo=None)) == "137m"


# ---- table envelope -----------------------------------------------------------------------------
def deployment(
    name: str = "kubernetes-bootcamp",
    replicas: int | None = 4,
    status: dict[str, Any] | None = None,
    image: str = IMAGE_V1,
    selector: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": selector if selector is not None else {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": "0b6f2a52-57f3-4b58-9d4b-2f1b1f0e6c11",
            "resourceVersion": "1054",
            "creationTimestamp": "2026-11-26T01:25:11Z",
            "labels": {"app": name},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
        },
        "spec": spec,
        "status": status if status is not None else {},
    }


def test_table_envelope_and_partial_object_metadata() -> None:
    obj = deployment(status={"replicas": 4, "updatedReplicas": 4, "readyReplicas": 4, "availableReplicas": 4})
    result = table("Deployment", [obj], now=NOW, resource_version="1057")
    assert result["kind"] == "Table"
    assert result["apiVersion"] == "meta.k8s.io/v1"
    assert result["metadata"] == {"resourceVersion": "1057"}
    assert result["rows"] == [
        {
            "cells": [
                "kubernetes-bootcamp",
                "4/4",
                4,
                4,
                "137m",
                "kubernetes-bootcamp",
                IMAGE_V1,
                "app=kubernetes-bootcamp",
            ],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            },
        }
    ]
    assert json.loads(json.dumps(result)) == result


def test_column_definitions_have_all_fields() -> None:
    result = table("Pod", [], now=NOW, resource_version="7")
    first = result["columnDefinitions"][0]
    assert set(first) == {"name", "type", "format", "description", "priority"}
    assert first["name"] == "Name"
    assert first["format"] == "name"
    assert first["description"].startswith("Name must be unique within a namespace.")
    assert all(c["format"] == "" for c in result["columnDefinitions"][1:])
    age_column = result["columnDefinitions"][4]
    assert age_column["description"].startswith(
        "CreationTimestamp is a timestamp representing the server time"
    )


def test_empty_list_has_columns_and_no_rows() -> None:
    result = table("Pod", [], now=NOW, resource_version="42")
    assert result["rows"] == []
    assert result["metadata"] == {"resourceVersion": "42"}
    assert len(result["columnDefinitions"]) == 9


def test_watch_event_table_has_null_columns() -> None:
    result = table("Deployment", [deployment()], now=NOW, resource_version="9", with_columns=False)
    assert result["columnDefinitions"] is None
    assert len(result["rows"]) == 1


def test_include_object_object_and_none() -> None:
    obj = deployment()
    full = table("Deployment", [obj], now=NOW, resource_version="1", include_object="Object")
    assert full["rows"][0]["object"] is obj
    bare = table("Deployment", [obj], now=NOW, resource_version="1", include_object="None")
    assert "object" not in bare["rows"][0]
    empty = table("Deployment", [obj], now=NOW, resource_version="1", include_object="")
    assert empty["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_include_object_fills_in_missing_type_meta() -> None:
    obj = deployment()
    del obj["kind"], obj["apiVersion"]
    row_object = table("Deployment", [obj], now=NOW, resource_version="1", include_object="Object")["rows"][
        0
    ]["object"]
    assert row_object["kind"] == "Deployment"
    assert row_object["apiVersion"] == "apps/v1"
    assert row_object["spec"] is obj["spec"]
    assert "kind" not in obj


def test_include_object_rejects_unknown_values() -> None:
    with pytest.raises(errors.BadRequest, match='unrecognized includeObject value: "Everything"'):
        table("Pod", [], now=NOW, resource_version="1", include_object="Everything")


@pytest.mark.parametrize("kind", [*sorted(PRINTERS), "Widget"])
def test_every_kind_survives_a_bare_object(kind: str) -> None:
    result = table(
        kind, [{}, {"metadata": {"name": "x"}, "spec": None, "status": None}], now=NOW, resource_version="1"
    )
    for row in result["rows"]:
        assert len(row["cells"]) == len(result["columnDefinitions"])
        json.dumps(row)


# ---- pods -------------------------------------------------------------------------------------
def pod(
    name: str = "kubernetes-bootcamp-5b44d7d65b-8pj2c",
    *,
    phase: str = "Running",
    created: float = 137 * MINUTE,
    statuses: list[dict[str, Any]] | None = None,
    pod_ip: str | None = "10.244.0.213",
    node: str | None = "kind-control-plane",
    conditions: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "conditions": conditions or []}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    spec: dict[str, Any] = {"containers": [{"name": "kubernetes-bootcamp", "image": IMAGE_V1}]}
    if node:
        spec["nodeName"] = node
    obj: dict[str, Any] = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(created)},
        "spec": spec,
        "status": status,
    }
    for key, value in extra.items():
        if key in ("deletionTimestamp",):
            obj["metadata"][key] = value
        elif key in ("initContainers", "readinessGates"):
            obj["spec"][key] = value
        else:
            obj["status"][key] = value
    return obj


def running(restarts: int = 0, **extra: Any) -> dict[str, Any]:
    status = {
        "name": "kubernetes-bootcamp",
        "ready": True,
        "started": True,
        "restartCount": restarts,
        "image": IMAGE_V1,
        "state": {"running": {"startedAt": ago(137 * MINUTE)}},
    }
    status.update(extra)
    return status


def waiting(reason: str, ready: bool = False) -> dict[str, Any]:
    return {
        "name": "kubernetes-bootcamp",
        "ready": ready,
        "restartCount": 0,
        "image": IMAGE_V10,
        "state": {"waiting": {"reason": reason}},
    }


READY_CONDITIONS = [
    {"type": "Initialized", "status": "True"},
    {"type": "Ready", "status": "True"},
    {"type": "ContainersReady", "status": "True"},
    {"type": "PodScheduled", "status": "True"},
]


def test_pod_columns() -> None:
    assert columns("Pod") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "string", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]


def test_running_pod() -> None:
    assert rows("Pod", pod(statuses=[running()], conditions=READY_CONDITIONS)) == [
        [
            "kubernetes-bootcamp-5b44d7d65b-8pj2c",
            "1/1",
            "Running",
            "0",
            "137m",
            "10.244.0.213",
            "kind-control-plane",
            "<none>",
            "<none>",
        ]
    ]


def test_pending_pod_not_yet_scheduled() -> None:
    assert rows("Pod", pod(phase="Pending", created=0, pod_ip=None, node=None)) == [
        [
            "kubernetes-bootcamp-5b44d7d65b-8pj2c",
            "0/1",
            "Pending",
            "0",
            "0s",
            "<none>",
            "<none>",
            "<none>",
            "<none>",
        ]
    ]


def test_container_creating_pod() -> None:
    obj = pod(phase="Pending", created=5, pod_ip=None, statuses=[waiting("ContainerCreating")])
    assert rows("Pod", obj)[0][:7] == [
        "kubernetes-bootcamp-5b44d7d65b-8pj2c",
        "0/1",
        "ContainerCreating",
        "0",
        "5s",
        "<none>",
        "kind-control-plane",
    ]


@pytest.mark.parametrize("reason", ["ErrImagePull", "ImagePullBackOff"])
def test_image_pull_failure_pod(reason: str) -> None:
    obj = pod("kubernetes-bootcamp-7d44784b7c-9mrqv", phase="Pending", created=80, statuses=[waiting(reason)])
    assert rows("Pod", obj)[0][:6] == [
        "kubernetes-bootcamp-7d44784b7c-9mrqv",
        "0/1",
        reason,
        "0",
        "80s",
        "10.244.0.213",
    ]


def test_terminating_pod_keeps_ready_count() -> None:
    obj = pod(statuses=[running()], conditions=READY_CONDITIONS, deletionTimestamp=ago(-30))
    assert rows("Pod", obj)[0][1:5] == ["1/1", "Terminating", "0", "137m"]


def test_deleted_pod_that_finished_is_not_terminating() -> None:
    done = {
        "name": "c",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    obj = pod(phase="Succeeded", statuses=[done], deletionTimestamp=ago(0))
    result = table("Pod", [obj], now=NOW, resource_version="1")
    assert result["rows"][0]["cells"][1:3] == ["0/1", "Completed"]
    assert result["rows"][0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_failed_pod_row_condition_and_exit_code() -> None:
    failed = {"name": "c", "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 2}}}
    result = table("Pod", [pod(phase="Failed", statuses=[failed])], now=NOW, resource_version="1")
    assert result["rows"][0]["cells"][2] == "ExitCode:2"
    assert result["rows"][0]["conditions"][0]["reason"] == "Failed"
    signalled = {
        "name": "c",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 137, "signal": 9}},
    }
    assert rows("Pod", pod(phase="Failed", statuses=[signalled]))[0][2] == "Signal:9"


def test_running_pod_has_no_row_conditions() -> None:
    result = table("Pod", [pod(statuses=[running()])], now=NOW, resource_version="1")
    assert "conditions" not in result["rows"][0]


def test_pod_with_restarts_shows_when_it_last_restarted() -> None:
    restarted = running(3, lastState={"terminated": {"exitCode": 1, "finishedAt": ago(5 * MINUTE)}})
    assert rows("Pod", pod(statuses=[restarted]))[0][3] == "3 (5m ago)"


def test_pod_restarts_without_finish_time_is_a_plain_count() -> None:
    assert rows("Pod", pod(statuses=[running(2)]))[0][3] == "2"


def test_crash_loop_uses_latest_restart_of_all_containers() -> None:
    crashing = {
        "name": "app",
        "ready": False,
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(40)}},
    }
    sidecar = running(
        1, name="sidecar", lastState={"terminated": {"exitCode": 0, "finishedAt": ago(2 * HOUR)}}
    )
    obj = pod(statuses=[crashing, sidecar])
    obj["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    assert rows("Pod", obj)[0][1:4] == ["1/2", "CrashLoopBackOff", "5 (40s ago)"]


def test_completed_container_next_to_running_one() -> None:
    done = {
        "name": "job",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
    }
    ready = pod(statuses=[running(), done], conditions=READY_CONDITIONS)
    not_ready = pod(statuses=[running(), done], conditions=[{"type": "Ready", "status": "False"}])
    for obj in (ready, not_ready):
        obj["spec"]["containers"].append({"name": "job", "image": "busybox"})
    assert rows("Pod", ready)[0][1:3] == ["1/2", "Running"]
    assert rows("Pod", not_ready)[0][1:3] == ["1/2", "NotReady"]


def test_scheduling_gated_and_node_lost() -> None:
    gate = {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
    gated = pod(phase="Pending", pod_ip=None, node=None, conditions=[gate])
    assert rows("Pod", gated)[0][2] == "SchedulingGated"
    lost = pod(statuses=[running()], reason="NodeLost", deletionTimestamp=ago(10))
    assert rows("Pod", lost)[0][2] == "Unknown"


def test_status_reason_overrides_phase() -> None:
    assert rows("Pod", pod(phase="Failed", reason="Evicted"))[0][2] == "Evicted"


@pytest.mark.parametrize(
    ("init_state", "expected"),
    [
        ({"waiting": {"reason": "PodInitializing"}}, "Init:0/1"),
        ({"running": {}}, "Init:0/1"),
        ({"waiting": {"reason": "ErrImagePull"}}, "Init:ErrImagePull"),
        ({"terminated": {"exitCode": 1, "reason": "Error"}}, "Init:Error"),
        ({"terminated": {"exitCode": 3}}, "Init:ExitCode:3"),
        ({"terminated": {"exitCode": 137, "signal": 9}}, "Init:Signal:9"),
    ],
)
def test_init_container_status(init_state: dict[str, Any], expected: str) -> None:
    init_status = {"name": "setup", "ready": False, "restartCount": 1, "state": init_state}
    obj = pod(
        phase="Pending",
        statuses=[waiting("PodInitializing")],
        initContainers=[{"name": "setup", "image": "busybox"}],
        initContainerStatuses=[init_status],
    )
    assert rows("Pod", obj)[0][1:4] == ["0/1", expected, "1"]


def test_restartable_init_container_counts_as_a_container() -> None:
    sidecar_status = {
        "name": "proxy",
        "ready": True,
        "started": True,
        "restartCount": 2,
        "state": {"running": {}},
    }
    obj = pod(
        statuses=[running()],
        conditions=READY_CONDITIONS,
        initContainers=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
        initContainerStatuses=[sidecar_status],
    )
    assert rows("Pod", obj)[0][1:4] == ["2/2", "Running", "2"]


def test_readiness_gates_and_nominated_node() -> None:
    obj = pod(
        statuses=[running()],
        conditions=[*READY_CONDITIONS, {"type": "example.com/lb", "status": "True"}],
        readinessGates=[{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}],
        nominatedNodeName="worker-2",
    )
    assert rows("Pod", obj)[0][7:] == ["worker-2", "1/2"]


def test_pod_ip_falls_back_to_pod_ip_field() -> None:
    obj = pod(statuses=[running()])
    del obj["status"]["podIPs"]
    assert rows("Pod", obj)[0][5] == "10.244.0.213"


# ---- deployments and replica sets ---------------------------------------------------------------
def test_deployment_columns() -> None:
    assert columns("Deployment") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Up-to-date", "string", 0),
        ("Available", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]


def test_deployments_mid_rollout() -> None:
    v2 = deployment(
        status={"replicas": 5, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3},
        image="jocatalin/kubernetes-bootcamp:v2",
    )
    stuck = deployment(
        "stuck",
        status={
            "replicas": 6,
            "updatedReplicas": 2,
            "readyReplicas": 4,
            "availableReplicas": 4,
            "unavailableReplicas": 2,
        },
        image=IMAGE_V10,
    )
    fresh = deployment("fresh", replicas=4, status={})
    assert rows("Deployment", v2, stuck, fresh) == [
        [
            "kubernetes-bootcamp",
            "3/4",
            2,
            3,
            "137m",
            "kubernetes-bootcamp",
            "jocatalin/kubernetes-bootcamp:v2",
            "app=kubernetes-bootcamp",
        ],
        ["stuck", "4/4", 2, 4, "137m", "stuck", IMAGE_V10, "app=stuck"],
        ["fresh", "0/4", 0, 0, "137m", "fresh", IMAGE_V1, "app=fresh"],
    ]


def test_deployment_defaults_and_scaled_to_zero() -> None:
    assert rows("Deployment", deployment(replicas=None))[0][1] == "0/1"
    assert rows("Deployment", deployment(replicas=0))[0][1:4] == ["0/0", 0, 0]


def test_deployment_with_two_containers() -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    assert rows("Deployment", obj)[0][5:7] == ["kubernetes-bootcamp,sidecar", f"{IMAGE_V1},busybox:1.36"]


def test_replicaset_columns_and_cells() -> None:
    assert columns("ReplicaSet") == [
        ("Name", "string", 0),
        ("Desired", "integer", 0),
        ("Current", "integer", 0),
        ("Ready", "integer", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]
    selector = {"matchLabels": {"pod-template-hash": "5b97597885", "app": "kubernetes-bootcamp"}}
    current = deployment(
        "kubernetes-bootcamp-5b97597885", selector=selector, status={"replicas": 4, "readyReplicas": 3}
    )
    old = deployment(
        "kubernetes-bootcamp-556487b4d4", replicas=0, selector=selector, status={"observedGeneration": 3}
    )
    assert rows("ReplicaSet", current, old) == [
        [
            "kubernetes-bootcamp-5b97597885",
            4,
            4,
            3,
            "137m",
            "kubernetes-bootcamp-5b97597885",
            IMAGE_V1,
            "app=kubernetes-bootcamp,pod-template-hash=5b97597885",
        ],
        [
            "kubernetes-bootcamp-556487b4d4",
            0,
            0,
            0,
            "137m",
            "kubernetes-bootcamp-556487b4d4",
            IMAGE_V1,
            "app=kubernetes-bootcamp,pod-template-hash=5b97597885",
        ],
    ]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, ""),
        ({}, ""),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
            "env in (dev,prod)",
        ),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["cache"]}]},
            "tier notin (cache)",
        ),
        (
            {
                "matchLabels": {"zone": "a"},
                "matchExpressions": [
                    {"key": "gpu", "operator": "Exists"},
                    {"key": "legacy", "operator": "DoesNotExist", "values": []},
                ],
            },
            "gpu,!legacy,zone=a",
        ),
        ({"matchLabels": {"app.kubernetes.io/name": "web"}}, "app.kubernetes.io/name=web"),
    ],
)
def test_label_selector_string(selector: dict[str, Any] | None, expected: str) -> None:
    assert label_selector_string(selector) == expected


@pytest.mark.parametrize(
    "selector",
    [
        {"matchExpressions": [{"key": "a", "operator": "Like", "values": ["x"]}]},
        {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
        {"matchLabels": {"bad key": "x"}},
        {"matchLabels": {"a": "-bad-"}},
    ],
)
def test_invalid_selectors(selector: dict[str, Any]) -> None:
    with pytest.raises(errors.BadRequest):
        label_selector_string(selector)
    assert rows("Deployment", deployment(selector=selector))[0][7] == "<invalid>"
    assert rows("ReplicaSet", deployment(selector=selector))[0][7] == "<error>"


def test_replicaset_with_empty_selector_prints_none() -> None:
    assert rows("ReplicaSet", deployment(selector={}))[0][7] == "<none>"
    assert rows("Deployment", deployment(selector={}))[0][7] == ""


# ---- services, endpoints --------------------------------------------------------------------------
def service(
    name: str, spec: dict[str, Any], created: float, status: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(created)},
        "spec": spec,
        "status": status or {"loadBalancer": {}},
    }


KUBERNETES_SERVICE = service(
    "kubernetes",
    {
        "type": "ClusterIP",
        "clusterIP": "10.96.0.1",
        "clusterIPs": ["10.96.0.1"],
        "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
    },
    3 * DAY + 5 * HOUR,
)
BOOTCAMP_SERVICE = service(
    "kubernetes-bootcamp",
    {
        "type": "NodePort",
        "clusterIP": "10.109.121.37",
        "clusterIPs": ["10.109.121.37"],
        "selector": {"app": "kubernetes-bootcamp"},
        "ports": [{"protocol": "TCP", "port": 8080, "targetPort": 8080, "nodePort": 30683}],
    },
    60 * MINUTE,
)


def test_service_columns() -> None:
    assert columns("Service") == [
        ("Name", "string", 0),
        ("Type", "string", 0),
        ("Cluster-IP", "string", 0),
        ("External-IP", "string", 0),
        ("Port(s)", "string", 0),
        ("Age", "string", 0),
        ("Selector", "string", 1),
    ]


def test_kubernetes_and_node_port_services() -> None:
    assert rows("Service", KUBERNETES_SERVICE, BOOTCAMP_SERVICE) == [
        ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "3d5h", "<none>"],
        [
            "kubernetes-bootcamp",
            "NodePort",
            "10.109.121.37",
            "<none>",
            "8080:30683/TCP",
            "60m",
            "app=kubernetes-bootcamp",
        ],
    ]


def test_service_variants() -> None:
    multi = service(
        "multi",
        {
            "type": "ClusterIP",
            "clusterIP": "10.96.5.5",
            "externalIPs": ["192.0.2.10", "192.0.2.11"],
            "selector": {"tier": "web", "app": "shop"},
            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
        },
        30,
    )
    pending = service(
        "lb",
        {"type": "LoadBalancer", "clusterIPs": ["10.96.7.7"], "ports": [{"port": 80, "nodePort": 31000}]},
        30,
    )
    ready_lb = service(
        "lb2",
        {"type": "LoadBalancer", "clusterIPs": ["10.96.8.8"], "externalIPs": ["198.51.100.9"], "ports": []},
        30,
        {
            "loadBalancer": {
                "ingress": [{"ip": "203.0.113.5"}, {"hostname": "a.example.com"}, {"ip": "203.0.113.5"}]
            }
        },
    )
    external = service("db", {"type": "ExternalName", "externalName": "db.example.com"}, 30)
    headless = service(
        "hl", {"clusterIP": "None", "clusterIPs": ["None"], "ports": [{"port": 9000, "protocol": "TCP"}]}, 30
    )
    assert rows("Service", multi, pending, ready_lb, external, headless) == [
        [
            "multi",
            "ClusterIP",
            "10.96.5.5",
            "192.0.2.10,192.0.2.11",
            "80/TCP,53/UDP",
            "30s",
            "app=shop,tier=web",
        ],
        ["lb", "LoadBalancer", "10.96.7.7", "<pending>", "80:31000/TCP", "30s", "<none>"],
        [
            "lb2",
            "LoadBalancer",
            "10.96.8.8",
            "203.0.113.5,a.example.com,198.51.100.9",
            "<none>",
            "30s",
            "<none>",
        ],
        ["db", "ExternalName", "<none>", "db.example.com", "<none>", "30s", "<none>"],
        ["hl", "ClusterIP", "None", "<none>", "9000/TCP", "30s", "<none>"],
    ]


def endpoints(name: str, subsets: list[dict[str, Any]] | None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "Endpoints",
        "apiVersion": "v1",
        "metadata": {"name": name, "creationTimestamp": ago(90)},
    }
    if subsets is not None:
        obj["subsets"] = subsets
    return obj


def test_endpoints() -> None:
    four = [{"ip": f"10.244.0.{n}"} for n in (11, 12, 13, 14)]
    assert columns("Endpoints") == [("Name", "string", 0), ("Endpoints", "string", 0), ("Age", "string", 0)]
    assert rows(
        "Endpoints",
        endpoints(
            "kubernetes", [{"addresses": [{"ip": "172.18.0.2"}], "ports": [{"name": "https", "port": 6443}]}]
        ),
        endpoints(
            "kubernetes-bootcamp",
            [{"addresses": four, "notReadyAddresses": [{"ip": "10.244.0.99"}], "ports": [{"port": 8080}]}],
        ),
        endpoints("empty", None),
        endpoints("not-ready", [{"notReadyAddresses": [{"ip": "10.244.0.7"}], "ports": [{"port": 8080}]}]),
        endpoints("headless", [{"addresses": [{"ip": "10.244.0.5"}]}]),
        endpoints("v6", [{"addresses": [{"ip": "fd00::5"}], "ports": [{"port": 80}]}]),
    ) == [
        ["kubernetes", "172.18.0.2:6443", "90s"],
        ["kubernetes-bootcamp", "10.244.0.11:8080,10.244.0.12:8080,10.244.0.13:8080 + 1 more...", "90s"],
        ["empty", "<none>", "90s"],
        ["not-ready", "", "90s"],
        ["headless", "10.244.0.5", "90s"],
        ["v6", "[fd00::5]:80", "90s"],
    ]


def test_endpoint_slices() -> None:
    assert [c[0] for c in columns("EndpointSlice")] == ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    bootcamp = {
        "metadata": {"name": "kubernetes-bootcamp-x7k2p", "creationTimestamp": ago(600)},
        "addressType": "IPv4",
        "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": [f"10.244.0.{n}"], "conditions": {"ready": True}} for n in (11, 12, 13, 14, 15)
        ],
    }
    odd = {
        "metadata": {"name": "odd", "creationTimestamp": ago(600)},
        "addressType": "IPv4",
        "ports": [{"name": "http"}, {}, {"port": 1}, {"port": 2}, {"port": 3}],
        "endpoints": [],
    }
    assert rows("EndpointSlice", bootcamp, odd) == [
        [
            "kubernetes-bootcamp-x7k2p",
            "IPv4",
            "8080",
            "10.244.0.11,10.244.0.12,10.244.0.13 + 2 more...",
            "10m",
        ],
        ["odd", "IPv4", "http,*,1 + 2 more...", "<unset>", "10m"],
    ]


# ---- events -------------------------------------------------------------------------------------
def event(name: str, **fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(10)},
        "involvedObject": {
            "kind": "Pod",
            "namespace": "default",
            "name": "kubernetes-bootcamp-7d44784b7c-9mrqv",
        },
        "type": "Normal",
        "source": {"component": "kubelet", "host": "kind-control-plane"},
    }
    obj.update(fields)
    return obj


def test_event_columns_in_upstream_wide_order() -> None:
    assert columns("Event") == [
        ("Last Seen", "string", 0),
        ("Type", "string", 0),
        ("Reason", "string", 0),
        ("Object", "string", 0),
        ("Subobject", "string", 1),
        ("Source", "string", 1),
        ("Message", "string", 0),
        ("First Seen", "string", 1),
        ("Count", "string", 1),
        ("Name", "string", 1),
    ]
    assert table("Event", [], now=NOW, resource_version="1")["columnDefinitions"][9]["format"] == "name"


def test_events() -> None:
    back_off = event(
        "kubernetes-bootcamp-7d44784b7c-9mrqv.18eb7aeab4058c79",
        type="Warning",
        reason="BackOff",
        message='Back-off pulling image "jocatalin/kubernetes-bootcamp:v10"\n',
        count=7,
        firstTimestamp=ago(3 * MINUTE),
        lastTimestamp=ago(12),
    )
    back_off["involvedObject"]["fieldPath"] = "spec.containers{kubernetes-bootcamp}"
    scaled = event(
        "kubernetes-bootcamp.18eb7aeab4058c80",
        involvedObject={"kind": "Deployment", "name": "kubernetes-bootcamp"},
        source={"component": "deployment-controller"},
        reason="ScalingReplicaSet",
        message="Scaled up replica set kubernetes-bootcamp-7d44784b7c from 0 to 1",
        firstTimestamp=ago(137 * MINUTE),
        lastTimestamp=ago(137 * MINUTE),
    )
    assert rows("Event", back_off, scaled) == [
        [
            "12s",
            "Warning",
            "BackOff",
            "pod/kubernetes-bootcamp-7d44784b7c-9mrqv",
            "spec.containers{kubernetes-bootcamp}",
            "kubelet, kind-control-plane",
            'Back-off pulling image "jocatalin/kubernetes-bootcamp:v10"',
            "3m",
            7,
            "kubernetes-bootcamp-7d44784b7c-9mrqv.18eb7aeab4058c79",
        ],
        [
            "137m",
            "Normal",
            "ScalingReplicaSet",
            "deployment/kubernetes-bootcamp",
            "",
            "deployment-controller",
            "Scaled up replica set kubernetes-bootcamp-7d44784b7c from 0 to 1",
            "137m",
            1,
            "kubernetes-bootcamp.18eb7aeab4058c80",
        ],
    ]


def test_event_timestamp_fallbacks() -> None:
    only_first = event("a", firstTimestamp=ago(40), count=0)
    micro = event(
        "b",
        eventTime="2026-11-26T03:41:11.000001Z",
        source={},
        reportingComponent="kubelet",
        reportingInstance="node-1",
    )
    series = event(
        "c", eventTime=ago(600), series={"count": 4, "lastObservedTime": "2026-11-26T03:42:01.500000Z"}
    )
    nothing = event("d", involvedObject={"kind": "Node"})
    result = rows("Event", only_first, micro, series, nothing)
    assert [r[0] for r in result] == ["40s", "59s", "9s", "<unknown>"]
    assert [r[7] for r in result] == ["40s", "59s", "10m", "<unknown>"]
    assert [r[8] for r in result] == [1, 1, 4, 1]
    assert result[1][5] == "kubelet, node-1"
    assert result[3][3] == "node"


# ---- cluster-scoped objects, controller revisions, default table -------------------------------
def test_nodes() -> None:
    node = {
        "kind": "Node",
        "metadata": {
            "name": "kind-control-plane",
            "creationTimestamp": ago(3 * DAY),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "kubernetes.io/hostname": "kind-control-plane",
            },
        },
        "spec": {},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "172.18.0.2"},
                {"type": "Hostname", "address": "kind-control-plane"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.37.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.8.0-45-generic",
                "containerRuntimeVersion": "containerd://2.1.3",
            },
        },
    }
    cordoned = {
        "metadata": {
            "name": "worker",
            "creationTimestamp": ago(DAY),
            "labels": {"kubernetes.io/role": "edge"},
        },
        "spec": {"unschedulable": True},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]},
    }
    new = {"metadata": {"name": "new", "creationTimestamp": ago(1)}}
    names = "Name Status Roles Age Version Internal-IP External-IP OS-Image Kernel-Version Container-Runtime"
    assert [c[0] for c in columns("Node")] == names.split()
    assert [c[2] for c in columns("Node")] == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert rows("Node", node, cordoned, new) == [
        [
            "kind-control-plane",
            "Ready",
            "control-plane",
            "3d",
            "v1.37.0",
            "172.18.0.2",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.8.0-45-generic",
            "containerd://2.1.3",
        ],
        [
            "worker",
            "NotReady,SchedulingDisabled",
            "edge",
            "24h",
            "",
            "<none>",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>",
        ],
        ["new", "Unknown", "<none>", "1s", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"],
    ]


def test_namespaces() -> None:
    assert columns("Namespace") == [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)]
    default = {
        "metadata": {"name": "default", "creationTimestamp": ago(3 * DAY)},
        "status": {"phase": "Active"},
    }
    leaving = {
        "metadata": {"name": "old", "creationTimestamp": ago(HOUR)},
        "status": {"phase": "Terminating"},
    }
    assert rows("Namespace", default, leaving) == [["default", "Active", "3d"], ["old", "Terminating", "60m"]]


def test_controller_revisions() -> None:
    assert columns("ControllerRevision") == [
        ("Name", "string", 0),
        ("Controller", "string", 0),
        ("Revision", "string", 0),
        ("Age", "string", 0),
    ]
    owned = {
        "metadata": {
            "name": "web-6d4cf56db6",
            "creationTimestamp": ago(20 * MINUTE),
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Pod", "name": "not-the-controller"},
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True},
            ],
        },
        "revision": 2,
    }
    core = {
        "metadata": {
            "name": "x",
            "creationTimestamp": ago(20),
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ReplicationController", "name": "rc", "controller": True}
            ],
        },
        "revision": 1,
    }
    orphan = {"metadata": {"name": "orphan", "creationTimestamp": ago(20)}, "revision": 5}
    assert rows("ControllerRevision", owned, core, orphan) == [
        ["web-6d4cf56db6", "statefulset.apps/web", 2, "20m"],
        ["x", "replicationcontroller/rc", 1, "20s"],
        ["orphan", "<none>", 5, "20s"],
    ]


def test_config_maps_and_service_accounts() -> None:
    cm = {"metadata": {"name": "kube-root-ca.crt", "creationTimestamp": ago(DAY)}, "data": {"ca.crt": "..."}}
    assert rows("ConfigMap", cm) == [["kube-root-ca.crt", 1, "24h"]]
    sa = {"metadata": {"name": "default", "creationTimestamp": ago(DAY)}}
    assert rows("ServiceAccount", sa) == [["default", 0, "24h"]]


def test_lease_and_daemonset_tables() -> None:
    """printLease and printDaemonSet (``pkg/printers/internalversion/printers.go``)."""
    assert columns("Lease") == [("Name", "string", 0), ("Holder", "string", 0), ("Age", "string", 0)]
    lease = {"metadata": {"name": "node-1", "creationTimestamp": ago(DAY)}, "spec": {"holderIdentity": "node-1"}}
    assert rows("Lease", lease) == [["node-1", "node-1", "24h"]]
    assert [c[0] for c in columns("DaemonSet")] == ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available",
                                                   "Node Selector", "Age", "Containers", "Images", "Selector"]
    ds = {"metadata": {"name": "kube-proxy", "creationTimestamp": ago(DAY)},
          "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}, "template": {"spec": {
              "nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "kube-proxy", "image": "p:1"}]}}},
          "status": {"desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberReady": 1,
                     "updatedNumberScheduled": 1, "numberAvailable": 1}}
    assert rows("DaemonSet", ds) == [["kube-proxy", 1, 1, 1, 1, 1, "kubernetes.io/os=linux", "24h", "kube-proxy", "p:1",
                                      "k8s-app=kube-proxy"]]


def test_default_table_for_other_kinds() -> None:
    assert columns("Role") == [("Name", "string", 0), ("Created At", "date", 0)]
    lease = {
        "metadata": {"name": "kube-controller-manager", "creationTimestamp": "2026-11-26T04:25:11+01:00"}
    }
    result = table("Role", [lease, {"metadata": {"name": "no-time"}}], now=NOW, resource_version="3")
    assert [r["cells"] for r in result["rows"]] == [
        ["kube-controller-manager", "2026-11-26T03:25:11Z"],
        ["no-time", "0001-01-01T00:00:00Z"],
    ]
    assert result["columnDefinitions"][0]["format"] == "name"
    assert result["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_integer_cells_are_json_integers() -> None:
    cells = rows("ReplicaSet", deployment(status={"replicas": 4, "readyReplicas": 4}))[0]
    assert [type(c) for c in cells[1:4]] == [int, int, int]
    assert json.dumps(cells[1:4]) == "[4, 4, 4]"

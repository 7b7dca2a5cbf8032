"""Tests the one printPod port (tutor.kube.printers) and the pod predicates (tutor.kube.podutil).

Upstream: kubernetes/kubernetes pkg/printers/internalversion/printers.go (printPod, hasPodReadyCondition,
isPodInitializedConditionTrue, isRestartableInitContainer), pkg/api/v1/pod/util.go (IsPodReady,
GetPodCondition) and pkg/controller/controller_utils.go (IsPodActive). The Tables' pod rows
(tests/practice/test_tables.py) and the cluster panel (tests/tui/test_cluster_panel.py) test the same
function through their callers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tutor.kube.meta import get_controller_of
from tutor.kube.podutil import is_pod_active, is_pod_ready, pod_ready_condition
from tutor.kube.printers import print_pod

NOW = datetime(2026, 11, 26, 3, 42, 11, tzinfo=UTC)
Obj = dict[str, Any]


def pod(*, phase: str = "Running", containers: int = 1, statuses: list[Obj] | None = None,
        init: list[Obj] | None = None, init_statuses: list[Obj] | None = None,
        conditions: list[Obj] | None = None, deleting: bool = False, reason: str = "") -> Obj:
    status: Obj = {"phase": phase, "conditions": conditions or []}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if reason:
        status["reason"] = reason
    metadata: Obj = {"name": "p"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-26T03:40:00Z"
    spec: Obj = {"containers": [{"name": f"c{i}"} for i in range(containers)]}
    if init is not None:
        spec["initContainers"] = init
    return {"metadata": metadata, "spec": spec, "status": status}


def running(name: str = "c0", *, ready: bool = True, restarts: int = 0, finished: str | None = None) -> Obj:
    status: Obj = {"name": name, "ready": ready, "restartCount": restarts, "started": True,
                   "state": {"running": {"startedAt": "2026-11-26T03:00:00Z"}}}
    if finished:
        status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return status


def terminated(name: str = "c0", **fields: Any) -> Obj:
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": {"exitCode": 0, **fields}}}


def waiting(name: str, reason: str) -> Obj:
    return {"name": name, "ready": False, "restartCount": 0, "state": {"waiting": {"reason": reason}}}


READY = [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]


def test_running_pod() -> None:
    printed = print_pod(pod(statuses=[running()], conditions=READY))
    assert (printed.status, printed.ready_text, printed.restarts_text(NOW)) == ("Running", "1/1", "0")


def test_restarts_and_the_last_one() -> None:
    printed = print_pod(pod(containers=2, statuses=[running("c0", restarts=2, finished="2026-11-26T03:30:00Z"),
                                                    running("c1", restarts=1, finished="2026-11-26T03:40:11Z")]))
    assert printed.restarts == 3
    assert printed.restarts_text(NOW) == "3 (2m ago)"  # the later of the two finishedAt


def test_restarts_without_a_known_time() -> None:
    assert print_pod(pod(statuses=[running(restarts=4)])).restarts_text(NOW) == "4"


@pytest.mark.parametrize(("state", "status"), [
    ({"reason": "Error", "exitCode": 1}, "Error"),
    ({"signal": 9, "exitCode": 137}, "Signal:9"),
    ({"exitCode": 2}, "ExitCode:2"),
])
def test_terminated_words(state: Obj, status: str) -> None:
    assert print_pod(pod(statuses=[terminated(**state)])).status == status


def test_the_first_container_listed_has_the_last_word() -> None:
    # printPod walks the statuses backwards, so the first waiting reason wins.
    printed = print_pod(pod(containers=2, statuses=[waiting("c0", "ErrImagePull"), waiting("c1", "ContainerCreating")]))
    assert printed.status == "ErrImagePull"


@pytest.mark.parametrize(("ready_status", "status"), [("True", "Running"), ("False", "NotReady")])
def test_completed_next_to_a_running_container(ready_status: str, status: str) -> None:
    conditions = [{"type": "Ready", "status": ready_status}]
    printed = print_pod(pod(containers=2, conditions=conditions,
                            statuses=[running("c0"), terminated("c1", reason="Completed")]))
    assert printed.status == status


@pytest.mark.parametrize(("init_statuses", "status"), [
    ([waiting("i0", "PodInitializing")], "Init:0/2"),
    ([waiting("i0", "ErrImagePull")], "Init:ErrImagePull"),
    ([terminated("i0"), terminated("i1", reason="OOMKilled", exitCode=137)], "Init:OOMKilled"),
    ([terminated("i0"), terminated("i1", exitCode=3)], "Init:ExitCode:3"),
    ([terminated("i0"), terminated("i1", signal=15, exitCode=143)], "Init:Signal:15"),
])
def test_init_containers(init_statuses: list[Obj], status: str) -> None:
    init = [{"name": "i0"}, {"name": "i1"}]
    assert print_pod(pod(phase="Pending", init=init, init_statuses=init_statuses)).status == status


def test_sidecars_count_towards_ready_and_total() -> None:
    init = [{"name": "proxy", "restartPolicy": "Always"}]
    sidecar = running("proxy", restarts=1, finished="2026-11-26T03:41:00Z")
    printed = print_pod(pod(init=init, init_statuses=[sidecar], statuses=[running()], conditions=READY))
    assert (printed.status, printed.ready_text, printed.restarts) == ("Running", "2/2", 1)
    assert printed.restarts_text(NOW) == "1 (71s ago)"


def test_initialized_is_the_first_such_condition() -> None:
    # isPodInitializedConditionTrue looks at the first Initialized condition only.
    conditions = [{"type": "Initialized", "status": "False"}, {"type": "Initialized", "status": "True"}]
    printed = print_pod(pod(init=[{"name": "i0"}], init_statuses=[waiting("i0", "PodInitializing")],
                            statuses=[running()], conditions=conditions))
    assert printed.status == "Init:0/1"


def test_scheduling_gated() -> None:
    conditions = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
    assert print_pod(pod(phase="Pending", conditions=conditions)).status == "SchedulingGated"


@pytest.mark.parametrize(("phase", "reason", "status"), [
    ("Running", "", "Terminating"),
    ("Succeeded", "", "Succeeded"),
    ("Failed", "", "Failed"),
    ("Running", "NodeLost", "Unknown"),
])
def test_deletion(phase: str, reason: str, status: str) -> None:
    assert print_pod(pod(phase=phase, deleting=True, reason=reason)).status == status


def test_a_pod_without_a_phase_prints_an_empty_status() -> None:
    assert print_pod({"metadata": {"name": "p"}}).status == ""


def test_is_pod_ready_reads_the_first_ready_condition() -> None:
    assert is_pod_ready(pod(conditions=READY))
    assert not is_pod_ready(pod())
    first_false = [{"type": "Ready", "status": "False", "lastTransitionTime": "t1"},
                   {"type": "Ready", "status": "True"}]
    assert not is_pod_ready(pod(conditions=first_false))
    condition = pod_ready_condition(pod(conditions=first_false))
    assert condition is not None and condition["lastTransitionTime"] == "t1"


@pytest.mark.parametrize(("phase", "deleting", "active"), [
    ("Pending", False, True), ("Running", False, True), ("Succeeded", False, False), ("Failed", False, False),
    ("Running", True, False),
])
def test_is_pod_active(phase: str, deleting: bool, active: bool) -> None:
    assert is_pod_active(pod(phase=phase, deleting=deleting)) is active


def test_get_controller_of() -> None:
    owner = {"kind": "ReplicaSet", "name": "rs", "controller": True}
    assert get_controller_of({"metadata": {"ownerReferences": [{"kind": "X", "name": "x"}, owner]}}) == owner
    assert get_controller_of({"metadata": {"ownerReferences": [{"kind": "X", "controller": False}]}}) is None
    assert get_controller_of({}) is None

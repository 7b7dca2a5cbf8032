"""Tests of tutor.tui.rollout (kubectl's STATUS words, rollout groups) and the ClusterPanel widget."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.content import Content

from tutor.tui.rollout import (
    OTHER_PODS,
    Group,
    PodDetail,
    PodRow,
    image_tag,
    pod_detail,
    pod_ready,
    pod_restarts,
    pod_status,
    revision_label,
    rollout_groups,
    status_severity,
)
from tutor.tui.widgets import ClusterPanel
from tutor.tui.widgets.cluster_panel import line_count, pod_lines, render_lines, short_pod_name

DEPLOY = "kubernetes-bootcamp"
IMAGE = "jocatalin/kubernetes-bootcamp"
REVISION = "deployment.kubernetes.io/revision"
CREATED = "2026-01-05T10:00:00Z"
"""Every timestamp is this one: nothing shown depends on the clock."""

Obj = dict[str, Any]

# ---------------------------------------------------------------------------------------------------
# Hand-built API objects, shaped as `kubectl get -o json` returns them
# ---------------------------------------------------------------------------------------------------


def container_status(state: Obj, *, ready: bool = False, restarts: int = 0, name: str = "kubernetes-bootcamp",
                     last_state: Obj | None = None) -> Obj:
    return {"name": name, "image": f"{IMAGE}:v2", "ready": ready, "restartCount": restarts,
            "started": "running" in state, "state": state, "lastState": last_state or {}}


def running_state() -> Obj:
    return {"running": {"startedAt": CREATED}}


def waiting_state(reason: str, message: str | None = None) -> Obj:
    waiting: Obj = {"reason": reason}
    if message:
        waiting["message"] = message
    return {"waiting": waiting}


def make_pod(name: str, owner: str | None = None, *, phase: str = "Pending", statuses: list[Obj] | None = None,
             conditions: list[Obj] | None = None, deleting: bool = False, containers: int = 1,
             owner_uid: str | None = None, reason: str | None = None) -> Obj:
    """A pod; ``owner`` is the name of its ReplicaSet (None: a bare pod)."""
    metadata: Obj = {"name": name, "namespace": "default", "uid": f"uid-{name}", "creationTimestamp": CREATED}
    if owner is not None:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                        "uid": owner_uid or f"uid-{owner}", "controller": True,
                                        "blockOwnerDeletion": True}]
    if deleting:
        metadata["deletionTimestamp"] = CREATED
        metadata["deletionGracePeriodSeconds"] = 30
    status: Obj = {"phase": phase, "conditions": conditions or []}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if reason:
        status["reason"] = reason
    spec = {"containers": [{"name": f"c{i}" if i else "kubernetes-bootcamp", "image": f"{IMAGE}:v2"}
                           for i in range(containers)]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def ready_conditions(ready: bool) -> list[Obj]:
    value = "True" if ready else "False"
    return [{"type": "PodScheduled", "status": "True"}, {"type": "Initialized", "status": "True"},
            {"type": "ContainersReady", "status": value}, {"type": "Ready", "status": value}]


def pending_pod(name: str, owner: str | None = None) -> Obj:
    """Not scheduled yet: no container statuses."""
    return make_pod(name, owner, conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}])


def creating_pod(name: str, owner: str | None = None) -> Obj:
    return make_pod(name, owner, statuses=[container_status(waiting_state("ContainerCreating"))],
                    conditions=ready_conditions(False))


def running_pod(name: str, owner: str | None = None, **kwargs: Any) -> Obj:
    return make_pod(name, owner, phase="Running", statuses=[container_status(running_state(), ready=True)],
                    conditions=ready_conditions(True), **kwargs)


def pull_failing_pod(name: str, owner: str | None = None, reason: str = "ImagePullBackOff") -> Obj:
    message = f'Back-off pulling image "{IMAGE}:v10"' if reason == "ImagePullBackOff" else (
        f"failed to pull and unpack image \"docker.io/{IMAGE}:v10\": not found")
    return make_pod(name, owner, statuses=[container_status(waiting_state(reason, message))],
                    conditions=ready_conditions(False))


def completed_pod(name: str) -> Obj:
    terminated = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": CREATED, "finishedAt": CREATED}}
    return make_pod(name, phase="Succeeded", statuses=[container_status(terminated)],
                    conditions=ready_conditions(False))


def image_of(tag: str) -> str:
    """The lesson's image of a version: v1 comes from gcr.io, v2 and v10 from Docker Hub."""
    return f"gcr.io/google-samples/kubernetes-bootcamp:{tag}" if tag == "v1" else f"{IMAGE}:{tag}"


def deployment(tag: str, *, replicas: int = 4, revision: int = 3, name: str = DEPLOY) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "annotations": {REVISION: str(revision)}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "kubernetes-bootcamp", "image": image_of(tag)}]}}},
            "status": {"replicas": replicas}}


def replicaset(pod_hash: str, revision: int, tag: str, *, replicas: int, ready: int,
               owner: str = DEPLOY) -> Obj:
    status: Obj = {"replicas": replicas, "observedGeneration": 1}
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    name = f"{owner}-{pod_hash}"
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "labels": {"app": owner, "pod-template-hash": pod_hash},
                         "annotations": {REVISION: str(revision)},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner,
                                              "uid": f"uid-{owner}", "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "kubernetes-bootcamp", "image": image_of(tag)}]}}},
            "status": status}


RS_V1 = f"{DEPLOY}-5c69669756"
RS_V2 = f"{DEPLOY}-7c6644499c"
RS_V10 = f"{DEPLOY}-6d4fb9c5dk"
V2_PODS = [f"{RS_V2}-bx4wq", f"{RS_V2}-kz9tn", f"{RS_V2}-r2mhd"]
V10_PODS = [f"{RS_V10}-7mx2p", f"{RS_V10}-h5lsv"]


def v10_stall() -> dict[str, list[Obj]]:
    """The lesson's stuck rollout: `set image …:v10` with 4 replicas, the new pods never pull their image."""
    return {
        "deployments": [deployment("v10", replicas=4, revision=3)],
        "replicasets": [
            replicaset("5c69669756", 1, "v1", replicas=0, ready=0),
            replicaset("7c6644499c", 2, "v2", replicas=3, ready=3),
            replicaset("6d4fb9c5dk", 3, "v10", replicas=2, ready=0),
        ],
        "pods": [
            pull_failing_pod(V10_PODS[0], RS_V10, "ErrImagePull"),
            running_pod(V2_PODS[0], RS_V2),
            pull_failing_pod(V10_PODS[1], RS_V10, "ImagePullBackOff"),
            running_pod(V2_PODS[1], RS_V2),
            running_pod(V2_PODS[2], RS_V2),
        ],
        "services": [],
        "events": [],
    }


# ---------------------------------------------------------------------------------------------------
# pod_status / pod_ready / pod_restarts
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pod", "status", "ready"), [
    pytest.param(pending_pod("p"), "Pending", (0, 1), id="Pending"),
    pytest.param(make_pod("p", statuses=None), "Pending", (0, 1), id="Pending-no-conditions"),
    pytest.param(creating_pod("p"), "ContainerCreating", (0, 1), id="ContainerCreating"),
    pytest.param(running_pod("p"), "Running", (1, 1), id="Running"),
    pytest.param(running_pod("p", deleting=True), "Terminating", (1, 1), id="Terminating"),
    pytest.param(pull_failing_pod("p", reason="ErrImagePull"), "ErrImagePull", (0, 1), id="ErrImagePull"),
    pytest.param(pull_failing_pod("p"), "ImagePullBackOff", (0, 1), id="ImagePullBackOff"),
    pytest.param(completed_pod("p"), "Completed", (0, 1), id="Completed"),
])
def test_pod_status_and_ready(pod: Obj, status: str, ready: tuple[int, int]) -> None:
    assert pod_status(pod) == status
    assert pod_ready(pod) == ready


def test_a_terminating_pod_being_pulled_reads_terminating() -> None:
    assert pod_status(pull_failing_pod("p") | {"metadata": {"name": "p", "deletionTimestamp": CREATED}}) == \
        "Terminating"


def test_a_finished_pod_being_deleted_keeps_its_status() -> None:
    pod = completed_pod("p")
    pod["metadata"]["deletionTimestamp"] = CREATED
    assert pod_status(pod) == "Completed"


def test_a_deleted_pod_on_a_lost_node_reads_unknown() -> None:
    assert pod_status(running_pod("p", deleting=True, reason="NodeLost")) == "Unknown"


def test_crash_loop_counts_restarts() -> None:
    last = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": CREATED}}
    pod = make_pod("p", phase="Running", conditions=ready_conditions(False),
                   statuses=[container_status(waiting_state("CrashLoopBackOff"), restarts=5, last_state=last)])
    assert (pod_status(pod), pod_ready(pod), pod_restarts(pod)) == ("CrashLoopBackOff", (0, 1), 5)


def test_the_last_container_decides() -> None:
    """printPod walks the containers from the last to the first: the first one's reason wins."""
    pod = make_pod("p", containers=2, conditions=ready_conditions(False), statuses=[
        container_status(waiting_state("ImagePullBackOff")),
        container_status(waiting_state("ContainerCreating"), name="c1"),
    ])
    assert pod_status(pod) == "ImagePullBackOff"
    assert pod_ready(pod) == (0, 2)


@pytest.mark.parametrize(("pod_ready_condition", "status"), [(True, "Running"), (False, "NotReady")])
def test_completed_next_to_a_running_container(pod_ready_condition: bool, status: str) -> None:
    done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    pod = make_pod("p", phase="Running", containers=2, conditions=ready_conditions(pod_ready_condition), statuses=[
        container_status(running_state(), ready=True),
        container_status(done, name="c1"),
    ])
    assert pod_status(pod) == status
    assert pod_ready(pod) == (1, 2)


@pytest.mark.parametrize(("terminated", "status"), [
    ({"exitCode": 1}, "ExitCode:1"),
    ({"exitCode": 137, "signal": 9}, "Signal:9"),
    ({"exitCode": 1, "reason": "Error"}, "Error"),
])
def test_terminated_without_reason(terminated: Obj, status: str) -> None:
    pod = make_pod("p", phase="Failed", statuses=[container_status({"terminated": terminated})])
    assert pod_status(pod) == status


def test_init_containers() -> None:
    pod = make_pod("p", statuses=[container_status(waiting_state("PodInitializing"))])
    pod["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    pod["status"]["initContainerStatuses"] = [container_status({"running": {}}, name="init")]
    assert pod_status(pod) == "Init:0/1"
    pod["status"]["initContainerStatuses"] = [container_status(waiting_state("ErrImagePull"), name="init")]
    assert pod_status(pod) == "Init:ErrImagePull"
    assert status_severity("Init:ErrImagePull") == "error"
    assert status_severity("Init:0/1") == "progress"


def test_a_sidecar_counts_towards_ready() -> None:
    pod = running_pod("p")
    pod["spec"]["initContainers"] = [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]
    pod["status"]["initContainerStatuses"] = [
        container_status(running_state(), ready=True, name="proxy", restarts=2) | {"started": True}]
    assert (pod_status(pod), pod_ready(pod), pod_restarts(pod)) == ("Running", (2, 2), 2)


@pytest.mark.parametrize(("status", "severity"), [
    ("Running", "ok"), ("Completed", "ok"), ("Pending", "progress"), ("ContainerCreating", "progress"),
    ("ErrImagePull", "error"), ("ImagePullBackOff", "error"), ("CrashLoopBackOff", "error"),
    ("Terminating", "terminating"), ("Mystery", "other"),
])
def test_status_severity(status: str, severity: str) -> None:
    assert status_severity(status) == severity


@pytest.mark.parametrize(("image", "tag"), [
    ("jocatalin/kubernetes-bootcamp:v2", "v2"),
    ("docker.io/jocatalin/kubernetes-bootcamp:v10", "v10"),
    ("jocatalin/kubernetes-bootcamp", "latest"),
    ("localhost:5000/bootcamp", "latest"),
    ("localhost:5000/bootcamp:v1", "v1"),
    ("nginx@sha256:4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c", "@4f3a2b1"),
    ("nginx:1.27@sha256:4f3a2b1c0d9e", "1.27"),
    ("", ""),
])
def test_image_tag(image: str, tag: str) -> None:
    assert image_tag(image) == tag


# ---------------------------------------------------------------------------------------------------
# rollout_groups
# ---------------------------------------------------------------------------------------------------


PULL_ERROR = f'failed to pull and unpack image "docker.io/{IMAGE}:v10": not found'
BACK_OFF = f'Back-off pulling image "{IMAGE}:v10"'


def test_rollout_groups_of_the_v10_stall() -> None:
    groups = rollout_groups(v10_stall(), DEPLOY)
    assert groups == [
        Group(RS_V10, 3, "v10", desired=2, ready=0, current=True, pods=(
            PodRow(V10_PODS[0], "ErrImagePull", "0/1", 0,
                   PodDetail("waiting", "ErrImagePull", PULL_ERROR, "kubernetes-bootcamp")),
            PodRow(V10_PODS[1], "ImagePullBackOff", "0/1", 0,
                   PodDetail("waiting", "ImagePullBackOff", BACK_OFF, "kubernetes-bootcamp")),
        )),
        Group(RS_V2, 2, "v2", desired=3, ready=3, current=False,
              pods=tuple(PodRow(name, "Running", "1/1", 0) for name in V2_PODS)),
        Group(RS_V1, 1, "v1", desired=0, ready=0, current=False, pods=()),
    ]
    assert [group.scaled_to_zero for group in groups] == [False, False, True]


def test_rollout_groups_after_undo_marks_v2_current() -> None:
    snapshot = v10_stall()
    snapshot["deployments"] = [deployment("v2", revision=4)]
    current = [group.name for group in rollout_groups(snapshot, DEPLOY) if group.current]
    assert current == [RS_V2]


def test_pods_of_unknown_replicasets_and_bare_pods_are_other_pods() -> None:
    snapshot = v10_stall()
    snapshot["pods"] += [
        creating_pod(f"{DEPLOY}-9dd8q5kl2x-abcde", f"{DEPLOY}-9dd8q5kl2x"),  # RS not seen yet
        pending_pod("debug"),                                                 # kubectl run: no owner
    ]
    snapshot["replicasets"].append(replicaset("44bbz", 1, "1.27", replicas=1, ready=1, owner="web"))
    snapshot["pods"].append(running_pod("web-44bbz-qqqqq", "web-44bbz"))   # another deployment's pod
    groups = rollout_groups(snapshot, DEPLOY)
    assert [group.name for group in groups] == [RS_V10, RS_V2, RS_V1, OTHER_PODS]
    other = groups[-1]
    assert other.is_other and not other.current and not other.scaled_to_zero
    assert [(pod.name, pod.status) for pod in other.pods] == [
        ("debug", "Pending"), (f"{DEPLOY}-9dd8q5kl2x-abcde", "ContainerCreating")]


def test_rollout_groups_without_the_deployment() -> None:
    assert rollout_groups({"deployments": [], "replicasets": [], "pods": []}, DEPLOY) == []
    assert rollout_groups({}, DEPLOY) == []
    snapshot = v10_stall()
    snapshot["deployments"] = []   # deleted with --cascade=orphan: ReplicaSets still name it
    groups = rollout_groups(snapshot, DEPLOY)
    assert [group.revision for group in groups] == [3, 2, 1]
    assert not any(group.current for group in groups)


def test_a_replicaset_of_an_older_deployment_with_the_same_name_is_not_shown() -> None:
    snapshot = v10_stall()
    stale = replicaset("zzzzzzzzzz", 1, "v0", replicas=1, ready=1)
    stale["metadata"]["ownerReferences"][0]["uid"] = "uid-of-a-deleted-deployment"
    snapshot["replicasets"].append(stale)
    assert f"{DEPLOY}-zzzzzzzzzz" not in [group.name for group in rollout_groups(snapshot, DEPLOY)]


def test_a_terminating_pod_stays_under_its_old_replicaset() -> None:
    snapshot = v10_stall()
    snapshot["replicasets"][0]["spec"]["replicas"] = 0
    snapshot["pods"].append(running_pod(f"{RS_V1}-old11", RS_V1, deleting=True))
    v1 = rollout_groups(snapshot, DEPLOY)[-1]
    assert v1.pods == (PodRow(f"{RS_V1}-old11", "Terminating", "1/1", 0, deleting=True, grace=30),)
    assert not v1.scaled_to_zero


# ---------------------------------------------------------------------------------------------------
# Rendering (pure) and the widget
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "shown"), [
    (40, V10_PODS[0]),
    (17, "…6d4fb9c5dk-7mx2p"),   # the last two dash segments: pod-template-hash and random suffix
    (12, "…7mx2p"),              # then the random suffix: never a cut segment a learner cannot find
    (6, "…7mx2p"),
    (5, "7mx2p"),                # the random suffix alone
    (4, "…x2p"),                 # only when even that does not fit, its end
])
def test_short_pod_name(width: int, shown: str) -> None:
    assert short_pod_name(V10_PODS[0], width) == shown


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("width", [24, 30, 34, 38, 60])
def test_every_line_fits_the_width(lang: str, width: int) -> None:
    groups = rollout_groups(v10_stall(), DEPLOY)
    lines = render_lines(groups, width, lang=lang)
    assert all(line.cell_length <= width for line in lines)
    assert len(lines) == 1 + 3 + 3 + 2 + 3  # title, a blank line before each header, 5 pods


def test_waiting_and_empty_texts() -> None:
    assert [line.plain for line in render_lines(None, 38)] == ["waiting for the cluster…"]
    assert [line.plain for line in render_lines(None, 38, lang="ja")] == ["クラスターを待っています…"]
    assert [line.plain for line in render_lines([], 38, has_deployment=False)][-1] == "no deployment yet"
    assert [line.plain for line in render_lines([], 38, lang="ja")][-1] == "Pod なし"


def test_new_replicaset_without_pods_other_pods_and_restarts_render() -> None:
    snapshot = v10_stall()
    snapshot["replicasets"][2]["spec"]["replicas"] = 2
    snapshot["pods"] = [pod for pod in snapshot["pods"] if not pod["metadata"]["name"].startswith(RS_V10)]
    last = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": CREATED}}
    snapshot["pods"].append(make_pod("debug", phase="Running", conditions=ready_conditions(False), statuses=[
        container_status(waiting_state("CrashLoopBackOff"), restarts=12, last_state=last)]))
    lines = [line.plain for line in render_lines(rollout_groups(snapshot, DEPLOY), 38)]
    assert lines[2:4] == ["★ rev 3 · v10 · 0/2 ready", "  no pods"]
    assert lines[6:9] == ["  ● …bx4wq 1/1 Running", "  ● …kz9tn 1/1 Running", "  ● …r2mhd 1/1 Running"]
    assert lines[-2:] == ["  other pods · 1", "  ● debug 0/1 CrashLoopBackOff ↻12"]
    assert all(len(line) <= 38 for line in lines)
    assert line_count(rollout_groups(snapshot, DEPLOY)) == len(lines)


@pytest.mark.parametrize(("groups", "has_deployment"), [
    (None, False), ([], False), ([], True), (rollout_groups(v10_stall(), DEPLOY), True)])
def test_line_count_matches_the_rendered_lines(groups: list[Group] | None, has_deployment: bool) -> None:
    for width in (1, 30, 80):
        lines = render_lines(groups, width, has_deployment=has_deployment)
        assert line_count(groups, has_deployment=has_deployment) == len(lines)


def test_podstatus_does_not_import_textual() -> None:
    code = "import sys, tutor.tui.rollout; print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


class PanelApp(App[None]):
    """A tiny app holding only the cluster panel, fed with a fixed snapshot."""

    def __init__(self, lang: str = "en", snapshot: dict[str, list[Obj]] | None = None,
                 error: str | None = None, theme: str | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.snapshot = snapshot
        self.error = error
        if theme is not None:
            self.theme = theme

    def compose(self) -> ComposeResult:
        yield ClusterPanel(DEPLOY, self.lang, id="cluster")

    def on_mount(self) -> None:
        panel = self.query_one(ClusterPanel)
        if self.snapshot is not None:
            panel.update_snapshot(self.snapshot)
        if self.error is not None:
            panel.set_error(self.error)


def section(text: str, header: str) -> list[str]:
    """The lines under the header line that contains ``header``, up to the next blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if header in line)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


async def test_panel_shows_the_v10_stall_under_the_right_revisions() -> None:
    app = PanelApp()
    async with app.run_test(size=(40, 16)) as pilot:
        panel = app.query_one(ClusterPanel)
        assert panel.plain_text == "waiting for the cluster…"
        panel.update_snapshot(v10_stall())
        await pilot.pause()
        text = panel.plain_text
        assert text.splitlines()[0] == "Cluster · kubernetes-bootcamp"
        v10 = section(text, "rev 3 · v10 · 0/2 ready")
        assert [line.split()[-2:] for line in v10] == [["0/1", "ErrImagePull"], ["0/1", "ImagePullBackOff"]]
        assert [line.split()[1][-5:] for line in v10] == ["7mx2p", "h5lsv"]
        assert "★" in next(line for line in text.splitlines() if "rev 3" in line)
        v2 = section(text, "rev 2 · v2 · 3/3 ready")
        assert [line.split()[-2:] for line in v2] == [["1/1", "Running"]] * 3
        assert [line.split()[1][-5:] for line in v2] == ["bx4wq", "kz9tn", "r2mhd"]
        assert section(text, "rev 1 · v1 · scaled to 0") == []
        assert all(len(line) <= panel.size.width for line in text.splitlines())


async def test_panel_is_rebuilt_not_remounted_and_keeps_content_on_error() -> None:
    app = PanelApp(snapshot=v10_stall())
    async with app.run_test(size=(40, 16)) as pilot:
        panel = app.query_one(ClusterPanel)
        children = list(panel.children)
        snapshot = v10_stall()
        snapshot["pods"][0] = pull_failing_pod(V10_PODS[0], RS_V10, "ImagePullBackOff")
        panel.update_snapshot(snapshot)
        panel.set_error("dial tcp 127.0.0.1:6443: connect: connection refused\nretrying")
        await pilot.pause()
        assert list(panel.children) == children
        lines = panel.plain_text.splitlines()
        assert lines[0] == "cluster not answering: dial tcp 127.0.0.1:6443: connect: connection refused retrying"
        assert "ImagePullBackOff" in lines[4] and "ErrImagePull" not in panel.plain_text
        assert panel.has_class("-error")
        panel.set_error(None)
        await pilot.pause()
        assert not panel.has_class("-error") and panel.plain_text.startswith("Cluster")


async def test_panel_in_japanese_and_switching_language() -> None:
    app = PanelApp(lang="ja", snapshot=v10_stall())
    async with app.run_test(size=(40, 16)) as pilot:
        panel = app.query_one(ClusterPanel)
        text = panel.plain_text
        assert text.splitlines()[0] == "クラスター · kubernetes-bootcamp"
        assert "rev 3 · v10 · 0/2 準備完了" in text and "rev 1 · v1 · 0 にスケール済み" in text
        panel.lang = "en"
        await pilot.pause()
        assert "rev 1 · v1 · scaled to 0" in panel.plain_text
        panel.deployment = "web"
        await pilot.pause()
        assert panel.plain_text.splitlines() == ["Cluster · deployment web", "", "no deployment yet"]
        panel.update_snapshot({})
        await pilot.pause()
        assert panel.plain_text == "waiting for the cluster…"


async def test_panel_scrolls_with_keys_when_it_overflows() -> None:
    snapshot = v10_stall()
    snapshot["pods"] += [running_pod(f"{RS_V2}-x{i:04d}", RS_V2) for i in range(20)]
    app = PanelApp(snapshot=snapshot)
    async with app.run_test(size=(40, 16)) as pilot:
        panel = app.query_one(ClusterPanel)
        panel.focus()
        await pilot.press("end")
        await pilot.pause()
        assert panel.scroll_y > 0
        await pilot.press("home")
        await pilot.pause()
        assert panel.scroll_y == 0


# Snapshot tests: plain `def`, fixed sizes, nothing time-dependent on screen.


def test_snapshot_v10_stall_en(snap_compare: Any) -> None:
    assert snap_compare(PanelApp("en", v10_stall()), terminal_size=(40, 16))


def test_snapshot_v10_stall_ja(snap_compare: Any) -> None:
    assert snap_compare(PanelApp("ja", v10_stall()), terminal_size=(40, 16))


def test_snapshot_v10_stall_narrow(snap_compare: Any) -> None:
    assert snap_compare(PanelApp("en", v10_stall()), terminal_size=(30, 16))


def test_snapshot_v10_stall_light_theme(snap_compare: Any) -> None:
    assert snap_compare(PanelApp("en", v10_stall(), theme="textual-light"), terminal_size=(40, 16))


def test_snapshot_cluster_not_answering(snap_compare: Any) -> None:
    snapshot = v10_stall()
    snapshot["pods"].append(running_pod(f"{RS_V1}-old11", RS_V1, deleting=True))
    app = PanelApp("en", snapshot, error="dial tcp 127.0.0.1:6443: connect: connection refused")
    assert snap_compare(app, terminal_size=(40, 16))


# ---------------------------------------------------------------------------------------------------
# Truthful labels: a revision is named by what tells its image apart; names and labels are never cut to nothing
# ---------------------------------------------------------------------------------------------------

LESSON_IMAGES = ("gcr.io/google-samples/kubernetes-bootcamp:v1", f"{IMAGE}:v2", f"{IMAGE}:v10")
"""The rolling-update lesson's images (``images.pull`` and ``images.absent``)."""


@pytest.mark.parametrize(("image", "label"), [
    ("gcr.io/google-samples/kubernetes-bootcamp:v1", "v1"),       # the lesson's own images: their tags
    (f"{IMAGE}:v2", "v2"),
    (f"{IMAGE}:v10", "v10"),
    (f"docker.io/{IMAGE}:v2", "v2"),                              # docker.io/ is implied: the same image
    ("jocatalin/kubernetes-bootcmp:v2", "bootcmp:v2"),            # a misspelt repository is NOT v2
    ("jocatalin/kubernetes-bootcamp:v3", "v3"),                   # an unknown tag of the lesson's repository
    (f"{IMAGE}:v2-rc", "v2-rc"),
    ("gcr.io/google-samples/kubernetes-bootcamp:v2", "google-samples/kubernetes-bootcamp:v2"),  # not the lesson's v2
    ("nginx:1.27", "nginx:1.27"),
    ("nginx", "nginx:latest"),                                    # what the kubelet pulls
    (IMAGE, "latest"),
    ("nginx@sha256:4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c", "nginx@4f3a2b1"),
    ("nginx:1.27@sha256:4f3a2b1c0d9e", "nginx:1.27"),
    ("localhost:5000/bootcamp:v1", "localhost:5000/bootcamp:v1"),  # "v1" and "bootcamp:v1" name the lesson's v1
    ("", ""),
])
def test_revision_label_names_what_differs_from_the_lessons_images(image: str, label: str) -> None:
    assert revision_label(image, LESSON_IMAGES) == label


def test_revision_label_without_a_lesson_tells_the_revisions_apart() -> None:
    assert revision_label(f"{IMAGE}:v10", (), [f"{IMAGE}:v2", "gcr.io/google-samples/kubernetes-bootcamp:v1"]) == "v10"
    assert revision_label("jocatalin/kubernetes-bootcmp:v2", (), [f"{IMAGE}:v2"]) == "bootcmp:v2"
    # two revisions that only differ before the last segment are named by what differs
    assert revision_label("a.io/team/app:v2", LESSON_IMAGES, ["b.io/team/app:v2"]) == "a.io/team/app:v2"


def test_a_misspelt_image_is_not_labelled_as_the_lessons_v2() -> None:
    """ux-audit 04: `set image ...=jocatalin/kubernetes-bootcmp:v2` showed as "rev 2 · v2 · ImagePullBackOff"."""
    snapshot = v10_stall()
    typo = "jocatalin/kubernetes-bootcmp:v2"
    snapshot["deployments"] = [deployment("v2", revision=2)]
    snapshot["deployments"][0]["spec"]["template"]["spec"]["containers"][0]["image"] = typo
    snapshot["replicasets"] = [replicaset("5c69669756", 1, "v1", replicas=3, ready=3),
                               replicaset("64dd9f7f79", 2, "v2", replicas=2, ready=0)]
    snapshot["replicasets"][1]["spec"]["template"]["spec"]["containers"][0]["image"] = typo
    snapshot["pods"] = [pull_failing_pod(f"{DEPLOY}-64dd9f7f79-c8qcl", f"{DEPLOY}-64dd9f7f79")]
    groups = rollout_groups(snapshot, DEPLOY, LESSON_IMAGES)
    assert [(group.revision, group.image, group.current) for group in groups] == [
        (2, "bootcmp:v2", True), (1, "v1", False)]
    for width in (26, 35):
        assert render_lines(groups, width)[2].plain.startswith("★ rev 2 · bootcmp:v2")


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("width", [14, 18, 20, 24, 26, 27, 30, 35])
def test_the_revision_label_and_the_pod_suffix_are_never_cut(lang: str, width: int) -> None:
    """ux-audit 19: at 80 columns (a 26-cell pane) the header read "★ rev 3 · v… · 0/2 準備完了" and pods "● …xpd"."""
    groups = rollout_groups(v10_stall(), DEPLOY, LESSON_IMAGES)
    lines = [line.plain for line in render_lines(groups, width, lang=lang)]
    assert all(Content(line).cell_length <= width for line in lines)
    headers = [line for line in lines if "●" not in line and re.search(r"\bv(1|2|10)\b", line)]
    assert [re.findall(r"\bv(?:1|2|10)\b", header) for header in headers] == [["v10"], ["v2"], ["v1"]]
    assert headers[0].startswith("★ ") and "…" not in headers[0]
    pods = [line for line in lines if "●" in line]
    for pod, suffix in zip(pods, ["7mx2p", "h5lsv", "bx4wq", "kz9tn", "r2mhd"], strict=True):
        assert suffix in pod, (pod, suffix)
    if width >= 24:   # the 80-column pane has 26 cells: there the STATUS is whole too
        assert "ImagePullBackOff" in pods[1]


def test_at_80_columns_pods_keep_name_and_status_and_drop_ready() -> None:
    lines = [line.plain for line in render_lines(rollout_groups(v10_stall(), DEPLOY, LESSON_IMAGES), 26)]
    assert lines[2:5] == ["★ rev 3 · v10 · 0/2 ready", " ● …7mx2p ErrImagePull", " ● …h5lsv ImagePullBackOff"]
    assert lines[6:8] == ["  rev 2 · v2 · 3/3 ready", " ● …bx4wq Running"]
    ja = [line.plain for line in render_lines(rollout_groups(v10_stall(), DEPLOY, LESSON_IMAGES), 26, lang="ja")]
    assert ja[2] == "★ rev 3 · v10 · 0/2" and ja[-1] == "  rev 1 · v1 · 0/0"


# ---------------------------------------------------------------------------------------------------
# pod_detail and the selected pod
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pod", "detail"), [
    (pull_failing_pod("p", reason="ErrImagePull"), PodDetail("waiting", "ErrImagePull", PULL_ERROR,
                                                             "kubernetes-bootcamp")),
    (creating_pod("p"), PodDetail("waiting", "ContainerCreating", "", "kubernetes-bootcamp")),
    (running_pod("p"), PodDetail("")),
    (pending_pod("p"), PodDetail("unscheduled", "Unschedulable", "")),
    (completed_pod("p"), PodDetail("terminated", "Completed", "", "kubernetes-bootcamp", 0)),
    (make_pod("p", phase="Failed", reason="Evicted"), PodDetail("pod", "Evicted", "")),
    (make_pod("p", phase="Running", statuses=[
        container_status(waiting_state("CrashLoopBackOff", "back-off 40s restarting failed container=c1")),
        container_status(running_state(), ready=True, name="c1")]),
     PodDetail("waiting", "CrashLoopBackOff", "back-off 40s restarting failed container=c1", "kubernetes-bootcamp")),
])
def test_pod_detail_is_the_reason_and_message_of_the_container_that_decides(pod: Obj, detail: PodDetail) -> None:
    assert pod_detail(pod) == detail


def test_pod_lines_match_the_rendered_lines() -> None:
    groups = rollout_groups(v10_stall(), DEPLOY)
    lines = render_lines(groups, 38)
    names = [pod.name if pod is not None else None for pod in pod_lines(groups)]
    assert len(names) == len(lines) == line_count(groups)
    for name, line in zip(names, lines, strict=True):
        assert (name is not None) == ("●" in line.plain)
        if name is not None:
            assert name[-5:] in line.plain


async def test_selecting_a_pod_shows_its_reason_and_message() -> None:
    app = PanelApp(snapshot=v10_stall())
    async with app.run_test(size=(40, 24)) as pilot:
        panel = app.query_one(ClusterPanel)
        panel.focus()
        await pilot.pause()
        assert panel.detail == "" and "↑↓" in str(panel.query_one("#pod-detail").render())
        await pilot.press("down")   # the first press selects the first failing pod
        await pilot.pause()
        assert panel.selected_pod is not None and panel.selected_pod.name == V10_PODS[0]
        assert panel.detail.splitlines() == [
            "Waiting: ErrImagePull", "→ The last pull of the image failed. The registry has no such tag.",
            PULL_ERROR, f"$ kubectl describe pod {V10_PODS[0]}"]
        foot = panel.query_one("#pod-detail")
        assert foot.display and panel.region.contains_region(foot.region)
        await pilot.press("down")
        await pilot.pause()
        assert panel.detail.splitlines()[0] == "Waiting: ImagePullBackOff"
        assert BACK_OFF in panel.detail and "10 s, 20 s, 40 s" in panel.detail
        await pilot.press("down")
        await pilot.pause()
        assert panel.detail.splitlines() == ["Running: Running", f"$ kubectl describe pod {V2_PODS[0]}"]
        await pilot.press("escape")
        await pilot.pause()
        assert panel.selected_pod is None and panel.detail == ""


async def test_a_click_selects_a_pod_and_a_vanished_pod_is_unselected() -> None:
    app = PanelApp(lang="ja", snapshot=v10_stall())
    async with app.run_test(size=(40, 24)) as pilot:
        panel = app.query_one(ClusterPanel)
        body = panel.query_one("#cluster-body")
        row = next(i for i, pod in enumerate(pod_lines(panel.groups)) if pod is not None and pod.name == V10_PODS[1])
        await pilot.click(body, offset=(3, row))
        await pilot.pause()
        assert panel.selected_pod is not None and panel.selected_pod.name == V10_PODS[1]
        assert panel.detail.splitlines()[0] == "待機中: ImagePullBackOff"
        assert "kubelet は 10 秒、20 秒、40 秒" in panel.detail
        snapshot = v10_stall()
        snapshot["pods"] = [pod for pod in snapshot["pods"] if pod["metadata"]["name"] != V10_PODS[1]]
        panel.update_snapshot(snapshot)
        await pilot.pause()
        assert panel.selected_pod is None and panel.detail == ""
        assert str(panel.query_one("#pod-detail").render()) == "↑↓ で Pod を選ぶと、理由が出ます"  # focused: how to


def test_snapshot_selected_pod_en(snap_compare: Any) -> None:
    async def select(pilot: Any) -> None:
        pilot.app.query_one(ClusterPanel).focus()
        await pilot.press("down", "down")
        await pilot.pause()

    assert snap_compare(PanelApp("en", v10_stall()), terminal_size=(40, 24), run_before=select)


def test_snapshot_selected_pod_ja_narrow(snap_compare: Any) -> None:
    async def select(pilot: Any) -> None:
        pilot.app.query_one(ClusterPanel).focus()
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(PanelApp("ja", v10_stall()), terminal_size=(30, 24), run_before=select)

"""Fidelity: scheduling (cordon, drain, resource requests against allocatable) and QoS classes, as kube-scheduler,
the node lifecycle controller and the apiserver of Kubernetes 1.37 do them.

Cordon and drain change the node for every pod on it, so these tests run on a cluster of their own.
Each test runs the real kubectl and cites the upstream source it checks.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.practice.conftest import TIME_SCALE, Kube, kubectl_of, wait_for
from tutor.backends.practice import PracticeBackend

NODE = "kube-tutor-control-plane"
V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
PREEMPTION_NOT_HELPFUL = ("no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not "
                          "helpful for scheduling.")
NO_VICTIMS = ("no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found for "
              "incoming pod.")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    backend = PracticeBackend(tmp_path_factory.mktemp("scheduling"), time_scale=TIME_SCALE)
    status = backend.up()
    assert status.running, status.detail
    yield Kube(backend.kubeconfig, "default", Path(os.environ["HOME"]))
    backend.down()


@pytest.fixture
def kube(cluster: Kube) -> Iterator[Kube]:
    """The module's cluster, schedulable again and without the test's objects afterwards."""
    yield cluster
    cluster.run("uncordon", NODE)
    cluster.run("delete", "deployments,pods", "--all", "-n", "default", "--timeout=60s")


def phases(kube: Kube, selector: str) -> list[str]:
    return sorted(p["status"]["phase"] for p in kube.pods(selector) if not p["metadata"].get("deletionTimestamp"))


def scheduled_condition(pod: dict[str, Any]) -> dict[str, str]:
    condition = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    return {k: condition[k] for k in ("status", "reason", "message")}


def failed_scheduling(kube: Kube, name: str) -> list[tuple[str, str, str]]:
    events = kube.json("get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [(e["type"], e["reason"], e["message"]) for e in events if e["reason"] == "FailedScheduling"]


def test_cordon_keeps_new_pods_pending_until_uncordon(kube: Kube) -> None:
    """``kubectl cordon`` sets ``spec.unschedulable``; the node lifecycle controller adds the
    ``node.kubernetes.io/unschedulable:NoSchedule`` taint (``pkg/controller/nodelifecycle/node_lifecycle_controller.go``);
    the kubelet records ``NodeNotSchedulable`` (``pkg/kubelet/nodestatus/setters.go``); the ``NodeUnschedulable``
    filter (``pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go``) fails the node as
    unresolvable, so preemption is not helpful (``pkg/scheduler/framework/preemption/preemption.go``) and the
    message is ``FitError.Error()`` (``pkg/scheduler/framework/types.go``)."""
    assert kube("cordon", NODE) == f"node/{NODE} cordoned\n"
    assert kube("get", "node", NODE).splitlines()[1].split()[:2] == [NODE, "Ready,SchedulingDisabled"]
    wait_for(lambda: "Taints:             node.kubernetes.io/unschedulable:NoSchedule\nUnschedulable:      true\n"
             in kube("describe", "node", NODE), message="the unschedulable taint")
    kube("create", "deployment", "web", f"--image={V1}", "--replicas=2")
    wait_for(lambda: all(failed_scheduling(kube, p["metadata"]["name"]) for p in kube.pods("app=web"))
             and len(kube.pods("app=web")) == 2, message="both pods failed scheduling")
    message = f"0/1 nodes are available: 1 node(s) were unschedulable. {PREEMPTION_NOT_HELPFUL}"
    for pod in kube.pods("app=web"):
        assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
        assert scheduled_condition(pod) == {"status": "False", "reason": "Unschedulable", "message": message}
        assert failed_scheduling(kube, pod["metadata"]["name"]) == [("Warning", "FailedScheduling", message)]
    described = kube("describe", "pod", kube.pods("app=web")[0]["metadata"]["name"])
    assert "  Warning  FailedScheduling  " in described and f"default-scheduler  {message}" in described
    assert kube("uncordon", NODE) == f"node/{NODE} uncordoned\n"
    wait_for(lambda: phases(kube, "app=web") == ["Running", "Running"], message="both running after uncordon")
    assert "Taints:             <none>\nUnschedulable:      false\n" in kube("describe", "node", NODE)
    events = kube("events", "--for", f"node/{NODE}")
    assert re.search(rf"Normal\s+NodeNotSchedulable\s+Node/{NODE}\s+Node {NODE} status is now: NodeNotSchedulable",
                     events)
    assert re.search(rf"Normal\s+NodeSchedulable\s+Node/{NODE}\s+Node {NODE} status is now: NodeSchedulable", events)


def test_drain_evicts_all_but_daemon_and_mirror_pods(kube: Kube) -> None:
    """``kubectl drain --ignore-daemonsets`` (``staging/src/k8s.io/kubectl/pkg/drain``): DaemonSet pods are left
    (they tolerate the unschedulable taint, ``pkg/controller/daemon/util/daemonset_util.go``), mirror pods are
    skipped, the others are evicted (``pkg/registry/core/pod/storage/eviction.go``: ``DisruptionTarget``, then
    deleted) and their replacements wait, unschedulable."""
    kube("create", "deployment", "drained", f"--image={V1}", "--replicas=2")
    kube("rollout", "status", "deployment/drained", "--timeout=60s")
    refused = kube.run("drain", NODE, "--timeout=60s")
    assert refused.returncode == 1
    assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kindnet-" \
        in refused.stderr
    result = kube.run("drain", NODE, "--ignore-daemonsets", "--timeout=60s")
    assert result.ok, result.stderr
    assert re.search(r"^Warning: ignoring DaemonSet-managed Pods: kube-system/kindnet-\w+, kube-system/kube-proxy-\w+$",
                     result.stderr, re.M), result.stderr
    evicted = sorted(re.findall(r"^pod/(\S+) evicted$", result.stdout, re.M))
    assert [re.sub(r"-\w+-\w+$", "", name) for name in evicted] == [
        "coredns", "coredns", "drained", "drained", "local-path-provisioner"], result.stdout
    assert result.stdout.endswith(f"node/{NODE} drained\n")
    wait_for(lambda: phases(kube, "app=drained") == ["Pending", "Pending"], message="the replacements pending")
    system = {p["metadata"]["name"]: p for p in kube.json("get", "pods", "-n", "kube-system")["items"]}
    running = sorted(re.sub(r"-[bcdfghjklmnpqrstvwxz2456789]{5}$", "", n) for n, p in system.items() if p["status"]["phase"] == "Running")
    assert running == ["etcd-" + NODE, "kindnet", "kube-apiserver-" + NODE, "kube-controller-manager-" + NODE,
                       "kube-proxy", "kube-scheduler-" + NODE]
    # A deleted daemon pod comes back on the cordoned node: it tolerates the taint.
    proxy = next(n for n in system if n.startswith("kube-proxy-"))
    kube("delete", "pod", "-n", "kube-system", proxy)
    wait_for(lambda: [p["status"]["phase"] for p in kube.json("get", "pods", "-n", "kube-system", "-l",
                                                              "k8s-app=kube-proxy")["items"]] == ["Running"],
             message="kube-proxy running again")
    kube("uncordon", NODE)
    wait_for(lambda: phases(kube, "app=drained") == ["Running", "Running"], message="running after uncordon")


def test_requests_beyond_allocatable_wait_until_the_node_has_room(kube: Kube) -> None:
    """``NodeResourcesFit`` (``pkg/scheduler/framework/plugins/noderesources/fit.go`` ``fitsRequest``): each
    request against allocatable minus what the node's pods request, ``Insufficient <resource>`` for each that
    does not fit; preemption finds no victims of a lower priority
    (``pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go``). A larger allocatable
    (``NodeAllocatableChange``) schedules the pod."""
    node = kube.json("get", "node", NODE)
    cpu = node["status"]["allocatable"]["cpu"]
    cores = int(cpu)
    overrides = {"spec": {"containers": [{"name": "big", "image": V1,
                                          "resources": {"requests": {"cpu": str(cores), "memory": "1Ei"}}}]}}
    kube("run", "big", f"--image={V1}", f"--overrides={json.dumps(overrides)}")
    wait_for(lambda: failed_scheduling(kube, "big"), message="FailedScheduling")
    message = f"0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. {NO_VICTIMS}"
    assert failed_scheduling(kube, "big") == [("Warning", "FailedScheduling", message)]
    assert scheduled_condition(kube.json("get", "pod", "big")) == {
        "status": "False", "reason": "Unschedulable", "message": message}
    memory = node["status"]["allocatable"]["memory"]
    try:
        kube("patch", "node", NODE, "--subresource=status", "--type=merge", "-p", json.dumps(
            {"status": {"allocatable": {"cpu": str(cores * 2), "memory": "2Ei"}}}))
        wait_for(lambda: kube.json("get", "pod", "big")["status"]["phase"] == "Running", message="big running")
    finally:
        kube("patch", "node", NODE, "--subresource=status", "--type=merge", "-p", json.dumps(
            {"status": {"allocatable": {"cpu": cpu, "memory": memory}}}))


def test_qos_classes_as_the_apiserver_sets_them(kube: Kube) -> None:
    """``ComputePodQOS`` (``pkg/apis/core/helper/qos/qos.go``) at creation (``pkg/registry/core/pod/strategy.go``
    ``PrepareForCreate``); a limit without a request requests the limit (``SetDefaults_Pod``,
    ``pkg/apis/core/v1/defaults.go``), so limits alone make a pod Guaranteed."""
    def pod(name: str, resources: dict[str, Any]) -> str:
        overrides = {"spec": {"containers": [{"name": name, "image": V1, "resources": resources}]}}
        kube("run", name, f"--image={V1}", f"--overrides={json.dumps(overrides)}")
        return str(kube.json("get", "pod", name)["status"]["qosClass"])

    assert pod("none", {}) == "BestEffort"
    assert pod("some", {"requests": {"cpu": "10m"}}) == "Burstable"
    assert pod("limited", {"limits": {"cpu": "10m", "memory": "10Mi"}}) == "Guaranteed"
    assert kube.json("get", "pod", "limited")["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "10m", "memory": "10Mi"}
    assert pod("unequal", {"requests": {"cpu": "10m", "memory": "10Mi"},
                           "limits": {"cpu": "20m", "memory": "10Mi"}}) == "Burstable"
    assert pod("cpu-only", {"limits": {"cpu": "10m"}}) == "Burstable"
    assert re.search(r"^QoS Class:\s+Guaranteed$", kube("describe", "pod", "limited"), re.M)


def test_quantities_are_exact() -> None:
    """``resource.ParseQuantity`` / ``MilliValue`` / ``Value`` (``staging/src/k8s.io/apimachinery/pkg/api/resource/
    quantity.go``): binary and decimal suffixes, exponents, rounded up; sums of them stay exact."""
    from fractions import Fraction

    from tutor.kube.qos import pod_requests
    from tutor.kube.quantity import milli_value, parse_quantity, value

    assert [parse_quantity(q) for q in ("1Ei", "1E", "1e3", "100m", "1.5Gi", "x")] == [
        2**60, 10**18, 1000, Fraction(1, 10), 3 * 2**29, None]
    assert (milli_value("100m"), milli_value("0.0001"), value("1.5"), value("1Ki")) == (100, 1, 2, 1024)
    assert milli_value(sum([Fraction(1, 10)] * 9, Fraction(0))) == 900
    pod = {"spec": {"containers": [{"resources": {"requests": {"cpu": "100m"}}},
                                   {"resources": {"requests": {"cpu": "200m", "memory": "1Mi"}}}],
                    "initContainers": [{"resources": {"requests": {"cpu": "500m"}}}]}}
    assert pod_requests(pod) == {"cpu": Fraction(1, 2), "memory": 2**20}


@pytest.mark.parametrize(("text", "expected"), [
    ("100n", (Fraction(100, 10**9), "DecimalSI")), ("2u", (Fraction(2, 10**6), "DecimalSI")),
    ("1E+3", (Fraction(1000), "DecimalExponent")), ("0.5Ki", (Fraction(512), "BinarySI")),
    ("1.", (Fraction(1), "DecimalSI")), ("+", (Fraction(0), "DecimalSI")), (".", (Fraction(0), "DecimalSI")),
    ("0.0000000001", (Fraction(1, 10**9), "DecimalSI")),  # rounded up to 1n
    ("9Ei", (Fraction(2**63 - 1), "BinarySI")),  # BinarySI is capped at maxAllowed
    ("1e999999999", (Fraction(10) ** 64, "DecimalExponent")),  # held, never a billion-digit integer
    ("9" * 5000, (Fraction(10) ** 64, "DecimalSI")),
    ("0." + "0" * 5000 + "1", (Fraction(1, 10**9), "DecimalSI")),
    ("abc", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1x", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1.2.3", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("", "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1e", "unable to parse quantity's suffix"), ("1ee3", "unable to parse quantity's suffix"),
    (".e-10", "unable to parse numeric part of quantity"),
])
def test_quantities_parse_as_parsequantity_does(text: str, expected: object) -> None:
    """``ParseQuantity`` and ``parseQuantityString`` (apimachinery ``pkg/api/resource/quantity.go``) with
    ``suffixHandler.interpret`` (``suffix.go``): values, formats and the three errors, word for word."""
    from tutor.kube.quantity import QuantityError, parse_quantity_strict

    if isinstance(expected, str):
        with pytest.raises(QuantityError) as raised:
            parse_quantity_strict(text)
        assert str(raised.value) == expected
    else:
        assert parse_quantity_strict(text) == expected


def test_a_quantity_that_does_not_parse_is_a_bad_request(kube: Kube) -> None:
    """``Quantity.UnmarshalJSON`` fails the decoding: 400, ``<Kind> in version "v1" cannot be handled as a <Kind>:
    <ParseQuantity's error>``; a huge one is stored and schedules as upstream's would (Insufficient cpu)."""
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "abc"}}}
    refused = kube.shell(f"kubectl apply -f - <<'EOF'\n{json.dumps(quota)}\nEOF")
    assert refused.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": ResourceQuota in version "v1" cannot be '
        "handled as a ResourceQuota: quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
           "spec": {"containers": [{"name": "c", "image": V1,
                                    "resources": {"requests": {"cpu": "1e999999999"}}}]}}
    created = kube.shell(f"kubectl apply -f - <<'EOF'\n{json.dumps(pod)}\nEOF")
    assert created.stdout.strip() == "pod/huge created", created.stderr
    wait_for(lambda: "Insufficient cpu" in kube("get", "events", "--field-selector", "involvedObject.name=huge"),
             message="FailedScheduling: Insufficient cpu")


def test_node_selector_and_taints_keep_a_pod_pending_until_the_node_matches(kube: Kube) -> None:
    """``NodeAffinity`` (``pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go``: ``node(s) didn't match
    Pod's node affinity/selector``) and ``TaintToleration`` (``tainttoleration/taint_toleration.go``: ``node(s) had
    untolerated taint(s)``) fail the node as unresolvable; a label or taint change (``NodeLabelChange``,
    ``NodeTaintChange``) retries the pod."""
    overrides = {"spec": {"nodeSelector": {"disktype": "ssd"}}}
    kube("run", "picky", f"--image={V1}", f"--overrides={json.dumps(overrides)}")
    wait_for(lambda: failed_scheduling(kube, "picky"), message="FailedScheduling")
    assert failed_scheduling(kube, "picky") == [("Warning", "FailedScheduling", (
        f"0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. {PREEMPTION_NOT_HELPFUL}"))]
    kube("taint", "node", NODE, "dedicated=learners:NoSchedule")
    try:
        kube("run", "tainted", f"--image={V1}")
        wait_for(lambda: failed_scheduling(kube, "tainted"), message="FailedScheduling")
        assert failed_scheduling(kube, "tainted") == [("Warning", "FailedScheduling", (
            f"0/1 nodes are available: 1 node(s) had untolerated taint(s). {PREEMPTION_NOT_HELPFUL}"))]
    finally:
        kube("taint", "node", NODE, "dedicated=learners:NoSchedule-")
    wait_for(lambda: kube.json("get", "pod", "tainted")["status"]["phase"] == "Running", message="tainted running")
    kube("label", "node", NODE, "disktype=ssd")
    try:
        wait_for(lambda: kube.json("get", "pod", "picky")["status"]["phase"] == "Running", message="picky running")
    finally:
        kube("label", "node", NODE, "disktype-")


async def test_an_unschedulable_pod_is_tried_again_every_five_minutes(tmp_path: Path) -> None:
    """``flushUnschedulablePodsLeftover`` (``pkg/scheduler/backend/queue/scheduling_queue.go``): a pod left
    unschedulable for ``DefaultPodMaxInUnschedulablePodsDuration`` (5 min) is tried again, and its
    ``FailedScheduling`` event is counted again (``describe`` shows ``(x2 over 5m)``). Time runs 300x here."""
    import asyncio

    from tutor.practice.cluster import PracticeCluster

    directory = tmp_path / "practice"

    async def kubectl(*args: str) -> str:
        done = await kubectl_of(directory, tmp_path, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cluster = PracticeCluster(directory, time_scale=300)
    await cluster.start()
    try:
        await kubectl("cordon", NODE)
        await kubectl("run", "waiting", f"--image={V1}")

        def count() -> int:
            return sum(int(e.get("count") or 1) for e in cluster.store.list("events", "default")
                       if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "waiting")

        deadline = asyncio.get_running_loop().time() + 30
        while count() < 2:
            assert asyncio.get_running_loop().time() < deadline, f"tried {count()} time(s)"
            await asyncio.sleep(0.05)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
        described = await kubectl("describe", "pod", "waiting")
        assert re.search(r"Warning  FailedScheduling  \S+ \(x2 over \S+\)\s+default-scheduler  0/1 nodes are "
                         r"available: 1 node\(s\) were unschedulable\.", described), described
    finally:
        await cluster.stop()

"""Fidelity: the cluster's own objects and the kubelet's logs, as a kind cluster of Kubernetes 1.37 shows them.

Each test runs the real kubectl against the practice cluster and cites the upstream source it checks.
"""

from __future__ import annotations

import base64
import re
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.practice.conftest import Kube, kubectl_of, wait_for

NODE = "kube-tutor-control-plane"
SUFFIX = r"[bcdfghjklmnpqrstvwxz2456789]{5}"
HASH = r"[4-9bcdf]{6,10}"


def rows(out: str) -> list[list[str]]:
    """The cells of a kubectl table (header excluded), split on runs of 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[1:] if line.strip()]


def system_pods(kube: Kube) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in kube.json("get", "pods", "-n", "kube-system")["items"]}


def test_get_pods_all_namespaces_lists_the_kind_system_pods(kube: Kube) -> None:
    """kind's kube-system and local-path-storage pods: kubeadm ``cmd/kubeadm/app/phases/addons/dns/manifests.go``
    (coredns, 2 replicas), ``.../addons/proxy/manifests.go`` (kube-proxy), ``.../controlplane/manifests.go`` and
    ``.../etcd/local.go`` (the static pods, ``<component>-<node>``), kind ``pkg/build/nodeimage/const_cni.go``
    (kindnet) and ``const_storage.go`` (local-path-provisioner)."""
    # Only the system namespaces: other tests' pods on this shared cluster may be crash-looping or Completed.
    wait_for(lambda: all(r[3] == "Running" for r in rows(kube("get", "pods", "-A"))
                         if r[0] in ("kube-system", "local-path-storage")),
             message="the system pods running")
    table = rows(kube("get", "pods", "-A"))
    system = sorted((r[0], re.sub(rf"-{HASH}-{SUFFIX}$|-{SUFFIX}$", "-*", r[1]), r[2], r[3]) for r in table
                    if r[0] in ("kube-system", "local-path-storage"))
    assert system == [
        ("kube-system", "coredns-*", "1/1", "Running"),
        ("kube-system", "coredns-*", "1/1", "Running"),
        ("kube-system", f"etcd-{NODE}", "1/1", "Running"),
        ("kube-system", "kindnet-*", "1/1", "Running"),
        ("kube-system", f"kube-apiserver-{NODE}", "1/1", "Running"),
        ("kube-system", f"kube-controller-manager-{NODE}", "1/1", "Running"),
        ("kube-system", "kube-proxy-*", "1/1", "Running"),
        ("kube-system", f"kube-scheduler-{NODE}", "1/1", "Running"),
        ("local-path-storage", "local-path-provisioner-*", "1/1", "Running"),
    ]
    pods = system_pods(kube)
    coredns = next(p for name, p in pods.items() if name.startswith("coredns-"))
    assert coredns["spec"]["priorityClassName"] == "system-cluster-critical"
    assert coredns["spec"]["priority"] == 2000000000
    assert coredns["status"]["qosClass"] == "Burstable"
    assert coredns["spec"]["containers"][0]["image"].startswith("registry.k8s.io/coredns/coredns:v1.")
    etcd = pods[f"etcd-{NODE}"]
    assert etcd["spec"]["priority"] == 2000001000
    assert etcd["spec"]["hostNetwork"] is True
    assert etcd["status"]["podIP"] == etcd["status"]["hostIP"]
    # The DaemonSets and Deployments behind them, as `get all -A` lists them.
    out = kube("get", "all", "-A")
    assert re.search(r"^kube-system\s+daemonset\.apps/kube-proxy\s+1\s+1\s+1\s+1\s+1\s+kubernetes\.io/os=linux\s+\S+$",
                     out, re.M), out
    assert re.search(r"^kube-system\s+daemonset\.apps/kindnet\s+1\s+1\s+1\s+1\s+1\s+<none>\s+\S+$", out, re.M)
    assert re.search(r"^kube-system\s+deployment\.apps/coredns\s+2/2\s+2\s+2\s+\S+$", out, re.M)
    assert re.search(r"^local-path-storage\s+deployment\.apps/local-path-provisioner\s+1/1\s+1\s+1\s+\S+$", out, re.M)
    assert re.search(r"^kube-system\s+service/kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53/UDP,53/TCP,9153/TCP\s+",
                     out, re.M)


def test_a_deleted_daemon_pod_or_addon_pod_is_made_again(kube: Kube) -> None:
    """``pkg/controller/daemon/daemon_controller.go`` ``manage`` makes a node's missing daemon pod; the ReplicaSet
    controller a missing coredns replica. The DaemonSet kind is served read-only here: a write is 405
    (``MethodNotSupported``, ``staging/src/k8s.io/apiserver/pkg/endpoints/installer.go``)."""
    before = {n for n in system_pods(kube) if n.startswith("kube-proxy-")}
    assert len(before) == 1
    kube("delete", "pod", "-n", "kube-system", before.pop(), "--wait=false")
    wait_for(lambda: [p["status"].get("phase") for n, p in system_pods(kube).items()
                      if n.startswith("kube-proxy-") and not p["metadata"].get("deletionTimestamp")] == ["Running"],
             message="a new kube-proxy pod running")
    events = kube("events", "-n", "kube-system", "--for", "daemonset/kube-proxy")
    assert re.search(rf"Normal\s+SuccessfulCreate\s+DaemonSet/kube-proxy\s+Created pod: kube-proxy-{SUFFIX}", events)
    refused = kube.run("delete", "daemonset", "kube-proxy", "-n", "kube-system")
    assert refused.returncode == 1
    assert refused.stderr == ("Error from server (MethodNotAllowed): the server does not allow this method on the "
                              "requested resource\n")


def test_a_deleted_mirror_pod_is_made_again_with_its_containers_still_running(kube: Kube) -> None:
    """kubelet ``pkg/kubelet/pod/mirror_client.go`` and ``pod_workers.go``: a mirror pod (annotated
    ``kubernetes.io/config.mirror``, owned by the Node) only reflects a static pod; deleting it stops nothing and
    the kubelet creates it again."""
    name = f"etcd-{NODE}"
    before = kube.json("get", "pod", "-n", "kube-system", name)
    annotations = before["metadata"]["annotations"]
    assert annotations["kubernetes.io/config.source"] == "file"
    assert annotations["kubernetes.io/config.mirror"] == annotations["kubernetes.io/config.hash"]
    assert before["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert before["metadata"]["labels"] == {"component": "etcd", "tier": "control-plane"}
    assert kube("delete", "pod", "-n", "kube-system", name) == f'pod "{name}" deleted from kube-system namespace\n'
    after = wait_for(lambda: (p := kube.json("get", "pods", "-n", "kube-system",
                                             f"--field-selector=metadata.name={name}")["items"])
                     and p[0]["metadata"]["uid"] != before["metadata"]["uid"] and p[0], message="the mirror pod back")
    assert after["status"]["containerStatuses"][0]["state"] == before["status"]["containerStatuses"][0]["state"]
    assert not kube("events", "-n", "kube-system", "--for", f"pod/{name}").count("Killing")


def test_kubernetes_service_has_its_endpoints_and_slice(kube: Kube) -> None:
    """The apiserver's endpoint reconciler (``pkg/controlplane/reconcilers/endpointsadapter.go``): the
    ``kubernetes`` Endpoints (``endpointslice.kubernetes.io/skip-mirror``) and EndpointSlice name the
    apiserver's address and secure port 6443."""
    result = kube.run("get", "endpoints", "-n", "default")
    assert result.ok
    assert result.stderr == "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n"
    assert [r[:2] for r in rows(result.stdout) if r[0] == "kubernetes"] == [["kubernetes", "127.0.0.1:6443"]]
    endpoints = kube.json("get", "endpoints", "-n", "default", "kubernetes")
    assert endpoints["metadata"]["labels"] == {"endpointslice.kubernetes.io/skip-mirror": "true"}
    assert endpoints["subsets"] == [{"addresses": [{"ip": "127.0.0.1"}],
                                     "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
    slices = [r for r in rows(kube("get", "endpointslices", "-n", "default")) if r[0] == "kubernetes"]
    assert [r[:4] for r in slices] == [["kubernetes", "IPv4", "6443", "127.0.0.1"]]
    slice_ = kube.json("get", "endpointslice", "-n", "default", "kubernetes")
    assert slice_["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    # The apiserver makes them again (pkg/controlplane/controller/kubernetesservice/controller.go).
    kube("delete", "service", "-n", "default", "kubernetes")
    wait_for(lambda: kube.run("get", "endpoints", "-n", "default", "kubernetes").ok, message="kubernetes back")
    assert kube.json("get", "service", "-n", "default", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"
    assert kube.json("get", "endpoints", "-n", "default", "kubernetes")["subsets"] == endpoints["subsets"]
    dns = [r for r in rows(kube.run("get", "endpoints", "-n", "kube-system").stdout) if r[0] == "kube-dns"]
    assert len(dns) == 1 and re.fullmatch(r"10\.244\.\d+\.\d+:53,10\.244\.\d+\.\d+:53,10\.244\.\d+\.\d+:53 \+ 3 more\.\.\.",
                                          dns[0][1]), dns


def test_every_namespace_gets_the_default_service_account_and_the_root_ca(kube: Kube) -> None:
    """``pkg/controller/serviceaccount/serviceaccounts_controller.go`` (``default`` in every namespace) and
    ``pkg/controller/certificates/rootcacertpublisher/publisher.go`` (``kube-root-ca.crt`` with the cluster's CA and
    its ``kubernetes.io/description``); both are made again when deleted."""
    wait_for(lambda: rows(kube("get", "serviceaccounts")), message="the default ServiceAccount")
    assert [r[:2] for r in rows(kube("get", "serviceaccounts"))] == [["default", "0"]]
    assert [r[:2] for r in rows(kube("get", "configmaps"))] == [["kube-root-ca.crt", "1"]]
    configmap = kube.json("get", "configmap", "kube-root-ca.crt")
    ca = base64.b64decode(yaml.safe_load(kube.kubeconfig.read_text())["clusters"][0]["cluster"][
        "certificate-authority-data"]).decode()
    assert configmap["data"] == {"ca.crt": ca}
    assert configmap["metadata"]["annotations"] == {"kubernetes.io/description": (
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as "
        "the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
        "Kubernetes clusters.")}
    kube("delete", "serviceaccount", "default")
    kube("delete", "configmap", "kube-root-ca.crt")
    wait_for(lambda: kube.run("get", "serviceaccount", "default").ok and kube.run("get", "cm", "kube-root-ca.crt").ok,
             message="both made again")
    kube("patch", "configmap", "kube-root-ca.crt", "--type=merge", "-p", '{"data":{"ca.crt":"tampered"}}')
    wait_for(lambda: kube.json("get", "configmap", "kube-root-ca.crt")["data"] == {"ca.crt": ca},
             message="the CA put back")


def test_describe_node_shows_the_lease_heartbeats_and_110_pods(kube: Kube) -> None:
    """The node lease (``staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go``: 40 s, renewed
    every 10 s), the status heartbeats (``pkg/kubelet/kubelet_node_status.go``) and ``maxPods: 110``
    (``pkg/kubelet/apis/config/v1beta1/defaults.go``), as ``kubectl describe node`` prints them
    (``staging/src/k8s.io/kubectl/pkg/describe/describe.go`` ``describeNode``)."""
    described = kube("describe", "node", NODE)
    assert "Failed to get lease" not in described and "0001" not in described
    assert re.search(rf"^Lease:\n  HolderIdentity:  {NODE}\n  AcquireTime:     <unset>\n  RenewTime:       \w{{3}}, ",
                     described, re.M), described
    assert re.search(r"^  Ready\s+True\s+\w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000\s+\w{3}, ", described, re.M)
    assert re.search(r"^Capacity:\n(?:  .*\n)*  pods:\s+110\n", described, re.M)
    assert re.search(r"^Allocatable:\n(?:  .*\n)*  pods:\s+110\n", described, re.M)
    assert re.search(r"^Non-terminated Pods:\s+\(\d+ in total\)$", described, re.M)
    assert re.search(rf"^  kube-system\s+etcd-{NODE}\s+100m \(\d+%\)\s+0 \(0%\)\s+100Mi", described, re.M)
    events = kube("events", "-n", "default", "--for", f"node/{NODE}")
    assert re.search(r"Normal\s+Starting\s+Node/\S+\s+Starting kubelet\.$", events, re.M), events
    assert re.search(rf"Normal\s+RegisteredNode\s+Node/{NODE}\s+Node {NODE} event: Registered Node {NODE} in "
                     "Controller$", events, re.M), events
    lease = kube.json("get", "lease", "-n", "kube-node-lease", NODE)
    assert lease["spec"]["holderIdentity"] == NODE and lease["spec"]["leaseDurationSeconds"] == 40
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    renewed = lease["spec"]["renewTime"]
    wait_for(lambda: kube.json("get", "lease", "-n", "kube-node-lease", NODE)["spec"]["renewTime"] > renewed,
             message="the lease renewed")


# ---- logs ---------------------------------------------------------------------------------------------------
def _pod_with_requests(kube: Kube, count: int) -> str:
    port = int(kube("get", "services/kubernetes-bootcamp", "-o", "go-template={{(index .spec.ports 0).nodePort}}"))
    for _ in range(count):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            response.read()
    for pod in kube.pods():
        if "Total Requests" in kube("logs", pod["metadata"]["name"]):
            return str(pod["metadata"]["name"])
    raise AssertionError("no pod answered")


def test_logs_tail_limit_bytes_timestamps_and_since(bootcamp: Kube) -> None:
    """The kubelet's ``ReadLogs`` (``pkg/kubelet/kuberuntime/logs/logs.go``): the last ``tailLines`` lines, those
    written before ``since`` skipped, at most ``limitBytes`` bytes (``LimitedWriter``, even within a line),
    ``timestamps`` in ``time.RFC3339Nano``; ``sinceSeconds`` is counted back from now."""
    kube = bootcamp
    pod = _pod_with_requests(kube, 3)
    everything = kube("logs", pod)
    lines = everything.splitlines()
    assert kube("logs", pod, "--tail=1").splitlines() == lines[-1:]
    assert kube("logs", pod, "--tail=0") == ""
    assert kube("logs", pod, "--limit-bytes=30") == everything[:30]
    assert kube("logs", pod, "--tail=2", "--limit-bytes=1000") == "\n".join(lines[-2:]) + "\n"
    stamped = kube("logs", pod, "--timestamps").splitlines()
    assert len(stamped) == len(lines)
    for with_time, line in zip(stamped, lines, strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z " + re.escape(line), with_time), with_time
    assert kube("logs", pod, "--since=1h") == everything
    assert kube("logs", pod, "--since-time=2099-01-01T00:00:00Z") == ""
    assert kube("logs", pod, "--since-time=2000-01-01T00:00:00Z") == everything
    # From the second request on: since the timestamp of that line.
    second = stamped[-2].split(" ", 1)[0]
    assert kube("logs", pod, f"--since-time={second[:19]}Z").splitlines()[-2:] == lines[-2:]


def test_log_options_are_validated_as_the_apiserver_does(bootcamp: Kube) -> None:
    """``ValidatePodLogOptions`` (``pkg/apis/core/validation/validation.go``): an Invalid ``PodLogOptions``."""
    kube = bootcamp
    pod = kube.pods()[0]["metadata"]["name"]
    base = f"/api/v1/namespaces/{kube.namespace}/pods/{pod}/log"
    for query, message in (
            ("sinceSeconds=0", "sinceSeconds: Invalid value: 0: must be greater than 0"),
            ("limitBytes=0", "limitBytes: Invalid value: 0: must be greater than 0"),
            ("tailLines=-1", "tailLines: Invalid value: -1: must be greater than or equal to 0"),
            ("sinceSeconds=5&sinceTime=2020-01-01T00:00:00Z",
             ": Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified")):
        result = kube.run("get", "--raw", f"{base}?{query}")
        assert result.returncode == 1
        assert result.stderr == f'The PodLogOptions "{pod}" is invalid: {message}\n', query


def test_the_built_in_priority_classes(kube: Kube) -> None:
    """The apiserver's ``SystemPriorityClasses`` (``pkg/apis/scheduling/helpers.go``) as ``kubectl get pc`` prints
    them (``printPriorityClass``, ``pkg/printers/internalversion/printers.go``); the Priority admission plugin
    (``plugin/pkg/admission/priority/admission.go``) gives a pod its class's value."""
    out = kube("get", "priorityclasses")
    assert out.splitlines()[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert [[r[0], r[1], r[2], r[4]] for r in rows(out)] == [
        ["system-cluster-critical", "2000000000", "false", "PreemptLowerPriority"],
        ["system-node-critical", "2000001000", "false", "PreemptLowerPriority"]]
    kube("run", "critical", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1",
         '--overrides={"spec":{"priorityClassName":"system-node-critical"}}')
    assert kube.json("get", "pod", "critical")["spec"]["priority"] == 2000001000



async def test_a_deleted_node_registers_again_when_the_cluster_starts(tmp_path: Path) -> None:
    """The kubelet registers its node at start-up (``registerWithAPIServer``,
    ``pkg/kubelet/kubelet_node_status.go``): a node deleted with ``kubectl delete node`` stays gone (its Lease and
    mirror pods go with it, ``pkg/controller/garbagecollector``) until the next start, which brings back the node,
    its Lease and the mirror pods."""
    import asyncio

    from tutor.practice.cluster import PracticeCluster

    directory = tmp_path / "practice"

    async def kubectl(*args: str) -> str:
        done = await kubectl_of(directory, tmp_path, *args)
        return done.stdout + done.stderr

    cluster = PracticeCluster(directory, time_scale=20)
    await cluster.start()
    try:
        assert await kubectl("delete", "node", NODE) == f'node "{NODE}" deleted\n'
        deadline = asyncio.get_running_loop().time() + 30
        while cluster.store.get("leases", "kube-node-lease", NODE) is not None or \
                cluster.store.get("pods", "kube-system", f"etcd-{NODE}") is not None:
            assert asyncio.get_running_loop().time() < deadline, "the node's lease and mirror pods stayed"
            await asyncio.sleep(0.05)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
        assert "NotFound" in await kubectl("get", "node", NODE)
    finally:
        await cluster.stop()
    again = PracticeCluster(directory, time_scale=20)
    await again.start()
    try:
        assert (await kubectl("get", "nodes")).splitlines()[1].split()[:2] == [NODE, "Ready"]
        deadline = asyncio.get_running_loop().time() + 30
        while again.store.get("pods", "kube-system", f"etcd-{NODE}") is None:
            assert asyncio.get_running_loop().time() < deadline, "the mirror pods did not come back"
            await asyncio.sleep(0.05)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
        assert again.store.get("leases", "kube-node-lease", NODE) is not None
    finally:
        await again.stop()

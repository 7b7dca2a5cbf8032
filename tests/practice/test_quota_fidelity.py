"""Fidelity: ResourceQuota and LimitRange with the real kubectl, as Kubernetes 1.37 does them.

Upstream sources checked:
- ``staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go`` (``CheckRequest``:
  ``exceeded quota: NAME, requested: ..., used: ..., limited: ...``, ``prettyPrint``);
- ``pkg/quota/v1/evaluator/core/pods.go`` (``Constraints``: ``must specify requests.cpu for: ...``),
  ``services.go``, ``staging/src/k8s.io/apiserver/pkg/quota/v1/generic/evaluator.go`` (``count/<resource>.<group>``);
- ``pkg/controller/resourcequota/resource_quota_controller.go`` (``status.hard``/``status.used``);
- ``plugin/pkg/admission/limitranger/admission.go`` (defaults, ``maximum cpu usage per Container is ...``);
- ``pkg/controller/replicaset/replica_set.go`` / ``pkg/controller/controller_utils.go`` (``FailedCreate``:
  ``Error creating: <error>``) and ``pkg/printers/internalversion/printers.go`` (``printResourceQuota``).

Quotas act on a whole namespace, so each test uses the ``kube`` fixture's namespace of its own.
"""

from __future__ import annotations

import json
from typing import Any

from tests.practice.conftest import Kube, wait_for

IMAGE = "gcr.io/google-samples/kubernetes-bootcamp:v1"


def _quota(kube: Kube, name: str) -> dict:
    return kube.json("get", "resourcequota", name)


def _wait_status(kube: Kube, name: str) -> dict:
    """The quota once the controller has written its status."""
    return wait_for(lambda: (_quota(kube, name).get("status") or {}).get("used") and _quota(kube, name),
                     message=f"status.used of quota {name}")


def _pod_count(kube: Kube, selector: str) -> int:
    return len([p for p in kube.pods(selector) if not p["metadata"].get("deletionTimestamp")])


def test_pods_quota_stalls_scale_with_failed_create_events(kube: Kube) -> None:
    """A quota of 10 pods stops ``scale --replicas=50`` at 10, with upstream's FailedCreate events; deleting the
    quota lets the scale finish."""
    assert kube("create", "quota", "pods", "--hard=pods=10").strip() == "resourcequota/pods created"
    _wait_status(kube, "pods")
    kube("create", "deployment", "web", f"--image={IMAGE}", "--replicas=2")
    kube("scale", "deployment/web", "--replicas=50")
    wait_for(lambda: _pod_count(kube, "app=web") == 10, message="10 pods")

    def failed_creates() -> list[str]:
        events = kube.json("get", "events", "--field-selector", "reason=FailedCreate")["items"]
        return [e["message"] for e in events if e["type"] == "Warning"]

    messages = wait_for(failed_creates, message="FailedCreate events")
    message = messages[0].removeprefix("(combined from similar events): ")
    assert message.startswith('Error creating: pods "web-'), message
    assert message.endswith('" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=10, '
                            "limited: pods=10"), message
    assert "exceeded quota: pods" in kube("get", "events")
    rs = kube.json("get", "rs", "-l", "app=web")["items"][0]
    described = kube("describe", "rs", rs["metadata"]["name"])
    assert "FailedCreate" in described and "exceeded quota: pods" in described
    condition = next(c for c in kube.json("get", "rs", rs["metadata"]["name"])["status"]["conditions"]
                     if c["type"] == "ReplicaFailure")
    assert (condition["status"], condition["reason"]) == ("True", "FailedCreate")
    assert _pod_count(kube, "app=web") == 10

    def deployment_failure() -> dict[str, Any] | None:
        conditions = kube.json("get", "deployment", "web")["status"].get("conditions") or []
        return next((c for c in conditions if c["type"] == "ReplicaFailure"), None)

    # getReplicaFailures (pkg/controller/deployment/progress.go) moves it to the Deployment as
    # ReplicaSetToDeploymentCondition makes it; `kubectl describe deployment` shows it among the Conditions.
    moved = wait_for(deployment_failure, message="the Deployment's ReplicaFailure condition")
    assert {k: moved[k] for k in ("status", "reason", "message", "lastTransitionTime")} == \
        {k: condition[k] for k in ("status", "reason", "message", "lastTransitionTime")}
    assert moved["lastUpdateTime"] == condition["lastTransitionTime"]
    assert ["ReplicaFailure", "True", "FailedCreate"] in [line.split() for line in
                                                         kube("describe", "deployment", "web").splitlines()]

    status = _quota(kube, "pods")["status"]
    assert status == {"hard": {"pods": "10"}, "used": {"pods": "10"}}
    table = kube("get", "quota")
    assert table.split("\n")[0].split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert "pods: 10/10" in table
    described = kube("describe", "quota", "pods")
    lines = [line.split() for line in described.splitlines()]
    assert ["pods", "10", "10"] in lines, described

    # A pod of one's own is refused with the same message, 403 Forbidden.
    refused = kube.run("run", "extra", f"--image={IMAGE}")
    assert not refused.ok
    assert refused.stderr.strip() == ('Error from server (Forbidden): pods "extra" is forbidden: exceeded quota: '
                                      "pods, requested: pods=1, used: pods=10, limited: pods=10")

    kube("delete", "quota", "pods")
    wait_for(lambda: _pod_count(kube, "app=web") == 50, timeout=90, message="50 pods after the quota went")
    wait_for(lambda: deployment_failure() is None, message="the ReplicaFailure condition to go")


def test_quota_used_follows_objects_and_counts(kube: Kube) -> None:
    """status.used goes up and down as objects come and go; ``count/deployments.apps`` refuses the second
    deployment; ``services.nodeports`` counts NodePort services' ports."""
    kube("create", "quota", "counts", "--hard=count/deployments.apps=1,services.nodeports=1,services=5")
    _wait_status(kube, "counts")
    kube("create", "deployment", "one", f"--image={IMAGE}", "--replicas=1")
    wait_for(lambda: _quota(kube, "counts")["status"]["used"]["count/deployments.apps"] == "1",
             message="one deployment counted")
    refused = kube.run("create", "deployment", "two", f"--image={IMAGE}")
    assert refused.stderr.strip() == (
        'error: failed to create deployment: deployments.apps "two" is forbidden: exceeded quota: counts, '
        "requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1")

    kube("create", "service", "nodeport", "np", "--tcp=80:8080")
    refused = kube.run("create", "service", "nodeport", "np2", "--tcp=80:8080")
    assert "exceeded quota: counts, requested: services.nodeports=1, used: services.nodeports=1, " \
           "limited: services.nodeports=1" in refused.stderr
    kube("create", "service", "clusterip", "plain", "--tcp=80:8080")
    wait_for(lambda: _quota(kube, "counts")["status"]["used"] == {
        "count/deployments.apps": "1", "services": "2", "services.nodeports": "1"}, message="usage")

    kube("delete", "deployment", "one")
    kube("delete", "service", "np")
    wait_for(lambda: _quota(kube, "counts")["status"]["used"] == {
        "count/deployments.apps": "0", "services": "1", "services.nodeports": "0"}, message="usage given back")
    kube("create", "deployment", "two", f"--image={IMAGE}")


def test_compute_quota_requires_requests_and_sums_them(kube: Kube) -> None:
    """A quota on requests.cpu refuses a pod without a cpu request (``must specify``); requests and limits add
    up in ``status.used`` and the message prints quantities as ``Quantity.String()``."""
    kube("create", "quota", "compute", "--hard=requests.cpu=1,requests.memory=1Gi,limits.cpu=2,limits.memory=2Gi")
    _wait_status(kube, "compute")
    refused = kube.run("run", "bare", f"--image={IMAGE}")
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): pods "bare" is forbidden: failed quota: compute: must specify '
        "limits.cpu for: bare; limits.memory for: bare; requests.cpu for: bare; requests.memory for: bare")

    def pod(name: str, cpu: str, memory: str) -> str:
        return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{
            "name": "app", "image": IMAGE,
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}}]}})

    assert kube.shell(f"echo '{pod('a', '600m', '512Mi')}' | kubectl create -f -").ok
    wait_for(lambda: _quota(kube, "compute")["status"]["used"]["requests.cpu"] == "600m", message="600m used")
    refused = kube.shell(f"echo '{pod('b', '500m', '256Mi')}' | kubectl create -f -")
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): error when creating "STDIN": pods "b" is forbidden: exceeded quota: '
        "compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1")
    table = kube("get", "quota", "compute")
    assert "requests.cpu: 600m/1, requests.memory: 512Mi/1Gi" in table
    assert "limits.cpu: 600m/2, limits.memory: 512Mi/2Gi" in table


def test_limitrange_defaults_and_max(kube: Kube) -> None:
    """A LimitRange's Container default and defaultRequest are given to a pod that states none; a pod over the max
    is refused with upstream's wording; ``describe limitrange`` reads it."""
    limit_range = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"}, "spec": {"limits": [{
        "type": "Container", "max": {"cpu": "1", "memory": "1Gi"},
        "default": {"cpu": "500m", "memory": "256Mi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}}
    assert kube.shell(f"echo '{json.dumps(limit_range)}' | kubectl create -f -").ok
    kube("run", "defaulted", f"--image={IMAGE}")
    created = kube.json("get", "pod", "defaulted")
    assert created["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container defaulted; cpu, memory limit for container "
        "defaulted")
    assert created["status"]["qosClass"] == "Burstable"

    big = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"}, "spec": {"containers": [{
        "name": "app", "image": IMAGE, "resources": {"limits": {"cpu": "2"}}}]}}
    refused = kube.shell(f"echo '{json.dumps(big)}' | kubectl create -f -")
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: '
        "maximum cpu usage per Container is 1, but limit is 2")  # maxConstraint stops at the limit
    described = kube("describe", "limitrange", "limits")
    # kubectl's describeLimitRangeSpec ranges over a Go map of the resources: their rows come in any order.
    assert ["Container", "cpu", "-", "1", "100m", "500m", "-"] in [
        line.split() for line in described.splitlines() if line.startswith("Container")]
    assert kube("get", "limits").split("\n")[1].split()[0] == "limits"
    table = {line.split()[0]: line.split() for line in kube("api-resources").splitlines()[1:]}
    assert table["resourcequotas"] == ["resourcequotas", "quota", "v1", "true", "ResourceQuota"]
    assert table["limitranges"] == ["limitranges", "limits", "v1", "true", "LimitRange"]

"""Provides the DaemonSet controller: one daemon pod on the node for every DaemonSet, recreated when it goes.

Ports, for a cluster of one node, ``pkg/controller/daemon/daemon_controller.go``:

- ``manage``: a node that should run the daemon pod and has none gets one (``SuccessfulCreate``,
  ``Created pod: <name>``); a node with more than one keeps the oldest (``SuccessfulDelete``); a failed daemon pod
  is deleted so that a new one is made (``FailedDaemonPod``);
- the daemon pod: the template with the ``controller-revision-hash`` and ``pod-template-generation`` labels,
  the node affinity on ``metadata.name`` that binds it to its node (``pkg/controller/daemon/util``
  ``ReplaceDaemonSetPodNodeNameNodeAffinity``) and the tolerations every daemon pod gets
  (``AddOrUpdateDaemonPodTolerations``: not-ready, unreachable, disk/memory/pid pressure, unschedulable, and
  network-unavailable for host-network pods): a cordoned node still runs its daemon pods;
- ``updateDaemonSetStatus``: desired, current, ready, up-to-date and available numbers.

The DaemonSets served are the cluster's own (kube-proxy, kindnet): the kind is read-only, so templates never
change and no ControllerRevisions are kept beyond the hash label.
"""

from __future__ import annotations

from tutor.kube.podutil import is_pod_phase_terminal
from tutor.practice.apiserver import defaults
from tutor.practice.apiserver.admission import mount_service_account_token
from tutor.practice.apiserver.names import pod_template_hash
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.controllers.pods import controller_ref, pod_ready
from tutor.practice.controllers.workqueue import Controller
from tutor.practice.events import NODE_NAME

Key = tuple[str, str]
COMPONENT = "daemonset-controller"

_DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
"""``AddOrUpdateDaemonPodTolerations`` (``pkg/controller/daemon/util/daemonset_util.go``)."""
_HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                            "effect": "NoSchedule"}


def daemon_pod_tolerations(tolerations: list[Obj], host_network: bool) -> list[Obj]:
    """The template's tolerations plus the daemon pod's own, each added once (matched by key and effect)."""
    out = [dict(t) for t in tolerations]
    for extra in (*_DAEMON_TOLERATIONS, *((_HOST_NETWORK_TOLERATION,) if host_network else ())):
        if not any(t.get("key") == extra["key"] and t.get("effect") == extra["effect"] for t in out):
            out.append(dict(extra))
    return out


class DaemonSetController(Controller):
    """Keeps one daemon pod per DaemonSet on the node and the DaemonSet's status."""

    name = "daemonset"

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "daemonsets":
            self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))
        elif plural == "pods":
            ref = controller_ref(event.obj)
            if ref is not None and ref.get("kind") == "DaemonSet":
                self.queue.add((event.obj["metadata"]["namespace"], ref.get("name", "")))
        elif plural == "nodes":
            for ds in self.store.list("daemonsets"):
                self.queue.add((ds["metadata"]["namespace"], ds["metadata"]["name"]))

    def _pods(self, ds: Obj) -> list[Obj]:
        uid = ds["metadata"]["uid"]
        return [p for p in self.store.owned_by(uid, "pods")
                if (controller_ref(p) or {}).get("uid") == uid]

    def sync(self, key: Key) -> None:
        ds = self.store.get("daemonsets", *key)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        pods = self._pods(ds)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        if self.store.get("nodes", "", NODE_NAME) is not None:
            for pod in [p for p in live if (p.get("status") or {}).get("phase") == "Failed"]:
                self.ctx.recorder.record(ds, "Warning", "FailedDaemonPod",
                                         f"Found failed daemon pod {key[0]}/{pod['metadata']['name']} on node "
                                         f"{NODE_NAME}, will try to kill it", component=COMPONENT)
                self.ctx.delete("pods", pod, None, None)
                live.remove(pod)
            if not live:
                self._create_pod(ds)
            else:
                for extra in sorted(live, key=lambda p: p["metadata"]["creationTimestamp"])[1:]:
                    self.ctx.delete("pods", extra, None, None)
                    self.ctx.recorder.record(ds, "Normal", "SuccessfulDelete",
                                             f"Deleted pod: {extra['metadata']['name']}", component=COMPONENT)
        self._update_status(ds, self._pods(ds))

    def _create_pod(self, ds: Obj) -> None:
        template = ds["spec"]["template"]
        tmeta = template.get("metadata") or {}
        spec = deep_copy(template.get("spec") or {})
        spec["affinity"] = dict(spec.get("affinity") or {}, nodeAffinity={
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [NODE_NAME]}]}]}})
        spec["tolerations"] = daemon_pod_tolerations(spec.get("tolerations") or [], bool(spec.get("hostNetwork")))
        labels = dict(tmeta.get("labels") or {})
        labels["controller-revision-hash"] = pod_template_hash(template)
        labels["pod-template-generation"] = str(ds["metadata"].get("generation", 1))
        pod: Obj = {
            "metadata": {
                "generateName": f"{ds['metadata']['name']}-", "namespace": ds["metadata"]["namespace"],
                "labels": labels,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds["metadata"]["name"],
                                     "uid": ds["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": spec,
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = dict(tmeta["annotations"])
        defaults.default_pod(pod)
        mount_service_account_token(pod)  # the controller creates through the API: admission runs
        created = self.store.create("pods", pod)
        self.ctx.recorder.record(ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                 component=COMPONENT)

    def _update_status(self, ds: Obj, pods: list[Obj]) -> None:
        scheduled = [p for p in pods if p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp")
                     and not is_pod_phase_terminal((p.get("status") or {}).get("phase"))]
        ready = sum(1 for p in scheduled if pod_ready(p))
        current = 1 if scheduled else 0
        status: Obj = {"currentNumberScheduled": current, "numberMisscheduled": 0,
                       "desiredNumberScheduled": 1 if self.store.get("nodes", "", NODE_NAME) else 0,
                       "numberReady": min(ready, 1), "observedGeneration": ds["metadata"].get("generation", 1),
                       "updatedNumberScheduled": current}
        if ready:
            status["numberAvailable"] = 1
        elif status["desiredNumberScheduled"]:
            status["numberUnavailable"] = 1
        if ds.get("status") == status:
            return
        new = deep_copy(ds)
        new["status"] = status
        self.store.update("daemonsets", new, status_only=True)

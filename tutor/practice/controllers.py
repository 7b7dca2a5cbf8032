"""Provides the ReplicaSet controller, scheduler, endpoints, garbage collector and namespace controllers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.practice import defaults, errors
from tutor.practice.clock import parse_time
from tutor.practice.events import NODE_NAME
from tutor.practice.selectors import LabelSelector
from tutor.practice.store import Obj, WatchEvent, deep_copy
from tutor.practice.workqueue import Controller

if TYPE_CHECKING:
    from tutor.practice.cluster import PracticeCluster


def controller_ref(obj: Obj) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def pod_ready(pod: Obj) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def pod_ready_since(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("lastTransitionTime") or ""
    return ""


def pod_active(pod: Obj) -> bool:
    return (not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


class ReplicaSetController(Controller):
    """Keeps ``spec.replicas`` pods per ReplicaSet; deletes not-ready pods first on scale-down."""

    name = "replicaset"
    cluster: PracticeCluster

    def priority(self, key: tuple[str, str]) -> int:
        """Scale-downs first: a rolling update never has more live pods than replicas + maxSurge."""
        rs = self.store.get("replicasets", *key)
        if rs is None:
            return 0
        active = sum(1 for p in self._pods(rs) if pod_active(p))
        return 0 if active > int(rs["spec"].get("replicas", 0)) else 1

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "replicasets":
            if event.type != "DELETED":
                self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))
        elif plural == "pods":
            ref = controller_ref(event.obj)
            if ref and ref.get("kind") == "ReplicaSet":
                self.queue.add((event.obj["metadata"]["namespace"], ref["name"]))

    def _pods(self, rs: Obj) -> list[Obj]:
        uid = rs["metadata"]["uid"]
        return [p for p in self.store.owned_by(uid, "pods") if (controller_ref(p) or {}).get("uid") == uid]

    def sync(self, key: tuple[str, str]) -> None:
        rs = self.store.get("replicasets", *key)
        if rs is None:
            return
        all_pods = self._pods(rs)
        active = [p for p in all_pods if pod_active(p)]
        if not rs["metadata"].get("deletionTimestamp"):
            diff = len(active) - int(rs["spec"].get("replicas", 0))
            if diff < 0:
                for _ in range(min(-diff, 500)):
                    active.append(self._create_pod(rs))
                if -diff > 500:
                    self.queue.add(key)
            elif diff > 0:
                for pod in self._pods_to_delete(active, diff):
                    self.cluster.delete("pods", pod, "Background", None)
                    self.cluster.recorder.record(rs, "Normal", "SuccessfulDelete",
                                                 f"Deleted pod: {pod['metadata']['name']}",
                                                 component="replicaset-controller")
                active = [p for p in self._pods(rs) if pod_active(p)]
        self._update_status(rs, active)

    def _create_pod(self, rs: Obj) -> Obj:
        template = rs["spec"]["template"]
        tmeta = template.get("metadata") or {}
        pod: Obj = {
            "metadata": {
                "generateName": f"{rs['metadata']['name']}-",
                "namespace": rs["metadata"]["namespace"],
                "labels": dict(tmeta.get("labels") or {}),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                     "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": deep_copy(template.get("spec") or {}),
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = dict(tmeta["annotations"])
        defaults.default_pod(pod)
        try:
            created = self.store.create("pods", pod)
        except errors.ApiError as error:
            self.cluster.recorder.record(rs, "Warning", "FailedCreate", f"Error creating: {error.message}",
                                         component="replicaset-controller")
            raise
        self.cluster.recorder.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                     component="replicaset-controller")
        return created

    @staticmethod
    def _pods_to_delete(pods: list[Obj], count: int) -> list[Obj]:
        """controller.ActivePodsWithRanks ordering: the first ``count`` pods are deleted."""
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}

        def key(pod: Obj) -> tuple:
            status = pod.get("status") or {}
            ready = pod_ready(pod)
            cost = (pod["metadata"].get("annotations") or {}).get("controller.kubernetes.io/pod-deletion-cost", "0")
            try:
                cost_value = int(cost)
            except ValueError:
                cost_value = 0
            restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
            created = pod["metadata"].get("creationTimestamp", "")
            since = pod_ready_since(pod) if ready else ""
            return (
                bool(pod["spec"].get("nodeName")),
                phase_rank.get(status.get("phase", "Pending"), 0),
                ready,
                cost_value,
                _neg(since),
                -restarts,
                _neg(created),
            )

        return sorted(pods, key=key)[:count]

    def _update_status(self, rs: Obj, active: list[Obj]) -> None:
        ready = [p for p in active if pod_ready(p)]
        min_ready = int(rs["spec"].get("minReadySeconds", 0) or 0)
        available = 0
        wait = None
        clock = self.store.clock
        selector = LabelSelector.from_dict(rs["spec"].get("selector"))
        for pod in ready:
            if min_ready == 0:
                available += 1
                continue
            since = parse_time(pod_ready_since(pod))
            elapsed = (clock.now() - since).total_seconds() * clock.time_scale if since else 0
            if elapsed >= min_ready:
                available += 1
            else:
                remaining = min_ready - elapsed
                wait = remaining if wait is None else min(wait, remaining)
        if wait is not None:
            self.queue.add_after((rs["metadata"]["namespace"], rs["metadata"]["name"]), clock.real(wait + 0.1))
        status: Obj = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(1 for p in active if selector.matches(p["metadata"].get("labels") or {})),
            "readyReplicas": len(ready),
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        terminating = sum(1 for p in self._pods(rs) if p["metadata"].get("deletionTimestamp"))
        if terminating:
            status["terminatingReplicas"] = terminating
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if status[k] == 0:
                del status[k]
        if rs.get("status") == status:
            return
        new = deep_copy(rs)
        new["status"] = status
        self.store.update("replicasets", new, status_only=True)


def _neg(text: str) -> tuple[int, ...]:
    """Sort key that orders strings descending (newer timestamps first)."""
    return tuple(-ord(c) for c in text)


class Scheduler(Controller):
    """Binds every pending pod to the single node and records ``Scheduled``."""

    name = "scheduler"
    cluster: PracticeCluster

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "pods" and event.type != "DELETED" and not event.obj["spec"].get("nodeName"):
            self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))

    def sync(self, key: tuple[str, str]) -> None:
        pod = self.store.get("pods", *key)
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        new = deep_copy(pod)
        new["spec"]["nodeName"] = NODE_NAME
        status = new.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": self.store.clock.timestamp()}]
        stored = self.store.update("pods", new, bump_generation=False)
        # spec.nodeName is set through the binding subresource: status is kept, so write it too.
        self.store.update("pods", dict(deep_copy(stored), status=status), status_only=True)
        self.cluster.recorder.record(
            pod, "Normal", "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {NODE_NAME}",
            component="default-scheduler")


class EndpointsController(Controller):
    """Maintains Endpoints and EndpointSlices for every Service with a selector."""

    name = "endpoints"
    cluster: PracticeCluster

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "services":
            self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))
        elif plural == "pods":
            namespace = event.obj["metadata"]["namespace"]
            for svc in self.store.list("services", namespace):
                selector = svc["spec"].get("selector")
                if not selector:
                    continue
                for pod in (event.obj, event.old):
                    if pod is not None and _subset(selector, pod["metadata"].get("labels") or {}):
                        self.queue.add((namespace, svc["metadata"]["name"]))
                        break

    def sync(self, key: tuple[str, str]) -> None:
        namespace, name = key
        svc = self.store.get("services", namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            if self.store.get("endpoints", namespace, name) is not None:
                self.store.remove("endpoints", namespace, name)
            return
        selector = svc["spec"].get("selector")
        if not selector:
            return
        pods = [p for p in self.store.list("pods", namespace)
                if _subset(selector, p["metadata"].get("labels") or {})
                and (p.get("status") or {}).get("podIP")
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        self._write_endpoints(svc, pods)
        self._write_slice(svc, pods)

    @staticmethod
    def _target_port(port: Obj, pod: Obj) -> int | None:
        target = port.get("targetPort", port.get("port"))
        if isinstance(target, int):
            return target
        for c in pod["spec"].get("containers") or []:
            for cp in c.get("ports") or []:
                if cp.get("name") == target:
                    return cp.get("containerPort")
        return None

    def _address(self, pod: Obj) -> Obj:
        return {"ip": pod["status"]["podIP"], "nodeName": pod["spec"].get("nodeName", NODE_NAME),
                "targetRef": {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                              "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}

    def _write_endpoints(self, svc: Obj, pods: list[Obj]) -> None:
        namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        subsets = []
        if live:
            ports = []
            for port in svc["spec"].get("ports") or []:
                target = self._target_port(port, live[0])
                if target is None:
                    continue
                entry = {"port": target, "protocol": port.get("protocol", "TCP")}
                if port.get("name"):
                    entry["name"] = port["name"]
                ports.append(entry)
            ready = sorted((self._address(p) for p in live if pod_ready(p)), key=lambda a: a["ip"])
            not_ready = sorted((self._address(p) for p in live if not pod_ready(p)), key=lambda a: a["ip"])
            subset: Obj = {"ports": ports}
            if ready:
                subset["addresses"] = ready
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            subsets.append(subset)
        labels = dict(svc["metadata"].get("labels") or {})
        labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
        obj: Obj = {"metadata": {"name": name, "namespace": namespace, "labels": labels}}
        if subsets:
            obj["subsets"] = subsets
        existing = self.store.get("endpoints", namespace, name)
        if existing is None:
            self.store.create("endpoints", obj)
            return
        new = deep_copy(existing)
        new["metadata"]["labels"] = labels
        new.pop("subsets", None)
        if subsets:
            new["subsets"] = subsets
        new["metadata"].setdefault("annotations", {})["endpoints.kubernetes.io/last-change-trigger-time"] = \
            self.store.clock.timestamp()
        if {k: v for k, v in new.items() if k != "metadata"} == {k: v for k, v in existing.items() if k != "metadata"}:
            return
        self.store.update("endpoints", new)

    def _write_slice(self, svc: Obj, pods: list[Obj]) -> None:
        namespace, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        endpoints = []
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            ready = pod_ready(pod)
            endpoints.append({
                "addresses": [pod["status"]["podIP"]],
                "conditions": {"ready": ready and not terminating, "serving": ready, "terminating": terminating},
                "nodeName": pod["spec"].get("nodeName", NODE_NAME),
                "targetRef": {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"],
                              "uid": pod["metadata"]["uid"]},
            })
        ports = []
        for port in svc["spec"].get("ports") or []:
            target = self._target_port(port, pods[0]) if pods else port.get("targetPort", port.get("port"))
            if not isinstance(target, int):
                continue
            ports.append({"name": port.get("name", ""), "port": target, "protocol": port.get("protocol", "TCP")})
        labels = dict(svc["metadata"].get("labels") or {})
        labels["kubernetes.io/service-name"] = name
        labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io"
        current = [s for s in self.store.owned_by(svc["metadata"]["uid"], "endpointslices")]
        body: Obj = {"addressType": "IPv4", "endpoints": endpoints, "ports": ports}
        if not current:
            obj: Obj = {"metadata": {"generateName": f"{name}-", "namespace": namespace, "labels": labels,
                                     "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                                          "uid": svc["metadata"]["uid"], "controller": True,
                                                          "blockOwnerDeletion": True}]},
                        **body}
            self.store.create("endpointslices", obj)
            return
        existing = current[0]
        if all(existing.get(k) == v for k, v in body.items()) and existing["metadata"].get("labels") == labels:
            return
        new = deep_copy(existing)
        new.update(deep_copy(body))
        new["metadata"]["labels"] = labels
        self.store.update("endpointslices", new)


def _subset(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


class GarbageCollector(Controller):
    """Deletes dependents whose owner is gone; handles the foreground and orphan finalizers."""

    name = "garbage-collector"
    cluster: PracticeCluster

    def on_event(self, event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        if event.type == "DELETED":
            self.queue.add(("owner-gone", meta["uid"]))
        elif meta.get("deletionTimestamp") and set(meta.get("finalizers") or ()) & {"foregroundDeletion", "orphan"}:
            self.queue.add(("finalize", event.resource.plural, meta.get("namespace", ""), meta["name"]))
        # A dependent that goes away may unblock a foreground deletion of its owner.
        if event.type == "DELETED" or meta.get("deletionTimestamp"):
            for ref in meta.get("ownerReferences") or []:
                self.queue.add(("owner-check", ref.get("uid", "")))

    def _find(self, uid: str) -> tuple[str, Obj] | None:
        for plural in ("deployments", "replicasets", "services", "pods"):
            for obj in self.store.iter(plural):
                if obj["metadata"]["uid"] == uid:
                    return plural, obj
        return None

    def sync(self, key: tuple) -> None:
        if key[0] == "owner-gone":
            uid = key[1]
            for dependent in self.store.owned_by(uid):
                plural = self.store.resource_for(dependent)
                remaining = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                if any(self._owner_exists(r) for r in remaining):
                    new = deep_copy(dependent)
                    new["metadata"]["ownerReferences"] = remaining
                    self.store.update(plural, new)
                elif not dependent["metadata"].get("deletionTimestamp"):
                    self.cluster.delete(plural, dependent, "Background", None)
        elif key[0] == "owner-check":
            found = self._find(key[1])
            if found is not None:
                plural, obj = found
                self.queue.add(("finalize", plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
        elif key[0] == "finalize":
            _, plural, namespace, name = key
            obj = self.store.get(plural, namespace, name)
            if obj is None or not obj["metadata"].get("deletionTimestamp"):
                return
            finalizers = list(obj["metadata"].get("finalizers") or [])
            uid = obj["metadata"]["uid"]
            dependents = self.store.owned_by(uid)
            if "orphan" in finalizers:
                for dependent in dependents:
                    new = deep_copy(dependent)
                    new["metadata"]["ownerReferences"] = [
                        r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                    if not new["metadata"]["ownerReferences"]:
                        del new["metadata"]["ownerReferences"]
                    self.store.update(self.store.resource_for(dependent), new)
                finalizers.remove("orphan")
            elif "foregroundDeletion" in finalizers:
                for dependent in dependents:
                    if not dependent["metadata"].get("deletionTimestamp"):
                        self.cluster.delete(self.store.resource_for(dependent), dependent, "Foreground", None)
                if self.store.owned_by(uid):
                    return
                finalizers.remove("foregroundDeletion")
            else:
                return
            new = deep_copy(obj)
            new["metadata"]["finalizers"] = finalizers
            if not finalizers:
                del new["metadata"]["finalizers"]
            stored = self.store.update(plural, new)
            if not finalizers and not (plural == "pods" and stored["spec"].get("nodeName")):
                self.store.remove(plural, namespace, name)

    def _owner_exists(self, ref: dict) -> bool:
        return self._find(ref.get("uid", "")) is not None


class NamespaceController(Controller):
    """Empties a terminating namespace, then removes it."""

    name = "namespace"
    cluster: PracticeCluster

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "namespaces" and event.obj["metadata"].get("deletionTimestamp"):
            self.queue.add(event.obj["metadata"]["name"])
        elif event.type == "DELETED" and event.resource.namespaced:
            namespace = event.obj["metadata"].get("namespace", "")
            ns = self.store.get("namespaces", "", namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self.queue.add(namespace)

    def sync(self, name: str) -> None:
        ns = self.store.get("namespaces", "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if (ns.get("status") or {}).get("phase") != "Terminating":
            new = deep_copy(ns)
            new["status"] = {"phase": "Terminating"}
            self.store.update("namespaces", new, status_only=True)
        remaining = 0
        for plural in ("deployments", "replicasets", "services", "pods", "endpoints", "endpointslices",
                       "configmaps", "serviceaccounts", "events"):
            for obj in self.store.list(plural, name):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self.cluster.delete(plural, obj, "Background", None)
        if remaining == 0 or not any(self.store.list(p, name) for p in (
                "deployments", "replicasets", "services", "pods", "endpoints", "endpointslices", "configmaps",
                "serviceaccounts", "events")):
            self.store.remove("namespaces", "", name)

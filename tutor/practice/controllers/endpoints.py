"""Provides the endpoints controllers: Endpoints and EndpointSlices for every Service with a selector."""

from __future__ import annotations

from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.controllers.pods import pod_ready
from tutor.practice.controllers.workqueue import Controller
from tutor.practice.events import NODE_NAME


def _subset(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


class EndpointsController(Controller):
    """Maintains Endpoints and EndpointSlices for every Service with a selector."""

    name = "endpoints"

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



"""Provides admission: what the API server decides about a create or an update after defaulting and validation.

Ports, for the kinds the practice cluster serves:

- Service ClusterIP allocation and immutability (``pkg/registry/core/service/ipallocator``,
  ``pkg/registry/core/service/storage/alloc.go``);
- NodePort allocation from 30000-32767, the dynamic band first (``pkg/registry/core/service/portallocator/
  allocator.go``, ``calculateRangeOffset``), refusing a port already allocated or already bound on this host;
- Pod update validation (``pkg/apis/core/validation/validation.go`` ``ValidatePodUpdate``);
- a new Namespace is ``Active`` (``pkg/registry/core/namespace/strategy.go`` ``PrepareForCreate``).
"""

from __future__ import annotations

import random
import socket

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, Store

NODE_PORT_RANGE = (30000, 32767)
NODE_PORT_STATIC_BAND = 86  # allocator.go calculateRangeOffset for the default range
HOST = "127.0.0.1"


def port_is_free(port: int) -> bool:
    """True when nothing on this host listens on ``127.0.0.1:port`` (a NodePort must be able to bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


class Admission:
    """Mutating and validating admission of the practice cluster's API server."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- services ------------------------------------------------------------------------------
    def _used_cluster_ips(self) -> set[str]:
        return {ip for svc in self.store.iter("services") for ip in svc["spec"].get("clusterIPs") or []}

    def _used_node_ports(self, exclude_uid: str | None = None) -> set[int]:
        out = set()
        for svc in self.store.iter("services"):
            if svc["metadata"].get("uid") == exclude_uid:
                continue
            for port in svc["spec"].get("ports") or []:
                if port.get("nodePort"):
                    out.add(port["nodePort"])
        return out

    @staticmethod
    def _allocate_node_port(used: set[int]) -> int:
        low, high = NODE_PORT_RANGE
        upper = list(range(low + NODE_PORT_STATIC_BAND, high + 1))
        random.shuffle(upper)
        for candidate in upper + list(range(low, low + NODE_PORT_STATIC_BAND)):
            if candidate not in used and port_is_free(candidate):
                return candidate
        raise errors.ApiError("range is full")

    def _service_ports(self, svc: Obj, previous: Obj | None) -> None:
        spec = svc["spec"]
        name = svc["metadata"].get("name", "")
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            used = self._used_node_ports(exclude_uid=(previous or {}).get("metadata", {}).get("uid"))
            old_ports = {p.get("port"): p.get("nodePort")
                         for p in ((previous or {}).get("spec") or {}).get("ports") or []}
            for i, port in enumerate(spec.get("ports") or []):
                if not port.get("nodePort") and old_ports.get(port.get("port")):
                    port["nodePort"] = old_ports[port["port"]]
                if port.get("nodePort"):
                    if port["nodePort"] in used:
                        raise errors.invalid("Service", "", name, [(
                            f"spec.ports[{i}].nodePort",
                            f"Invalid value: {port['nodePort']}: provided port is already allocated")])
                else:
                    port["nodePort"] = self._allocate_node_port(used)
                used.add(port["nodePort"])
        else:
            for port in spec.get("ports") or []:
                port.pop("nodePort", None)
            spec.pop("externalTrafficPolicy", None)

    # ---- the two entry points --------------------------------------------------------------------
    def admit_create(self, plural: str, obj: Obj) -> None:
        """Complete or refuse a new object (defaulted and validated) before it is stored."""
        if plural == "services":
            spec = obj["spec"]
            if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
                used = self._used_cluster_ips()
                ip = spec.get("clusterIP")
                if ip and ip in used:
                    raise errors.invalid("Service", "", obj["metadata"].get("name", ""), [
                        ("spec.clusterIPs", f'Invalid value: ["{ip}"]: failed to allocate IP {ip}: '
                                            "provided IP is already allocated")])
                while not ip or ip in used:
                    ip = f"10.96.{random.randint(0, 255)}.{random.randint(2, 254)}"
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            self._service_ports(obj, None)
        elif plural == "namespaces":
            obj["status"] = {"phase": "Active"}

    def admit_update(self, plural: str, current: Obj, new: Obj) -> None:
        """Complete or refuse an update of ``current`` to ``new`` before it is stored."""
        if plural == "services":
            spec = new["spec"]
            old_spec = current["spec"]
            if spec.get("clusterIP") and spec.get("clusterIP") != old_spec.get("clusterIP"):
                raise errors.invalid("Service", "", current["metadata"]["name"], [
                    ("spec.clusterIPs[0]", f'Invalid value: ["{spec["clusterIP"]}"]: may not change once set')])
            if old_spec.get("clusterIP"):
                spec["clusterIP"] = old_spec["clusterIP"]
                spec["clusterIPs"] = old_spec.get("clusterIPs", [old_spec["clusterIP"]])
            self._service_ports(new, current)
        elif plural == "pods":
            old_spec = dict(current["spec"])
            new_spec = dict(new["spec"])
            for spec in (old_spec, new_spec):
                spec["containers"] = [{k: v for k, v in c.items() if k != "image"}
                                      for c in spec.get("containers") or []]
                spec.pop("activeDeadlineSeconds", None)
                spec.pop("tolerations", None)
            if old_spec != new_spec:
                raise errors.invalid("Pod", "", current["metadata"]["name"], [(
                    "spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                            "(allow it to be set to 1 if it was previously negative)")])

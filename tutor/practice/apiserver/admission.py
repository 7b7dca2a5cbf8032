"""Provides admission: what the API server decides about a create or an update after defaulting and validation.

Ports, for the kinds the practice cluster serves:

- Service ClusterIP allocation and immutability (``pkg/registry/core/service/ipallocator``,
  ``pkg/registry/core/service/storage/alloc.go``);
- NodePort allocation from 30000-32767, the dynamic band first (``pkg/registry/core/service/portallocator/
  allocator.go``, ``calculateRangeOffset``), refusing a port already allocated or already bound on this host;
- Pod update validation (``pkg/apis/core/validation/validation.go`` ``ValidatePodUpdate``);
- a new Namespace is ``Active`` (``pkg/registry/core/namespace/strategy.go`` ``PrepareForCreate``);
- the pod binding subresource (``pkg/registry/core/pod/storage/storage.go`` ``BindingREST.Create``,
  ``setPodNodeAndMetadata``, ``assignPod``), which the scheduler binds through too;
- the largest object the storage takes (etcd's ``--max-request-bytes``, see :func:`check_stored_size`).
"""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Mapping
from typing import Any

from tutor.kube.podutil import get_pod_condition_from_list
from tutor.kube.strconv import quote
from tutor.practice.apiserver import errors, quota
from tutor.practice.apiserver.store import Obj, Store, deep_copy
from tutor.practice.clock import Clock

ETCD_MAX_REQUEST_BYTES = 3 * 1024 * 1024 // 2
"""etcd's default ``--max-request-bytes`` (1.5 MiB, ``embed.DefaultMaxRequestBytes``): the largest write it takes."""
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
        raise errors.internal_error("failed to allocate a nodePort: range is full")

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
    def admit_create(self, plural: str, obj: Obj, *, dry_run: bool = False) -> None:
        """Complete or refuse a new object (defaulted and validated) before it is stored; LimitRanger and
        ResourceQuota last (:mod:`tutor.practice.apiserver.quota`), which a dry run does not charge."""
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
        elif plural == "pods":
            mount_service_account_token(obj)
        quota.admit(self.store, plural, obj, dry_run=dry_run)

    def admit_update(self, plural: str, current: Obj, new: Obj, *, dry_run: bool = False) -> None:
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
        quota.admit(self.store, plural, new, current, dry_run=dry_run)


# ---- the stored object's size -------------------------------------------------------------------------
SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_RANDOM_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""``k8s.io/apimachinery/pkg/util/rand`` ``String``'s alphabet (no vowels, no confusable characters)."""


def mount_service_account_token(pod: Obj) -> None:
    """The ServiceAccount admission plugin's projected token volume (``plugin/pkg/admission/serviceaccount/
    admission.go`` ``mountServiceAccountToken``): a ``kube-api-access-<5 random>`` volume of the service account
    token, ``kube-root-ca.crt``'s ``ca.crt`` and the namespace, mounted read-only at
    ``/var/run/secrets/kubernetes.io/serviceaccount`` in every container that mounts nothing there already;
    nothing when the pod sets ``automountServiceAccountToken: false``."""
    spec = pod.get("spec") or {}
    if spec.get("automountServiceAccountToken") is False:
        return
    volumes = spec.setdefault("volumes", [])
    existing = {v.get("name") for v in volumes}
    name = ""
    while not name or name in existing:
        name = "kube-api-access-" + "".join(random.choice(_RANDOM_ALPHABET) for _ in range(5))
    mounted = False
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        mounts = c.setdefault("volumeMounts", [])
        if any(m.get("mountPath") == SERVICE_ACCOUNT_MOUNT for m in mounts):
            continue
        mounts.append({"name": name, "readOnly": True, "mountPath": SERVICE_ACCOUNT_MOUNT})
        mounted = True
    if not mounted:
        return
    volumes.append({"name": name, "projected": {"sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                       "fieldPath": "metadata.namespace"}}]}}],
        "defaultMode": 420}})


def check_stored_size(plural: str, obj: Obj) -> None:
    """Refuse an object too large to store, as etcd refuses the write.

    etcd answers a request larger than ``--max-request-bytes`` (1.5 MiB by default) with ``etcdserver: request
    is too large``; the apiserver retries once without ``managedFields`` (``isTooLargeError``,
    ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go``/``update.go``), then passes the error on
    as it is, which ``ErrorToAPIStatus`` turns into a 500 without a reason: kubectl prints ``Error from server:
    etcdserver: request is too large``. Bodies over 3 MiB never get this far (413, ``MaxRequestBodyBytes``).
    The size measured here is the key and the object as JSON (a real apiserver stores protobuf, a little
    smaller for structured objects, about the same for the large strings that make an object this big).

    Raises:
        errors.UnknownError: the object is larger than :data:`ETCD_MAX_REQUEST_BYTES`.
    """
    meta = obj.get("metadata") or {}
    key = f"/registry/{plural}/{meta.get('namespace', '')}/{meta.get('name') or meta.get('generateName') or ''}"
    body = dict(obj, metadata={k: v for k, v in meta.items() if k != "managedFields"})
    size = len(key.encode()) + len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    if size > ETCD_MAX_REQUEST_BYTES:
        raise errors.UnknownError("etcdserver: request is too large")


# ---- binding -------------------------------------------------------------------------------------------
def update_pod_condition(status: Obj, condition: Obj, now: str) -> bool:
    """``UpdatePodCondition`` (kubernetes ``pkg/api/v1/pod/util.go``): set a condition, keeping its
    ``lastTransitionTime`` while its status stays the same.

    Args:
        status: The pod's status, changed in place.
        condition: ``type``, ``status`` and optionally ``reason`` and ``message``.
        now: The timestamp of a transition.

    Returns:
        Whether anything changed.
    """
    condition = {"type": condition["type"], "status": condition["status"], "lastProbeTime": None,
                 "lastTransitionTime": now, **{k: v for k, v in condition.items() if k in ("reason", "message")}}
    conditions = status.setdefault("conditions", [])
    old = get_pod_condition_from_list(conditions, condition["type"])
    if old is None:
        conditions.append(condition)
        return True
    if condition["status"] == old.get("status"):
        condition["lastTransitionTime"] = old.get("lastTransitionTime")
    same = all(condition.get(k) == old.get(k) for k in ("status", "reason", "message", "lastProbeTime",
                                                        "lastTransitionTime"))
    conditions[conditions.index(old)] = condition
    return not same


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _binding_conflict(name: str, reason: str) -> errors.Conflict:
    """``errors.NewConflict(api.Resource("pods/binding"), name, err)``."""
    return errors.Conflict(f'Operation cannot be fulfilled on pods/binding {quote(name)}: {reason}',
                           details={"name": name, "group": "", "kind": "pods/binding"})


def bind(store: Store, clock: Clock, namespace: str, name: str, binding: Mapping[str, Any], *,
         dry_run: bool = False) -> Obj:
    """Assign a pod to a node once, as ``BindingREST.Create`` does.

    Args:
        store: The store.
        clock: For the ``PodScheduled`` condition's transition time.
        namespace: The pod's namespace.
        name: The pod's name, from the URL.
        binding: The ``Binding`` (``metadata.name``, ``metadata.annotations``, ``target``).
        dry_run: Check, but change nothing.

    Returns:
        The pod as bound.

    Raises:
        errors.BadRequest: the URL and the Binding name different pods.
        errors.UnknownError: ``ValidatePodBinding`` failed (upstream returns the field errors' aggregate
            unconverted: a 500 without a reason).
        errors.Conflict: the pod is being deleted, already assigned (``pod web-1 is already assigned to node
            "x"``) or gated.
        errors.NotFound: no such pod.
    """
    meta = _mapping(binding.get("metadata"))
    if (meta.get("name") or "") != name:
        raise errors.BadRequest("name in URL does not match name in Binding object")
    target = _mapping(binding.get("target"))
    causes = []
    if target.get("kind") and target.get("kind") != "Node":
        causes.append(f'target.kind: Unsupported value: {quote(str(target["kind"]))}: supported values: "Node", '
                      '"<empty>"')
    if not target.get("name"):
        causes.append("target.name: Required value")
    if causes:
        raise errors.UnknownError(causes[0] if len(causes) == 1 else "[" + ", ".join(causes) + "]")
    node = str(target["name"])
    pod = store.must_get("pods", namespace, name)
    if pod["metadata"].get("deletionTimestamp"):
        raise _binding_conflict(name, f"pod {name} is being deleted, cannot be assigned to a host")
    if pod["spec"].get("nodeName"):
        raise _binding_conflict(name, f"pod {name} is already assigned to node {quote(pod['spec']['nodeName'])}")
    if pod["spec"].get("schedulingGates"):
        raise _binding_conflict(name, f"pod {name} has non-empty .spec.schedulingGates")
    metadata = dict(pod["metadata"])
    annotations = meta.get("annotations")
    if isinstance(annotations, Mapping) and annotations:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
    status = deep_copy(pod.get("status") or {})
    update_pod_condition(status, {"type": "PodScheduled", "status": "True"}, clock.timestamp())
    new = dict(pod, metadata=metadata, spec=dict(pod["spec"], nodeName=node), status=status)
    if dry_run:
        return new
    stored = store.update("pods", new, bump_generation=False)  # the store keeps a copy of what it is given
    return store.update("pods", dict(stored, status=status), status_only=True)

"""Provides the node's static control-plane pods and their mirror pods (kubelet ``pkg/kubelet/pod/mirror_client.go``).

kubeadm writes etcd, kube-apiserver, kube-controller-manager and kube-scheduler as manifests in
``/etc/kubernetes/manifests`` (``cmd/kubeadm/app/phases/controlplane/manifests.go``,
``cmd/kubeadm/app/phases/etcd/local.go``); the kubelet runs them without the API server (they started before it)
and shows each as a *mirror pod* named ``<component>-<node>``: annotated ``kubernetes.io/config.mirror`` and
owned by the Node. A mirror pod is only a reflection: deleting it stops nothing, and the kubelet creates it
again at once (``podWorkers``: ``mirrorPodClient.DeleteMirrorPod`` then ``CreateMirrorPod``), with the same
containers still running.

The containers here run from the cluster's first start; the mirror pods are written whole (spec and status),
and the kubelet simulator leaves them alone.
"""

from __future__ import annotations

import hashlib
import secrets

from tutor.practice.apiserver import defaults, errors
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.workqueue import Controller
from tutor.practice.events import NODE_NAME
from tutor.practice.system import API_SERVER_PORT, CONTROL_PLANE_IMAGES, ETCD_IMAGE, POD_SUBNET

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
"""``ConfigMirrorAnnotationKey``."""
_KUBECONFIG = "/etc/kubernetes/{}.conf"


def is_mirror_pod(pod: Obj) -> bool:
    """``kubetypes.IsMirrorPod``."""
    return MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {})


def _manifests(node_ip: str) -> list[tuple[str, Obj, dict[str, str]]]:
    """(component, container, extra annotations) of each static pod kubeadm writes for kind."""
    pki = "/etc/kubernetes/pki"
    etcd = {"name": "etcd", "image": ETCD_IMAGE, "command": [
        "etcd", f"--advertise-client-urls=https://{node_ip}:2379", f"--cert-file={pki}/etcd/server.crt",
        "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--feature-gates=InitialCorruptCheck=true",
        f"--initial-advertise-peer-urls=https://{node_ip}:2380",
        f"--initial-cluster={NODE_NAME}=https://{node_ip}:2380", f"--key-file={pki}/etcd/server.key",
        f"--listen-client-urls=https://127.0.0.1:2379,https://{node_ip}:2379",
        "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{node_ip}:2380",
        f"--name={NODE_NAME}", f"--peer-cert-file={pki}/etcd/peer.crt", "--peer-client-cert-auth=true",
        f"--peer-key-file={pki}/etcd/peer.key", f"--peer-trusted-ca-file={pki}/etcd/ca.crt",
        "--snapshot-count=10000", f"--trusted-ca-file={pki}/etcd/ca.crt", "--watch-progress-notify-interval=5s"],
        "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}
    apiserver = {"name": "kube-apiserver", "image": CONTROL_PLANE_IMAGES["kube-apiserver"], "command": [
        "kube-apiserver", f"--advertise-address={node_ip}", "--allow-privileged=true",
        "--authorization-mode=Node,RBAC", f"--client-ca-file={pki}/ca.crt",
        "--enable-admission-plugins=NodeRestriction", "--enable-bootstrap-token-auth=true",
        f"--etcd-cafile={pki}/etcd/ca.crt", f"--etcd-certfile={pki}/apiserver-etcd-client.crt",
        f"--etcd-keyfile={pki}/apiserver-etcd-client.key", "--etcd-servers=https://127.0.0.1:2379",
        "--runtime-config=", f"--secure-port={API_SERVER_PORT}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
        "--service-cluster-ip-range=10.96.0.0/16", f"--tls-cert-file={pki}/apiserver.crt",
        f"--tls-private-key-file={pki}/apiserver.key"],
        "resources": {"requests": {"cpu": "250m"}}}
    controller_manager = {"name": "kube-controller-manager", "image": CONTROL_PLANE_IMAGES["kube-controller-manager"],
                          "command": [
        "kube-controller-manager", "--allocate-node-cidrs=true",
        f"--authentication-kubeconfig={_KUBECONFIG.format('controller-manager')}",
        f"--authorization-kubeconfig={_KUBECONFIG.format('controller-manager')}", "--bind-address=127.0.0.1",
        f"--client-ca-file={pki}/ca.crt", f"--cluster-cidr={POD_SUBNET}", "--cluster-name=kube-tutor",
        f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
        "--controllers=*,bootstrapsigner,tokencleaner", "--enable-hostpath-provisioner=true",
        f"--kubeconfig={_KUBECONFIG.format('controller-manager')}", "--leader-elect=true",
        f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt", f"--root-ca-file={pki}/ca.crt",
        f"--service-account-private-key-file={pki}/sa.key", "--service-cluster-ip-range=10.96.0.0/16",
        "--use-service-account-credentials=true"],
        "resources": {"requests": {"cpu": "200m"}}}
    scheduler = {"name": "kube-scheduler", "image": CONTROL_PLANE_IMAGES["kube-scheduler"], "command": [
        "kube-scheduler", f"--authentication-kubeconfig={_KUBECONFIG.format('scheduler')}",
        f"--authorization-kubeconfig={_KUBECONFIG.format('scheduler')}", "--bind-address=127.0.0.1",
        f"--kubeconfig={_KUBECONFIG.format('scheduler')}", "--leader-elect=true"],
        "resources": {"requests": {"cpu": "100m"}}}
    return [
        ("etcd", etcd, {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{node_ip}:2379"}),
        ("kube-apiserver", apiserver, {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint":
                                       f"{node_ip}:{API_SERVER_PORT}"}),
        ("kube-controller-manager", controller_manager, {}),
        ("kube-scheduler", scheduler, {}),
    ]


class StaticPods(Controller):
    """Keeps a mirror pod for each static control-plane pod; a deleted one is made again."""

    name = "static-pods"

    def __init__(self, ctx: ControllerContext, node_ip: str) -> None:
        super().__init__(ctx)
        self.node_ip = node_ip
        self._pods: dict[str, tuple[Obj, dict[str, str]]] = {
            f"{component}-{NODE_NAME}": (container, annotations)
            for component, container, annotations in _manifests(node_ip)}
        self._running: dict[str, Obj] = {}
        """Each static pod's status (its containers keep running whatever happens to the mirror pod)."""
        self._booted = ""

    def ensure(self) -> None:
        """Create the mirror pods that are missing (on every start, as the kubelet syncs its static pods)."""
        for name in self._pods:
            self.queue.add(name)

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural != "pods" or event.obj["metadata"].get("namespace") != "kube-system":
            return
        name = event.obj["metadata"]["name"]
        if name in self._pods and (event.type == "DELETED" or event.obj["metadata"].get("deletionTimestamp")):
            self.queue.add(name)

    def sync(self, name: str) -> None:
        current = self.store.get("pods", "kube-system", name)
        if current is not None and is_mirror_pod(current) and "status" in current:
            self._running.setdefault(name, deep_copy(current["status"]))
        if current is not None and current["metadata"].get("deletionTimestamp"):
            self.store.remove("pods", "kube-system", name)  # DeleteMirrorPod: grace period 0
            current = None
        if current is not None:
            return
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            return
        try:
            self.store.create("pods", self._mirror_pod(name, node))
        except errors.ApiError:
            pass

    def _mirror_pod(self, name: str, node: Obj) -> Obj:
        container, extra = self._pods[name]
        component = container["name"]
        container = deep_copy(container)
        container.setdefault("imagePullPolicy", "IfNotPresent")
        config_hash = hashlib.md5(repr(container).encode(), usedforsecurity=False).hexdigest()
        now = self.store.clock.timestamp()
        seen = self.store.clock.micro_timestamp().replace("Z", "") + "000Z"
        pod: Obj = {
            "metadata": {
                "name": name, "namespace": "kube-system",
                "labels": {"component": component, "tier": "control-plane"},
                "annotations": {**extra, "kubernetes.io/config.hash": config_hash, MIRROR_ANNOTATION: config_hash,
                                "kubernetes.io/config.seen": seen, "kubernetes.io/config.source": "file"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": NODE_NAME,
                                     "uid": node["metadata"]["uid"], "controller": True}],
            },
            "spec": {
                "containers": [container], "hostNetwork": True, "nodeName": NODE_NAME,
                "priorityClassName": "system-node-critical",
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "tolerations": [{"effect": "NoExecute", "operator": "Exists"}],
            },
        }
        defaults.default_pod(pod)
        status = self._running.get(name)
        if status is None:
            started = self._booted or now
            status = {
                "phase": "Running", "hostIP": self.node_ip, "hostIPs": [{"ip": self.node_ip}],
                "podIP": self.node_ip, "podIPs": [{"ip": self.node_ip}], "startTime": started,
                "qosClass": pod["status"]["qosClass"],
                "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
                               for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                         "PodScheduled")],
                "containerStatuses": [{
                    "name": component, "image": container["image"],
                    "imageID": f"{container['image'].rsplit(':', 1)[0]}@sha256:"
                               + hashlib.sha256(container["image"].encode()).hexdigest(),
                    "containerID": "containerd://" + secrets.token_hex(32), "ready": True, "restartCount": 0,
                    "started": True, "state": {"running": {"startedAt": started}}, "lastState": {}}],
            }
            self._running[name] = status
        pod["status"] = deep_copy(status)
        return pod

    def boot(self, when: str) -> None:
        """The node's boot time: when the static pods' containers started (the cluster's first start)."""
        self._booted = when

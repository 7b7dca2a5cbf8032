"""Provides the cluster's own objects, as ``kind create cluster`` leaves a Kubernetes 1.37 cluster.

What kubeadm and kind install on a new single-node cluster, and the apiserver keeps:

- kube-system add-ons: the CoreDNS Deployment (2 replicas), its ``coredns`` ConfigMap and the ``kube-dns``
  Service on the tenth address of the service range (kubeadm ``cmd/kubeadm/app/phases/addons/dns/manifests.go``);
  the ``kube-proxy`` DaemonSet (``.../addons/proxy/manifests.go``); kind's ``kindnet`` DaemonSet
  (kind ``pkg/build/nodeimage/const_cni.go``) and its ``local-path-provisioner`` Deployment in
  ``local-path-storage`` (kind ``pkg/build/nodeimage/const_storage.go``). The controllers run them like any
  workload: deleting a pod makes a new one.
- the static control-plane pods (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) are the
  kubelet's: see :mod:`tutor.practice.node.staticpods`.
- the ``kubernetes`` Service with its Endpoints and EndpointSlice, which the apiserver reconciles to its own
  address (``pkg/controlplane/reconcilers``: ``endpointsadapter.go``; the slice carries no managed-by label and
  the Endpoints ``endpointslice.kubernetes.io/skip-mirror``).

Images are those of a kind node image for v1.37 (``kindest/node:v1.37.0``): the Kubernetes components at
v1.37.0, kubeadm's pinned CoreDNS and etcd (``cmd/kubeadm/app/constants/constants.go``) and kind's own
kindnetd and local-path-provisioner. A node image has them all loaded, so they are never pulled.

:func:`ensure` creates what is missing, so a cluster kept from a version without them gets them on its next start.
"""

from __future__ import annotations

from tutor.practice import bootstrappolicy
from tutor.practice.apiserver import defaults, errors
from tutor.practice.apiserver.store import Obj, Store, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.workqueue import Controller
from tutor.practice.events import NODE_NAME

KUBERNETES_VERSION = "v1.37.0"
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.14.2"
ETCD_IMAGE = "registry.k8s.io/etcd:3.6.6-0"
KUBE_PROXY_IMAGE = f"registry.k8s.io/kube-proxy:{KUBERNETES_VERSION}"
KINDNETD_IMAGE = "docker.io/kindest/kindnetd:v20251212-v0.29.0-alpha-105-g20ccfc88"
LOCAL_PATH_IMAGE = "docker.io/kindest/local-path-provisioner:v20251212-v0.29.0-alpha-105-g20ccfc88"
CONTROL_PLANE_IMAGES = {component: f"registry.k8s.io/{component}:{KUBERNETES_VERSION}"
                        for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")}
SYSTEM_IMAGES = (COREDNS_IMAGE, ETCD_IMAGE, KUBE_PROXY_IMAGE, KINDNETD_IMAGE, LOCAL_PATH_IMAGE,
                 *CONTROL_PLANE_IMAGES.values())
"""The images a kind node image has loaded (``crictl images`` on the node)."""

API_SERVER_PORT = 6443
"""The apiserver's secure port on the node (``KubeAPIServerPort``); kind maps a port of 127.0.0.1 to it."""
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
"""kubeadm's DNS address: the tenth of the service range (``GetDNSIP``)."""
POD_SUBNET = "10.244.0.0/16"
LOCAL_PATH_NAMESPACE = "local-path-storage"

_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""
"""kubeadm's ``CoreDNSConfigMap`` Corefile."""

_LOCAL_PATH_CONFIG = """{
        "nodePathMap":[
        {
                "node":"DEFAULT_PATH_FOR_NON_LISTED_NODES",
                "paths":["/var/local-path-provisioner"]
        }
        ]
}"""


def _coredns() -> Obj:
    labels = {"k8s-app": "kube-dns"}
    return {
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": "coredns",
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100, "podAffinityTerm": {
                            "labelSelector": {"matchExpressions": [
                                {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                            "topologyKey": "kubernetes.io/hostname"}}]}},
                    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [{
                        "name": "coredns", "image": COREDNS_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                        "args": ["-conf", "/etc/coredns/Corefile"],
                        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
                        "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                  {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                  {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                                          "initialDelaySeconds": 60, "timeoutSeconds": 5, "successThreshold": 1,
                                          "failureThreshold": 5, "periodSeconds": 10},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
                                           "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3,
                                           "periodSeconds": 10},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                            "readOnlyRootFilesystem": True},
                    }],
                    "dnsPolicy": "Default",
                    "volumes": [{"name": "config-volume", "configMap": {
                        "name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}],
                        "defaultMode": 420}}],
                },
            },
        },
    }


def _local_path_provisioner() -> Obj:
    return {
        "metadata": {"name": "local-path-provisioner", "namespace": LOCAL_PATH_NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "local-path-provisioner"}},
            "template": {
                "metadata": {"labels": {"app": "local-path-provisioner"}},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": "local-path-provisioner-service-account",
                    "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Equal",
                                     "effect": "NoSchedule"},
                                    {"key": "node-role.kubernetes.io/master", "operator": "Equal",
                                     "effect": "NoSchedule"}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "containers": [{
                        "name": "local-path-provisioner", "image": LOCAL_PATH_IMAGE,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["local-path-provisioner", "--debug", "start", "--helper-image",
                                    "docker.io/kindest/local-path-helper:v20251212-v0.29.0-alpha-105-g20ccfc88",
                                    "--config", "/etc/config/config.json"],
                        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/config/"}],
                        "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {
                            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}}],
                    }],
                    "volumes": [{"name": "config-volume", "configMap": {"name": "local-path-config",
                                                                        "defaultMode": 420}}],
                },
            },
        },
    }


def _kube_proxy() -> Obj:
    labels = {"k8s-app": "kube-proxy"}
    return {
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "containers": [{
                        "name": "kube-proxy", "image": KUBE_PROXY_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                    "--hostname-override=$(NODE_NAME)"],
                        "securityContext": {"privileged": True},
                        "volumeMounts": [{"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
                                         {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                                         {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True}],
                        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {
                            "apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                    }],
                    "hostNetwork": True,
                    "serviceAccountName": "kube-proxy",
                    "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock",
                                                                      "type": "FileOrCreate"}},
                                {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
                    "tolerations": [{"operator": "Exists"}],
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                },
            },
        },
    }


def _kindnet() -> Obj:
    labels = {"app": "kindnet", "k8s-app": "kindnet", "tier": "node"}
    return {
        "metadata": {"name": "kindnet", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": {"app": "kindnet"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "hostNetwork": True,
                    "tolerations": [{"operator": "Exists"}],
                    "serviceAccountName": "kindnet",
                    "containers": [{
                        "name": "kindnet-cni", "image": KINDNETD_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "env": [{"name": "HOST_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                               "fieldPath": "status.hostIP"}}},
                                {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                              "fieldPath": "status.podIP"}}},
                                {"name": "POD_SUBNET", "value": POD_SUBNET},
                                {"name": "CONTROL_PLANE_ENDPOINT", "value": f"{NODE_NAME}:{API_SERVER_PORT}"}],
                        "volumeMounts": [{"name": "cni-cfg", "mountPath": "/etc/cni/net.d"},
                                         {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                                         {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True}],
                        "resources": {"requests": {"cpu": "100m", "memory": "50Mi"},
                                      "limits": {"cpu": "100m", "memory": "50Mi"}},
                        "securityContext": {"privileged": False,
                                            "capabilities": {"add": ["NET_RAW", "NET_ADMIN"]}},
                    }],
                    "volumes": [{"name": "cni-cfg", "hostPath": {"path": "/etc/cni/net.d", "type": ""}},
                                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock",
                                                                      "type": "FileOrCreate"}},
                                {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
                },
            },
        },
    }


def _default_daemonset(ds: Obj) -> None:
    """``SetDefaults_DaemonSet`` for the fields the manifests leave out."""
    spec = ds["spec"]
    spec.setdefault("revisionHistoryLimit", 10)
    defaults.default_template(spec["template"])
    ds.setdefault("status", {"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0,
                             "numberReady": 0})


def _kube_dns() -> Obj:
    return {
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"type": "ClusterIP", "clusterIP": DNS_SERVICE_IP, "clusterIPs": [DNS_SERVICE_IP],
                 "selector": {"k8s-app": "kube-dns"},
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
    }


def _kubernetes_service() -> Obj:
    return {
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": KUBERNETES_SERVICE_IP, "clusterIPs": [KUBERNETES_SERVICE_IP],
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": API_SERVER_PORT}],
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}},
    }


def _create(store: Store, plural: str, obj: Obj) -> None:
    meta = obj["metadata"]
    if store.get(plural, meta.get("namespace", ""), meta["name"]) is None:
        try:
            store.create(plural, obj)
        except errors.ApiError:
            pass  # e.g. a namespace a learner is deleting


_PRIORITY_CLASS_DESCRIPTIONS = {
    "system-node-critical": "Used for system critical pods that must not be moved from their current node.",
    "system-cluster-critical": "Used for system critical pods that must run in the cluster, but can be moved to "
                               "another node if necessary.",
}
"""The apiserver's built-in PriorityClasses (``pkg/apis/scheduling/helpers.go`` ``SystemPriorityClasses``; their
values in :data:`tutor.practice.apiserver.defaults.SYSTEM_PRIORITY_CLASSES`)."""


def ensure(store: Store, node_ip: str) -> None:
    """Create every object of a new kind cluster that is missing (the learner may have deleted some, or the
    state comes from an earlier kube-tutor). The system namespaces first, as the apiserver's system namespaces
    controller makes them (``pkg/controlplane/controller/systemnamespaces``)."""
    for name in ("kube-system", "kube-public", "kube-node-lease"):
        if store.get("namespaces", "", name) is None:
            _create(store, "namespaces", {"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
                                          "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    for name, description in _PRIORITY_CLASS_DESCRIPTIONS.items():
        _create(store, "priorityclasses", {"metadata": {"name": name}, "description": description,
                                           "value": defaults.SYSTEM_PRIORITY_CLASSES[name],
                                           "preemptionPolicy": "PreemptLowerPriority"})
    if store.get("namespaces", "", LOCAL_PATH_NAMESPACE) is None:
        store.create("namespaces", {"metadata": {"name": LOCAL_PATH_NAMESPACE, "labels": {
            "kubernetes.io/metadata.name": LOCAL_PATH_NAMESPACE}}, "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}})
    for namespace, name in (("kube-system", "coredns"), ("kube-system", "kube-proxy"), ("kube-system", "kindnet"),
                            (LOCAL_PATH_NAMESPACE, "local-path-provisioner-service-account")):
        _create(store, "serviceaccounts", {"metadata": {"name": name, "namespace": namespace}})
    _create(store, "configmaps", {"metadata": {"name": "coredns", "namespace": "kube-system"},
                                  "data": {"Corefile": _COREFILE}})
    _create(store, "configmaps", {"metadata": {"name": "local-path-config", "namespace": LOCAL_PATH_NAMESPACE},
                                  "data": {"config.json": _LOCAL_PATH_CONFIG}})
    for deployment in (_coredns(), _local_path_provisioner()):
        defaults.default_deployment(deployment)
        _create(store, "deployments", deployment)
    for ds in (_kube_proxy(), _kindnet()):
        _default_daemonset(ds)
        _create(store, "daemonsets", ds)
    for service in (_kubernetes_service(), _kube_dns()):
        defaults.default_service(service)
        _create(store, "services", service)
    reconcile_kubernetes_endpoints(store, node_ip)
    for role in bootstrappolicy.cluster_roles():
        _create(store, "clusterroles", role)
    for binding in bootstrappolicy.cluster_role_bindings():
        _create(store, "clusterrolebindings", binding)


def reconcile_kubernetes_endpoints(store: Store, node_ip: str) -> None:
    """The apiserver's endpoint reconciler: ``kubernetes`` Endpoints and EndpointSlice name its own address."""
    if store.get("services", "default", "kubernetes") is None:
        return
    port = {"name": "https", "port": API_SERVER_PORT, "protocol": "TCP"}
    endpoints: Obj = {"metadata": {"name": "kubernetes", "namespace": "default",
                              "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": node_ip}], "ports": [dict(port)]}]}
    endpoint_slice: Obj = {"metadata": {"name": "kubernetes", "namespace": "default",
                                   "labels": {"kubernetes.io/service-name": "kubernetes"}},
                      "addressType": "IPv4",
                      "endpoints": [{"addresses": [node_ip], "conditions": {"ready": True}}],
                      "ports": [dict(port)]}
    wanted: Obj
    for plural, wanted in (("endpoints", endpoints), ("endpointslices", endpoint_slice)):
        current = store.get(plural, "default", "kubernetes")
        if current is None:
            _create(store, plural, wanted)
            continue
        body = {k: v for k, v in wanted.items() if k != "metadata"}
        if all(current.get(k) == v for k, v in body.items()) and \
                current["metadata"].get("labels") == wanted["metadata"]["labels"]:
            continue
        new = deep_copy(current)
        new.update(deep_copy(body))
        new["metadata"]["labels"] = wanted["metadata"]["labels"]
        store.update(plural, new)


class KubernetesServiceController(Controller):
    """The apiserver's ``kubernetes`` Service controller (``pkg/controlplane/controller/kubernetesservice``): the
    ``kubernetes`` Service, its Endpoints and EndpointSlice are made again when deleted (upstream checks every
    10 s; here at once)."""

    name = "kubernetes-service"

    def __init__(self, ctx: ControllerContext, node_ip: str) -> None:
        super().__init__(ctx)
        self.node_ip = node_ip

    def on_event(self, event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        if event.resource.plural in ("services", "endpoints", "endpointslices") and \
                (meta.get("namespace"), meta.get("name")) == ("default", "kubernetes") and \
                (event.type == "DELETED" or meta.get("deletionTimestamp")):
            self.queue.add("kubernetes")

    def sync(self, key: str) -> None:
        service = _kubernetes_service()
        defaults.default_service(service)
        _create(self.store, "services", service)
        reconcile_kubernetes_endpoints(self.store, self.node_ip)

"""Provides the server-side ``meta.k8s.io/v1`` Tables that ``kubectl get`` prints verbatim.

A port of kubernetes/kubernetes ``pkg/printers/internalversion/printers.go`` (``AddHandlers`` and the
``print*`` functions) for the kinds the practice cluster serves, plus the API server's default table
(``staging/src/k8s.io/apiserver/pkg/registry/rest/table.go``: Name and Created At) for any other kind.
The API server renders tables with ``GenerateOptions{Wide: true}``, so every row carries all cells,
``-o wide`` ones included; kubectl hides priority-1 columns unless asked for ``-o wide``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tutor.kube import quantity
from tutor.kube.duration import age, parse_timestamp
from tutor.kube.meta import get_controller_of
from tutor.kube.printers import print_pod
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.selectors import format_label_selector, label_selector_string

Obj = dict[str, Any]
"""An API object as served in JSON."""

INCLUDE_OBJECT_VALUES = ("Metadata", "Object", "None")
"""Values of the ``includeObject`` query parameter (``""`` means ``Metadata``)."""

# ---- column descriptions ------------------------------------------------------------------------
# The SwaggerDoc() texts upstream passes as descriptions (k8s.io/api and apimachinery as vendored by
# Kubernetes 1.37). kubectl never shows them, but `-o json` of a Table does.
_NAME = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_CREATION_TIMESTAMP = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
    "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for "
    "lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_CONTAINERS = "Names of each container in the template."
_IMAGES = "Images referenced by each container in the template."

_POD_READY = "The aggregate readiness state of this pod for accepting traffic."
_POD_STATUS = "The aggregate status of the containers in this pod."
_POD_RESTARTS = (
    "The number of times the containers in this pod have been restarted and when the last container in "
    "this pod has restarted."
)
_POD_IP = (
    "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
)
_POD_NODE_NAME = (
    "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling "
    "by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes "
    "responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod "
    "to be scheduled on a specific node. "
    "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
)
_POD_NOMINATED_NODE = (
    "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled "
    "right away as preemption victims receive their graceful termination periods. This field does not "
    "guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere "
    "if other nodes become available sooner. Scheduler may also decide to give the resources on this node to "
    "a higher priority pod that is created after preemption. As a result, this field may be different than "
    "PodSpec.nodeName when the pod is scheduled."
)
_POD_READINESS_GATES = (
    "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its "
    'containers are ready AND all conditions specified in the readiness gates have status equal to "True" '
    "More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"
)

_DEPLOYMENT_READY = "Number of the pod with ready state"
_DEPLOYMENT_UPDATED = (
    "Total number of non-terminating pods targeted by this deployment that have the desired template spec."
)
_DEPLOYMENT_AVAILABLE = (
    "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this "
    "deployment."
)
_DEPLOYMENT_SELECTOR = (
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected "
    "by this deployment."
)

_RS_DESIRED = (
    "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and "
    "unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
)
_RS_CURRENT = (
    "Replicas is the most recently observed number of non-terminating pods. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
)
_RS_READY = "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."
_RS_SELECTOR = (
    "Selector is a label query over pods that should match the replica count. If the selector is empty, it "
    "is defaulted to the labels present on the pod template. Label keys and values that must match in order "
    "to be controlled by this replica set. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
)

_SERVICE_TYPE = (
    "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, "
    'ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for '
    "load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by "
    'manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual '
    "IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "
    '"NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as '
    'the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in '
    'the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this '
    "service to the specified externalName. Several other fields do not apply to ExternalName services. More "
    "info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
)
_SERVICE_CLUSTER_IP = (
    "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified "
    "manually, is in-range (as per system configuration), and is not in use, it will be allocated to the "
    "service; otherwise creation of the service will fail. This field may not be changed through updates "
    "unless the type field is also being changed to ExternalName (which requires this field to be blank) or "
    "the type field is being changed from ExternalName (in which case this field may optionally be "
    'specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. '
    'Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint '
    "connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and "
    "LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will "
    "fail. This field will be wiped when updating a Service to type ExternalName. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
)
_SERVICE_EXTERNAL_IPS = (
    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this "
    "service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic "
    "arrives at a node with this IP.  A common example is external load-balancers that are not part of the "
    "Kubernetes system."
)
_SERVICE_PORTS = (
    "The list of ports that are exposed by this service. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
)
_SERVICE_SELECTOR = (
    "Route service traffic to pods with label keys and values matching this selector. If empty or not "
    "present, the service is assumed to have an external process managing its endpoints, which Kubernetes "
    "will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is "
    "ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/"
)

_ENDPOINTS_SUBSETS = (
    "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the "
    "IPs they share. A single address with multiple ports, some of which are ready and some of which are not "
    "(because they come from different containers) will result in the address being displayed in different "
    "subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the "
    "same subset. Sets of addresses and ports that comprise a service."
)
_SLICE_ADDRESS_TYPE = (
    "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice "
    "must be the same type. This field is immutable after creation. The following address types are "
    "currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: "
    "Represents a Fully Qualified Domain Name."
)
_SLICE_PORTS = (
    "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a "
    "unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined "
    'with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'
)
_SLICE_ENDPOINTS = "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints."

_NODE_ADDRESSES = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as "
    "mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is "
    "merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an "
    "example. Consumers should assume that addresses can change during the lifetime of a Node. However, "
    "there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in "
    "its own status or consumers of the downward API (status.hostIP)."
)

_EVENT_FIELD_PATH = (
    "If referring to a piece of an object instead of an entire object, this string should contain a valid "
    "JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object "
    'reference is to a container within a pod, this would take on a value like: "spec.containers{name}" '
    '(where "name" refers to the name of the container that triggered the event) or if no container name is '
    'specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have '
    "some well-defined way of referencing a part of an object."
)

_CONFIGMAP_DATA = (
    "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. "
    "Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not "
    "overlap with the keys in the BinaryData field, this is enforced during validation process."
)
_SERVICEACCOUNT_SECRETS = (
    "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are "
    "allowed to use. Pods are only limited to this list if this service account has a "
    '"kubernetes.io/enforce-mountable-secrets" annotation set to "true". The '
    '"kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate '
    "namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated "
    "service account token secrets for use outside of pods. Instead, tokens can be requested directly using "
    "the TokenRequest API, or service account token secrets can be manually created. More info: "
    "https://kubernetes.io/docs/concepts/configuration/secret"
)


# ---- column and printer model -------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One ``metav1.TableColumnDefinition``."""

    name: str
    """Header text; kubectl upper-cases it (``Up-to-date`` prints as ``UP-TO-DATE``)."""
    type: str
    """OpenAPI type: ``string``, ``integer``, ``date``, ... (upstream's, even where cells are ints)."""
    description: str
    priority: int = 0
    """0 = always shown; 1 = only with ``-o wide``."""
    format: str = ""
    """``name`` on the Name column, which kubectl needs for ``pod/...`` prefixes."""

    def definition(self) -> dict[str, Any]:
        """Return the JSON column definition."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


RowCells = Callable[[Obj, datetime], list[Any]]
"""Computes one row's cells from an object and the server's current time."""


@dataclass(frozen=True)
class Printer:
    """The columns and the row function of one kind (one ``TableHandler`` upstream)."""

    columns: tuple[Column, ...]
    cells: RowCells
    conditions: Callable[[Obj], list[dict[str, Any]] | None] | None = None
    """Optional ``metav1.TableRowCondition`` list for a row (pods that finished)."""


def _name_column(priority: int = 0) -> Column:
    return Column("Name", "string", _NAME, priority=priority, format="name")


def _age_column() -> Column:
    return Column("Age", "string", _CREATION_TIMESTAMP)


def _template_columns(selector: str) -> tuple[Column, ...]:
    """The wide CONTAINERS, IMAGES and SELECTOR columns of a workload with a pod template."""
    return (
        Column("Containers", "string", _CONTAINERS, priority=1),
        Column("Images", "string", _IMAGES, priority=1),
        Column("Selector", "string", selector, priority=1),
    )


# ---- small accessors ----------------------------------------------------------------------------
def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    """An int32/int64 field; missing (or not an integer) reads as Go's zero value."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return value


def _meta(obj: Obj) -> dict[str, Any]:
    return _map(obj.get("metadata"))


def _spec(obj: Obj) -> dict[str, Any]:
    return _map(obj.get("spec"))


def _status(obj: Obj) -> dict[str, Any]:
    return _map(obj.get("status"))


def _name(obj: Obj) -> str:
    return _str(_meta(obj).get("name"))


def _age(obj: Obj, now: datetime) -> str:
    return age(_meta(obj).get("creationTimestamp"), now)


def _containers_and_images(containers: Iterable[Any]) -> tuple[str, str]:
    """``layoutContainerCells``: names and images joined with ``,``."""
    names: list[str] = []
    images: list[str] = []
    for container in containers:
        container = _map(container)
        names.append(_str(container.get("name")))
        images.append(_str(container.get("image")))
    return ",".join(names), ",".join(images)


def _template_containers(obj: Obj) -> list[Any]:
    return _list(_spec(_map(_spec(obj).get("template"))).get("containers"))


# ---- label selectors ----------------------------------------------------------------------------
def _deployment_selector(selector: Any) -> str:
    """printDeployment: ``LabelSelectorAsSelector(...).String()``, ``<invalid>`` when it fails."""
    try:
        return label_selector_string(selector if isinstance(selector, dict) else None)
    except errors.BadRequest:
        return "<invalid>"


def _format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` when empty, ``<error>`` when invalid."""
    return format_label_selector(selector if isinstance(selector, dict) else None)


def _format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` joined with ``,``; ``<none>`` when empty."""
    labels = _map(labels)
    text = ",".join(f"{key}={labels[key]}" for key in sorted(labels))
    return text or "<none>"


# ---- pods -------------------------------------------------------------------------------------
_POD_SUCCEEDED_CONDITIONS = [
    {
        "type": "Completed",
        "status": "True",
        "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    }
]
_POD_FAILED_CONDITIONS = [
    {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}
]


def _pod_cells(pod: Obj, now: datetime) -> list[Any]:
    """printPod: NAME, READY, STATUS, RESTARTS, AGE, IP, NODE, NOMINATED NODE, READINESS GATES."""
    spec, status = _spec(pod), _status(pod)
    conditions = _list(status.get("conditions"))
    printed = print_pod(pod)
    pod_ips = _list(status.get("podIPs"))
    pod_ip = _str(_map(pod_ips[0]).get("ip")) if pod_ips else _str(status.get("podIP"))
    gates = _list(spec.get("readinessGates"))
    readiness_gates = "<none>"
    if gates:
        true_conditions = 0
        for gate in gates:
            wanted = _map(gate).get("conditionType")
            for condition in conditions:
                condition = _map(condition)
                if condition.get("type") == wanted:
                    if condition.get("status") == "True":
                        true_conditions += 1
                    break
        readiness_gates = f"{true_conditions}/{len(gates)}"
    return [
        _name(pod),
        printed.ready_text,
        printed.status,
        printed.restarts_text(now),
        _age(pod, now),
        pod_ip or "<none>",
        _str(spec.get("nodeName")) or "<none>",
        _str(status.get("nominatedNodeName")) or "<none>",
        readiness_gates,
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, Any]] | None:
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        return [dict(c) for c in _POD_SUCCEEDED_CONDITIONS]
    if phase == "Failed":
        return [dict(c) for c in _POD_FAILED_CONDITIONS]
    return None


# ---- workloads ----------------------------------------------------------------------------------
def _desired_replicas(obj: Obj) -> int:
    """``spec.replicas``; the API server defaults a missing value to 1."""
    replicas = _spec(obj).get("replicas")
    return 1 if replicas is None else _int(replicas)


def _deployment_cells(deployment: Obj, now: datetime) -> list[Any]:
    """printDeployment: NAME, READY, UP-TO-DATE, AVAILABLE, AGE, CONTAINERS, IMAGES, SELECTOR."""
    status = _status(deployment)
    names, images = _containers_and_images(_template_containers(deployment))
    return [
        _name(deployment),
        f"{_int(status.get('readyReplicas'))}/{_desired_replicas(deployment)}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        _age(deployment, now),
        names,
        images,
        _deployment_selector(_spec(deployment).get("selector")),
    ]


def _replicaset_cells(replicaset: Obj, now: datetime) -> list[Any]:
    """printReplicaSet: NAME, DESIRED, CURRENT, READY, AGE, CONTAINERS, IMAGES, SELECTOR."""
    status = _status(replicaset)
    names, images = _containers_and_images(_template_containers(replicaset))
    return [
        _name(replicaset),
        _desired_replicas(replicaset),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        _age(replicaset, now),
        names,
        images,
        _format_label_selector(_spec(replicaset).get("selector")),
    ]


def _controllerrevision_cells(revision: Obj, now: datetime) -> list[Any]:
    """printControllerRevision: NAME, CONTROLLER (``deployment.apps/x``), REVISION, AGE."""
    controller = "<none>"
    reference = get_controller_of(revision)
    if reference is not None:
        api_version = _str(reference.get("apiVersion"))
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
        kind = _str(reference.get("kind"))
        group_kind = f"{kind}.{group}" if group else kind
        name = _str(reference.get("name"))
        controller = f"{group_kind.lower()}/{name}" if group_kind else name
    return [_name(revision), controller, _int(revision.get("revision")), _age(revision, now)]


# ---- services and endpoints ---------------------------------------------------------------------
def _load_balancer_ips(service: Obj) -> str:
    """``loadBalancerStatusStringer`` (wide): unique ingress IPs or hostnames, sorted, ``,``-joined."""
    found: set[str] = set()
    for ingress in _list(_map(_status(service).get("loadBalancer")).get("ingress")):
        ingress = _map(ingress)
        if _str(ingress.get("ip")):
            found.add(ingress["ip"])
        elif _str(ingress.get("hostname")):
            found.add(ingress["hostname"])
    return ",".join(sorted(found))


def _service_external_ip(service: Obj) -> str:
    """``getServiceExternalIP``."""
    spec = _spec(service)
    service_type = _str(spec.get("type")) or "ClusterIP"
    external_ips = [ip for ip in _list(spec.get("externalIPs")) if isinstance(ip, str)]
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) if external_ips else "<none>"
    if service_type == "LoadBalancer":
        lb_ips = _load_balancer_ips(service)
        if external_ips:
            return ",".join(([*lb_ips.split(",")] if lb_ips else []) + external_ips)
        return lb_ips or "<pending>"
    if service_type == "ExternalName":
        return _str(spec.get("externalName"))
    return "<unknown>"


def _service_ports(ports: list[Any]) -> str:
    """``makePortString``: ``443/TCP`` or ``8080:30683/TCP`` (port:nodePort/protocol), ``,``-joined."""
    pieces = []
    for port in ports:
        port = _map(port)
        protocol = _str(port.get("protocol")) or "TCP"
        node_port = _int(port.get("nodePort"))
        if node_port > 0:
            pieces.append(f"{_int(port.get('port'))}:{node_port}/{protocol}")
        else:
            pieces.append(f"{_int(port.get('port'))}/{protocol}")
    return ",".join(pieces)


def _service_cells(service: Obj, now: datetime) -> list[Any]:
    """printService: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE, SELECTOR."""
    spec = _spec(service)
    cluster_ips = [ip for ip in _list(spec.get("clusterIPs")) if isinstance(ip, str)]
    cluster_ip = cluster_ips[0] if cluster_ips else _str(spec.get("clusterIP"))
    return [
        _name(service),
        _str(spec.get("type")) or "ClusterIP",
        cluster_ip or "<none>",
        _service_external_ip(service),
        _service_ports(_list(spec.get("ports"))) or "<none>",
        _age(service, now),
        _format_labels(spec.get("selector")),
    ]


def _join_host_port(host: str, port: int) -> str:
    """``net.JoinHostPort``: IPv6 addresses get brackets."""
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{host}]:{port}"
    except ValueError:
        if ":" in host:
            return f"[{host}]:{port}"
    return f"{host}:{port}"


def _format_endpoints(endpoints: Obj) -> str:
    """``formatEndpoints``: ready ``ip:port`` pairs, at most 3, then ``+ N more...``."""
    subsets = _list(endpoints.get("subsets"))
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit = 3
    more = False
    count = 0
    for subset in subsets:
        subset = _map(subset)
        addresses = [_str(_map(a).get("ip")) for a in _list(subset.get("addresses"))]
        ports = _list(subset.get("ports"))
        if not ports:
            # Headless services may have no ports.
            count += len(addresses)
            for ip in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(ip)
            continue
        for port in ports:
            count += len(addresses)
            for ip in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(_join_host_port(ip, _int(_map(port).get("port"))))
    text = ",".join(shown)
    if more:
        return f"{text} + {count - limit} more..."
    return text


def _list_with_more(shown: list[str], more: bool, count: int, limit: int) -> str:
    """``listWithMoreString``: ``<unset>`` when empty."""
    text = ",".join(shown)
    if more:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def _slice_ports(ports: list[Any]) -> str:
    """``formatDiscoveryPorts``: port number, else port name, else ``*``."""
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for port in ports:
        port = _map(port)
        if len(shown) < limit:
            if port.get("port") is not None:
                shown.append(str(_int(port.get("port"))))
            elif port.get("name") is not None:
                shown.append(_str(port.get("name")))
            else:
                shown.append("*")
        elif len(shown) == limit:
            more = True
        count += 1
    return _list_with_more(shown, more, count, limit)


def _slice_endpoints(endpoints: list[Any]) -> str:
    """``formatDiscoveryEndpoints``: every address of every endpoint, at most 3 shown."""
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for endpoint in endpoints:
        for address in _list(_map(endpoint).get("addresses")):
            if len(shown) < limit:
                shown.append(_str(address))
            elif len(shown) == limit:
                more = True
            count += 1
    return _list_with_more(shown, more, count, limit)


def _endpoints_cells(endpoints: Obj, now: datetime) -> list[Any]:
    """printEndpoints: NAME, ENDPOINTS, AGE."""
    return [_name(endpoints), _format_endpoints(endpoints), _age(endpoints, now)]


def _endpointslice_cells(endpoint_slice: Obj, now: datetime) -> list[Any]:
    """printEndpointSlice: NAME, ADDRESSTYPE, PORTS, ENDPOINTS, AGE."""
    return [
        _name(endpoint_slice),
        _str(endpoint_slice.get("addressType")),
        _slice_ports(_list(endpoint_slice.get("ports"))),
        _slice_endpoints(_list(endpoint_slice.get("endpoints"))),
        _age(endpoint_slice, now),
    ]


# ---- cluster objects ----------------------------------------------------------------------------
def _node_address(node: Obj, address_type: str) -> str:
    for address in _list(_status(node).get("addresses")):
        address = _map(address)
        if address.get("type") == address_type:
            return _str(address.get("address"))
    return "<none>"


def _node_roles(node: Obj) -> str:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` and ``kubernetes.io/role=<role>`` labels."""
    roles: set[str] = set()
    for key, value in _map(_meta(node).get("labels")).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key.removeprefix("node-role.kubernetes.io/")
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(_str(value))
    return ",".join(sorted(roles)) or "<none>"


def _node_cells(node: Obj, now: datetime) -> list[Any]:
    """printNode: NAME, STATUS, ROLES, AGE, VERSION, INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, KERNEL, RUNTIME."""
    ready: dict[str, Any] | None = None
    for condition in _list(_status(node).get("conditions")):
        condition = _map(condition)
        if condition.get("type") == "Ready":
            ready = condition  # the last one wins, as in upstream's condition map
    states: list[str] = []
    if ready is not None:
        states.append("Ready" if ready.get("status") == "True" else "NotReady")
    else:
        states.append("Unknown")
    if _spec(node).get("unschedulable") is True:
        states.append("SchedulingDisabled")
    info = _map(_status(node).get("nodeInfo"))
    return [
        _name(node),
        ",".join(states),
        _node_roles(node),
        _age(node, now),
        _str(info.get("kubeletVersion")),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        _str(info.get("osImage")) or "<unknown>",
        _str(info.get("kernelVersion")) or "<unknown>",
        _str(info.get("containerRuntimeVersion")) or "<unknown>",
    ]


def _namespace_cells(namespace: Obj, now: datetime) -> list[Any]:
    """printNamespace: NAME, STATUS (phase), AGE."""
    return [_name(namespace), _str(_status(namespace).get("phase")), _age(namespace, now)]


def _configmap_cells(configmap: Obj, now: datetime) -> list[Any]:
    """printConfigMap: NAME, DATA (keys in data + binaryData), AGE."""
    keys = len(_map(configmap.get("data"))) + len(_map(configmap.get("binaryData")))
    return [_name(configmap), keys, _age(configmap, now)]


_DS_DESIRED = (
    "The total number of nodes that should be running the daemon pod (including nodes correctly running the "
    "daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
)
_DS_CURRENT = (
    "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More "
    "info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
)
_DS_READY = (
    "numberReady is the number of nodes that should be running the daemon pod and have one or more of the "
    "daemon pod running with a Ready Condition."
)
_DS_UPDATED = "The total number of nodes that are running updated daemon pod"
_DS_AVAILABLE = (
    "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running "
    "and available (ready for at least spec.minReadySeconds)"
)
_DS_NODE_SELECTOR = (
    "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a "
    "node's labels for the pod to be scheduled on that node. More info: "
    "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
)
_DS_SELECTOR = (
    "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must "
    "match the pod template's labels. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
)
_LEASE_HOLDER = "holderIdentity contains the identity of the holder of a current lease."


def _daemonset_cells(daemonset: Obj, now: datetime) -> list[Any]:
    """printDaemonSet: NAME, DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE, NODE SELECTOR, AGE, CONTAINERS,
    IMAGES, SELECTOR (``pkg/printers/internalversion/printers.go``)."""
    status = _status(daemonset)
    names, images = _containers_and_images(_template_containers(daemonset))
    template_spec = _map(_map(_spec(daemonset).get("template")).get("spec"))
    return [
        _name(daemonset),
        _int(status.get("desiredNumberScheduled")),
        _int(status.get("currentNumberScheduled")),
        _int(status.get("numberReady")),
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
        _format_labels(template_spec.get("nodeSelector")),
        _age(daemonset, now),
        names,
        images,
        _format_label_selector(_spec(daemonset).get("selector")),
    ]


def _lease_cells(lease: Obj, now: datetime) -> list[Any]:
    """printLease: NAME, HOLDER, AGE (``pkg/printers/internalversion/printers.go``)."""
    return [_name(lease), _str(_spec(lease).get("holderIdentity")), _age(lease, now)]


_PC_VALUE = ("value represents the integer value of this priority class. This is the actual priority that pods "
             "receive when they have the name of this class in their pod spec.")
_PC_GLOBAL_DEFAULT = (
    "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods "
    "that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if "
    "more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of "
    "such global default PriorityClasses will be used as the default priority."
)
_PC_PREEMPTION_POLICY = (
    "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. "
    "Defaults to PreemptLowerPriority if unset."
)


def _priorityclass_cells(priority_class: Obj, now: datetime) -> list[Any]:
    """printPriorityClass: NAME, VALUE, GLOBAL-DEFAULT, AGE, PREEMPTIONPOLICY
    (``pkg/printers/internalversion/printers.go``)."""
    return [_name(priority_class), _int(priority_class.get("value")), bool(priority_class.get("globalDefault")),
            _age(priority_class, now), _str(priority_class.get("preemptionPolicy"))]


def _serviceaccount_cells(account: Obj, now: datetime) -> list[Any]:
    """printServiceAccount: NAME, SECRETS, AGE."""
    return [_name(account), len(_list(account.get("secrets"))), _age(account, now)]


def _resourcequota_cells(quota: Obj, now: datetime) -> list[Any]:
    """printResourceQuota (``pkg/printers/internalversion/printers.go``): NAME, AGE, REQUEST, LIMIT; each hard
    resource in name order as ``name: used/hard``, the ``limits.*`` ones under LIMIT."""
    status = _status(quota)
    hard, used = _map(status.get("hard")), _map(status.get("used"))
    request: list[str] = []
    limit: list[str] = []
    for name in sorted(hard):
        pieces = name.split(".")
        column = limit if len(pieces) > 1 and pieces[0] == "limits" else request
        column.append(f"{name}: {_quantity(used.get(name))}/{_quantity(hard.get(name))}")
    return [_name(quota), _age(quota, now), ", ".join(request), ", ".join(limit)]


def _quantity(text: Any) -> str:
    """``Quantity.String()`` of a stored quantity (``0`` when missing)."""
    parsed = quantity.parse_quantity(text) if text is not None else None
    return quantity.format_quantity(parsed, quantity.quantity_format(text)) if parsed is not None else "0"


# ---- events -------------------------------------------------------------------------------------
def _event_source(event: Obj) -> str:
    """``formatEventSource``: ``component, host``; falls back to reportingController/Instance."""
    source = _map(event.get("source"))
    component = _str(source.get("component")) or _str(event.get("reportingComponent"))
    host = _str(source.get("host")) or _str(event.get("reportingInstance"))
    return f"{component}, {host}" if host else component


def _event_cells(event: Obj, now: datetime) -> list[Any]:
    """printEvent (wide): LAST SEEN, TYPE, REASON, OBJECT, SUBOBJECT, SOURCE, MESSAGE, FIRST SEEN, COUNT, NAME."""
    first_seen = age(event.get("firstTimestamp"), now)
    if parse_timestamp(_str(event.get("firstTimestamp"))) is None:
        first_seen = age(event.get("eventTime"), now)
    last_seen = age(event.get("lastTimestamp"), now)
    if parse_timestamp(_str(event.get("lastTimestamp"))) is None:
        last_seen = first_seen
    count = _int(event.get("count"))
    series = event.get("series")
    if isinstance(series, dict):
        last_seen = age(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    involved = _map(event.get("involvedObject"))
    kind = _str(involved.get("kind")).lower()
    target = f"{kind}/{_str(involved.get('name'))}" if _str(involved.get("name")) else kind
    return [
        last_seen,
        _str(event.get("type")),
        _str(event.get("reason")),
        target,
        _str(involved.get("fieldPath")),
        _event_source(event),
        _str(event.get("message")).strip(),
        first_seen,
        count,
        _name(event),
    ]


# ---- the default table --------------------------------------------------------------------------
def _created_at(obj: Obj) -> str:
    """``GetCreationTimestamp().Time.UTC().Format(time.RFC3339)``; Go's zero time when missing."""
    when = parse_timestamp(_str(_meta(obj).get("creationTimestamp")))
    if when is None:
        return "0001-01-01T00:00:00Z"
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _default_cells(obj: Obj, now: datetime) -> list[Any]:
    return [_name(obj), _created_at(obj)]


_SECRET_TYPE = ("Used to facilitate programmatic handling of secret data. More info: "
                "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types")
_SECRET_DATA = ("Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. "
                "The serialized form of the secret data is a base64 encoded string, representing the arbitrary "
                "(possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4")
_ROLE_REF = ("RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If "
             "the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.")


def _secret_cells(secret: Obj, now: datetime) -> list[Any]:
    """printSecret (kubernetes ``pkg/printers/internalversion/printers.go``): NAME, TYPE, DATA (keys), AGE."""
    return [_name(secret), _str(secret.get("type")), len(_map(secret.get("data"))), _age(secret, now)]


def _binding_columns(what: str) -> tuple[Column, ...]:
    """roleBindingsColumnDefinitions / clusterRoleBindingsColumnDefinitions: NAME, ROLE, AGE; wide USERS,
    GROUPS, SERVICEACCOUNTS."""
    return (_name_column(), Column("Role", "string", _ROLE_REF), _age_column(),
            Column("Users", "string", f"Users in the {what}", priority=1),
            Column("Groups", "string", f"Groups in the {what}", priority=1),
            Column("ServiceAccounts", "string", f"ServiceAccounts in the {what}", priority=1))


def _binding_cells(binding: Obj, now: datetime) -> list[Any]:
    """printRoleBinding / printClusterRoleBinding: the role as ``Kind/name``; subjects joined by ``, ``
    (ServiceAccounts as ``namespace/name``)."""
    ref = _map(binding.get("roleRef"))
    subjects = _list(binding.get("subjects"))

    def names(kind: str) -> str:
        out = []
        for subject in subjects:
            subject = _map(subject)
            if subject.get("kind") == kind:
                name = _str(subject.get("name"))
                out.append(f"{_str(subject.get('namespace'))}/{name}" if kind == "ServiceAccount" else name)
        return ", ".join(out)

    return [_name(binding), f"{_str(ref.get('kind'))}/{_str(ref.get('name'))}", _age(binding, now),
            names("User"), names("Group"), names("ServiceAccount")]


DEFAULT_PRINTER = Printer(
    (_name_column(), Column("Created At", "date", _CREATION_TIMESTAMP)),
    _default_cells,
)
"""The API server's ``DefaultTableConvertor``, used for kinds without a printer."""

PRINTERS: dict[str, Printer] = {
    "Pod": Printer(
        (
            _name_column(),
            Column("Ready", "string", _POD_READY),
            Column("Status", "string", _POD_STATUS),
            Column("Restarts", "string", _POD_RESTARTS),
            _age_column(),
            Column("IP", "string", _POD_IP, priority=1),
            Column("Node", "string", _POD_NODE_NAME, priority=1),
            Column("Nominated Node", "string", _POD_NOMINATED_NODE, priority=1),
            Column("Readiness Gates", "string", _POD_READINESS_GATES, priority=1),
        ),
        _pod_cells,
        _pod_conditions,
    ),
    "Deployment": Printer(
        (
            _name_column(),
            Column("Ready", "string", _DEPLOYMENT_READY),
            Column("Up-to-date", "string", _DEPLOYMENT_UPDATED),
            Column("Available", "string", _DEPLOYMENT_AVAILABLE),
            _age_column(),
            *_template_columns(_DEPLOYMENT_SELECTOR),
        ),
        _deployment_cells,
    ),
    "ReplicaSet": Printer(
        (
            _name_column(),
            Column("Desired", "integer", _RS_DESIRED),
            Column("Current", "integer", _RS_CURRENT),
            Column("Ready", "integer", _RS_READY),
            _age_column(),
            *_template_columns(_RS_SELECTOR),
        ),
        _replicaset_cells,
    ),
    "Service": Printer(
        (
            _name_column(),
            Column("Type", "string", _SERVICE_TYPE),
            Column("Cluster-IP", "string", _SERVICE_CLUSTER_IP),
            Column("External-IP", "string", _SERVICE_EXTERNAL_IPS),
            Column("Port(s)", "string", _SERVICE_PORTS),
            _age_column(),
            Column("Selector", "string", _SERVICE_SELECTOR, priority=1),
        ),
        _service_cells,
    ),
    "Endpoints": Printer(
        (_name_column(), Column("Endpoints", "string", _ENDPOINTS_SUBSETS), _age_column()),
        _endpoints_cells,
    ),
    "EndpointSlice": Printer(
        (
            _name_column(),
            Column("AddressType", "string", _SLICE_ADDRESS_TYPE),
            Column("Ports", "string", _SLICE_PORTS),
            Column("Endpoints", "string", _SLICE_ENDPOINTS),
            _age_column(),
        ),
        _endpointslice_cells,
    ),
    "Node": Printer(
        (
            _name_column(),
            Column("Status", "string", "The status of the node"),
            Column("Roles", "string", "The roles of the node"),
            _age_column(),
            Column("Version", "string", "Kubelet Version reported by the node."),
            Column("Internal-IP", "string", _NODE_ADDRESSES, priority=1),
            Column("External-IP", "string", _NODE_ADDRESSES, priority=1),
            Column(
                "OS-Image",
                "string",
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
                priority=1,
            ),
            Column(
                "Kernel-Version",
                "string",
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
                priority=1,
            ),
            Column(
                "Container-Runtime",
                "string",
                "ContainerRuntime Version reported by the node through runtime remote API "
                "(e.g. containerd://1.4.2).",
                priority=1,
            ),
        ),
        _node_cells,
    ),
    "Namespace": Printer(
        (_name_column(), Column("Status", "string", "The status of the namespace"), _age_column()),
        _namespace_cells,
    ),
    "ControllerRevision": Printer(
        (
            _name_column(),
            Column("Controller", "string", "Controller of the object"),
            Column("Revision", "string", "Revision indicates the revision of the state represented by Data."),
            _age_column(),
        ),
        _controllerrevision_cells,
    ),
    "Event": Printer(
        (
            Column(
                "Last Seen",
                "string",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            Column(
                "Type",
                "string",
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            Column(
                "Reason",
                "string",
                "This should be a short, machine understandable string that gives the reason for the "
                "transition into the object's current status.",
            ),
            Column("Object", "string", "The object that this event is about."),
            Column("Subobject", "string", _EVENT_FIELD_PATH, priority=1),
            Column(
                "Source",
                "string",
                "The component reporting this event. Should be a short machine understandable string.",
                priority=1,
            ),
            Column("Message", "string", "A human-readable description of the status of this operation."),
            Column(
                "First Seen",
                "string",
                "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
                priority=1,
            ),
            Column("Count", "string", "The number of times this event has occurred.", priority=1),
            _name_column(priority=1),
        ),
        _event_cells,
    ),
    "ConfigMap": Printer(
        (_name_column(), Column("Data", "string", _CONFIGMAP_DATA), _age_column()),
        _configmap_cells,
    ),
    "ServiceAccount": Printer(
        (_name_column(), Column("Secrets", "string", _SERVICEACCOUNT_SECRETS), _age_column()),
        _serviceaccount_cells,
    ),
    "DaemonSet": Printer(
        (
            _name_column(),
            Column("Desired", "integer", _DS_DESIRED),
            Column("Current", "integer", _DS_CURRENT),
            Column("Ready", "integer", _DS_READY),
            Column("Up-to-date", "integer", _DS_UPDATED),
            Column("Available", "integer", _DS_AVAILABLE),
            Column("Node Selector", "string", _DS_NODE_SELECTOR),
            _age_column(),
            *_template_columns(_DS_SELECTOR),
        ),
        _daemonset_cells,
    ),
    "Lease": Printer((_name_column(), Column("Holder", "string", _LEASE_HOLDER), _age_column()), _lease_cells),
    "PriorityClass": Printer(
        (
            _name_column(),
            Column("Value", "integer", _PC_VALUE),
            Column("Global-Default", "boolean", _PC_GLOBAL_DEFAULT),
            _age_column(),
            Column("PreemptionPolicy", "string", _PC_PREEMPTION_POLICY),
        ),
        _priorityclass_cells,
    ),
    "Secret": Printer(
        (_name_column(), Column("Type", "string", _SECRET_TYPE), Column("Data", "string", _SECRET_DATA),
         _age_column()),
        lambda secret, now: _secret_cells(secret, now),
    ),
    "RoleBinding": Printer(_binding_columns("roleBinding"), lambda binding, now: _binding_cells(binding, now)),
    "ClusterRoleBinding": Printer(_binding_columns("clusterRoleBinding"),
                                  lambda binding, now: _binding_cells(binding, now)),
    "ResourceQuota": Printer(
        (
            _name_column(),
            _age_column(),
            Column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may "
                                        "consume."),
            Column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use "
                                      "independent of contention on the node."),
        ),
        _resourcequota_cells,
    ),
}
"""Printers by object kind; other kinds get :data:`DEFAULT_PRINTER`."""

_API_VERSIONS = {
    "Pod": "v1", "Service": "v1", "Endpoints": "v1", "Event": "v1", "Node": "v1", "Namespace": "v1",
    "ConfigMap": "v1", "ServiceAccount": "v1", "Deployment": "apps/v1", "ReplicaSet": "apps/v1",
    "ControllerRevision": "apps/v1", "EndpointSlice": "discovery.k8s.io/v1", "DaemonSet": "apps/v1",
    "Lease": "coordination.k8s.io/v1", "PriorityClass": "scheduling.k8s.io/v1",
    "Secret": "v1", "Role": "rbac.authorization.k8s.io/v1", "ClusterRole": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "ResourceQuota": "v1", "LimitRange": "v1",
}  # fmt: skip
"""Filled in for ``includeObject=Object`` rows whose object lacks ``apiVersion``."""


def printer_for(kind: str) -> Printer:
    """Return the printer of a kind (``Pod``), or the default Name/Created At printer."""
    return PRINTERS.get(kind, DEFAULT_PRINTER)


def _row_object(kind: str, obj: Obj, include_object: str) -> Obj:
    if include_object == "Object":
        if "kind" in obj and "apiVersion" in obj:
            return obj
        full = {"kind": kind, "apiVersion": _API_VERSIONS.get(kind, "v1")}
        full.update(obj)
        return full
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}


def table(
    kind: str,
    objects: list[Obj],
    *,
    now: datetime,
    resource_version: str,
    include_object: str = "Metadata",
    with_columns: bool = True,
) -> dict[str, Any]:
    """Render objects of one kind as the ``meta.k8s.io/v1`` Table a real API server returns.

    Args:
        kind: The objects' kind (``Pod``, ``Deployment``, ...); unknown kinds get the default table
            (Name, Created At).
        objects: Full API objects, in the order the rows should appear.
        now: The server's current time, for the AGE-like cells.
        resource_version: ``metadata.resourceVersion`` of the Table (kubectl watches from it).
        include_object: ``Metadata`` (or ``""``): each row carries a ``PartialObjectMetadata``;
            ``Object``: the whole object; ``None``: no ``object`` field.
        with_columns: False leaves ``columnDefinitions`` null, as in watch events after the first.

    Returns:
        The Table as a JSON-ready dict. Rows hold every cell, ``-o wide`` ones included; row
        objects share (do not copy) the input dicts.

    Raises:
        errors.BadRequest: ``include_object`` is not one of the values above.
    """
    include = include_object or "Metadata"
    if include not in INCLUDE_OBJECT_VALUES:
        raise errors.BadRequest(f'unrecognized includeObject value: "{include_object}"')
    printer = printer_for(kind)
    rows: list[dict[str, Any]] = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj) if printer.conditions else None
        if conditions:
            row["conditions"] = conditions
        if include != "None":
            row["object"] = _row_object(kind, obj, include)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [c.definition() for c in printer.columns] if with_columns else None,
        "rows": rows,
    }

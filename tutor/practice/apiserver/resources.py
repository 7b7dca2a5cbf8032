"""Provides the registry of resource types the practice cluster serves."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class Resource:
    """One served resource type (a REST collection)."""

    plural: str
    """The URL segment, e.g. ``deployments``."""
    singular: str
    kind: str
    group: str
    """API group; ``""`` for the core group."""
    version: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    stored: bool = True
    """False for lists that are always empty (kubectl asks about them alongside)."""
    list_kind: str = field(default="")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def ref(self) -> str:
        """``deployments.apps`` / ``pods``: how messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kind_list(self) -> str:
        return self.list_kind or f"{self.kind}List"


RESOURCES: tuple[Resource, ...] = (
    # Core group, in the order a real server lists them for `kubectl get all` (pods, services first).
    Resource("pods", "pod", "Pod", "", "v1", short_names=("po",), categories=("all",),
             subresources=("log", "status", "binding", "eviction", "exec", "attach", "portforward", "proxy")),
    Resource("services", "service", "Service", "", "v1", short_names=("svc",), categories=("all",),
             subresources=("status", "proxy")),
    Resource("endpoints", "endpoints", "Endpoints", "", "v1", short_names=("ep",)),
    Resource("events", "event", "Event", "", "v1", short_names=("ev",)),
    Resource("namespaces", "namespace", "Namespace", "", "v1", namespaced=False, short_names=("ns",),
             subresources=("status",), verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    Resource("nodes", "node", "Node", "", "v1", namespaced=False, short_names=("no",),
             subresources=("status", "proxy")),
    Resource("configmaps", "configmap", "ConfigMap", "", "v1", short_names=("cm",)),
    Resource("serviceaccounts", "serviceaccount", "ServiceAccount", "", "v1", short_names=("sa",),
             subresources=("token",)),
    Resource("replicationcontrollers", "replicationcontroller", "ReplicationController", "", "v1",
             short_names=("rc",), categories=("all",), stored=False, verbs=READ_VERBS),
    Resource("deployments", "deployment", "Deployment", "apps", "v1", short_names=("deploy",),
             categories=("all",), subresources=("scale", "status")),
    Resource("replicasets", "replicaset", "ReplicaSet", "apps", "v1", short_names=("rs",),
             categories=("all",), subresources=("scale", "status")),
    # Served read-only: the cluster's own DaemonSets (kube-proxy, kindnet) list and describe as on kind, and a
    # write is refused (405) rather than half-supported.
    Resource("daemonsets", "daemonset", "DaemonSet", "apps", "v1", short_names=("ds",),
             categories=("all",), verbs=READ_VERBS),
    Resource("statefulsets", "statefulset", "StatefulSet", "apps", "v1", short_names=("sts",),
             categories=("all",), stored=False, verbs=READ_VERBS),
    Resource("controllerrevisions", "controllerrevision", "ControllerRevision", "apps", "v1",
             stored=False, verbs=READ_VERBS),
    Resource("horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler",
             "autoscaling", "v2", short_names=("hpa",), categories=("all",), stored=False, verbs=READ_VERBS),
    Resource("cronjobs", "cronjob", "CronJob", "batch", "v1", short_names=("cj",), categories=("all",),
             stored=False, verbs=READ_VERBS),
    Resource("jobs", "job", "Job", "batch", "v1", categories=("all",), stored=False, verbs=READ_VERBS),
    Resource("leases", "lease", "Lease", "coordination.k8s.io", "v1", verbs=READ_VERBS),
    Resource("endpointslices", "endpointslice", "EndpointSlice", "discovery.k8s.io", "v1"),
    Resource("priorityclasses", "priorityclass", "PriorityClass", "scheduling.k8s.io", "v1", namespaced=False,
             short_names=("pc",), verbs=READ_VERBS),
    Resource("secrets", "secret", "Secret", "", "v1"),
    # Authentication and authorization (tutor/practice/apiserver/auth.py, rbac.py): the reviews are created only,
    # never stored (kubernetes pkg/registry/authentication, pkg/registry/authorization).
    Resource("selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", "authentication.k8s.io", "v1",
             namespaced=False, stored=False, verbs=("create",)),
    Resource("selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview",
             "authorization.k8s.io", "v1", namespaced=False, stored=False, verbs=("create",)),
    Resource("selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview",
             "authorization.k8s.io", "v1", namespaced=False, stored=False, verbs=("create",)),
    Resource("clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1",
             namespaced=False),
    Resource("clusterroles", "clusterrole", "ClusterRole", "rbac.authorization.k8s.io", "v1", namespaced=False),
    Resource("rolebindings", "rolebinding", "RoleBinding", "rbac.authorization.k8s.io", "v1"),
    Resource("roles", "role", "Role", "rbac.authorization.k8s.io", "v1"),
    # Quotas (issue 13): plugin/pkg/admission/resourcequota, plugin/pkg/admission/limitranger.
    Resource("resourcequotas", "resourcequota", "ResourceQuota", "", "v1", short_names=("quota",),
             subresources=("status",)),
    Resource("limitranges", "limitrange", "LimitRange", "", "v1", short_names=("limits",)),
)

GROUP_ORDER: tuple[str, ...] = ("", "apps", "autoscaling", "batch", "coordination.k8s.io", "discovery.k8s.io",
                                "scheduling.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
                                "rbac.authorization.k8s.io")

_BY_PATH: dict[tuple[str, str, str], Resource] = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND: dict[str, Resource] = {r.kind: r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    """Return the resource served at ``/apis/<group>/<version>/<plural>``, if any."""
    return _BY_PATH.get((group, version, plural))


def by_kind(kind: str) -> Resource:
    """Return the resource for a kind (``Pod``); raises KeyError for kinds not served."""
    return _BY_KIND[kind]


def group_versions() -> dict[str, list[str]]:
    """Return ``{group: [versions]}`` in discovery order."""
    out: dict[str, list[str]] = {}
    for group in GROUP_ORDER:
        versions = sorted({r.version for r in RESOURCES if r.group == group})
        out[group] = versions
    return out

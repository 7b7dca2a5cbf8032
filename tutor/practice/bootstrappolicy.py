"""Provides the default ClusterRoles and ClusterRoleBindings a kind cluster's API server bootstraps.

Upstream: kubernetes/kubernetes ``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`` (``clusterRoles``,
``ClusterRoleBindings``) as its fixture ``testdata/cluster-roles.yaml`` lists them (the subset the practice
cluster's users meet). ``admin``, ``edit`` and ``view`` are aggregated: they are stored as the
clusterrole-aggregation controller (``pkg/controller/clusterroleaggregation``) leaves them, their ``rules`` the
rules of the ClusterRoles their selectors match, in name order, each rule once. kubeadm adds the
``kubeadm:cluster-admins`` binding (``cmd/kubeadm/app/phases/kubeconfig``).
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_ANNOTATION = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
_AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


def _rule(verbs: list[str], groups: list[str], resources: list[str], names: list[str] | None = None) -> Obj:
    rule: Obj = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if names:
        rule["resourceNames"] = names
    return rule


def _urls(verbs: list[str], urls: list[str]) -> Obj:
    return {"verbs": verbs, "nonResourceURLs": urls}


_AGGREGATE_TO_ADMIN = [
    _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
    _rule(READ_WRITE, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
]
_AGGREGATE_TO_EDIT = [
    _rule(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
    _rule(["impersonate"], [""], ["serviceaccounts"]),
    _rule(WRITE, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
    _rule(["create"], [""], ["pods/eviction"]),
    _rule(WRITE, [""], ["configmaps", "persistentvolumeclaims", "replicationcontrollers",
                        "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"]),
    _rule(["create"], [""], ["serviceaccounts/token"]),
    _rule(WRITE, ["", "events.k8s.io"], ["events"]),
    _rule(WRITE, ["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                            "replicasets/scale", "statefulsets", "statefulsets/scale"]),
    _rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
    _rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
    _rule(WRITE, ["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale",
                                  "ingresses", "networkpolicies", "replicasets", "replicasets/scale",
                                  "replicationcontrollers/scale"]),
    _rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
    _rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
    _rule(READ_WRITE, ["coordination.k8s.io"], ["leases"]),
    _rule(WRITE, ["resource.k8s.io"], ["resourceclaims", "resourceclaimtemplates"]),
]
_AGGREGATE_TO_VIEW = [
    _rule(READ, [""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                       "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                       "services/status"]),
    _rule(READ, [""], ["bindings", "limitranges", "namespaces/status", "pods/log", "pods/status",
                       "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
    _rule(READ, [""], ["namespaces"]),
    _rule(READ, ["", "events.k8s.io"], ["events"]),
    _rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
    _rule(READ, ["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
                           "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
                           "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"]),
    _rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    _rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    _rule(READ, ["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                 "deployments/status", "ingresses", "ingresses/status", "networkpolicies",
                                 "replicasets", "replicasets/scale", "replicasets/status",
                                 "replicationcontrollers/scale"]),
    _rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    _rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
    _rule(READ, ["resource.k8s.io"], ["resourceclaims", "resourceclaims/status", "resourceclaimtemplates"]),
]


def _role(name: str, rules: list[Obj], labels: dict[str, str] | None = None,
          aggregate: str | None = None) -> Obj:
    role: Obj = {"metadata": {"name": name, "labels": {**_LABEL, **(labels or {})}, "annotations": dict(_ANNOTATION)},
                 "rules": rules}
    if aggregate is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {_AGGREGATE + aggregate: "true"}}]}
    return role


def _aggregated(*parts: list[Obj]) -> list[Obj]:
    """The aggregation controller's union: each rule once, in the order the matched roles (by name) give them."""
    out: list[Obj] = []
    for rules in parts:
        out.extend(r for r in rules if r not in out)
    return out


def cluster_roles() -> list[Obj]:
    view = _aggregated(_AGGREGATE_TO_VIEW)
    edit = _aggregated(_AGGREGATE_TO_EDIT, view)  # system:aggregate-to-edit, view
    admin = _aggregated(edit, _AGGREGATE_TO_ADMIN)  # edit, system:aggregate-to-admin
    return [
        _role("cluster-admin", [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])]),
        _role("admin", admin, aggregate="admin"),
        _role("edit", edit, {_AGGREGATE + "admin": "true"}, aggregate="edit"),
        _role("view", view, {_AGGREGATE + "edit": "true"}, aggregate="view"),
        _role("system:aggregate-to-admin", _AGGREGATE_TO_ADMIN, {_AGGREGATE + "admin": "true"}),
        _role("system:aggregate-to-edit", _AGGREGATE_TO_EDIT, {_AGGREGATE + "edit": "true"}),
        _role("system:aggregate-to-view", _AGGREGATE_TO_VIEW, {_AGGREGATE + "view": "true"}),
        _role("system:basic-user", [
            _rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]),
        _role("system:discovery", [_urls(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                   "/openapi", "/openapi/*", "/readyz", "/version", "/version/"])]),
        _role("system:public-info-viewer", [_urls(["get"], ["/healthz", "/livez", "/readyz", "/version",
                                                            "/version/"])]),
    ]


def _binding(name: str, role: str, groups: list[str], *, bootstrap: bool = True) -> Obj:
    meta: Obj = {"name": name}
    if bootstrap:
        meta.update(labels=dict(_LABEL), annotations=dict(_ANNOTATION))
    return {"metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]}


def cluster_role_bindings() -> list[Obj]:
    return [
        _binding("cluster-admin", "cluster-admin", ["system:masters"]),
        _binding("kubeadm:cluster-admins", "cluster-admin", ["kubeadm:cluster-admins"], bootstrap=False),
        _binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
        _binding("system:discovery", "system:discovery", ["system:authenticated"]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 ["system:authenticated", "system:unauthenticated"]),
    ]

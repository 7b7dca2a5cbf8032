"""Provides authorization: a request's attributes, the RBAC authorizer, access and rules reviews, 403 wording.

Ports of upstream:

- kubernetes/apiserver ``pkg/endpoints/request/requestinfo.go`` (``RequestInfoFactory.NewRequestInfo``): the
  verb, API group, resource, subresource, namespace and name of a request, or a non-resource path.
- kubernetes/kubernetes ``plugin/pkg/auth/authorizer/rbac/rbac.go`` (``RBACAuthorizer.Authorize``,
  ``RuleAllows``, ``RulesFor``) and ``pkg/apis/rbac/v1/evaluation_helpers.go`` (``VerbMatches``,
  ``APIGroupMatches``, ``ResourceMatches``, ``ResourceNameMatches``, ``NonResourceURLMatches``).
- kubernetes/kubernetes ``pkg/registry/rbac/validation/rule.go`` (``VisitRulesFor``, ``appliesToUser``,
  ``GetRoleReferenceRules``): ClusterRoleBindings, then the RoleBindings of the request's namespace.
- kubernetes/apiserver ``pkg/endpoints/handlers/responsewriters/errors.go`` (``forbiddenMessage``, ``Forbidden``).
- The privileged group: ``system:masters`` is allowed everything (kube-apiserver's ``NewPrivilegedGroups``
  authorizer, first in its union).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.auth import SERVICE_ACCOUNT_PREFIX, SYSTEM_MASTERS, UserInfo
from tutor.practice.apiserver.store import Obj, Store

GROUP = "rbac.authorization.k8s.io"
_API_PREFIXES = ("api", "apis")
_NAMESPACE_SUBRESOURCES = ("status", "finalize")
_SPECIAL_VERBS = ("proxy", "watch")
_CONNECT_SUBRESOURCES = ("exec", "attach", "portforward")
"""``AuthorizePodWebsocketUpgradeCreatePermission`` (on by default since 1.35): a ``get`` of these pod
subresources (the WebSocket upgrade) also needs ``create`` (kubernetes/kubernetes ``pkg/registry/core/pod/rest/
subresources.go``, KEP 4006)."""


@dataclass(frozen=True)
class Attributes:
    """``authorizer.Attributes`` of one request (``RequestInfo`` plus the user)."""

    verb: str
    path: str = ""
    resource_request: bool = False
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()
    """``RequestInfo.Parts``: the path from the resource on (``resource/name/subresource/...``), a namespace prefix
    taken off."""


def request_attributes(method: str, path: str, query: dict[str, list[str]]) -> Attributes:
    """``NewRequestInfo``: what a request does, from its method, path and query (``watch``, ``fieldSelector``)."""
    parts = [p for p in path.strip("/").split("/") if p] if path.strip("/") else []
    non_resource = Attributes(verb=method.lower(), path=path)
    if len(parts) < 3 or parts[0] not in _API_PREFIXES:
        return non_resource
    prefix, rest = parts[0], parts[1:]
    group = ""
    if prefix != "api":
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = ""
    if rest and rest[0] in _SPECIAL_VERBS:
        if len(rest) < 2:
            return non_resource  # "unable to determine kind and namespace from url": answered 404 later
        verb, rest = rest[0], rest[1:]
    else:
        verb = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, "")
    namespace = ""
    if rest and rest[0] == "namespaces":
        if len(rest) > 1:
            namespace = rest[1]
            if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
                rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb != "proxy" else ""
    if not name and verb == "get":
        watch = (query.get("watch") or [""])[0].lower()
        verb = "watch" if watch not in ("", "false", "0") else "list"
        selector = (query.get("fieldSelector") or [""])[0]
        exact = _exact_name(selector)
        if exact:
            name = exact
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(verb=verb, path=path, resource_request=True, api_group=group, api_version=version,
                      resource=resource, subresource=subresource, namespace=namespace, name=name, parts=tuple(rest))


def _exact_name(selector: str) -> str:
    """``FieldSelector.RequiresExactMatch("metadata.name")`` of a single-term selector, when a valid path segment."""
    for term in selector.split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name" and "!" not in key:
                value = value.strip()
                if value and value not in (".", "..") and "/" not in value and "%" not in value:
                    return value
                return ""
    return ""


# ---- evaluation_helpers.go ---------------------------------------------------------------------------------------
def _strings(rule: Obj, key: str) -> list[str]:
    value = rule.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def verb_matches(rule: Obj, verb: str) -> bool:
    return any(v in ("*", verb) for v in _strings(rule, "verbs"))


def api_group_matches(rule: Obj, group: str) -> bool:
    return any(g in ("*", group) for g in _strings(rule, "apiGroups"))


def resource_matches(rule: Obj, combined: str, subresource: str) -> bool:
    for resource in _strings(rule, "resources"):
        if resource in ("*", combined):
            return True
        if subresource and len(resource) == len(subresource) + 2 and resource.startswith("*/") \
                and resource.endswith(subresource):
            return True
    return False


def resource_name_matches(rule: Obj, name: str) -> bool:
    names = _strings(rule, "resourceNames")
    return not names or name in names


def non_resource_url_matches(rule: Obj, path: str) -> bool:
    for url in _strings(rule, "nonResourceURLs"):
        if url in ("*", path):
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: Attributes, rule: Obj) -> bool:
    """``RuleAllows`` (rbac.go)."""
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (verb_matches(rule, attrs.verb) and api_group_matches(rule, attrs.api_group)
                and resource_matches(rule, combined, attrs.subresource) and resource_name_matches(rule, attrs.name))
    return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)


# ---- rule.go -----------------------------------------------------------------------------------------------------
def _applies_to(user: UserInfo, subject: Any, namespace: str) -> bool:
    """``appliesToUser``: a User by name, a Group the user is in, a ServiceAccount (its namespace defaults to the
    binding's)."""
    if not isinstance(subject, dict):
        return False
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or namespace
        return bool(sa_namespace) and user.name == f"{SERVICE_ACCOUNT_PREFIX}{sa_namespace}:{name}"
    return False


def _describe_subject(subject: Obj, namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or namespace}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


Visitor = Callable[[str, "Obj | None", "str | None"], bool]
"""``visit(source, rule, error)``: returns False to stop."""


class RBAC:
    """The RBAC authorizer over the store's Roles, ClusterRoles and their bindings."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _role_rules(self, ref: Any, namespace: str) -> tuple[list[Obj], str | None]:
        """``GetRoleReferenceRules``: the rules of a binding's roleRef, or the lister's NotFound text."""
        if not isinstance(ref, dict):
            return [], None
        kind, name = ref.get("kind"), str(ref.get("name") or "")
        if kind == "Role":
            role = self.store.get("roles", namespace, name)
            if role is None:
                return [], f'role.{GROUP} "{name}" not found'
        elif kind == "ClusterRole":
            role = self.store.get("clusterroles", "", name)
            if role is None:
                return [], f'clusterrole.{GROUP} "{name}" not found'
        else:
            return [], f"unsupported role reference kind: {kind!r}"
        rules = role.get("rules")
        return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else [], None

    def visit_rules_for(self, user: UserInfo, namespace: str, visit: Visitor) -> None:
        """``VisitRulesFor``: every rule bound to the user for ``namespace`` (cluster-wide first)."""
        for binding in self.store.list("clusterrolebindings"):
            subjects = binding.get("subjects") or []
            subject = next((s for s in subjects if _applies_to(user, s, "")), None)
            if subject is None:
                continue
            rules, error = self._role_rules(binding.get("roleRef"), "")
            if error is not None and not visit("", None, error):
                return
            ref = binding.get("roleRef") or {}
            source = (f'ClusterRoleBinding "{binding["metadata"]["name"]}" of {ref.get("kind")} '
                      f'"{ref.get("name")}" to {_describe_subject(subject, "")}')
            for rule in rules:
                if not visit(source, rule, None):
                    return
        if not namespace:
            return
        for binding in self.store.list("rolebindings", namespace):
            subjects = binding.get("subjects") or []
            subject = next((s for s in subjects if _applies_to(user, s, namespace)), None)
            if subject is None:
                continue
            rules, error = self._role_rules(binding.get("roleRef"), namespace)
            if error is not None and not visit("", None, error):
                return
            ref = binding.get("roleRef") or {}
            source = (f'RoleBinding "{binding["metadata"]["name"]}/{namespace}" of {ref.get("kind")} '
                      f'"{ref.get("name")}" to {_describe_subject(subject, namespace)}')
            for rule in rules:
                if not visit(source, rule, None):
                    return

    def authorize(self, user: UserInfo, attrs: Attributes) -> tuple[bool, str]:
        """``(allowed, reason)``: ``RBAC: allowed by ...``, or the resolution errors of a denial (``RBAC: ...``)."""
        if SYSTEM_MASTERS in user.groups:
            return True, ""
        found: list[str] = []
        failures: list[str] = []

        def visit(source: str, rule: Obj | None, error: str | None) -> bool:
            if rule is not None and rule_allows(attrs, rule):
                found.append(f"RBAC: allowed by {source}")
                return False
            if error is not None:
                failures.append(error)
            return True

        self.visit_rules_for(user, attrs.namespace, visit)
        if found:
            return True, found[0]
        if not failures:
            return False, ""
        return False, "RBAC: " + (failures[0] if len(failures) == 1 else "[" + ", ".join(failures) + "]")

    def check(self, user: UserInfo, attrs: Attributes) -> None:
        """Authorize a request.

        Raises:
            errors.Forbidden: the request is denied (``responsewriters.Forbidden``).
        """
        allowed, reason = self.authorize(user, attrs)
        if allowed and attrs.resource_request and attrs.verb == "get" and attrs.resource == "pods" \
                and attrs.subresource in _CONNECT_SUBRESOURCES and attrs.name:
            attrs = Attributes(**{**attrs.__dict__, "verb": "create"})
            allowed, reason = self.authorize(user, attrs)
        if not allowed:
            raise forbidden(user, attrs, reason)

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[Obj], list[Obj], list[str]]:
        """``RulesFor`` as a SelfSubjectRulesReview's status has them: resource rules, non-resource rules, errors."""
        resource_rules: list[Obj] = []
        non_resource: list[Obj] = []
        failures: list[str] = []

        def visit(_source: str, rule: Obj | None, error: str | None) -> bool:
            if error is not None:
                failures.append(error)
            if rule is None:
                return True
            verbs = _strings(rule, "verbs")
            if _strings(rule, "nonResourceURLs"):
                non_resource.append({"verbs": verbs, "nonResourceURLs": _strings(rule, "nonResourceURLs")})
            if _strings(rule, "resources"):
                entry: Obj = {"verbs": verbs, "apiGroups": _strings(rule, "apiGroups"),
                              "resources": _strings(rule, "resources")}
                if _strings(rule, "resourceNames"):
                    entry["resourceNames"] = _strings(rule, "resourceNames")
                resource_rules.append(entry)
            return True

        self.visit_rules_for(user, namespace, visit)
        return resource_rules, non_resource, failures


def forbidden_message(user: UserInfo, attrs: Attributes) -> str:
    """``forbiddenMessage`` (responsewriters/errors.go)."""
    if not attrs.resource_request:
        return f'User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if attrs.namespace:
        return (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
                f'in the namespace "{attrs.namespace}"')
    return (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" '
            "at the cluster scope")


def forbidden(user: UserInfo, attrs: Attributes, reason: str) -> errors.Forbidden:
    """``Forbidden``: ``NewForbidden(GroupResource{group, resource}, name, forbiddenMessage[: reason])``."""
    message = forbidden_message(user, attrs)
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request:
        return errors.Forbidden(f"forbidden: {message}", details={})
    return errors.forbidden(attrs.resource, attrs.api_group, attrs.name, message)


def access_review(rbac: RBAC, user: UserInfo, spec: Obj) -> Obj:
    """A SelfSubjectAccessReview's status (kubernetes ``pkg/registry/authorization/selfsubjectaccessreview``,
    ``authorizationutil.ResourceAttributesFrom``)."""
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if isinstance(resource, dict):
        attrs = Attributes(verb=str(resource.get("verb") or ""), resource_request=True,
                           api_group=str(resource.get("group") or ""), api_version=str(resource.get("version") or ""),
                           resource=str(resource.get("resource") or ""),
                           subresource=str(resource.get("subresource") or ""),
                           namespace=str(resource.get("namespace") or ""), name=str(resource.get("name") or ""))
    elif isinstance(non_resource, dict):
        attrs = Attributes(verb=str(non_resource.get("verb") or ""), path=str(non_resource.get("path") or ""))
    else:
        raise errors.invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", [
            ("spec.resourceAttributes", "Required value: exactly one of nonResourceAttributes or "
                                        "resourceAttributes must be specified")])
    allowed, reason = rbac.authorize(user, attrs)
    status: Obj = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return status


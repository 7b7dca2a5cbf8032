"""Provides ResourceQuota and LimitRange admission and the quota usage both the admission and the controller count.

Ports:

- the quota evaluators: pods (``pkg/quota/v1/evaluator/core/pods.go``: ``PodUsageFunc``, ``QuotaV1Pod`` (pods in
  a terminal phase, or past their deletion grace period, use nothing but ``count/pods``), ``Constraints`` (a quota
  on cpu or memory makes every container state it: ``must specify requests.cpu for: web``), the scopes),
  services (``services.go``) and the object count evaluator of every other kind (``staging/src/k8s.io/apiserver/
  pkg/quota/v1/generic/evaluator.go``: ``count/<resource>.<group>``, and the legacy names of
  ``configmaps``, ``secrets``, ``resourcequotas``);
- the ResourceQuota admission (``staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go``
  ``CheckRequest``): a request that would take ``status.used`` past ``status.hard`` is refused with ``exceeded
  quota: NAME, requested: pods=1, used: pods=10, limited: pods=10`` (``prettyPrint``: resource names sorted,
  ``Quantity.String()``); an admitted one is charged to ``status.used`` at once, as upstream's admission updates
  the quota before the object is stored;
- the LimitRanger admission (``plugin/pkg/admission/limitranger/admission.go``): the Container ``default`` and
  ``defaultRequest`` filled into a new pod's containers (with the ``kubernetes.io/limit-ranger`` annotation),
  then ``min``, ``max`` and ``maxLimitRequestRatio`` enforced for Container and Pod limits.

Refusals are ``admission.NewForbidden``: ``pods "web-7d4b9-x2k8p" is forbidden: <reason>``, naming the object by
the name it was about to get (the registry generates a ``generateName`` before validating admission runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from tutor.kube import qos
from tutor.kube import quantity as quantities
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.names import generate_name
from tutor.practice.apiserver.resources import RESOURCES, Resource
from tutor.practice.apiserver.store import Obj, Store, deep_copy

Quantity = tuple[Fraction, str]
"""A ``resource.Quantity``: its exact value and its format (``DecimalSI``, ``BinarySI``, ``DecimalExponent``)."""
Usage = dict[str, Quantity]
"""A ``corev1.ResourceList``."""

POD_RESOURCES = ("count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
                 "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods")
"""``podResources``."""
_POD_RESOURCE_PREFIXES = ("hugepages-", "requests.hugepages-")
_VALIDATION_SET = frozenset({"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"})
"""``validationSet``: a quota on one of these makes each container state it."""
SERVICE_RESOURCES = ("count/services", "services", "services.nodeports", "services.loadbalancers")
"""``serviceResources``."""
_LEGACY_COUNTS = {"configmaps": "configmaps", "secrets": "secrets", "resourcequotas": "resourcequotas",
                  "replicationcontrollers": "replicationcontrollers",
                  "persistentvolumeclaims": "persistentvolumeclaims"}
"""The object counts with a name of their own (``pkg/quota/v1/evaluator/core/registry.go``)."""
IGNORED = frozenset({"events", "events.events.k8s.io", "bindings"})
"""Kinds quota never counts (``pkg/quota/v1/install/update_filter.go`` / ``ignoredResources``)."""
LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger"
_ONE: Quantity = (Fraction(1), quantities.DECIMAL_SI)


# ---- quantities and resource lists (staging/src/k8s.io/apiserver/pkg/quota/v1/resources.go) ----------------
def quantity(text: Any) -> Quantity | None:
    """A stored quantity parsed with its format; None when it does not parse."""
    parsed = quantities.parse_quantity(text)
    return None if parsed is None else (parsed, quantities.quantity_format(text))


def resource_list(value: Any) -> Usage:
    """A stored ``ResourceList`` (what does not parse is left out)."""
    out: Usage = {}
    for name, text in (value.items() if isinstance(value, Mapping) else ()):
        parsed = quantity(text)
        if parsed is not None:
            out[str(name)] = parsed
    return out


def _add_one(a: Quantity | None, b: Quantity) -> Quantity:
    """``Quantity.Add``: a zero takes the other's format."""
    if a is None:
        return b
    return (a[0] + b[0], b[1] if a[0] == 0 else a[1])


def add(a: Usage, b: Usage) -> Usage:
    """``quota.Add``."""
    out = dict(a)
    for name, value in b.items():
        out[name] = _add_one(out.get(name), value)
    return out


def mask(usage: Usage, names: Iterable[str]) -> Usage:
    """``quota.Mask``: only the named resources."""
    keep = set(names)
    return {name: value for name, value in usage.items() if name in keep}


def to_strings(usage: Usage) -> dict[str, str]:
    """A ``ResourceList`` as stored (each ``Quantity.String()``), in name order."""
    return {name: quantities.format_quantity(*usage[name]) for name in sorted(usage)}


def pretty_print(usage: Usage) -> str:
    """``prettyPrint``: ``name=value`` in name order, joined by commas."""
    return ",".join(f"{name}={quantities.format_quantity(*usage[name])}" for name in sorted(usage))


# ---- evaluators ------------------------------------------------------------------------------------------
def object_count_name(res: Resource) -> str:
    """``ObjectCountQuotaResourceNameFor``: ``count/deployments.apps``, ``count/pods``."""
    return f"count/{res.ref}"


def _first_format(pod: Obj, key: str, name: str) -> str:
    """The format ``quota.Add`` leaves on a pod's summed ``name``: that of the first container stating it."""
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        found = ((container.get("resources") or {}).get(key) or {}) if isinstance(container, dict) else {}
        if isinstance(found, dict) and name in found and quantities.parse_quantity(found[name]):
            return quantities.quantity_format(found[name])
    return quantities.DECIMAL_SI


def pod_counts(pod: Obj, now_past: Any = None) -> bool:
    """``QuotaV1Pod``: a pod in a terminal phase, or past its deletion grace period, uses no compute quota.

    Args:
        pod: The pod.
        now_past: A callable ``(deletionTimestamp, grace seconds) -> bool`` telling whether the grace period is
            over; None: it never is.
    """
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Failed", "Succeeded"):
        return False
    meta = pod.get("metadata") or {}
    grace = meta.get("deletionGracePeriodSeconds")
    if meta.get("deletionTimestamp") and grace is not None and now_past is not None:
        return not now_past(meta["deletionTimestamp"], grace)
    return True


def _pod_compute(requests: Mapping[str, Quantity], limits: Mapping[str, Quantity]) -> Usage:
    """``podComputeUsageHelper``."""
    result: Usage = {"pods": _ONE}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            result[name] = requests[name]
            result[f"requests.{name}"] = requests[name]
        if name in limits:
            result[f"limits.{name}"] = limits[name]
    for name, value in requests.items():
        if name.startswith("hugepages-"):
            result[name] = value
            result[f"requests.{name}"] = value
    return result


def pod_usage(pod: Obj, now_past: Any = None) -> Usage:
    """``PodUsageFunc``: ``count/pods`` always; the compute resources while :func:`pod_counts`."""
    result: Usage = {"count/pods": _ONE}
    if not pod_counts(pod, now_past):
        return result
    requests = {name: (value, _first_format(pod, "requests", name)) for name, value in qos.pod_requests(pod).items()}
    limits = {name: (value, _first_format(pod, "limits", name)) for name, value in qos.pod_limits(pod).items()}
    return add(result, _pod_compute(requests, limits))


def _container_usage_names(container: Any) -> set[str]:
    resources = container.get("resources") if isinstance(container, dict) else None
    resources = resources if isinstance(resources, dict) else {}
    requests = resource_list(resources.get("requests"))
    limits = resource_list(resources.get("limits"))
    return set(_pod_compute(requests, limits))


def pod_constraints(required: Iterable[str], pod: Obj) -> str | None:
    """``podEvaluator.Constraints``: ``must specify limits.cpu for: web; requests.cpu for: web,sidecar`` or None."""
    required_set = set(required) & _VALIDATION_SET
    missing: dict[str, set[str]] = {}
    spec = pod.get("spec") or {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        have = _container_usage_names(container)
        for name in required_set - have:
            missing.setdefault(name, set()).add(str((container or {}).get("name", "")))
    if not missing:
        return None
    return "must specify " + "; ".join(f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing))


def service_usage(svc: Obj) -> Usage:
    """``serviceEvaluator.Usage``."""
    spec = svc.get("spec") or {}
    ports = len(spec.get("ports") or [])
    zero: Quantity = (Fraction(0), quantities.DECIMAL_SI)
    result: Usage = {"count/services": _ONE, "services": _ONE, "services.loadbalancers": zero,
                     "services.nodeports": zero}
    if spec.get("type") == "NodePort":
        result["services.nodeports"] = (Fraction(ports), quantities.DECIMAL_SI)
    elif spec.get("type") == "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") is False:
            ports = sum(1 for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("nodePort"))
        result["services.nodeports"] = (Fraction(ports), quantities.DECIMAL_SI)
        result["services.loadbalancers"] = _ONE
    return result


def usage(res: Resource, obj: Obj, now_past: Any = None) -> Usage:
    """What one object uses, by its kind's evaluator."""
    if res.plural == "pods" and not res.group:
        return pod_usage(obj, now_past)
    if res.plural == "services" and not res.group:
        return service_usage(obj)
    result: Usage = {object_count_name(res): _ONE}
    legacy = _LEGACY_COUNTS.get(res.plural) if not res.group else None
    if legacy:
        result[legacy] = _ONE
    return result


def matching_resources(res: Resource, names: Iterable[str]) -> list[str]:
    """``MatchingResources``: the quota's resources this kind's evaluator counts."""
    names = list(names)
    if res.plural == "pods" and not res.group:
        return [n for n in names if n in POD_RESOURCES or n.startswith(_POD_RESOURCE_PREFIXES)]
    if res.plural == "services" and not res.group:
        return [n for n in names if n in SERVICE_RESOURCES]
    own = {object_count_name(res)}
    legacy = _LEGACY_COUNTS.get(res.plural) if not res.group else None
    if legacy:
        own.add(legacy)
    return [n for n in names if n in own]


def handles(res: Resource, operation: str) -> bool:
    """``Handles``: pods and other kinds on create, services on create and update."""
    if res.plural == "services" and not res.group:
        return operation in ("CREATE", "UPDATE")
    return operation == "CREATE"


def _is_best_effort(pod: Obj) -> bool:
    return qos.pod_qos(pod) == "BestEffort"


def scope_matches(res: Resource, scope: Mapping[str, Any], obj: Obj) -> bool:
    """``podMatchesScopeFunc`` (other kinds match no scope, ``MatchesNoScopeFunc``)."""
    if res.plural != "pods" or res.group:
        return False
    spec = obj.get("spec") or {}
    name = scope.get("scopeName")
    terminating = isinstance(spec.get("activeDeadlineSeconds"), int) and spec["activeDeadlineSeconds"] >= 0
    if name == "Terminating":
        return terminating
    if name == "NotTerminating":
        return not terminating
    if name == "BestEffort":
        return _is_best_effort(obj)
    if name == "NotBestEffort":
        return not _is_best_effort(obj)
    if name == "PriorityClass":
        priority_class = spec.get("priorityClassName") or ""
        operator, values = scope.get("operator"), scope.get("values") or []
        if operator == "Exists":
            return bool(priority_class)
        if operator == "In":
            return bool(priority_class) and priority_class in values
        if operator == "NotIn":
            return not priority_class or priority_class not in values
        if operator == "DoesNotExist":
            return not priority_class
    return False


def scope_selectors(quota: Obj) -> list[Mapping[str, Any]]:
    """``getScopeSelectorsFromQuota``."""
    spec = quota.get("spec") or {}
    out: list[Mapping[str, Any]] = [{"scopeName": s, "operator": "Exists"} for s in spec.get("scopes") or []]
    selector = spec.get("scopeSelector") or {}
    out.extend(e for e in selector.get("matchExpressions") or [] if isinstance(e, Mapping))
    return out


def matches(res: Resource, quota: Obj, obj: Obj) -> bool:
    """``generic.Matches``: the quota limits something this kind uses, and the object is in all its scopes."""
    hard = resource_list((quota.get("status") or {}).get("hard"))
    if not matching_resources(res, hard):
        return False
    return all(scope_matches(res, scope, obj) for scope in scope_selectors(quota))


# ---- the admission --------------------------------------------------------------------------------------
def _forbidden(res: Resource, obj: Obj, reason: str) -> errors.Forbidden:
    """``admission.NewForbidden`` for an object the registry has named (a ``generateName`` gets its name here)."""
    meta = obj.setdefault("metadata", {})
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = generate_name(meta["generateName"])
    return errors.forbidden(res.plural, res.group, meta.get("name") or "", reason)


def check_quota(store: Store, res: Resource, obj: Obj, old: Obj | None, *, dry_run: bool = False) -> None:
    """``CheckRequest`` for one create (``old`` None) or update, charging the quotas when it is admitted.

    Raises:
        errors.Forbidden: a quota would be exceeded, its usage is not known yet, or a container does not state a
            resource the quota limits.
    """
    operation = "CREATE" if old is None else "UPDATE"
    if not res.namespaced or res.ref in IGNORED or not handles(res, operation):
        return
    namespace = (obj.get("metadata") or {}).get("namespace", "")
    quotas = sorted(store.list("resourcequotas", namespace), key=lambda q: q["metadata"]["name"])
    if not quotas:
        return
    interesting: list[Obj] = []
    for quota in quotas:
        if not matches(res, quota, obj):
            continue
        name = quota["metadata"]["name"]
        status = quota.get("status") or {}
        restricted = matching_resources(res, resource_list(status.get("hard")))
        if res.plural == "pods" and not res.group:
            failure = pod_constraints(restricted, obj)
            if failure:
                raise _forbidden(res, obj, f"failed quota: {name}: {failure}")
        used_names = set(status.get("used") or {})
        if any(r not in used_names for r in restricted):
            raise _forbidden(res, obj, f"status unknown for quota: {name}, resources: {','.join(sorted(restricted))}")
        interesting.append(quota)
    if not interesting:
        return
    input_usage = usage(res, obj)
    changed: list[Obj] = []
    for quota in interesting:
        delta = input_usage
        if old is not None and old.get("metadata", {}).get("resourceVersion") and matches(res, quota, old):
            previous = usage(res, old)
            delta = {n: (max(v[0] - previous.get(n, (Fraction(0), v[1]))[0], Fraction(0)), v[1])
                     for n, v in input_usage.items()}  # SubtractWithNonNegativeResult
        delta = {n: v for n, v in delta.items() if v[0] != 0}  # RemoveZeros
        if not delta:
            continue
        status = quota.get("status") or {}
        hard = resource_list(status.get("hard"))
        used = resource_list(status.get("used"))
        requested = mask(delta, hard)
        new_used = add(used, requested)
        masked = mask(new_used, requested)
        exceeded = [n for n, limit in hard.items() if n in masked and masked[n][0] > limit[0]]
        if exceeded:
            raise _forbidden(res, obj, f"exceeded quota: {quota['metadata']['name']}, "
                                       f"requested: {pretty_print(mask(requested, exceeded))}, "
                                       f"used: {pretty_print(mask(used, exceeded))}, "
                                       f"limited: {pretty_print(mask(hard, exceeded))}")
        if requested:
            new = deep_copy(quota)
            new["status"]["used"] = {**status.get("used", {}), **to_strings(mask(new_used, requested))}
            changed.append(new)
    if dry_run:
        return
    for new in changed:
        store.update("resourcequotas", new, status_only=True)


# ---- LimitRanger ----------------------------------------------------------------------------------------
def _milli(value: Quantity | None) -> Fraction:
    """``requestLimitEnforcedValues``: compared at milli precision (``MilliValue``, rounded up)."""
    return Fraction(quantities.milli_value(value[0])) if value is not None else Fraction(0)


def _text(value: Quantity | None) -> str:
    return quantities.format_quantity(*value) if value is not None else "0"


def _min_constraint(kind: str, name: str, enforced: Quantity, request: Usage, limit: Usage) -> str | None:
    req, lim = request.get(name), limit.get(name)
    if req is None:
        return f"minimum {name} usage per {kind} is {_text(enforced)}.  No request is specified"
    if _milli(req) < _milli(enforced):
        return f"minimum {name} usage per {kind} is {_text(enforced)}, but request is {_text(req)}"
    if lim is not None and _milli(lim) < _milli(enforced):
        return f"minimum {name} usage per {kind} is {_text(enforced)}, but limit is {_text(lim)}"
    return None


def _max_constraint(kind: str, name: str, enforced: Quantity, request: Usage, limit: Usage) -> str | None:
    req, lim = request.get(name), limit.get(name)
    if lim is None:
        return f"maximum {name} usage per {kind} is {_text(enforced)}.  No limit is specified"
    if _milli(lim) > _milli(enforced):
        return f"maximum {name} usage per {kind} is {_text(enforced)}, but limit is {_text(lim)}"
    if req is not None and _milli(req) > _milli(enforced):
        return f"maximum {name} usage per {kind} is {_text(enforced)}, but request is {_text(req)}"
    return None


def _ratio_constraint(kind: str, name: str, enforced: Quantity, request: Usage, limit: Usage) -> str | None:
    req, lim = request.get(name), limit.get(name)
    if req is None or _milli(req) == 0:
        return (f"{name} max limit to request ratio per {kind} is {_text(enforced)}, but no request is specified or "
                "request is 0")
    if lim is None or _milli(lim) == 0:
        return (f"{name} max limit to request ratio per {kind} is {_text(enforced)}, but no limit is specified or "
                "limit is 0")
    ratio = _milli(lim) / _milli(req)
    if ratio * 1000 > _milli(enforced):
        return (f"{name} max limit to request ratio per {kind} is {_text(enforced)}, but provided ratio is "
                f"{float(ratio):f}")
    return None


def _container_lists(container: Any) -> tuple[Usage, Usage]:
    resources = (container.get("resources") if isinstance(container, dict) else None) or {}
    return resource_list(resources.get("requests")), resource_list(resources.get("limits"))


def limit_range_defaults(pod: Obj, limit_range: Obj) -> None:
    """``PodMutateLimitFunc``: the Container ``default`` / ``defaultRequest`` into containers that state neither."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if isinstance(item, Mapping) and item.get("type") == "Container":
            requests.update(item.get("defaultRequest") or {})
            limits.update(item.get("default") or {})
    if not requests and not limits:
        return
    notes: list[str] = []
    spec = pod.get("spec") or {}
    for prefix, key in (("container", "containers"), ("init container", "initContainers")):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            resources = container.setdefault("resources", {})
            set_requests = sorted(n for n in requests if n not in (resources.get("requests") or {}))
            set_limits = sorted(n for n in limits if n not in (resources.get("limits") or {}))
            for name in set_limits:
                resources.setdefault("limits", {})[name] = limits[name]
            for name in set_requests:
                resources.setdefault("requests", {})[name] = requests[name]
            if set_requests:
                notes.append(f"{', '.join(set_requests)} request for {prefix} {container.get('name', '')}")
            if set_limits:
                notes.append(f"{', '.join(set_limits)} limit for {prefix} {container.get('name', '')}")
    if notes:
        pod.setdefault("metadata", {}).setdefault("annotations", {})[LIMIT_RANGER_ANNOTATION] = (
            "LimitRanger plugin set: " + "; ".join(notes))


def limit_range_violations(pod: Obj, limit_range: Obj) -> list[str]:
    """``PodValidateLimitFunc``: Container limits for each container and init container, Pod limits for their
    sums (``podRequests``/``podLimits``)."""
    found: list[str] = []
    spec = pod.get("spec") or {}
    checks = (("min", _min_constraint), ("max", _max_constraint), ("maxLimitRequestRatio", _ratio_constraint))
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "Container":
            targets = [_container_lists(c) for c in [*(spec.get("containers") or []),
                                                     *(spec.get("initContainers") or [])]]
        elif kind == "Pod":
            targets = [({n: (v, quantities.DECIMAL_SI) for n, v in qos.pod_requests(pod).items()},
                        {n: (v, quantities.DECIMAL_SI) for n, v in qos.pod_limits(pod).items()})]
        else:
            continue
        for request, limit in targets:
            for key, check in checks:
                for name, enforced in resource_list(item.get(key)).items():
                    message = check(str(kind), name, enforced, request, limit)
                    if message:
                        found.append(message)
    return found


def admit_pod_limits(store: Store, res: Resource, pod: Obj) -> None:
    """The LimitRanger plugin on a pod's create: defaults (``Admit``), then the limits (``Validate``).

    Raises:
        errors.Forbidden: a LimitRange's min, max or ratio is not met (``utilerrors.NewAggregate`` of them).
    """
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    ranges = store.list("limitranges", namespace)
    for limit_range in ranges:
        limit_range_defaults(pod, limit_range)
    status = pod.get("status")
    if ranges and isinstance(status, dict):
        status["qosClass"] = qos.pod_qos(pod)  # PrepareForCreate runs after the mutating admission
    for limit_range in ranges:
        found = limit_range_violations(pod, limit_range)
        if found:
            raise _forbidden(res, pod, found[0] if len(found) == 1 else "[" + ", ".join(found) + "]")


_BY_PLURAL = {r.plural: r for r in RESOURCES if r.stored}


def admit(store: Store, plural: str, obj: Obj, old: Obj | None = None, *, dry_run: bool = False) -> None:
    """LimitRanger then ResourceQuota, as kube-apiserver's admission chain orders them, for one write (a create
    when ``old`` is None)."""
    res = _BY_PLURAL.get(plural)
    if res is None:
        return
    if old is None and res.plural == "pods" and not res.group:
        admit_pod_limits(store, res, obj)
    check_quota(store, res, obj, old, dry_run=dry_run)


# ---- defaulting -----------------------------------------------------------------------------------------
def _canonical(value: Any) -> Any:
    """A quantity as the API server stores it (``Quantity.String()``); what does not parse stays as it is."""
    parsed = quantity(value)
    return quantities.format_quantity(*parsed) if parsed is not None else value


def default_resourcequota(quota: Obj) -> None:
    """Quantities in canonical form; a new quota's status is the controller's to fill."""
    spec = quota.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("hard"), dict):
        spec["hard"] = {name: _canonical(v) for name, v in spec["hard"].items()}


def default_limitrange(limit_range: Obj) -> None:
    """``SetDefaults_LimitRangeItem`` (``pkg/apis/core/v1/defaults.go``): for Container items, ``default`` from
    ``max``, ``defaultRequest`` from ``default`` then ``min``; quantities in canonical form."""
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if not isinstance(item, dict):
            continue
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            if isinstance(item.get(key), dict):
                item[key] = {name: _canonical(v) for name, v in item[key].items()}
        if item.get("type") == "Container":
            default = item.setdefault("default", {})
            request = item.setdefault("defaultRequest", {})
            for name, value in (item.get("max") or {}).items():
                default.setdefault(name, value)
            for name, value in default.items():
                request.setdefault(name, value)
            for name, value in (item.get("min") or {}).items():
                request.setdefault(name, value)
            if not default:
                item.pop("default")
            if not request:
                item.pop("defaultRequest")

"""Provides the pod's resource requests and its QoS class, as the apiserver computes them (quantities themselves:
:mod:`tutor.kube.quantity`).

- :func:`pod_qos`: ``ComputePodQOS`` (``pkg/apis/core/helper/qos/qos.go``): the pod strategy sets
  ``status.qosClass`` with it when a pod is created (``pkg/registry/core/pod/strategy.go`` ``PrepareForCreate``).
  Only cpu and memory count; pod-level resources (``spec.resources``), when set, decide alone.
- :func:`pod_requests`: ``resourcehelper.PodRequests`` (``staging/src/k8s.io/component-helpers/resource/helpers.go``)
  as the scheduler's ``NodeResourcesFit`` filter sums them: the containers' requests added up, each init
  container's taken when larger (restartable sidecars added), the pod overhead on top; pod-level requests
  replace the containers' when set; :func:`pod_limits`: ``PodLimits`` (the same helpers), the limits summed alike.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from tutor.kube.quantity import (  # noqa: F401 - the practice cluster's names for them
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    QuantityError,
    format_quantity,
    milli_value,
    parse_quantity,
    parse_quantity_strict,
    quantity_format,
    value,
)

QOS_RESOURCES = ("cpu", "memory")
"""``supportedQoSComputeResources``."""


def _resources(container: Any, key: str) -> dict[str, Any]:
    resources = container.get("resources") if isinstance(container, dict) else None
    found = resources.get(key) if isinstance(resources, dict) else None
    return found if isinstance(found, dict) else {}


def pod_qos(pod: dict[str, Any]) -> str:
    """``ComputePodQOS``: ``Guaranteed``, ``Burstable`` or ``BestEffort``."""
    spec = pod.get("spec") or {}
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True

    def add(into: dict[str, Fraction], name: str, quantity: Any, *, replace: bool = False) -> bool:
        parsed = parse_quantity(quantity)
        if name not in QOS_RESOURCES or parsed is None or parsed <= 0:
            return False
        into[name] = parsed if replace else into.get(name, Fraction(0)) + parsed
        return True

    if isinstance(spec.get("resources"), dict):
        for name, quantity in _resources(spec, "requests").items():
            add(requests, name, quantity, replace=True)
        found = {name for name, quantity in _resources(spec, "limits").items()
                 if add(limits, name, quantity, replace=True)}
        if not set(QOS_RESOURCES) <= found:
            guaranteed = False
    else:
        for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
            for name, quantity in _resources(container, "requests").items():
                add(requests, name, quantity)
            found = {name for name, quantity in _resources(container, "limits").items()
                     if add(limits, name, quantity)}
            if not set(QOS_RESOURCES) <= found:
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and any(limits.get(name) != quantity for name, quantity in requests.items()):
        guaranteed = False
    if guaranteed and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


def pod_requests(pod: dict[str, Any]) -> dict[str, Fraction]:
    """``PodRequests``: what the pod asks of a node, per resource (exact values)."""
    return _pod_aggregate(pod, "requests")


def pod_limits(pod: dict[str, Any]) -> dict[str, Fraction]:
    """``PodLimits`` (``component-helpers/resource/helpers.go``): the containers' limits summed like requests, the
    overhead added only to the limits that are set."""
    return _pod_aggregate(pod, "limits")


def _pod_aggregate(pod: dict[str, Any], key: str) -> dict[str, Fraction]:
    spec = pod.get("spec") or {}
    total: dict[str, Fraction] = {}
    for container in spec.get("containers") or []:
        for name, quantity in _resources(container, key).items():
            parsed = parse_quantity(quantity)
            if parsed is not None:
                total[name] = total.get(name, Fraction(0)) + parsed
    sidecars: dict[str, Fraction] = {}
    for container in spec.get("initContainers") or []:
        own = {name: q for name, q in ((n, parse_quantity(v)) for n, v in _resources(container, key).items())
               if q is not None}
        if container.get("restartPolicy") == "Always":
            for name, quantity in own.items():
                total[name] = total.get(name, Fraction(0)) + quantity
                sidecars[name] = sidecars.get(name, Fraction(0)) + quantity
            continue
        for name, quantity in own.items():
            with_sidecars = quantity + sidecars.get(name, Fraction(0))
            if with_sidecars > total.get(name, Fraction(0)):
                total[name] = with_sidecars
    pod_level = _resources(spec, key) if isinstance(spec.get("resources"), dict) else {}
    for name, quantity in pod_level.items():
        parsed = parse_quantity(quantity)
        if parsed is not None and name in QOS_RESOURCES:
            total[name] = parsed
    for name, quantity in (spec.get("overhead") or {}).items():
        parsed = parse_quantity(quantity)
        if parsed is not None and (key == "requests" or name in total):
            total[name] = total.get(name, Fraction(0)) + parsed
    return total

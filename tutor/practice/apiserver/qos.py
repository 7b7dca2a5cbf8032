"""Provides resource quantities, the pod's resource requests and its QoS class, as the apiserver computes them.

- :func:`parse_quantity`: ``resource.ParseQuantity``'s value, exactly (apimachinery
  ``pkg/api/resource/quantity.go``: decimal SI ``m k M G T P E``, binary SI ``Ki … Ei``, decimal exponents);
  :func:`milli_value` / :func:`value` are ``MilliValue()`` / ``Value()`` (rounded up).
- :func:`pod_qos`: ``ComputePodQOS`` (``pkg/apis/core/helper/qos/qos.go``): the pod strategy sets
  ``status.qosClass`` with it when a pod is created (``pkg/registry/core/pod/strategy.go`` ``PrepareForCreate``).
  Only cpu and memory count; pod-level resources (``spec.resources``), when set, decide alone.
- :func:`pod_requests`: ``resourcehelper.PodRequests`` (``staging/src/k8s.io/component-helpers/resource/helpers.go``)
  as the scheduler's ``NodeResourcesFit`` filter sums them: the containers' requests added up, each init
  container's taken when larger (restartable sidecars added), the pod overhead on top; pod-level requests
  replace the containers' when set; :func:`pod_limits`: ``PodLimits`` (the same helpers), the limits summed alike.
- :func:`quantity_format` and :func:`format_quantity`: a quantity's format (``DecimalSI``, ``BinarySI``,
  ``DecimalExponent``) and ``Quantity.String()`` (``CanonicalizeBytes``: ``1500m``, ``1536Mi``, ``1k``), which
  the quota's messages and ``status.used`` print.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?")
_SUFFIXES = {"": Fraction(1), "m": Fraction(1, 1000), "k": Fraction(10**3), "M": Fraction(10**6),
             "G": Fraction(10**9), "T": Fraction(10**12), "P": Fraction(10**15), "E": Fraction(10**18),
             "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
             "Pi": Fraction(2**50), "Ei": Fraction(2**60)}
_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"
QOS_RESOURCES = ("cpu", "memory")
"""``supportedQoSComputeResources``."""


def parse_quantity(text: Any) -> Fraction | None:
    """The exact value of a quantity (``"100m"`` is 1/10); None when it does not parse."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float | Fraction):
        return Fraction(text)
    match = _QUANTITY.fullmatch(str(text).strip()) if text is not None else None
    if match is None:
        return None
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in _SUFFIXES:
        return number * _SUFFIXES[suffix]
    return number * Fraction(10) ** int(suffix[1:])  # a decimal exponent: 1e3


def quantity_format(text: Any) -> str:
    """The format ``ParseQuantity`` gives a quantity: ``BinarySI`` for ``Ki``...``Ei``, ``DecimalExponent`` for
    ``1e3``, ``DecimalSI`` otherwise (numbers too)."""
    match = _QUANTITY.fullmatch(str(text).strip()) if isinstance(text, str) else None
    suffix = (match.group(2) or "") if match else ""
    if suffix.endswith("i"):
        return BINARY_SI
    if suffix[:1] in ("e", "E"):
        return DECIMAL_EXPONENT
    return DECIMAL_SI


def format_quantity(number: Fraction, fmt: str = DECIMAL_SI) -> str:
    """``Quantity.String()`` of an exact value (apimachinery ``quantity.go`` ``CanonicalizeBytes``): BinarySI
    only for whole values of at least 1024 in magnitude, else decimal with the largest suffix that keeps the
    mantissa whole (values finer than ``1n`` are rounded up, as ``ParseQuantity`` does)."""
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    magnitude = -number if number < 0 else number
    if fmt == BINARY_SI and magnitude >= 1024 and magnitude.denominator == 1:
        mantissa, exponent = int(magnitude), 0
        while mantissa % 1024 == 0 and exponent < len(_BINARY) - 1:
            mantissa //= 1024
            exponent += 1
        return f"{sign}{mantissa}{_BINARY[exponent]}"
    mantissa, exponent = math.ceil(magnitude * 10**9), -9
    while mantissa % 1000 == 0 and exponent < 18:
        mantissa //= 1000
        exponent += 3
    if fmt == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{mantissa}{_DECIMAL[exponent]}"


def value(text: Any) -> int:
    """``Quantity.Value()``: rounded up to an integer; 0 when it does not parse."""
    parsed = parse_quantity(text)
    return math.ceil(parsed) if parsed is not None else 0


def milli_value(text: Any) -> int:
    """``Quantity.MilliValue()``: thousandths, rounded up; 0 when it does not parse."""
    parsed = parse_quantity(text)
    return math.ceil(parsed * 1000) if parsed is not None else 0


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

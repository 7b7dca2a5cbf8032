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
from fractions import Fraction
from typing import Any

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT = "DecimalSI", "BinarySI", "DecimalExponent"
QOS_RESOURCES = ("cpu", "memory")
"""``supportedQoSComputeResources``."""


SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"
_DIGITS = frozenset("0123456789")
_SUFFIX_LETTERS = frozenset("eEinumkKMGTP")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_MAX_ALLOWED = Fraction(2**63 - 1)
"""``maxAllowed``: where a BinarySI quantity is capped."""
_ORDER_LIMIT = 64
"""Powers of ten beyond which a value is held at ``10**64`` (or ``1n``): far past what an int64 of nano units holds,
so no comparison or ``Value()`` changes, and ``1e999999999`` never makes a billion-digit integer."""


class QuantityError(ValueError):
    """``ParseQuantity``'s error: :data:`ERR_FORMAT_WRONG`, :data:`ERR_NUMERIC` or :data:`ERR_SUFFIX`."""


def _scan(text: str) -> tuple[bool, str, str, str, str]:
    """``parseQuantityString``: (positive, value, numerator, denominator, suffix), leading zeros stripped."""
    positive, pos, end = True, 0, len(text)
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    value, suffix_start = text[:pos], pos
    while pos < end and text[pos] in _SUFFIX_LETTERS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:  # a non-digit where only the exponent's digits may follow
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, value, num, denom, text[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """``suffixHandler.interpret``: (base, exponent, format)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:].lstrip("+-")
        if digits and all(c in _DIGITS for c in digits) and suffix[1:].count("-") + suffix[1:].count("+") <= 1:
            exponent = int(suffix[1:]) if len(digits) <= 19 else (1 << 63)
            if -(1 << 63) <= exponent < (1 << 63):  # strconv.ParseInt(..., 64), then int32(parsed)
                return 10, (exponent + (1 << 31)) % (1 << 32) - (1 << 31), DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def parse_quantity_strict(text: str) -> tuple[Fraction, str]:
    """``resource.ParseQuantity``: the exact value (rounded up to ``1n``, BinarySI capped at ``maxAllowed``) and
    the format of ``text``.

    Raises:
        QuantityError: upstream's error: ``quantities must match the regular expression '...'``, ``unable to parse
            quantity's suffix`` or ``unable to parse numeric part of quantity``.
    """
    if not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return Fraction(0), DECIMAL_SI
    positive, value, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)
    if not any(c in _DIGITS for c in value):
        # "+", "." or ".k" are zero on the fast path; where it is not taken (a scale below 1n), inf.Dec.SetString
        # fails on them.
        if base == 10 and exponent < -9:
            raise QuantityError(ERR_NUMERIC)
        return Fraction(0), fmt
    digits = num.lstrip("0")
    significant = denom.lstrip("0")
    magnitude = len(digits) if digits else -(len(denom) - len(significant))  # power of ten of the first digit
    order = magnitude + (exponent if base == 10 else math.ceil(exponent * math.log10(2)))
    if not digits and not significant:
        amount = Fraction(0)
    elif order > _ORDER_LIMIT:
        amount = Fraction(10) ** _ORDER_LIMIT
    elif order < -_ORDER_LIMIT:
        amount = Fraction(1, 10**9)  # rounded up to the minimum
    else:
        kept = denom[:80] + ("1" if denom[80:].strip("0") else "")  # what the rounding to 1n can still see
        amount = Fraction(int(num + kept), 10 ** len(kept))
        amount *= Fraction(10) ** exponent if base == 10 else Fraction(2) ** exponent
        amount = Fraction(math.ceil(amount * 10**9), 10**9)  # rounded up to the minimum, 1n
    if fmt == BINARY_SI:
        amount = min(amount, _MAX_ALLOWED)
        if 0 < amount < 1:
            fmt = DECIMAL_SI
    return (amount if positive else -amount), fmt


def parse_quantity(text: Any) -> Fraction | None:
    """The exact value of a quantity (``"100m"`` is 1/10; numbers too); None when it does not parse."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, int | float | Fraction):
        return Fraction(text)
    try:
        return parse_quantity_strict(str(text).strip())[0]
    except QuantityError:
        return None


def quantity_format(text: Any) -> str:
    """The format ``ParseQuantity`` gives a quantity: ``BinarySI`` for ``Ki``...``Ei``, ``DecimalExponent`` for
    ``1e3``, ``DecimalSI`` otherwise (numbers too, and what does not parse)."""
    if not isinstance(text, str):
        return DECIMAL_SI
    try:
        return parse_quantity_strict(text.strip())[1]
    except QuantityError:
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

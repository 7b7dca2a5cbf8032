"""Provides a Deployment's rolling-update bounds: ``ResolveFenceposts``, ``MaxSurge`` and ``MaxUnavailable``.

Upstream: kubernetes/kubernetes ``pkg/controller/deployment/util/deployment_util.go``. ``maxSurge`` is scaled
rounding up, ``maxUnavailable`` rounding down; both 0 would stall a rollout, so ``maxUnavailable`` becomes 1.
The practice cluster's deployment controller and the TUI (the events' explanations, the rollout timeline) both
read these, so they live here once. A deployment is a JSON object as the API server returns it (defaulted:
``maxSurge``/``maxUnavailable`` 25%, what ``SetDefaults_Deployment`` writes, also when they are missing here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tutor.kube.intstr import IntOrStringError, get_scaled_value_from_int_or_percent

DEFAULT_BOUND = "25%"
"""``maxSurge`` and ``maxUnavailable`` as ``SetDefaults_Deployment`` defaults them."""


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    """``ResolveFenceposts``: (surge, unavailable) for ``desired`` replicas.

    Raises:
        IntOrStringError: a value that is neither a count nor a percentage (validation keeps those out).
    """
    surge = get_scaled_value_from_int_or_percent(max_surge, desired, True)
    unavailable = get_scaled_value_from_int_or_percent(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        # Validation should never allow the user to explicitly use zero values for both maxSurge
        # maxUnavailable. Due to rounding down maxUnavailable though, it may resolve to zero.
        unavailable = 1
    return surge, unavailable


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def replicas(deployment: Mapping[str, Any]) -> int:
    """``spec.replicas`` (a missing or odd value counts as 0, as the controller reads a defaulted object)."""
    value = _map(deployment.get("spec")).get("replicas", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def is_rolling_update(deployment: Mapping[str, Any]) -> bool:
    """``IsRollingUpdate``: the strategy is ``RollingUpdate`` (the default)."""
    return (_map(_map(deployment.get("spec")).get("strategy")).get("type") or "RollingUpdate") == "RollingUpdate"


def _fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    update = _map(_map(_map(deployment.get("spec")).get("strategy")).get("rollingUpdate"))
    desired = replicas(deployment)
    try:
        surge = get_scaled_value_from_int_or_percent(update.get("maxSurge", DEFAULT_BOUND), desired, True)
    except IntOrStringError:
        surge = 0
    try:
        unavailable = get_scaled_value_from_int_or_percent(update.get("maxUnavailable", DEFAULT_BOUND), desired, False)
    except IntOrStringError:
        unavailable = 0
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deployment: Mapping[str, Any]) -> int:
    """``MaxSurge``: how many pods above ``replicas`` a rolling update may make (0 for ``Recreate``)."""
    if not is_rolling_update(deployment):
        return 0
    return _fenceposts(deployment)[0]


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    """``MaxUnavailable``: how many of ``replicas`` may be unavailable during a rolling update, at most
    ``replicas`` (0 for ``Recreate`` and for 0 replicas)."""
    if not is_rolling_update(deployment) or replicas(deployment) == 0:
        return 0
    return min(_fenceposts(deployment)[1], replicas(deployment))

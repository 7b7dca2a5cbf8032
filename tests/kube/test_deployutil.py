"""ResolveFenceposts, MaxSurge and MaxUnavailable (pkg/controller/deployment/util/deployment_util.go), ported once."""

from __future__ import annotations

import pytest

from tutor.kube.deployutil import max_surge, max_unavailable, resolve_fenceposts
from tutor.kube.intstr import IntOrStringError


def deployment(replicas: int, surge: object = "25%", unavailable: object = "25%", kind: str = "RollingUpdate") -> dict:
    return {"spec": {"replicas": replicas, "strategy": {
        "type": kind, "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}}


@pytest.mark.parametrize(("replicas", "surge", "unavailable", "expected"), [
    (4, "25%", "25%", (1, 1)),     # the lesson's deployment: at most 5 pods, at least 3 available
    (10, "25%", "25%", (3, 2)),    # surge rounds up, unavailability down
    (1, "25%", "25%", (1, 0)),
    (3, 0, "10%", (0, 1)),         # both 0 after rounding: unavailability 1, or the rollout could never move
    (5, 2, 0, (2, 0)),
])
def test_resolve_fenceposts_rounds_as_upstream(replicas: int, surge: object, unavailable: object,
                                               expected: tuple[int, int]) -> None:
    assert resolve_fenceposts(surge, unavailable, replicas) == expected


def test_a_bad_value_is_an_error_as_upstream() -> None:
    with pytest.raises(IntOrStringError):
        resolve_fenceposts("two", 1, 4)


def test_max_unavailable_never_exceeds_replicas_and_recreate_has_no_bounds() -> None:
    assert max_unavailable(deployment(2, 0, 5)) == 2
    assert max_unavailable(deployment(0)) == 0
    assert (max_surge(deployment(4)), max_unavailable(deployment(4))) == (1, 1)
    assert (max_surge(deployment(4, kind="Recreate")), max_unavailable(deployment(4, kind="Recreate"))) == (0, 0)
    assert (max_surge({"spec": {"replicas": 4}}), max_unavailable({"spec": {"replicas": 4}})) == (1, 1)  # defaults

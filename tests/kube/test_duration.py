"""Tests Go's ``time.Duration.String`` port (tutor.kube.duration.go_duration).

The cases are golang/go src/time/time_test.go ``durationTests``; the kubelet prints pull times with it
(pkg/kubelet/images/image_manager.go, truncated to the millisecond). HumanDuration has its tests in
tests/practice/test_tables.py.
"""

from __future__ import annotations

import pytest

from tutor.kube.duration import go_duration
from tutor.practice.node.kubelet import go_duration as kubelet_pull_time

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


@pytest.mark.parametrize(("text", "nanoseconds"), [
    ("0s", 0),
    ("1ns", 1),
    ("1.1µs", 1100),
    ("2.2ms", 2200 * 1000),
    ("3.3s", 3300 * 1000 * 1000),
    ("4m5s", 4 * MINUTE + 5 * SECOND),
    ("4m5.001s", 4 * MINUTE + 5001 * 1000 * 1000),
    ("5h6m7.001s", 5 * HOUR + 6 * MINUTE + 7001 * 1000 * 1000),
    ("8m0.000000001s", 8 * MINUTE + 1),
    ("2562047h47m16.854775807s", (1 << 63) - 1),
    ("-2562047h47m16.854775808s", -(1 << 63)),
])
def test_go_duration(text: str, nanoseconds: int) -> None:
    assert go_duration(nanoseconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(0.4129, "412ms"), (2.01399, "2.013s"), (62.5, "1m2.5s")])
def test_the_kubelet_truncates_pull_times_to_the_millisecond(seconds: float, text: str) -> None:
    assert kubelet_pull_time(seconds) == text

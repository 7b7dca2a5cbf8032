"""The watch cache keeps a window of history like kube-apiserver's, and answers an older watch with 410.

Upstream: kubernetes/apiserver ``pkg/storage/cacher/watch_cache.go`` (``updateCache``, ``resizeCacheLocked``,
``getAllEventsSinceLocked``: ``too old resource version: %d (%d)``) and ``pkg/storage/cacher/cacher.go``
(``newErrWatcher``: after authentication and a parsed resourceVersion, a failed watch is an ERROR event).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tutor import paths
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.watchcache import (
    EVENT_FRESH_SECONDS,
    LOWER_BOUND_CAPACITY,
    UPPER_BOUND_CAPACITY,
    History,
)


@dataclass
class Ev:
    rv: int


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fill(history: History[Ev], first: int, count: int) -> int:
    for rv in range(first, first + count):
        history.add(Ev(rv))
    return first + count


def test_a_burst_grows_the_window_and_keeps_every_fresh_event() -> None:
    clock = FakeClock()
    history: History[Ev] = History(0, monotonic=clock)
    fill(history, 1, 10_000)  # all within one instant: nothing may fall out of a 75 s window
    assert len(history) == 10_000
    assert history.capacity == 12_800  # 100, 200, ... doubling
    assert [e.rv for e in history.since(9_990)] == list(range(9_991, 10_001))
    assert len(history.since(0)) == 10_000


def test_the_window_never_exceeds_the_upper_bound() -> None:
    clock = FakeClock()
    history: History[Ev] = History(0, monotonic=clock)
    fill(history, 1, UPPER_BOUND_CAPACITY + 500)
    assert history.capacity == UPPER_BOUND_CAPACITY
    assert len(history) == UPPER_BOUND_CAPACITY
    with pytest.raises(errors.Gone) as gone:
        history.since(10)
    assert gone.value.message == "too old resource version: 10 (500)"
    assert gone.value.code == 410 and gone.value.reason == "Expired"


def test_a_quiet_resource_shrinks_back_and_old_versions_expire() -> None:
    clock = FakeClock()
    history: History[Ev] = History(0, monotonic=clock)
    rv = fill(history, 1, 3_000)
    grown = history.capacity
    assert grown == 3_200
    # Then one event every 2 s for a long time: the window halves whenever its newest quarter began more
    # than 75 s ago (at one event a second it would settle at 200: a quarter of 200 is 50 s).
    for _ in range(10_000):
        clock.now += 2.0
        history.add(Ev(rv))
        rv += 1
    assert history.capacity == LOWER_BOUND_CAPACITY
    assert len(history) == LOWER_BOUND_CAPACITY
    oldest_kept = rv - LOWER_BOUND_CAPACITY
    assert history.since(oldest_kept - 1)[0].rv == oldest_kept
    with pytest.raises(errors.Gone, match=rf"^too old resource version: 5 \({oldest_kept - 1}\)$"):
        history.since(5)


def test_slow_writes_keep_at_least_the_lower_bound_however_old() -> None:
    clock = FakeClock()
    history: History[Ev] = History(0, monotonic=clock)
    for rv in range(1, 151):
        clock.now += EVENT_FRESH_SECONDS * 2
        history.add(Ev(rv))
    assert (len(history), history.capacity) == (100, 100)
    assert [e.rv for e in history.since(50)] == list(range(51, 151))


def test_a_history_starts_where_the_store_was_loaded() -> None:
    history: History[Ev] = History(500)
    assert history.since(500) == []
    with pytest.raises(errors.Gone, match=r"^too old resource version: 499 \(500\)$"):
        history.since(499)


async def test_kubectl_watch_from_an_expired_version_gets_an_error_event_then_relists(tmp_path: Path) -> None:
    from tutor.practice.cluster import PracticeCluster

    cluster = PracticeCluster(tmp_path / "practice", time_scale=20)
    clock = FakeClock()
    cluster.store.monotonic = clock
    await cluster.start()
    try:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "KUBECONFIG": str(cluster.kubeconfig_path),
               "KUBERC": "off", "KUBECACHEDIR": str(tmp_path / "cache")}

        def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(paths.kubectl()), *args], env=env, capture_output=True, text=True,
                                  timeout=60, check=False)

        first = cluster.store.create("configmaps", {"metadata": {"name": "cm-0", "namespace": "default"}})
        first_rv = int(first["metadata"]["resourceVersion"])
        for i in range(1, 150):
            clock.now += EVENT_FRESH_SECONDS * 2  # each write long after the last: the window stays at 100
            cluster.store.create("configmaps", {"metadata": {"name": f"cm-{i}", "namespace": "default"}})
        cluster.store.commit()
        base = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2&resourceVersion="
        done = await asyncio.to_thread(kubectl, "get", "--raw", base + str(first_rv))
        assert done.returncode == 0, done.stderr
        events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert len(events) == 1 and events[0]["type"] == "ERROR"
        status = events[0]["object"]
        kept = cluster.store.history_sizes()["configmaps"][0]
        assert kept == 100
        newest = max(int(c["metadata"]["resourceVersion"]) for c in cluster.store.list("configmaps", "default"))
        assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": f"too old resource version: {first_rv} ({newest - 100})",
                          "reason": "Expired", "code": 410}
        # Within the window the events are replayed.
        done = await asyncio.to_thread(kubectl, "get", "--raw", base + str(newest - 3))
        names = [json.loads(line)["object"]["metadata"]["name"] for line in done.stdout.splitlines() if line]
        assert names == ["cm-147", "cm-148", "cm-149"]
        # kubectl's own watch lists, then watches from the list's version: never from an expired one.
        done = await asyncio.to_thread(kubectl, "get", "configmaps", "-w", "--request-timeout=3s",
                                       "--output-watch-events", "-o", "name")
        assert "configmap/cm-149" in done.stdout
    finally:
        await cluster.stop()

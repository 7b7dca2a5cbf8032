"""Events are correlated as client-go's recorder does: spam filter, aggregation, counting, bounded caches.

Upstream: kubernetes/client-go ``tools/record/events_cache.go`` (``EventCorrelator``, ``EventAggregator``,
``EventSourceObjectSpamFilter``, ``eventLogger``; ``defaultAggregateMaxEvents = 10``,
``defaultAggregateIntervalInSeconds = 600``, ``defaultSpamBurst = 25``, ``defaultSpamQPS = 1/300``,
``maxLruCacheEntries = 4096``, ``(combined from similar events): ``).
"""

from __future__ import annotations

from typing import Any

from tutor.practice.apiserver.store import Store
from tutor.practice.clock import Clock
from tutor.practice.events import EventRecorder


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(time_scale: float = 1.0) -> tuple[Store, EventRecorder, FakeClock]:
    store = Store(Clock(time_scale))
    store.create("namespaces", {"metadata": {"name": "default"}})
    clock = FakeClock()
    return store, EventRecorder(store, monotonic=clock), clock


def replicaset(store: Store) -> dict[str, Any]:
    return store.create("replicasets", {"metadata": {"name": "web-1", "namespace": "default"}, "spec": {}})


def events(store: Store) -> list[dict[str, Any]]:
    return sorted(store.list("events", "default"), key=lambda e: int(e["metadata"]["resourceVersion"]))


def test_a_thousand_created_pods_make_nine_events_and_one_combined() -> None:
    store, recorder, _ = make()
    rs = replicaset(store)
    for i in range(1000):
        recorder.record(rs, "Normal", "SuccessfulCreate", f"Created pod: web-1-{i:04d}",
                        component="replicaset-controller")
    seen = events(store)
    assert [e["message"] for e in seen[:9]] == [f"Created pod: web-1-{i:04d}" for i in range(9)]
    assert len(seen) == 10
    combined = seen[9]
    # The 10th to the 25th event were accepted (a burst of 25); the rest were dropped by the spam filter
    # but still counted in the correlator's cache.
    assert combined["message"] == "(combined from similar events): Created pod: web-1-0024"
    assert combined["count"] == 16
    assert combined["reason"] == "SuccessfulCreate"


def test_the_same_event_again_bumps_its_count() -> None:
    store, recorder, _ = make()
    rs = replicaset(store)
    for _ in range(5):
        recorder.record(rs, "Warning", "FailedCreate", "Error creating: quota", component="replicaset-controller")
    (event,) = events(store)
    assert event["count"] == 5
    assert event["firstTimestamp"] <= event["lastTimestamp"]


def test_after_the_burst_one_event_per_five_minutes_and_the_count_includes_the_dropped_ones() -> None:
    store, recorder, clock = make(time_scale=20.0)
    rs = replicaset(store)
    for _ in range(30):
        recorder.record(rs, "Warning", "BackOff", "Back-off pulling image", component="kubelet")
    (event,) = events(store)
    assert event["count"] == 25
    clock.now += 300 / 20.0 + 0.01  # five minutes on a clock 20 times faster
    recorder.record(rs, "Warning", "BackOff", "Back-off pulling image", component="kubelet")
    (event,) = events(store)
    assert event["count"] == 31
    recorder.record(rs, "Warning", "BackOff", "Back-off pulling image", component="kubelet")
    assert events(store)[0]["count"] == 31


def test_the_scheduler_records_without_spam_filter_or_aggregation() -> None:
    store, recorder, _ = make()
    pod = store.create("pods", {"metadata": {"name": "p", "namespace": "default"},
                                "spec": {"containers": [{"name": "c", "image": "i"}]}})
    for _ in range(40):
        recorder.record(pod, "Warning", "FailedScheduling", "0/1 nodes are available: 1 Too many pods.",
                        component="default-scheduler")
    (event,) = events(store)
    assert event["count"] == 40


def test_the_correlator_caches_stay_bounded() -> None:
    store, recorder, _ = make()
    for i in range(5000):
        obj = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": f"p{i}", "namespace": "default", "uid": str(i)}}
        recorder.record(obj, "Normal", "Pulled", "already present", component="kubelet")
    sizes = [len(cache) for cache in (recorder._spam, recorder._aggregates, recorder._observed)]
    assert sizes == [4096, 4096, 4096]

"""Provides the event recorder: core/v1 Events, correlated as client-go's recorder does.

A port of client-go's ``EventCorrelator`` (``tools/record/events_cache.go``), which every controller and the
kubelet put between their events and the API:

- **spam filter** (``EventSourceObjectSpamFilter``): a source may record 25 events about one object, then one
  more every 5 minutes; the rest are dropped. A pod stuck in ``ImagePullBackOff`` cannot fill the store.
- **aggregation** (``EventAggregator``, ``EventAggregatorByReasonFunc``): when one source records more than
  10 events about one object with the same type and reason but different messages within 10 minutes, the
  rest become one event, ``(combined from similar events): <message>``, whose count goes up. A ReplicaSet
  scaled to 1,000 replicas has 10 ``Created pod`` events and one combined event, not 1,000.
- **counting** (``eventLogger``): the same event again bumps ``count`` and ``lastTimestamp`` of the first.

Each cache is an LRU of 4,096 entries (``maxLruCacheEntries``). Intervals run on the practice clock's
scale. The scheduler records through the newer events API (``k8s.io/client-go/tools/events``), which has no
spam filter or aggregation; its events are only counted.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tutor.practice.apiserver.store import Obj, Store, deep_copy

NODE_NAME = "kube-tutor-control-plane"

MAX_LRU_CACHE_ENTRIES = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL_SECONDS = 600
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "
UNCORRELATED_COMPONENTS = frozenset({"default-scheduler"})
"""Components that record through ``k8s.io/client-go/tools/events`` (no spam filter, no aggregation)."""

K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """``github.com/golang/groupcache/lru``: the least recently used entry goes past ``size``.

    A plain dict in use order (a use moves the key to the end), which costs about half an ``OrderedDict``'s
    memory per entry: the caches stay full for as long as the cluster runs.
    """

    def __init__(self, size: int = MAX_LRU_CACHE_ENTRIES) -> None:
        self.size = size
        self._items: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        value = self._items.pop(key, None)
        if value is not None:
            self._items[key] = value
        return value

    def add(self, key: K, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = value
        if len(self._items) > self.size:
            del self._items[next(iter(self._items))]

    def __len__(self) -> int:
        return len(self._items)


def _digest(*parts: str, size: int = 16) -> bytes:
    """A cache key: 16 bytes whatever the parts (upstream joins them into one string; the caches here hold
    4,096 keys each, so a digest keeps a few hundred kilobytes where the strings would take megabytes)."""
    text = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=size).digest()


def _try_accept(empty_at: float | None, now: float) -> tuple[bool, float]:
    """``flowcontrol.NewTokenBucketPassiveRateLimiterWithClock``: ``SPAM_BURST`` tokens, refilled at ``SPAM_QPS``.

    The bucket is kept as one number, the time it was (or would have been) empty: it then holds
    ``min(burst, (now - empty_at) * qps)`` tokens. Returns whether a token was taken and the new time.
    """
    tokens = float(SPAM_BURST) if empty_at is None else min(float(SPAM_BURST), (now - empty_at) * SPAM_QPS)
    if tokens >= 1.0:
        tokens -= 1.0
        return True, now - tokens / SPAM_QPS
    return False, now - tokens / SPAM_QPS


_LOCAL_KEY_BYTES = 8
"""Each aggregate record keeps its messages' digests (``localKeys``, at most 10) as one bytes string."""


def _observation(seen: int, first: str, namespace: str, name: str) -> str:
    """``eventLog`` (how often an event was seen, since when, the event it was recorded as) in one string."""
    return f"{seen}\x00{first}\x00{namespace}\x00{name}"


def _observed(text: str) -> tuple[int, str, str, str]:
    seen, first, namespace, name = text.split("\x00")
    return int(seen), first, namespace, name


class EventRecorder:
    """Records events on objects through the correlator (spam filter, aggregation, counting)."""

    def __init__(self, store: Store, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.monotonic = monotonic
        """Real seconds; scaled by the practice clock's time scale for the correlator's intervals."""
        self._spam: _Lru[bytes, float] = _Lru()  # the time each source's bucket was empty (see _try_accept)
        self._aggregates: _Lru[bytes, tuple[bytes, float]] = _Lru()  # (localKeys, lastTimestamp)
        self._observed: _Lru[bytes, str] = _Lru()  # _observation()

    def _now(self) -> float:
        return self.monotonic() * self.store.clock.time_scale

    def record(self, obj: Obj, type_: str, reason: str, message: str, *, component: str,
               field_path: str = "", host: str = "") -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        ns_obj = self.store.get("namespaces", "", namespace)
        if ns_obj is None or ns_obj["metadata"].get("deletionTimestamp"):
            return
        involved: dict[str, Any] = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if not involved["namespace"]:
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        source = (component, host, involved["kind"], involved.get("namespace", ""), involved["name"],
                  involved["uid"], involved["apiVersion"])
        now = self._now()
        key = _digest(*source, field_path, type_, reason, message)  # getEventKey
        correlated = component not in UNCORRELATED_COMPONENTS
        if correlated:  # EventAggregator.EventAggregate
            aggregate_key = _digest(*source, type_, reason, component, host)  # EventAggregatorByReasonFunc
            record = self._aggregates.get(aggregate_key)
            local_keys = b"" if record is None or now - record[1] > AGGREGATE_INTERVAL_SECONDS else record[0]
            local_key = _digest(message, size=_LOCAL_KEY_BYTES)
            if not any(local_keys[i:i + _LOCAL_KEY_BYTES] == local_key
                       for i in range(0, len(local_keys), _LOCAL_KEY_BYTES)):
                local_keys += local_key
            if len(local_keys) >= AGGREGATE_MAX_EVENTS * _LOCAL_KEY_BYTES:
                local_keys = local_keys[:-_LOCAL_KEY_BYTES]  # "do not grow our local key set any larger than max"
                message = COMBINED_PREFIX + message
                key = aggregate_key
            self._aggregates.add(aggregate_key, (local_keys, now))
        # eventLogger.eventObserve: the count goes up in the cache even for an event the filter then drops.
        timestamp = self.store.clock.timestamp()
        observed = self._observed.get(key)
        seen, first, _, name = _observed(observed) if observed is not None else (0, timestamp, "", "")
        count = seen + 1
        if correlated:  # EventSourceObjectSpamFilter: getSpamKey is the source and the object
            spam_key = _digest(*source)
            accepted, empty_at = _try_accept(self._spam.get(spam_key), now)
            self._spam.add(spam_key, empty_at)
        else:
            accepted = True
        if not accepted:
            self._observed.add(key, _observation(count, first, namespace, name))
            return
        existing = self.store.get("events", namespace, name) if name else None
        if existing is not None:
            updated = deep_copy(existing)
            updated["count"] = count
            updated["lastTimestamp"] = timestamp
            updated["message"] = message
            self.store.update("events", updated)
            self._observed.add(key, _observation(count, first, namespace, name))
            return
        nanos = self.store.clock.now().timestamp()
        event_source: dict[str, str] = {"component": component}
        if host:
            event_source["host"] = host
        event = {
            "metadata": {"name": f"{meta.get('name', '')}.{int(nanos * 1e9):x}", "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": event_source,
            "firstTimestamp": first,
            "lastTimestamp": timestamp,
            "count": count,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        created = self.store.create("events", event)
        self._observed.add(key, _observation(count, first, namespace, created["metadata"]["name"]))

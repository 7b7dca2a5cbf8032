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
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

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
    """``github.com/golang/groupcache/lru``: the least recently used entry goes past ``size``."""

    def __init__(self, size: int = MAX_LRU_CACHE_ENTRIES) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def add(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _digest(*parts: str) -> bytes:
    """A cache key: 16 bytes whatever the parts (upstream joins them into one string; the caches here hold
    4,096 keys each, so a digest keeps a few hundred kilobytes where the strings would take megabytes)."""
    text = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).digest()


class _TokenBucket:
    """``flowcontrol.NewTokenBucketPassiveRateLimiterWithClock``: ``burst`` tokens, refilled at ``qps``."""

    __slots__ = ("last", "tokens")

    def __init__(self, now: float) -> None:
        self.tokens = float(SPAM_BURST)
        self.last = now

    def try_accept(self, now: float) -> bool:
        self.tokens = min(float(SPAM_BURST), self.tokens + (now - self.last) * SPAM_QPS)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class _Aggregate:
    __slots__ = ("last", "messages")

    def __init__(self) -> None:
        self.messages: set[bytes] = set()  # digests of the messages seen (localKeys)
        self.last = float("-inf")


class _Observation(NamedTuple):
    """``eventLog``: how often an event was seen, since when, and the name it was created with."""

    seen: int
    first: str
    namespace: str
    name: str


class EventRecorder:
    """Records events on objects through the correlator (spam filter, aggregation, counting)."""

    def __init__(self, store: Store, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.monotonic = monotonic
        """Real seconds; scaled by the practice clock's time scale for the correlator's intervals."""
        self._spam: _Lru[bytes, _TokenBucket] = _Lru()
        self._aggregates: _Lru[bytes, _Aggregate] = _Lru()
        self._observed: _Lru[bytes, _Observation] = _Lru()

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
            if record is None or now - record.last > AGGREGATE_INTERVAL_SECONDS:
                record = _Aggregate()
            record.messages.add(_digest(message))
            record.last = now
            self._aggregates.add(aggregate_key, record)
            if len(record.messages) >= AGGREGATE_MAX_EVENTS:
                record.messages.pop()  # "do not grow our local key set any larger than max"
                message = COMBINED_PREFIX + message
                key = aggregate_key
        # eventLogger.eventObserve: the count goes up in the cache even for an event the filter then drops.
        timestamp = self.store.clock.timestamp()
        observed = self._observed.get(key)
        count = observed.seen + 1 if observed is not None else 1
        name = observed.name if observed is not None else ""
        first = observed.first if observed is not None else timestamp
        if correlated:  # EventSourceObjectSpamFilter: getSpamKey is the source and the object
            spam_key = _digest(*source)
            bucket = self._spam.get(spam_key)
            if bucket is None:
                bucket = _TokenBucket(now)
            accepted = bucket.try_accept(now)
            self._spam.add(spam_key, bucket)
        else:
            accepted = True
        if not accepted:
            self._observed.add(key, _Observation(count, first, namespace, name))
            return
        existing = self.store.get("events", namespace, name) if name else None
        if existing is not None:
            updated = deep_copy(existing)
            updated["count"] = count
            updated["lastTimestamp"] = timestamp
            updated["message"] = message
            self.store.update("events", updated)
            self._observed.add(key, _Observation(count, first, namespace, name))
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
        self._observed.add(key, _Observation(count, first, namespace, created["metadata"]["name"]))

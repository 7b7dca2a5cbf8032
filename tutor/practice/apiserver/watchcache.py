"""Provides the watch cache's history: the window of recent events a watch can resume from.

A port of kube-apiserver's watch cache history (kubernetes/apiserver ``pkg/storage/cacher/watch_cache.go``:
``updateCache``, ``resizeCacheLocked``, ``isCacheFullLocked``, ``doCacheResizeLocked`` and
``getAllEventsSinceLocked``; the constants ``eventFreshDuration``, ``defaultLowerBoundCapacity`` and
``defaultUpperBoundCapacity``). One history per resource, as the apiserver keeps one cacher per resource.

The capacity starts at 100 events. When the buffer is full and its oldest event is younger than 75 s, the
capacity doubles (up to 102,400); when it is full and the newest quarter began more than 75 s ago, it halves
(down to 100). So a burst keeps at least 75 s of history, and a quiet resource keeps 100 events, whatever
ran before: memory follows the write rate, not the cluster's age. A watch from a resourceVersion older than
the window gets ``410 Expired`` ``too old resource version: <rv> (<oldest - 1>)`` and the client lists again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from tutor.practice.apiserver import errors

EVENT_FRESH_SECONDS = 75.0
"""``DefaultEventFreshDuration``: the bookmark frequency (1 min) plus 15 s."""
LOWER_BOUND_CAPACITY = 100
UPPER_BOUND_CAPACITY = 100 * 1024


class Versioned(Protocol):
    @property
    def rv(self) -> int: ...


E = TypeVar("E", bound=Versioned)


class History(Generic[E]):
    """A ring buffer of events in resourceVersion order whose capacity follows the event rate."""

    def __init__(self, list_resource_version: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.capacity = LOWER_BOUND_CAPACITY
        self._cache: list[tuple[float, E] | None] = [None] * self.capacity
        self._start = 0
        self._end = 0
        self._monotonic = monotonic
        self.list_resource_version = list_resource_version
        """The resourceVersion the history starts after (the store's when it was loaded)."""
        self.removed_event = False
        """Whether an event fell out of the window since the start (``removedEventSinceRelist``)."""

    def __len__(self) -> int:
        return self._end - self._start

    def _full(self) -> bool:
        return self._end == self._start + self.capacity

    def _at(self, index: int) -> tuple[float, E]:
        entry = self._cache[index % self.capacity]
        assert entry is not None
        return entry

    def add(self, event: E) -> None:
        """Append an event (``updateCache``): resize when due, then drop the oldest if the buffer is full."""
        now = self._monotonic()
        self._resize(now)
        if self._full():
            self._cache[self._start % self.capacity] = None
            self._start += 1
            self.removed_event = True
        self._cache[self._end % self.capacity] = (now, event)
        self._end += 1

    def _resize(self, now: float) -> None:
        if self._full() and now - self._at(self._start)[0] < EVENT_FRESH_SECONDS:
            capacity = min(self.capacity * 2, UPPER_BOUND_CAPACITY)
            if capacity > self.capacity:
                self._do_resize(capacity)
            return
        if self._full() and now - self._at(self._end - self.capacity // 4)[0] > EVENT_FRESH_SECONDS:
            capacity = max(self.capacity // 2, LOWER_BOUND_CAPACITY)
            if capacity < self.capacity:
                self._do_resize(capacity)

    def _do_resize(self, capacity: int) -> None:
        if capacity < self.capacity:
            # Shrinking keeps the newest events: the oldest ones go (upstream adjusts startIndex).
            self._start = self._end - capacity
            self.removed_event = True
        kept = [self._cache[i % self.capacity] for i in range(self._start, self._end)]
        self._cache = [None] * capacity
        for i, entry in zip(range(self._start, self._end), kept, strict=True):
            self._cache[i % capacity] = entry
        self.capacity = capacity

    def since(self, resource_version: int) -> list[E]:
        """The events after ``resource_version`` (``getAllEventsSinceLocked``).

        Raises:
            errors.Gone: the window no longer reaches back to ``resource_version``.
        """
        # Upstream tests ``listResourceVersion > 0`` because 0 means "not listed yet"; here the history is made
        # when the store is loaded, so its start is always known (0 for a new, empty store).
        if not self.removed_event:
            oldest = self.list_resource_version + 1
        else:
            oldest = self._at(self._start)[1].rv
        if resource_version < oldest - 1:
            raise errors.Gone(f"too old resource version: {resource_version} ({oldest - 1})")
        return [event for i in range(self._start, self._end) if (event := self._at(i)[1]).rv > resource_version]

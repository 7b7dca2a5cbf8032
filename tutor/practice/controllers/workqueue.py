"""Provides the controllers' work queue: keys deduplicated and synced on the next loop turn."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

from tutor.practice.apiserver.store import WatchEvent
from tutor.practice.clock import Clock
from tutor.practice.context import ControllerContext

log = logging.getLogger(__name__)

DRAIN_BUDGET_SECONDS = 0.05
"""Real seconds one turn of a queue may spend syncing before it lets the event loop serve requests."""
FAILURE_BASE_DELAY = 0.005
FAILURE_MAX_DELAY = 1000.0
"""``ItemExponentialFailureRateLimiter(5*time.Millisecond, 1000*time.Second)`` of client-go's
``DefaultTypedControllerRateLimiter`` (``util/workqueue/default_rate_limiters.go``): 5 ms after the first failure,
doubling with each, at most 1000 s."""
BUCKET_QPS = 10.0
BUCKET_BURST = 100
"""The same limiter's overall ``BucketRateLimiter``: 10 retries a second, bursts of 100."""


class RateLimiter:
    """``DefaultTypedControllerRateLimiter``: the larger of a per-key exponential back-off and an overall token
    bucket. ``when`` counts a failure and says how long to wait; ``forget`` resets a key after a success."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._failures: dict[Hashable, int] = {}
        self._monotonic = monotonic
        self._tokens = float(BUCKET_BURST)
        self._last = monotonic()

    def when(self, key: Hashable) -> float:
        """Seconds before the key's next try (the exponential part on the cluster's clock, the bucket's real)."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        backoff = min(FAILURE_BASE_DELAY * 2.0 ** failures, FAILURE_MAX_DELAY)
        now = self._monotonic()
        self._tokens = min(float(BUCKET_BURST), self._tokens + (now - self._last) * BUCKET_QPS)
        self._last = now
        self._tokens -= 1.0
        bucket = -self._tokens / BUCKET_QPS if self._tokens < 0 else 0.0
        return max(backoff, bucket)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        """``NumRequeues``."""
        return self._failures.get(key, 0)


class WorkQueue:
    """Collects keys; ``sync(key)`` runs once per key soon after, like a client-go work queue."""

    def __init__(self, name: str, sync: Callable[[Hashable], None],
                 priority: Callable[[Hashable], int] | None = None, clock: Clock | None = None) -> None:
        self.name = name
        self._clock = clock
        """While this clock is paused the queue collects keys and syncs none (they are synced on resume)."""
        self._sync = sync
        self._priority = priority
        self._pending: dict[Hashable, None] = {}
        self._scheduled = False
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self.closed = False

    def add(self, key: Hashable) -> None:
        if self.closed:
            return
        self._pending[key] = None
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def add_after(self, key: Hashable, real_seconds: float) -> None:
        """Requeue ``key`` after a delay (keeps the earliest pending timer)."""
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        when = loop.time() + real_seconds
        if existing is not None and existing.when() <= when:
            return
        if existing is not None:
            existing.cancel()

        def fire() -> None:
            self._timers.pop(key, None)
            self.add(key)

        self._timers[key] = loop.call_at(when, fire)

    def _drain(self) -> None:
        if self._clock is not None and self._clock.call_when_running(
                lambda: asyncio.get_running_loop().call_soon(self._drain)):
            return  # paused: stays scheduled, so keys added meanwhile wait for the same drain
        self._scheduled = False
        keys = list(self._pending)
        self._pending.clear()
        if self._priority is not None:
            keys.sort(key=self._priority)
        deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
        for index, key in enumerate(keys):
            if time.monotonic() > deadline:
                # Yield to the loop (the API server answers meanwhile); the rest go first on the next turn.
                self._pending = {**dict.fromkeys(keys[index:]), **self._pending}
                if not self._scheduled:
                    self._scheduled = True
                    asyncio.get_running_loop().call_soon(self._drain)
                return
            try:
                self._sync(key)
            except Exception:  # noqa: BLE001 - one bad object must not stop the controller
                log.exception("%s: sync of %r failed", self.name, key)

    def close(self) -> None:
        self.closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()


class Controller:
    """A controller: store events in (``on_event``), keys through a WorkQueue, ``sync(key)`` out.

    It sees its :class:`~tutor.practice.context.ControllerContext` only, never the cluster around it.
    """

    name = "controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.queue = WorkQueue(self.name, self.sync, self.priority, ctx.clock)
        self.rate_limiter = RateLimiter()
        self.store.add_listener(self.on_event)

    def add_rate_limited(self, key: Hashable) -> None:
        """``AddRateLimited``: retry a failed sync after the rate limiter's delay (on the cluster's clock)."""
        self.queue.add_after(key, self.ctx.clock.real(self.rate_limiter.when(key)))

    def on_event(self, event: WatchEvent) -> None:
        raise NotImplementedError

    def sync(self, key: Any) -> None:
        raise NotImplementedError

    def priority(self, key: Any) -> int:
        """Order of keys within one drain (lower first); all equal by default."""
        return 0

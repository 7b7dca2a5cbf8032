"""Provides the practice cluster's clock: wall-clock timestamps, delays divided by a time scale, and a pause."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

MAX_PAUSES = 256
"""Paused stretches remembered for :meth:`Clock.elapsed_since` (older ones are merged into one)."""


class Clock:
    """Scales every simulated delay (pull times, grace periods, back-offs) by ``1 / time_scale``, and can stand
    still.

    Timestamps stay wall-clock time, because kubectl computes some ages itself (``describe``
    events) from its own clock; so a faster cluster keeps the order of events, not their spacing.

    The *simulated* time (:meth:`elapsed`) runs ``time_scale`` times as fast as real time, and not at all while
    the clock is paused (:meth:`pause` ... :meth:`resume`): every delay the controllers and the kubelet wait for
    (:meth:`sleep`, :meth:`elapsed_since`) stops advancing, and the time paused does not count toward it. The
    API keeps answering and accepts writes; the controllers' queues hold them (:meth:`call_when_running`) until
    the clock runs again, as if time stood still. Timestamps (and so ``AGE`` columns) keep wall-clock time:
    a pod's age grows while the cluster is paused, but nothing happens to it.
    """

    def __init__(self, time_scale: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        if time_scale <= 0:
            raise ValueError("time scale must be positive")
        self.time_scale = time_scale
        self._monotonic = monotonic
        self._base = 0.0
        """Simulated seconds at ``_since``."""
        self._since = monotonic()
        """Real (monotonic) time the current running stretch began."""
        self._paused = False
        self._pauses: list[tuple[datetime, datetime | None]] = []
        """Wall-clock stretches the clock stood still (the last one open while paused)."""
        self._changed: asyncio.Future[None] | None = None
        """Resolved (and replaced) when the clock is paused or resumed: sleepers look again."""
        self._when_running: list[Callable[[], object]] = []

    @property
    def paused(self) -> bool:
        return self._paused

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self, when: datetime | None = None) -> str:
        """RFC 3339 with second precision, as the API server serialises ``metav1.Time``."""
        return (when or self.now()).strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro_timestamp(self, when: datetime | None = None) -> str:
        """RFC 3339 with microseconds (``metav1.MicroTime``)."""
        return (when or self.now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def real(self, simulated_seconds: float) -> float:
        """Real seconds for a simulated delay (while the clock runs)."""
        return max(0.0, simulated_seconds / self.time_scale)

    def elapsed(self) -> float:
        """Simulated seconds since the clock was made: a monotonic clock that stands still while paused."""
        if self._paused:
            return self._base
        return self._base + (self._monotonic() - self._since) * self.time_scale

    def elapsed_since(self, when: datetime, until: datetime | None = None) -> float:
        """Simulated seconds between two wall-clock times (``until``: now), less the time the clock was paused."""
        end = until or self.now()
        stood = 0.0
        for start, stop in self._pauses:
            overlap = (min(stop or end, end) - max(start, when)).total_seconds()
            if overlap > 0:
                stood += overlap
        return max(0.0, (end - when).total_seconds() - stood) * self.time_scale

    def pause(self) -> None:
        """Stop the simulated time (nothing happens while paused; a second call does nothing)."""
        if self._paused:
            return
        self._base = self.elapsed()
        self._paused = True
        self._pauses.append((self.now(), None))
        if len(self._pauses) > MAX_PAUSES:  # keep the list short: the oldest two as one (overcounts a little)
            (first, _), (_, second_end) = self._pauses[0], self._pauses[1]
            self._pauses[0:2] = [(first, second_end)]
        self._changed_now()

    def resume(self) -> None:
        """Let the simulated time run again from where it stood; what waited for the clock goes on."""
        if not self._paused:
            return
        self._since = self._monotonic()
        self._paused = False
        start, _ = self._pauses[-1]
        self._pauses[-1] = (start, self.now())
        self._changed_now()
        waiting, self._when_running = self._when_running, []
        for callback in waiting:
            callback()

    def call_when_running(self, callback: Callable[[], object]) -> bool:
        """Run ``callback`` when the clock resumes, if it is paused now.

        Returns:
            True when the clock is paused and the callback was kept; False when it runs (nothing is kept).
        """
        if not self._paused:
            return False
        self._when_running.append(callback)
        return True

    def _changed_now(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done() and not changed.get_loop().is_closed():
            changed.set_result(None)

    def _change(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        if self._changed is None or self._changed.get_loop() is not loop:
            self._changed = loop.create_future()
        return self._changed

    async def running(self) -> None:
        """Return once the clock runs (at once when it does)."""
        while self._paused:
            await asyncio.shield(self._change())

    async def sleep(self, simulated_seconds: float) -> None:
        """Wait ``simulated_seconds`` of the simulated time: longer while the clock is paused."""
        end = self.elapsed() + max(0.0, simulated_seconds)
        first = True
        while True:
            if self._paused:
                await asyncio.shield(self._change())
                continue
            remaining = end - self.elapsed()
            if remaining <= 0 and not first:
                return
            first = False
            # Wake up at the end of the delay, or as soon as the clock is paused (then wait for the resume).
            await asyncio.wait((self._change(),), timeout=max(0.0, remaining) / self.time_scale)

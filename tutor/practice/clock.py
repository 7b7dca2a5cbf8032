"""Provides the practice cluster's clock: wall-clock timestamps, delays divided by a time scale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime


class Clock:
    """Scales every simulated delay (pull times, grace periods, back-offs) by ``1 / time_scale``.

    Timestamps stay wall-clock time, because kubectl computes some ages itself (``describe``
    events) from its own clock; so a faster cluster keeps the order of events, not their spacing.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time scale must be positive")
        self.time_scale = time_scale

    def now(self) -> datetime:
        return datetime.now(UTC)

    def timestamp(self, when: datetime | None = None) -> str:
        """RFC 3339 with second precision, as the API server serialises ``metav1.Time``."""
        return (when or self.now()).strftime("%Y-%m-%dT%H:%M:%SZ")

    def micro_timestamp(self, when: datetime | None = None) -> str:
        """RFC 3339 with microseconds (``metav1.MicroTime``)."""
        return (when or self.now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def real(self, simulated_seconds: float) -> float:
        """Real seconds for a simulated delay."""
        return max(0.0, simulated_seconds / self.time_scale)

    async def sleep(self, simulated_seconds: float) -> None:
        await asyncio.sleep(self.real(simulated_seconds))

"""Provides what the lesson screen does with the practice cluster's clock (F10): pause or resume it, and the
status bar's word for a paused one.

The clock belongs to the cluster (``GET/PUT /kube-tutor/clock``, reached through
:meth:`tutor.backends.base.Backend.clock` and :meth:`~tutor.backends.base.Backend.set_clock_paused`); this
module asks the backend off the event loop (each call is an HTTPS request) and says the answer in the learner's
language. No textual here: the screen calls it.
"""

from __future__ import annotations

import asyncio

from tutor.backends.base import Backend, BackendError, ClockState
from tutor.text import said
from tutor.tui.text import t

CLOCK_POLL = 5.0
"""Seconds between two looks at the clock (someone may pause it with ``kube-tutor cluster pause``)."""


def clock_badge(clock: ClockState | None, lang: str) -> str:
    """The status bar's mark for a paused clock (Rich markup, starting with its separator); empty otherwise."""
    if clock is None or not clock.paused:
        return ""
    return " · [b reverse yellow] " + t("clock_paused", lang) + " [/]"


async def read_clock(backend: Backend) -> ClockState | None:
    """The cluster's clock, or None when it has none that can be paused or did not answer now."""
    try:
        return await asyncio.to_thread(backend.clock)
    except BackendError:
        return None


async def toggle_clock(backend: Backend, clock: ClockState | None, lang: str) -> tuple[ClockState | None, str, bool]:
    """Pause a running clock, resume a paused one.

    Returns:
        The clock afterwards (``clock`` unchanged when it failed), the console's one line, and whether it is an
        error (the backend's one line, in ``lang``: "only the practice cluster's clock can be paused").
    """
    try:
        after = await asyncio.to_thread(backend.set_clock_paused, not (clock is not None and clock.paused))
    except BackendError as error:
        return clock, said(error.args[0] if error.args else str(error), lang), True
    return after, t("clock_paused_notice" if after.paused else "clock_resumed_notice", lang), False

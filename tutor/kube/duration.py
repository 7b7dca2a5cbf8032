"""Provides the ages kubectl prints (apimachinery's ``duration.HumanDuration``) and Go's ``Duration.String``.

Upstream: ``staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go`` (``HumanDuration``) and
``pkg/printers/internalversion/printers.go`` (``translateTimestampSince``) in kubernetes/kubernetes;
golang/go ``src/time/time.go`` (``Duration.String``, ``Duration.format``, ``fmtFrac``, ``fmtInt``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

UNKNOWN = "<unknown>"
"""What the server prints for a missing (zero) timestamp."""

_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""Go's zero ``time.Time``; ``metav1.Time.IsZero()`` treats it like a missing timestamp."""


def human_duration(seconds: float) -> str:
    """Format a duration the way ``duration.HumanDuration`` does (~2-3 significant figures).

    Args:
        seconds: The duration in seconds; negative when the timestamp lies in the future.

    Returns:
        ``"<invalid>"`` below -1 s (Go truncates toward zero, so -1.9 s is still ``"0s"``),
        ``"0s"`` for small negatives, then ``"59s"``, ``"2m5s"``, ``"15m"``, ``"3h20m"``, ``"47h"``,
        ``"3d4h"``, ``"400d"``, ``"2y30d"``, ``"9y"``.
    """
    if not math.isfinite(seconds):
        return "<invalid>"  # a Go time.Duration is always finite; never produced by a real server
    total = int(seconds)  # Go: int(d.Seconds()), truncation toward zero
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 60 * 2:
        return f"{total}s"
    # From here on the duration is positive, so Go's truncating divisions are floor divisions
    # and int(d / time.Minute) == total // 60.
    minutes = total // 60
    if minutes < 10:
        secs = total % 60
        return f"{minutes}m" if secs == 0 else f"{minutes}m{secs}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        mins = minutes % 60
        return f"{hours}h" if mins == 0 else f"{hours}h{mins}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def parse_timestamp(timestamp: str | None) -> datetime | None:
    """Parse an RFC 3339 ``metav1.Time``/``MicroTime`` string as served in JSON.

    Args:
        timestamp: ``"2026-11-26T01:25:11Z"`` or ``"2026-11-26T01:25:11.123456Z"``; a string
            without an offset is taken as UTC.

    Returns:
        An aware datetime, or None when the value is missing, malformed, or Go's zero time
        (``0001-01-01T00:00:00Z``), all of which the printers show as ``<unknown>``.
    """
    if not timestamp or not isinstance(timestamp, str):
        return None
    try:
        when = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when == _ZERO_TIME:
        return None
    return when


def since(when: datetime, now: datetime) -> str:
    """Format ``now - when`` with :func:`human_duration`; naive datetimes are taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return human_duration((now - when).total_seconds())


def age(timestamp: str | None, now: datetime) -> str:
    """Return the AGE cell for an RFC 3339 timestamp, as ``translateTimestampSince`` does.

    Args:
        timestamp: The object's timestamp string, e.g. ``metadata.creationTimestamp``.
        now: The server's current time.

    Returns:
        ``"137m"`` and the like, or ``"<unknown>"`` when the timestamp is missing or empty.
    """
    when = parse_timestamp(timestamp)
    if when is None:
        return UNKNOWN
    return since(when, now)


_SECOND_NS = 1_000_000_000


def _frac(value: int, precision: int) -> tuple[str, int]:
    """``fmtFrac``: the fraction of ``value / 10**precision`` without trailing zeros, and the quotient."""
    digits = ""
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def go_duration(nanoseconds: int) -> str:
    """Format a duration as Go's ``time.Duration.String()`` does.

    Args:
        nanoseconds: The duration (a Go ``time.Duration`` counts nanoseconds).

    Returns:
        ``"0s"``, ``"1ns"``, ``"1.5µs"``, ``"412ms"``, ``"2.013s"``, ``"1m2.5s"``, ``"1h0m0s"``,
        ``"-1.5s"``: the largest unit is the hour.
    """
    sign = "-" if nanoseconds < 0 else ""
    value = abs(nanoseconds)
    if value < _SECOND_NS:
        if value == 0:
            return "0s"
        if value < 1_000:
            return f"{sign}{value}ns"
        precision, unit = (3, "µs") if value < 1_000_000 else (6, "ms")
        fraction, whole = _frac(value, precision)
        return f"{sign}{whole}{fraction}{unit}"
    fraction, seconds = _frac(value, 9)
    text = f"{seconds % 60}{fraction}s"
    minutes = seconds // 60
    if minutes > 0:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours > 0:
            text = f"{hours}h{text}"
    return sign + text

"""Provides CastWriter: an asciinema recording (asciicast v2) of what a terminal showed.

The format, as asciinema documents it (https://docs.asciinema.org/manual/asciicast/v2/): newline-delimited JSON;
the first line is the header, a JSON object with ``version`` (2), ``width`` and ``height`` (the initial terminal
size, integers) and optional ``timestamp`` (the Unix time the recording began, an integer), ``title`` and ``env``
(a map of strings, usually ``TERM`` and ``SHELL``); every following line is one event, a 3-element array
``[time, code, data]``: ``time`` in seconds since the beginning (a float, never decreasing), ``code`` ``"o"`` for
output written to the terminal, ``"r"`` for a resize (data ``"COLSxROWS"``) or ``"m"`` for a marker (data: its
label). A player replays the ``o`` events at their times, so the recording lasts as long as its last event.

Each event is written and flushed at once: a demo that is stopped (Ctrl+C, a crash) leaves a file that plays up to
there. Stdlib only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TextIO

__all__ = ["CastWriter"]


class CastWriter:
    """Writes one ``.cast`` file: the header when opened, then timed events."""

    def __init__(self, path: Path, width: int, height: int, *, title: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        """Create (or replace) ``path`` and write the header.

        Args:
            width: the terminal's columns when the recording begins.
            height: the terminal's rows.
            title: the recording's title (asciinema shows it).
            env: the environment worth keeping (default: ``TERM`` and ``SHELL`` of this process, as asciinema
                records them).

        Raises:
            OSError: the file cannot be created.
        """
        self.path = path
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last = 0.0
        self.closed = False
        if env is None:
            env = {name: os.environ[name] for name in ("TERM", "SHELL") if name in os.environ}
        header: dict[str, object] = {"version": 2, "width": int(width), "height": int(height),
                                     "timestamp": int(time.time()), "env": env}
        if title:
            header["title"] = title
        self._file: TextIO = path.open("w", encoding="utf-8", newline="\n")
        self._file.write(json.dumps(header, ensure_ascii=False) + "\n")
        self._file.flush()

    def elapsed(self) -> float:
        """Seconds since the recording began."""
        return time.monotonic() - self._start

    def _event(self, code: str, data: str) -> None:
        """Write one event, stamped now."""
        with self._lock:
            if self.closed:
                return
            # Monotonic by construction; max() keeps it so even if two threads interleave.
            moment = self._last = max(self._last, round(self.elapsed(), 6))
            self._file.write(json.dumps([moment, code, data], ensure_ascii=False) + "\n")
            self._file.flush()

    def output(self, data: str) -> None:
        """What was written to the terminal, now (an ``o`` event; nothing for an empty string)."""
        if data:
            self._event("o", data)

    def resize(self, width: int, height: int) -> None:
        """The terminal took another size (an ``r`` event)."""
        self._event("r", f"{int(width)}x{int(height)}")

    def marker(self, label: str) -> None:
        """A point worth jumping to when replaying (an ``m`` event: a step's beginning)."""
        self._event("m", label)

    def close(self) -> None:
        """End the recording (idempotent): a last, empty ``o`` event at this moment, so that the recording lasts as
        long as the run did even when the terminal showed nothing new at its end."""
        self._event("o", "")
        with self._lock:
            if not self.closed:
                self.closed = True
                self._file.close()

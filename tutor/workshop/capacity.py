"""Provides how many workshop seats a machine can hold: a pure function of its free memory and its cores.

A seat costs, while its attendee follows the instructor (a command every 5-10 s):

- memory: the seat's TUI (Python + Textual with a lesson running: 57.4 MiB peak resident, ``ru_maxrss`` of a
  headless ``TutorApp`` on ``rolling-update`` until its first verdict, on the 2-core development machine:
  :data:`SEAT_TUI_BYTES`), the kubectl processes that follow its cluster all the time (``tutor/backends/watch.py``: one
  ``kubectl get --raw ...?watch`` per kind, six of them; each 47-48 MB resident, but with six running at once the
  proportional set size, what a process costs once the kubectl binary's pages are shared, falls to about 18 MB:
  ``/proc/PID/smaps_rollup``; :data:`SEAT_KUBECTL_BYTES`), and its share of the practice cluster (``bench/seats.py``:
  +131 KB of the server's RSS a seat; the server was at 66 MB with one lesson; :data:`SEAT_CLUSTER_BYTES`). The
  kubectl an attendee types runs about 0.1 s every 5-10 s: a few at a time for the whole room, counted in
  :data:`RESERVED_BYTES`;
- CPU: mostly kubectl's own start (``doctor``'s kubectl floor, about 40 ms of a core) and the TUI's checks. The
  issue's measurement (20 kubectl clients in tight loops: p50 from 42 ms to 420 ms on 2 cores, the server at
  20 %) puts a core's worth at about 15 attendees at a class's pace before the p95 of a command doubles
  (:data:`SEATS_PER_CORE`; ``bench/workshop.py`` measures the saturation point on the machine it runs on).

:data:`RESERVED_BYTES` stays for the practice cluster, the workshop's web server and the system.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MB = 1000**2
SEAT_TUI_BYTES = 64 * MB
"""Resident memory of one seat's TUI with a lesson running (measured 60.2 MB, rounded up for its history)."""
SEAT_WATCHES = 6
"""kubectl processes a seat's TUI keeps running to follow its cluster (``tutor.backends.watch.KINDS``)."""
SEAT_KUBECTL_BYTES = SEAT_WATCHES * 20 * MB
"""The kubectl processes that follow a seat's cluster (each about 18 MB of its own once the binary is shared)."""
SEAT_CLUSTER_BYTES = 1 * MB
"""A seat's share of the practice cluster's memory (its objects, its RBAC, its token)."""
SEAT_BYTES = SEAT_TUI_BYTES + SEAT_KUBECTL_BYTES + SEAT_CLUSTER_BYTES
"""What one seat costs in memory, all counted."""
RESERVED_BYTES = 768 * MB
"""Kept for the practice cluster's server, the workshop's web server, the instructor's dashboard, the few
kubectl commands running at once and the system."""
SEATS_PER_CORE = 15
"""Attendees a core serves at a class's pace (a command every 5-10 s each) before commands slow down twice."""


@dataclass(frozen=True)
class Capacity:
    """How many seats fit, and what limits it."""

    seats: int
    by_memory: int
    by_cpu: int

    @property
    def limit(self) -> str:
        """``"memory"`` or ``"cpu"``: which of the two gives :attr:`seats`."""
        return "memory" if self.by_memory < self.by_cpu else "cpu"


def capacity(mem_bytes: int, cores: int) -> Capacity:
    """The seats a machine with ``mem_bytes`` of available memory and ``cores`` CPUs holds, and why."""
    by_memory = max(0, (mem_bytes - RESERVED_BYTES) // SEAT_BYTES)
    by_cpu = max(0, cores) * SEATS_PER_CORE
    return Capacity(min(by_memory, by_cpu), by_memory, by_cpu)


def seats_for(mem_bytes: int, cores: int) -> int:
    """How many seats a machine with ``mem_bytes`` of available memory and ``cores`` CPUs holds."""
    return capacity(mem_bytes, cores).seats


def available_memory(path: Path = Path("/proc/meminfo")) -> int | None:
    """This machine's ``MemAvailable`` in bytes, None where there is no /proc/meminfo."""
    try:
        for line in path.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def this_machine() -> Capacity | None:
    """What this machine holds now (its available memory, its cores); None when the memory cannot be told."""
    memory = available_memory()
    return None if memory is None else capacity(memory, os.cpu_count() or 1)

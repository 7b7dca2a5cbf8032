"""Provides how many workshop seats a machine can hold: a pure function of its free memory and its cores.

A seat costs, while its attendee follows the instructor (a command every 5-10 s), as ``bench/workshop.py``
measured 30 seats playing the rolling-update lesson on the 2-core development machine:

- memory: the seat's TUI (Python + Textual with a lesson running and its checks: 66 MB resident each, 1,972 MB for
  30; :data:`SEAT_TUI_BYTES`), the kubectl the seat runs at a time (the one its attendee typed, or a line of its
  lesson's setup: about 11 MB of its own, the binary's 35 MB of pages shared by all of them;
  :data:`SEAT_KUBECTL_BYTES`) and its share of the practice cluster (``bench/seats.py``: +131 KB of the server's
  RSS a seat; :data:`SEAT_CLUSTER_BYTES`). The TUI's watch of its cluster keeps no kubectl running: a seat's
  kubeconfig is its token, which the watch speaks with itself (``tutor.backends.watch.direct_access``);
- CPU: the TUIs (0.6 of a core for 30 seats) and their kubectl (0.24), the server little (0.06). The p95 of a
  command stays within 2x one seat alone up to 40 seats on 2 cores (1.86x) and passes it by 50 (4.3x):
  :data:`SEATS_PER_CORE` is 20.

:data:`RESERVED_BYTES` stays for the practice cluster, the workshop's web server and the system.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MB = 1000**2
SEAT_TUI_BYTES = 70 * MB
"""Resident memory of one seat's TUI through a lesson (measured 66 MB, rounded up for its history)."""
SEAT_KUBECTL_BYTES = 16 * MB
"""The kubectl a seat runs at a time, what it costs of its own once the binary's pages are shared (~11 MB)."""
SEAT_CLUSTER_BYTES = 1 * MB
"""A seat's share of the practice cluster's memory (its objects, its RBAC, its token)."""
SEAT_BYTES = SEAT_TUI_BYTES + SEAT_KUBECTL_BYTES + SEAT_CLUSTER_BYTES
"""What one seat costs in memory, all counted."""
RESERVED_BYTES = 768 * MB
"""Kept for the practice cluster's server, the workshop's web server, the instructor's dashboard, the few
kubectl commands running at once and the system."""
SEATS_PER_CORE = 20
"""Attendees a core serves at a class's pace (a command every 5-10 s each) before commands slow down twice
(``bench/workshop.py``: 40 seats on 2 cores at 1.86x one seat's p95, 50 at 4.3x)."""


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

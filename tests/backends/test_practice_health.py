"""The practice backend tells a cluster that runs from one that saves, and never replaces one that answers.

Most cases run :mod:`tests.backends.fake_practice_server`, which answers ``/livez`` and ``/readyz/etcd`` as the
server side of issue 9 does (a failing storage, a busy loop, a hung process) without needing a storage that
really fails. The last case makes the real server's storage fail: a root process ignores file permissions, so
a read-only state directory cannot be made here; instead the server's file size limit (``RLIMIT_FSIZE``, set
with ``prlimit``) is lowered to 1 byte, so each write to ``state.db``'s WAL fails with EFBIG (Python ignores
SIGXFSZ) as on a full disk, whoever runs the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tutor import cli, paths, shell
from tutor.backends.base import Stopped
from tutor.backends.practice import PracticeBackend

ROOT = Path(__file__).resolve().parents[2]
REASON = "cannot write /x/practice/state.db: attempt to write a readonly database"


def wait_for(condition: Callable[[], Any], *, timeout: float = 30.0, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.02)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    pytest.fail(f"timed out after {timeout} s waiting for {message}")


class Fakes:
    """Starts fake servers on one state directory; ends them all afterwards."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.backend = PracticeBackend(state, time_scale=20)
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, mode: str, *extra: str) -> int:
        directory = self.backend.directory
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "server.json").unlink(missing_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.backends.fake_practice_server", str(directory), "--mode", mode, *extra],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.processes.append(process)

        def listening() -> bool:
            if process.poll() is not None:
                pytest.fail(f"the fake server exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                return json.loads((directory / "server.json").read_text())["pid"] == process.pid
            except (OSError, ValueError, KeyError):
                return False

        wait_for(listening, message="the fake server's server.json")
        return process.pid

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            if process.stderr:
                process.stderr.close()


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[Fakes]:
    running = Fakes(tmp_path / "state")
    try:
        yield running
    finally:
        running.close()
        running.backend.down()  # a real server some cases start


def run_cli(capsys: pytest.CaptureFixture[str], state: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--state-dir", str(state), "cluster", *args, "--backend", "practice"])
    out, err = capsys.readouterr()
    return code, out, err


# ---- status -------------------------------------------------------------------------------------------------


def test_a_cluster_whose_storage_fails_runs_and_says_why_it_does_not_save(
        fakes: Fakes, capsys: pytest.CaptureFixture[str]) -> None:
    pid = fakes.start("failing", "--reason", REASON)
    status = fakes.backend.status()
    assert status.running and status.pid == pid
    assert status.storage_error == REASON
    assert fakes.backend.storage_failure() == REASON

    code, out, _ = run_cli(capsys, fakes.state, "status")
    assert code == cli.STATUS_NOT_SAVING == 4
    first = out.splitlines()[0]
    assert first.startswith(f"practice cluster: running (pid {pid}, https://127.0.0.1:")
    assert first.endswith(f" — NOT SAVING CHANGES: {REASON}")
    assert shell.pid_alive(pid)  # only asked, never touched


def test_a_cluster_that_saves_is_running_with_no_storage_error(fakes: Fakes,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    pid = fakes.start("ok")
    status = fakes.backend.status()
    assert status.running and status.pid == pid and status.storage_error == ""
    assert fakes.backend.storage_failure() == ""
    code, out, _ = run_cli(capsys, fakes.state, "status")
    assert code == 0 and "NOT SAVING" not in out


def test_a_process_that_does_not_answer_is_not_running(fakes: Fakes) -> None:
    pid = fakes.start("hung")
    fakes.backend.live_timeout = 0.3
    status = fakes.backend.status()
    assert not status.running
    assert status.detail == (f"process {pid} is not answering (no answer to /livez within 0.3 s; "
                             f"log: {fakes.backend.log_path})")
    assert fakes.backend.storage_failure() == ""


# ---- down ---------------------------------------------------------------------------------------------------


def test_down_stops_a_cluster_whose_storage_fails_and_says_since_when_and_why(
        fakes: Fakes, capsys: pytest.CaptureFixture[str]) -> None:
    pid = fakes.start("failing", "--reason", REASON)
    failed_at = time.strftime("%Y-%m-%d %H:%M:%S")  # the log's local time, as logging's asctime writes it
    fakes.backend.log_path.write_text(
        "2001-01-01 00:00:00,000 ERROR tutor.practice.apiserver.storage: "  # an earlier run: not this failure
        f"{REASON}\n{failed_at},123 ERROR tutor.practice.apiserver.storage: {REASON}\n", encoding="utf-8")

    code, out, err = run_cli(capsys, fakes.state, "down")
    assert code == 1
    assert out == "practice cluster stopped\n"
    assert err.splitlines()[-1] == (f"kube-tutor: the practice cluster stopped, but changes since {failed_at} were "
                                    f"not saved: {REASON} (log: {fakes.backend.log_path})")
    wait_for(lambda: not shell.pid_alive(pid), message="the server to be gone")
    assert not (fakes.backend.directory / "server.json").exists()


def test_down_without_a_log_line_still_says_why(fakes: Fakes) -> None:
    fakes.start("failing", "--reason", REASON)
    assert fakes.backend.down() == Stopped(True, f"changes since its storage failed were not saved: {REASON} "
                                                 f"(log: {fakes.backend.log_path})")


def test_down_of_a_cluster_that_saves_exits_0(fakes: Fakes, capsys: pytest.CaptureFixture[str]) -> None:
    pid = fakes.start("ok")
    code, out, err = run_cli(capsys, fakes.state, "down")
    assert (code, out) == (0, "practice cluster stopped\n")
    assert "not saved" not in err
    assert not shell.pid_alive(pid)
    assert fakes.backend.down() == Stopped(False)


# ---- up -----------------------------------------------------------------------------------------------------


def test_up_reuses_a_busy_cluster_that_answers_late(fakes: Fakes) -> None:
    """Before issue 9, ``up`` gave /readyz 1 s and then replaced a server whose loop was busy ~1.5 s."""
    pid = fakes.start("busy", "--busy", "2")
    fakes.backend.live_timeout = 0.5  # every request in the busy time goes unanswered: up must ask again
    said: list[str] = []
    status = fakes.backend.up(said.append)
    assert status.running and status.pid == pid
    assert shell.pid_alive(pid)
    assert said[0] == (f"the practice cluster (process {pid}) does not answer /livez; waiting up to 30 s before "
                       "replacing it")
    assert said[-1].startswith(f"the practice cluster (process {pid}) answered after ")
    assert said[-1].endswith(" s; reusing it")
    assert not any("replacing the practice cluster" in line or "starting" in line for line in said)


def test_up_reuses_a_cluster_whose_storage_fails_and_the_cli_says_so(
        fakes: Fakes, capsys: pytest.CaptureFixture[str]) -> None:
    pid = fakes.start("failing", "--reason", REASON)
    code, out, err = run_cli(capsys, fakes.state, "up")
    assert code == 1
    assert out == f"{fakes.backend.kubeconfig}\n"
    assert err.splitlines()[-1] == (f"kube-tutor: the practice cluster runs but is NOT SAVING CHANGES: {REASON} "
                                    f"(what you change is kept in memory only and is lost when it stops)")
    assert shell.pid_alive(pid)


def test_up_replaces_a_hung_process_only_after_the_deadline_and_says_so(fakes: Fakes) -> None:
    pid = fakes.start("hung")
    backend = fakes.backend
    backend.live_timeout, backend.hung_after = 0.3, 1.0
    said: list[str] = []
    status = backend.up(said.append)
    assert status.running and status.pid != pid
    assert not shell.pid_alive(pid)
    assert said[0] == (f"the practice cluster (process {pid}) does not answer /livez; waiting up to 1 s before "
                       "replacing it")
    replaced = [line for line in said if line.startswith("replacing")]
    assert len(replaced) == 1
    assert replaced[0].startswith(f"replacing the practice cluster: its process {pid} did not answer /livez for ")
    assert replaced[0].endswith(f" s, so it is stopped (SIGTERM) and a new one started; its log: {backend.log_path}")
    assert said[-1] == "starting the practice cluster"


def test_up_never_signals_a_process_that_is_not_this_clusters_server(tmp_path: Path) -> None:
    """server.json may name a pid that another program got since (after a reboot): it is left alone."""
    backend = PracticeBackend(tmp_path / "state", time_scale=20)
    backend.directory.mkdir(parents=True)
    other = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: Path(f"/proc/{other.pid}/cmdline").read_bytes().startswith(b"sleep\0"),
                 message="sleep to run")
        (backend.directory / "server.json").write_text(json.dumps({"pid": other.pid, "port": 1}))
        assert not backend.status().running
        status = backend.up()
        assert status.running and status.pid != other.pid
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(timeout=10)
        backend.down()


# ---- the real server's storage failing ----------------------------------------------------------------------


def test_a_real_storage_failure_fails_writes_loudly_and_down_exits_1_with_the_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    backend = PracticeBackend(state, time_scale=20)
    status = backend.up()
    try:
        assert status.running and status.pid and status.storage_error == ""
        port = int(json.loads((backend.directory / "server.json").read_text())["port"])
        has_check = backend._get(port, "/readyz/etcd", 5) == (200, "ok")
        env = {**os.environ, **backend.env()}

        def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(paths.kubectl()), *args], env=env, capture_output=True, text=True,
                                  timeout=60, stdin=subprocess.DEVNULL, check=False)

        assert kubectl("create", "namespace", "saved").returncode == 0
        resource.prlimit(status.pid, resource.RLIMIT_FSIZE, (1, 1))  # every write to a file fails: EFBIG
        refused = kubectl("create", "namespace", "lost")
        assert refused.returncode == 1
        assert refused.stderr.startswith("Error from server (InternalError): Internal error occurred: cannot write "
                                         f"{backend.directory / 'state.db'}: ")
        if not has_check:
            pytest.skip("this server has no /readyz/etcd yet (the server side of issue 9)")

        status = backend.status()
        assert status.running, status.detail  # /livez: it still serves
        assert str(backend.directory / "state.db") in status.storage_error

        code, out, _ = run_cli(capsys, state, "status")
        assert code == 4 and f"NOT SAVING CHANGES: {status.storage_error}" in out

        code, out, err = run_cli(capsys, state, "down")
        assert (code, out) == (1, "practice cluster stopped\n")
        assert "were not saved: " + status.storage_error in err.splitlines()[-1]
        assert not shell.pid_alive(status.pid or 0)
    finally:
        with contextlib.suppress(Exception):
            backend.down()

"""Closing the terminal (SIGHUP) or ``kill`` (SIGTERM) ends kube-tutor as Ctrl+Q does: the console's background
jobs end with it (a ``kubectl proxy &`` left behind would hold 127.0.0.1:8001 for the next lesson, and the next run).

The TUI runs in a process of its own (``tests/tui/hangup_child.py``), with a real console session that has started
``sleep 300 &``; the signal goes to that process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor import shell

DEADLINE = 20.0
ROOT = Path(__file__).resolve().parents[2]


def _wait(condition: object, what: str, child: subprocess.Popen[str]) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        if time.monotonic() > end:
            child.kill()
            raise AssertionError(f"timed out waiting for {what}; the TUI process said: {child.communicate()[1][-2000:]}")
        time.sleep(0.05)  # polling a condition with a deadline (noqa: sleep-ok)


@pytest.mark.parametrize("number", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_closed_terminal_ends_the_console_background_jobs(tmp_path: Path, number: int) -> None:
    pid_file = tmp_path / "job.pid"
    child = subprocess.Popen([sys.executable, "-m", "tests.tui.hangup_child", str(tmp_path), str(pid_file)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    job = 0
    try:
        _wait(pid_file.exists, "the console's background job", child)
        job = int(pid_file.read_text())
        assert shell.pid_alive(job)
        os.kill(child.pid, number)
        out, err = child.communicate(timeout=DEADLINE)
        assert "exited" in out, err[-2000:]  # app.run() returned: the app ended, it was not killed
        assert child.returncode == 0, err[-2000:]
        _wait(lambda: not shell.pid_alive(job), "the background job to end", child)
    finally:
        if child.poll() is None:
            child.kill()
        if job and shell.pid_alive(job):
            os.kill(job, signal.SIGKILL)

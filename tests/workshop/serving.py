"""``kube-tutor workshop serve`` as an instructor runs it, for the tests: a subprocess on a free port, on its own
practice cluster and state directory, stopped with ``kube-tutor workshop down`` (whose result is checked)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def poll(condition: Callable[[], Any], what: str, deadline: float = 90.0) -> Any:
    """The first true value of ``condition()``, asked every 0.2 s until ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline:g} s: {what}")
        time.sleep(0.2)  # polling a condition with a deadline (noqa: sleep-ok)


def _wait_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


@contextmanager
def serving(base: Path, join_code: str, instructor_code: str, lesson: str, seats: int = 2) -> Iterator[dict[str, Any]]:
    """Run ``workshop serve``; yields its join and instructor URLs, state directory and environment."""
    state, home = base / "state", base / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / ".local/state"),
           "KUBECONFIG": str(home / "no-such-kubeconfig"), "KUBECACHEDIR": str(home / "kube-cache"),
           "KUBERC": "off", "PYTHONUNBUFFERED": "1"}
    for name in ("KUBE_TUTOR_STATE_DIR", "KUBE_TUTOR_TIME_SCALE"):
        env.pop(name, None)
    out, err = base / "serve.out", base / "serve.err"
    command = [sys.executable, "-m", "tutor", "--state-dir", str(state), "workshop", "serve", "--seats", str(seats),
               "--port", "0", "--lesson", lesson, "--lang", "en", "--code", join_code,
               "--instructor-code", instructor_code]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, start_new_session=True)
    try:
        def urls() -> dict[str, str] | None:
            if server.poll() is not None:
                raise AssertionError(f"workshop serve exited {server.returncode}: {err.read_text()[-2000:]}")
            found = {line.split()[0].rstrip(":"): line.split()[1] for line in out.read_text().splitlines()
                     if line.startswith(("join:", "instructor:"))}
            return found if len(found) == 2 else None

        found = poll(urls, "workshop serve prints the join and instructor URLs", 180)
        record = json.loads((state / "workshop" / "workshop.json").read_text())
        assert record["join_code"] == join_code and record["seats"] == seats and record["lesson"] == lesson
        assert record["url"] == found["join"] and found["join"].startswith("http://127.0.0.1:")
        yield {"join": found["join"], "instructor": found["instructor"], "state": state, "env": env, "err": err,
               "out": out}
    finally:
        done = subprocess.run([sys.executable, "-m", "tutor", "--state-dir", str(state), "workshop", "down"],
                              env=env, capture_output=True, text=True, timeout=120)
        stopped = server.poll() is not None or _wait_exit(server, 60)
        if not stopped:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
    assert done.returncode == 0 and "workshop server stopped" in done.stdout, done.stdout + done.stderr
    assert "practice cluster stopped" in done.stdout
    assert stopped and server.returncode == 0, err.read_text()[-2000:]
    assert not (state / "workshop" / "serve.json").exists()

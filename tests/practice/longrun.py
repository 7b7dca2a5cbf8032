"""A long-running kubectl (``proxy``, ``port-forward``) for the fidelity tests: output read by threads, polled with
deadlines, and always stopped (terminated, then killed) and waited for."""

from __future__ import annotations

import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from tests.practice.conftest import Kube, wait_for


class LongRunning:
    """One kubectl process; ``stdout`` and ``stderr`` collect its output as it comes."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._threads = [threading.Thread(target=self._read, args=(stream, sink), daemon=True)
                         for stream, sink in ((proc.stdout, self.stdout), (proc.stderr, self.stderr))]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _read(stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line)

    def wait_for_output(self, text: str, *, timeout: float = 30.0, stderr: bool = False) -> str:
        """The first line holding ``text``; fails at the deadline or when kubectl exits first."""
        sink = self.stderr if stderr else self.stdout

        def found() -> str | None:
            for line in sink:
                if text in line:
                    return line
            if self.proc.poll() is not None and not any(t.is_alive() for t in self._threads):
                raise AssertionError(f"kubectl exited ({self.proc.returncode}) before {text!r}: "
                                     f"stdout {''.join(self.stdout)!r} stderr {''.join(self.stderr)!r}")
            return None

        return wait_for(found, timeout=timeout, message=f"{text!r} from kubectl")

    def stop(self) -> int:
        """Terminate kubectl (as Ctrl+C would) and wait for it; kill it if it does not go."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for thread in self._threads:
            thread.join(10)
        return self.proc.returncode


@contextmanager
def running(kube: Kube, *args: str) -> Iterator[LongRunning]:
    """``kubectl <args>`` for the duration of the block; stopped and waited for at its end."""
    process = LongRunning(kube.popen(*args))
    try:
        yield process
    finally:
        process.stop()


def http_get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    """``(status, body)`` of a GET, for any status."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, whatever the env says
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()

"""``kube-tutor demo --no-pause --record FILE.cast`` in a real terminal (a pty): the recording is asciicast v2 as
asciinema reads it, its event times never go back, and it lasts as long as the demo ran."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from asciinema import asciicast

DEADLINE = 300.0


def test_a_recorded_demo_is_a_valid_cast_as_long_as_the_run(tmp_path: Path) -> None:
    cast = tmp_path / "demo.cast"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # rows, columns
    env = {**os.environ, "TERM": "xterm-256color"}
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "tutor", "--state-dir", str(tmp_path / "state"), "demo", "rolling-update",
         "--no-pause", "--typing-speed", "300", "--time-scale", "20", "--lang", "en", "--record", str(cast)],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path, start_new_session=True)
    os.close(slave)
    shown = bytearray()
    end = time.monotonic() + DEADLINE
    try:
        while process.poll() is None:  # drain the terminal, or the app blocks writing to it
            assert time.monotonic() < end, f"the demo did not end; it showed:\n{shown[-2000:].decode(errors='replace')}"
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    shown += os.read(master, 65536)
                except OSError:  # the pty closed
                    break
        process.wait(timeout=30)
        ended = time.time()
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
        # The demo started the practice cluster (a server of its own that outlives the TUI): stop it.
        subprocess.run([sys.executable, "-m", "tutor", "--state-dir", str(tmp_path / "state"), "cluster", "down"],
                       cwd=tmp_path, env=env, capture_output=True, timeout=60, check=False)
    assert process.returncode == 0, shown[-2000:].decode(errors="replace")

    lines = cast.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and (header["width"], header["height"]) == (120, 40)
    assert header["env"]["TERM"] == "xterm-256color"
    with asciicast.open_from_url(str(cast)) as recording:
        events = list(recording.events())
    times = [moment for moment, _, _ in events]
    assert times == sorted(times), "event times go back"
    assert {code for _, code, _ in events} <= {"o", "m", "r"}
    markers = [data for _, code, data in events if code == "m"]
    assert markers == ["1. Update the app to v2", "2. Verify the update", "3. An update that fails on purpose",
                       "4. Roll back"]
    output = "".join(data for _, code, data in events if code == "o")
    assert "\x1b[?1049h" in output  # what Textual showed: its alternate screen, the frames, then back
    assert "kubectl" in output and "rollout" in output
    # It lasts as long as the demo ran: it began after the cluster was up, and ended as the app quit.
    assert started - 1 <= header["timestamp"] <= ended
    assert abs(header["timestamp"] + times[-1] - ended) < 2.0, (header["timestamp"], times[-1], started, ended)

"""tutor.cast: an asciicast v2 file, read back with asciinema's own reader (asciinema 2.4, asciinema/asciicast/v2.py)."""

from __future__ import annotations

import json
from pathlib import Path

from asciinema import asciicast

from tutor.cast import CastWriter


def test_the_header_and_events_are_asciicast_v2(tmp_path: Path) -> None:
    path = tmp_path / "demo.cast"
    writer = CastWriter(path, 120, 40, title="kube-tutor demo: Updating your app", env={"TERM": "xterm-256color"})
    writer.output("\x1b[1;31mHello\x1b[0m\r\n")
    writer.marker("1. Update the app to v2")
    writer.output("")  # nothing written: no event
    writer.resize(80, 24)
    writer.output("日本語も")
    writer.close()
    writer.close()  # idempotent
    writer.output("after the end")  # ignored

    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and header["width"] == 120 and header["height"] == 40
    assert isinstance(header["timestamp"], int) and header["env"] == {"TERM": "xterm-256color"}
    assert header["title"] == "kube-tutor demo: Updating your app"
    with asciicast.open_from_url(str(path)) as cast:
        assert cast.v2_header == header
        events = list(cast.events())
    assert [(code, data) for _, code, data in events] == [
        ("o", "\x1b[1;31mHello\x1b[0m\r\n"), ("m", "1. Update the app to v2"), ("r", "80x24"), ("o", "日本語も"),
        ("o", "")]  # the last, empty output marks the end of the run
    times = [moment for moment, _, _ in events]
    assert times == sorted(times) and times[0] >= 0

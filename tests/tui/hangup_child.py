"""A kube-tutor TUI in a process of its own for ``test_hangup.py``: the fakes' lesson, but a real console session,
which starts ``sleep 300 &`` once the lesson screen is up and writes the job's pid to a file.

Run as ``python -m tests.tui.hangup_child STATE_DIR PID_FILE``.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from tests.tui.fakes import STATES, FakeBackend, FakeRuntime, realize, rolling_update_lesson, write_progress
from tutor.lesson.runtime import RecordingSession
from tutor.tui.app import TutorApp


class HangupApp(TutorApp):
    pid_file: Path

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._background_job())

    async def _background_job(self) -> None:
        assert self.runtime is not None
        await self.runtime.session.run(f"sleep 300 & echo $! > {shlex.quote(str(self.pid_file))}.tmp && "
                                       f"mv {shlex.quote(str(self.pid_file))}.tmp {shlex.quote(str(self.pid_file))}",
                                       lambda _: None)


def main(state: Path, pid_file: Path) -> None:
    step_id, snapshot = STATES["start_state"]
    lesson = rolling_update_lesson()
    write_progress(state, lesson, step_id)
    runtime = FakeRuntime(lesson, realize(snapshot()), cwd=state)
    runtime.session = RecordingSession(dict(os.environ), state)  # type: ignore[assignment]
    app = HangupApp(lesson, FakeBackend(), state, lang="en", cwd=state, runtime=runtime)  # type: ignore[arg-type]
    app.pid_file = pid_file
    app.run(headless=True)
    print("exited", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

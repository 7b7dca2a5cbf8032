"""Child processes of bench/run.py: TUI cold start and check-verdict latency (run by the bench, not by hand)."""

from __future__ import annotations

import sys
import time

STARTED = time.time()


def tui_start(state: str, spawned_at: float) -> None:
    """Print seconds from spawn to an interactive lesson screen (console focused), to Python, to the first verdict."""
    from pathlib import Path

    from textual.widgets import Input

    from tutor.backends.practice import PracticeBackend
    from tutor.lesson import find_lesson, load_lesson
    from tutor.tui.app import TutorApp
    from tutor.tui.screens.lesson import LessonScreen
    from tutor.tui.widgets.checklist import Checklist

    class Timed(TutorApp):
        def on_mount(self) -> None:  # Textual also runs TutorApp.on_mount (handlers run along the MRO)
            self.set_interval(0.005, self._check)

        interactive = 0.0

        def _check(self) -> None:
            screen = self.screen
            if not self.interactive and isinstance(screen, LessonScreen) and isinstance(self.focused, Input):
                self.interactive = time.time() - spawned_at
            if self.interactive and screen.query_one(Checklist).verdict is not None:
                print(f"{self.interactive:.4f} {STARTED - spawned_at:.4f} {time.time() - spawned_at:.4f}",
                      flush=True)
                self.exit()

    root = Path(state)
    Timed(load_lesson(find_lesson("rolling-update")), PracticeBackend(root), root, lang="en").run(
        headless=True, size=(120, 40))


async def verdict_latency(state: str, runs: int) -> None:
    """Print, per run, the seconds from `kubectl set image` returning to the check's verdict changing."""
    import asyncio
    from pathlib import Path

    from tutor import paths
    from tutor.backends.practice import PracticeBackend
    from tutor.lesson import find_lesson, load_lesson
    from tutor.lesson.runtime import LessonRuntime, backend_env

    backend = PracticeBackend(Path(state))
    lesson = load_lesson(find_lesson("rolling-update"))
    runtime = LessonRuntime(lesson, backend_env(backend.env()), backend.namespace)
    await runtime.start()
    event = runtime.watch.subscribe()
    check = lesson.step("update").checks[:1]  # the template image is v2
    kubectl = str(paths.kubectl())
    try:
        for i in range(runs):
            image = "jocatalin/kubernetes-bootcamp:v2" if i % 2 == 0 else "gcr.io/google-samples/kubernetes-bootcamp:v1"
            wanted = i % 2 == 0
            proc = await asyncio.create_subprocess_exec(
                kubectl, "set", "image", "deployments/kubernetes-bootcamp", f"kubernetes-bootcamp={image}",
                env=runtime.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await proc.wait()
            done = time.perf_counter()
            while (await runtime.evaluate("update", check)).passed != wanted:
                await asyncio.wait_for(event.wait(), 10)
                event.clear()
            print(f"{time.perf_counter() - done:.4f}", flush=True)
    finally:
        await runtime.stop()


if __name__ == "__main__":
    if sys.argv[1] == "tui":
        tui_start(sys.argv[2], float(sys.argv[3]))
    else:
        import asyncio

        asyncio.run(verdict_latency(sys.argv[2], int(sys.argv[3])))

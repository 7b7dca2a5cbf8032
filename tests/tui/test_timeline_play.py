"""The rollout timeline of the seed lesson played through the TUI against the practice cluster and the real kubectl:
the recorded data (read back from the state dir, as the end screen reads it after a restart) keeps the rolling-update
bounds at every sample of the v2 update, shows the v10 stall as 3 available + 2 failing, and the views open on it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.test_lesson_play import lesson_ready, until
from tutor.backends.practice import PracticeBackend
from tutor.lesson import find_lesson, load_lesson
from tutor.tui.app import TutorApp
from tutor.tui.screens.end import EndScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.timeline import TimelineScreen
from tutor.tui.timeline import Sample, Timeline

FIXTURE = Path(__file__).parent.parent / "data" / "timeline" / "rolling-update.timeline.jsonl"
"""A timeline this test recorded once, kept for the snapshot tests (``KUBE_TUTOR_KEEP_TIMELINE=1`` writes it anew)."""


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeBackend]:
    state = tmp_path_factory.mktemp("timeline-state")
    backend = PracticeBackend(state, time_scale=1)  # real time: every step of a rollout is seen
    backend.up()
    yield backend
    backend.down()


async def run(pilot, screen: LessonScreen, line: str) -> None:  # noqa: ANN001
    await until(pilot, lambda: not screen.console.running, message="the console to be free")
    screen.submit(line, echoed=False)
    await pilot.pause()
    await until(pilot, lambda: not screen.console.running, message=f"{line!r} to finish")


def stalled(sample: Sample) -> bool:
    v10 = next((r for r in sample.revisions if r.label == "v10"), None)
    return v10 is not None and v10.failing == 2 and v10.active == 2 and sample.available == 3 and sample.total == 5


async def test_a_played_lesson_records_the_bounds_and_the_stall(backend: PracticeBackend, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    app = TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        timeline = screen.timeline
        for index, step in enumerate(lesson.steps):
            await until(pilot, lambda index=index: screen.index == index, message=f"step {index + 1}")
            for line in step.solution:
                if "get events" in line:  # the point of the step: the events of a stall that has happened
                    await until(pilot, lambda: bool(timeline.samples) and stalled(timeline.samples[-1]),
                                message="the v10 stall in the timeline")
                await run(pilot, screen, line)
            await until(pilot, lambda step=step: screen.progress.step(step.id).passed, timeout=60,
                        message=f"step {step.id} passed")
            if index < len(lesson.steps) - 1:
                await pilot.press("escape")  # no countdown: the test moves on itself
                await pilot.press("ctrl+n")
        await until(pilot, lambda: timeline.samples[-1].available == 4 and not timeline.samples[-1].updating,
                    message="the rollback to settle")

        # The end screen sums the timeline up; T opens it; ←/→ move its cursor through time.
        screen.action_recap()
        await until(pilot, lambda: isinstance(app.screen, EndScreen) and bool(app.screen.query("#end-timeline")),
                    message="the end screen with the timeline's summary")
        end = app.screen
        assert isinstance(end, EndScreen)
        summary = str(end.query_one("#end-timeline").render())
        assert "at most 5 pods (limit 5)" in summary and "at least 3 available (floor 3)" in summary, summary
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.is_mounted,
                    message="the timeline")
        view = app.screen
        assert isinstance(view, TimelineScreen)
        last = view.now_text()
        assert "4 available" in last
        await pilot.press("left", "left", "left")
        assert view.cursor == len(view.times) - 4
        assert view.now_text() != last

    # What is asserted is what was saved: the file in the state dir, read back as after a restart.
    path = Timeline.file_beside(screen.progress.path)
    assert path.parent.is_relative_to(tmp_path)
    recorded = Timeline.load(path, images=(*lesson.images, *lesson.absent_images))
    assert len(recorded.samples) == len(timeline.samples) > 5
    assert [c.line for c in recorded.commands] == [c.line for c in timeline.commands]

    v2 = next(c.t for c in recorded.commands if c.line.endswith(":v2"))
    v10 = next(c.t for c in recorded.commands if c.line.endswith(":v10"))
    during = [s for s in recorded.samples if v2 <= s.t < v10]
    assert any(s.updating for s in during), "the v2 update was never seen with two revisions at once"
    assert any(len([r for r in s.revisions if r.active]) == 2 and s.total == 5 for s in during), \
        "the v2 update never used its surge"
    for sample in during:
        assert (sample.replicas, sample.surge, sample.unavailable) == (4, 1, 1)
        assert sample.total <= sample.replicas + sample.surge, sample
        assert sample.available >= sample.replicas - sample.unavailable, sample
    for sample in recorded.samples:  # the v10 update and the rollback keep the surge bound too
        assert sample.total <= sample.max_pods, sample

    stall = [s for s in recorded.samples if s.t >= v10 and stalled(s)]
    assert stall, [(s.available, s.failing, s.total) for s in recorded.samples if s.t >= v10]
    v10_revision = next(r.revision for r in stall[-1].revisions if r.label == "v10")
    assert {p.status for p in stall[-1].pods if p.revision == v10_revision} <= {"ErrImagePull", "ImagePullBackOff"}
    assert any(e.reason == "Failed" and "v10" in e.message for e in recorded.events)
    if __import__("os").environ.get("KUBE_TUTOR_KEEP_TIMELINE"):
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, FIXTURE)

"""The console as a shell against a practice cluster and the real kubectl: Tab asks kubectl's own completion engine
(resource types, names from the cluster, flags), a resumed lesson has its history and NODE_PORT back, and
``kube-tutor cluster env`` exports the lesson's NODE_PORT.

kubectl's completion engine is cobra's hidden ``__complete`` command (``spf13/cobra`` ``completions.go``,
``initCompleteCmd``): one candidate a line (a tab, then its description), then ``:<directive>``.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RichLog

from tests.tui import pilot as waits
from tutor import paths
from tutor.backends.practice import PracticeBackend
from tutor.cli import lesson_variables, main
from tutor.lesson import Lesson, find_lesson, load_lesson
from tutor.lesson.progress import Progress
from tutor.lesson.runtime import backend_env
from tutor.lesson.verify import reset
from tutor.shell import run
from tutor.tui.app import TutorApp
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.widgets.console import Console

EXPORT = "export NODE_PORT=$(kubectl get services/kubernetes-bootcamp -o go-template='{{(index .spec.ports 0).nodePort}}')"


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    return load_lesson(find_lesson("rolling-update"))


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, lesson: Lesson) -> Iterator[PracticeBackend]:
    """A practice cluster in the lesson's start state (the Deployment's 4 pods, the NodePort Service)."""
    backend = PracticeBackend(tmp_path_factory.mktemp("console-state"), time_scale=20)
    backend.up()
    try:
        out = io.StringIO()
        assert asyncio.run(reset(lesson, backend_env(backend.env()), backend.namespace, backend=backend,
                                 out=out)) == 0, out.getvalue()
        yield backend
    finally:
        backend.down()


def kubectl(backend: PracticeBackend, *args: str) -> str:
    done = run(["kubectl", *args], env=backend_env(backend.env()), timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def node_port(backend: PracticeBackend) -> str:
    return kubectl(backend, "get", "services/kubernetes-bootcamp", "-o", "jsonpath={.spec.ports[0].nodePort}")




async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str, timeout: float = 45) -> None:
    await waits.until(pilot, condition, what, deadline=timeout, detail=lambda: f"console:\n{console_text(pilot)[-1500:]}")


async def lesson_screen(pilot: Pilot[Any]) -> LessonScreen:
    return await waits.lesson_screen(pilot, input_focused=True)


def console_text(pilot: Pilot[Any]) -> str:
    if not isinstance(pilot.app.screen, LessonScreen):
        return ""
    return "\n".join(line.text.rstrip() for line in pilot.app.screen.query_one(Console).query_one(RichLog).lines)




def field(pilot: Pilot[Any]) -> Input:
    return pilot.app.screen.query_one(Console).query_one(Input)


async def tab(pilot: Pilot[Any], typed: str, expected: str) -> None:
    """Type into an empty input, press Tab, wait for the input to read ``expected``."""
    field(pilot).value = ""
    await pilot.press(*typed, "tab")
    await until(pilot, lambda: field(pilot).value == expected, f"{typed!r} + Tab to give {expected!r}")
    assert pilot.app.focused is field(pilot)


async def run_line(pilot: Pilot[Any], screen: LessonScreen, line: str) -> None:
    field(pilot).value = line
    await pilot.press("enter")
    await until(pilot, lambda: not screen.console.running and not any(
        worker.group == "shell" and not worker.is_finished for worker in pilot.app.workers), f"{line!r} to finish")


async def test_tab_completes_with_kubectls_own_engine(backend: PracticeBackend, lesson: Lesson,
                                                      tmp_path: Path) -> None:
    Progress.load(tmp_path, lesson.id, backend.name).start("update")  # resume: no setup
    pods = sorted(kubectl(backend, "get", "pods", "-o", "name").replace("pod/", "").split())
    assert len(pods) == 4
    async with TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        await tab(pilot, "kubectl get nod", "kubectl get nodes ")  # a resource type
        await tab(pilot, "kubectl get deployments kub", "kubectl get deployments kubernetes-bootcamp ")  # a name
        await tab(pilot, "kubectl rollout st", "kubectl rollout status ")  # a subcommand
        await tab(pilot, "kubectl get pods --ou", "kubectl get pods --output")  # --output, --output-watch-events
        await tab(pilot, "kubectl get pods -o=ya", "kubectl get pods -o=yaml ")  # a flag's value
        prefix = "kubectl describe pods " + pods[0][: len("kubernetes-bootcamp-")]
        common = "kubectl describe pods " + pods[0][: pods[0].rindex("-") + 1]  # one ReplicaSet: one hash
        await tab(pilot, prefix, common)
        await pilot.press("tab")  # nothing more in common: the bell
        await pilot.pause()
        await pilot.press("tab")  # the second Tab lists the names from the cluster
        await until(pilot, lambda: all(pod in console_text(pilot) for pod in pods), "the pods listed")
        assert f"$ {common}" in console_text(pilot)
        assert field(pilot).value == common
        assert pilot.app.focused is field(pilot)
        assert screen.runtime.session.history == []  # completion runs nothing in the learner's session
        await pilot.press("ctrl+q")


async def test_resume_restores_history_and_node_port(backend: PracticeBackend, lesson: Lesson,
                                                     tmp_path: Path) -> None:
    Progress.load(tmp_path, lesson.id, backend.name).start("verify")
    async with TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        await run_line(pilot, screen, EXPORT)
        await run_line(pilot, screen, "kubectl get services")
        await until(pilot, lambda: screen.verdict is not None and "node-port" in screen.verdict.passed_ids,
                    "the NODE_PORT check")
        await pilot.press("ctrl+q")

    async with TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        assert screen.step.id == "verify"
        assert screen.runtime.session.exported()["NODE_PORT"] == node_port(backend)
        await until(pilot, lambda: screen.verdict is not None and "node-port" in screen.verdict.passed_ids,
                    "step 2's NODE_PORT check to hold after the resume")
        await pilot.press("up")
        assert field(pilot).value == "kubectl get services"
        await pilot.press("up")
        assert field(pilot).value == EXPORT
        await run_line(pilot, screen, "curl -s localhost:$NODE_PORT")
        await until(pilot, lambda: "Hello Kubernetes bootcamp!" in console_text(pilot), "curl on $NODE_PORT")
        await pilot.press("ctrl+q")
    saved = json.loads((tmp_path / "progress" / lesson.id / "practice.console.json").read_text())
    assert saved["variables"] == {"NODE_PORT": node_port(backend)}


def test_cluster_env_exports_the_lessons_node_port(backend: PracticeBackend, lesson: Lesson,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson_variables(lesson) == {
        "NODE_PORT": ["get", "services/kubernetes-bootcamp", "-o", "go-template={{(index .spec.ports 0).nodePort}}"]}
    state = backend.directory.parent
    assert main(["cluster", "env", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert f"export NODE_PORT={node_port(backend)}\n" in out
    assert f'#   eval "$(kube-tutor cluster env --state-dir {state})"' in out
    # The lines work in a shell of the learner's: curl reaches the app on $NODE_PORT.
    done = run(["bash", "--noprofile", "--norc", "-c", f"{out}\ncurl -s --max-time 5 localhost:$NODE_PORT"],
               env={"PATH": "/usr/bin:/bin", "HOME": str(state)}, timeout=30)
    assert "Hello Kubernetes bootcamp!" in done.stdout, done.stderr

    kubectl(backend, "delete", "service", "kubernetes-bootcamp")
    try:
        assert main(["cluster", "env", "--state-dir", str(state)]) == 0
        out = capsys.readouterr().out
        assert "export NODE_PORT" not in out
        assert ('# NODE_PORT is not set (rolling-update): Error from server (NotFound): services '
                '"kubernetes-bootcamp" not found') in out
    finally:
        kubectl(backend, "expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080")
    assert paths.bin_dir().is_dir()

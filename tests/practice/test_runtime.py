"""LessonRuntime on the practice cluster: exported variables and history reach the checks, live."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.practice.conftest import Kube
from tutor.lesson import find_lesson, load_lesson
from tutor.lesson.runtime import LessonRuntime, backend_env


async def test_the_learners_variables_and_commands_reach_the_checks(bootcamp: Kube, tmp_path: Path) -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    env = backend_env({"KUBECONFIG": str(bootcamp.kubeconfig), "KUBECACHEDIR": bootcamp.env["KUBECACHEDIR"]})
    runtime = LessonRuntime(lesson, env, bootcamp.namespace, cwd=tmp_path)
    try:
        assert await runtime.start()
        step = lesson.step("verify")
        before = await runtime.verdict(step)
        assert not before.passed
        missing = {r.id: r.message("en") for r in before.results if not r.passed}
        assert missing["node-port"] == "Store the NodePort in a variable with `export NODE_PORT=$(...)`"
        output: list[str] = []
        for command in ("kubectl set image deployments/kubernetes-bootcamp "
                        "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2",
                        step.commands[1], "kubectl rollout status deployments/kubernetes-bootcamp",
                        "curl -s localhost:$NODE_PORT"):  # the curl check counts the learner's own curl
            assert await runtime.session.run(command, output.append) == 0, "".join(output)
        assert runtime.session.exported()["NODE_PORT"].isdigit()
        seen: list[bool] = []
        verdict = await runtime.wait_for(step.id, step.checks, 30, on_verdict=lambda v: seen.append(v.passed))
        assert verdict.passed, [(r.id, r.error) for r in verdict.results if not r.passed]
        assert seen[-1] is True
        # A refused command never runs and is kept in the history the checks see.
        refused: list[str] = []
        assert await runtime.session.run("kubectl --context prod get pods", refused.append) == 2
        assert refused[0].startswith("kube-tutor: refused: `--context`")
        assert runtime.context()["history"][-1] == "kubectl --context prod get pods"
    finally:
        await runtime.stop()


async def test_a_change_in_the_cluster_wakes_the_watch(bootcamp: Kube, tmp_path: Path) -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    env = backend_env({"KUBECONFIG": str(bootcamp.kubeconfig), "KUBECACHEDIR": bootcamp.env["KUBECACHEDIR"]})
    runtime = LessonRuntime(lesson, env, bootcamp.namespace, cwd=tmp_path)
    try:
        assert await runtime.start()
        runtime.watch.changed.clear()
        await asyncio.to_thread(bootcamp, "scale", "deployment/kubernetes-bootcamp", "--replicas=2")
        await asyncio.wait_for(runtime.watch.changed.wait(), 10)

        def replicas() -> int:
            return runtime.context()["deployment"]["kubernetes-bootcamp"]["spec"]["replicas"]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while replicas() != 2 and loop.time() < deadline:
            runtime.watch.changed.clear()
            await asyncio.wait_for(runtime.watch.changed.wait(), deadline - loop.time())
        assert replicas() == 2
    finally:
        await runtime.stop()

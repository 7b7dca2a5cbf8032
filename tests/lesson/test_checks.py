"""The lesson's checks on hand-built API objects: pass, fail, and the text of what is missing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tutor.lesson import Lesson, find_lesson, load_lesson
from tutor.lesson.checks import CommandRun, build_context, evaluate, evaluate_checks

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
V10 = "jocatalin/kubernetes-bootcamp:v10"


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    return load_lesson(find_lesson("rolling-update"))


def deployment(image: str, *, generation: int = 2, observed: int = 2, updated: int = 4, ready: int = 4,
               available: int = 4, revision: str = "2") -> dict[str, Any]:
    return {"metadata": {"name": "kubernetes-bootcamp", "generation": generation,
                         "annotations": {"deployment.kubernetes.io/revision": revision}},
            "spec": {"replicas": 4, "template": {"spec": {"containers": [{"name": "kubernetes-bootcamp",
                                                                          "image": image}]}}},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "readyReplicas": ready,
                       "availableReplicas": available, "replicas": 4}}


def replicaset(image: str, replicas: int, revision: str) -> dict[str, Any]:
    return {"metadata": {"name": f"kubernetes-bootcamp-{revision}", "annotations": {
                "deployment.kubernetes.io/revision": revision},
                         "ownerReferences": [{"kind": "Deployment", "name": "kubernetes-bootcamp"}]},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": image}]}}}}


def pod(name: str, image: str, *, waiting: str | None = None, deleting: bool = False) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2026-11-26T00:00:00Z"}}
    meta: dict[str, Any] = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-26T00:00:30Z"
    return {"metadata": meta, "spec": {"containers": [{"image": image}]},
            "status": {"phase": "Pending" if waiting else "Running",
                       "conditions": [{"type": "Ready", "status": "False" if waiting else "True"}],
                       "containerStatuses": [{"state": state}]}}


def service(node_port: int = 31234) -> dict[str, Any]:
    return {"metadata": {"name": "kubernetes-bootcamp"},
            "spec": {"type": "NodePort", "ports": [{"port": 8080, "nodePort": node_port}]}}


def results(lesson: Lesson, step: str, snapshot: dict[str, list[dict[str, Any]]], *, variables=None, history=(),
            step_history=(),
            commands: tuple[CommandRun, ...] = ()) -> dict[str, Any]:
    context = build_context(snapshot, variables=variables, history=[*history, *(c.line for c in commands)],
                            step_history=step_history, commands=commands)

    async def run_probe(command: str) -> tuple[int, str]:
        raise AssertionError(f"the lesson runs no probe, yet it ran {command!r}")

    verdict = asyncio.run(evaluate_checks(step, lesson.step(step).checks, context, run_probe))
    return {r.id: r for r in verdict.results}


def start_state() -> dict[str, list[dict[str, Any]]]:
    return {"deployments": [deployment(V1, generation=1, observed=1, revision="1")],
            "replicasets": [replicaset(V1, 4, "1")],
            "pods": [pod(f"v1-{i}", V1) for i in range(4)], "services": [service()]}


def v2_done() -> dict[str, list[dict[str, Any]]]:
    return {"deployments": [deployment(V2)],
            "replicasets": [replicaset(V1, 0, "1"), replicaset(V2, 4, "2")],
            "pods": [pod(f"v2-{i}", V2) for i in range(4)] + [pod("v1-0", V1, deleting=True)],
            "services": [service()]}


def v10_stall() -> dict[str, list[dict[str, Any]]]:
    return {"deployments": [deployment(V10, generation=3, observed=3, updated=2, ready=3, available=3, revision="3")],
            "replicasets": [replicaset(V1, 0, "1"), replicaset(V2, 3, "2"), replicaset(V10, 2, "3")],
            "pods": [pod(f"v2-{i}", V2) for i in range(3)]
            + [pod("v10-0", V10, waiting="ErrImagePull"), pod("v10-1", V10, waiting="ImagePullBackOff")],
            "services": [service()],
            "events": [{"reason": "Failed", "message": f'Failed to pull image "{V10}": rpc error: code = NotFound'}]}


def rolled_back() -> dict[str, list[dict[str, Any]]]:
    return {"deployments": [deployment(V2, generation=4, observed=4, revision="4")],
            "replicasets": [replicaset(V1, 0, "1"), replicaset(V2, 4, "4"), replicaset(V10, 0, "3")],
            "pods": [pod(f"v2-{i}", V2) for i in range(4)], "services": [service()]}


def test_step_one_fails_on_v1_and_says_which_image_runs(lesson: Lesson) -> None:
    got = results(lesson, "update", start_state())
    assert not got["image-v2"].passed
    assert got["image-v2"].message("en") == (
        f"The Deployment's image is `{V1}`, not `{V2}`: set it with `kubectl set image`")
    assert got["image-v2"].message("ja") == (
        f"Deployment のイメージは `{V1}` で、`{V2}` ではありません。`kubectl set image` で変えましょう")
    assert not got["new-replicaset"].passed


def test_step_one_passes_once_the_template_and_new_replicaset_are_v2(lesson: Lesson) -> None:
    got = results(lesson, "update", v2_done())
    assert all(r.passed for r in got.values())
    assert got["image-v2"].message("en") == "The Deployment's image is `jocatalin/kubernetes-bootcamp:v2`"


def test_step_two_needs_the_learners_own_actions(lesson: Lesson) -> None:
    got = results(lesson, "verify", v2_done())
    assert got["rollout-complete"].passed and got["all-v2"].passed
    assert not got["node-port"].passed
    assert not got["curl-v2"].passed
    assert not got["rollout-status"].passed
    done = results(lesson, "verify", v2_done(), variables={"NODE_PORT": "31234"},
                   history=["kubectl rollout status deployments/kubernetes-bootcamp"],
                   commands=(CommandRun("curl localhost:$NODE_PORT", 0, ANSWER_V2),))
    assert all(r.passed for r in done.values())
    assert done["curl-v2"].message("en") == "Your `curl localhost:$NODE_PORT` was answered by the v2 app (`v=2`)"


ANSWER_V1 = "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-5c69669756-2kq8x | v=1\n"
ANSWER_V2 = "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-7c6644499c-bx4wq | v=2\n"


@pytest.mark.parametrize(("commands", "seen"), [
    ((), "—"),
    ((CommandRun("kubectl get pods", 0, "NAME ... v=2"),), "—"),   # v=2 in another command's output
    ((CommandRun("curl localhost:$NODE_PORT", 0, ANSWER_V1),), ANSWER_V1.strip()),
    ((CommandRun("curl localhost:$NODE_PORT", 3, "curl: (3) URL rejected: Port number was not a decimal number\n"),),
     "curl: (3) URL rejected: Port number was not a decimal number"),
    ((CommandRun("curl localhost:$NODE_PORT", 0, ANSWER_V1), CommandRun("curl localhost:$NODE_PORT", 7,
      "curl: (7) Failed to connect to localhost port 31234\n")), "curl: (7) Failed to connect to localhost port 31234"),
])
def test_the_curl_check_counts_only_the_learners_own_curl_and_says_what_it_got(
        lesson: Lesson, commands: tuple[CommandRun, ...], seen: str) -> None:
    """No probe: the check reads the learner's commands, so nothing but the learner takes a turn of the Service's
    round robin; while it does not hold it says what was wanted and what the learner's last curl gave."""
    got = results(lesson, "verify", v2_done(), variables={"NODE_PORT": "31234"}, commands=commands)["curl-v2"]
    assert not got.passed
    assert got.message("en") == (f"Run `curl localhost:$NODE_PORT` and see the v2 app answer (`v=2`). "
                                 f"Your last curl gave: {seen}")
    assert got.message("ja").endswith(f"最後の curl の結果：{seen}")


@pytest.mark.parametrize("line", ["curl localhost:$NODE_PORT", "curl -s http://localhost:$NODE_PORT/",
                                  "for i in 1 2 3 4; do curl localhost:$NODE_PORT; done"])
def test_any_curl_of_the_learner_answered_by_v2_passes(lesson: Lesson, line: str) -> None:
    first = CommandRun("curl localhost:$NODE_PORT", 0, ANSWER_V1)   # an earlier answer from v1 does not matter
    got = results(lesson, "verify", v2_done(), commands=(first, CommandRun(line, 0, ANSWER_V2)))["curl-v2"]
    assert got.passed


def test_step_two_reports_a_half_done_rollout(lesson: Lesson) -> None:
    snapshot = v2_done()
    snapshot["deployments"] = [deployment(V2, updated=3, available=3, ready=3)]
    snapshot["pods"] = [pod(f"v2-{i}", V2) for i in range(3)] + [pod("v1-0", V1)]
    got = results(lesson, "verify", snapshot, variables={"NODE_PORT": "99999"},
                  commands=(CommandRun("curl localhost:$NODE_PORT", 0, ANSWER_V1),))
    assert got["rollout-complete"].message("en") == "The rollout is still running (3 of 4 new pods so far)"
    assert got["all-v2"].message("en") == "v2 pods so far: 3 / 4"
    assert not got["node-port"].passed  # the variable holds another port
    assert not got["curl-v2"].passed


def test_the_break_step_passes_only_when_it_fails_for_the_right_reason(lesson: Lesson) -> None:
    assert not any(r.passed for r in results(lesson, "break", v2_done()).values() if r.id != "old-pods-serving")
    got = results(lesson, "break", v10_stall(), step_history=["kubectl get events"])
    assert all(r.passed for r in got.values()), {k: (r.passed, r.error) for k, r in got.items()}
    typo = v10_stall()
    typo["deployments"] = [deployment("jocatalin/kubernetes-bootcamp:v1O", generation=3, observed=3, updated=2,
                                      ready=3, available=3)]
    got = results(lesson, "break", typo)
    assert not got["image-v10"].passed
    assert got["image-v10"].message("en") == (
        f"The Deployment's image is `jocatalin/kubernetes-bootcamp:v1O`, not `{V10}`: set it with `kubectl set image`")


V10_SET = "kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp=" + V10


@pytest.mark.parametrize(("looked", "seen"), [
    ([], False),
    ([V10_SET, "kubectl get deployments", "kubectl get pods"], False),
    ([V10_SET, "kubectl describe pods"], False),  # several pods: kubectl lists no events
    ([V10_SET, "kubectl describe pods -l app=kubernetes-bootcamp"], False),
    ([V10_SET, "kubectl get events"], True),
    ([V10_SET, "kubectl get ev --field-selector type=Warning"], True),
    ([V10_SET, "kubectl events --types=Warning"], True),
    ([V10_SET, "kubectl describe pod kubernetes-bootcamp-6d4fb9c5dk-7mx2p"], True),
    ([V10_SET, "kubectl  describe pods/kubernetes-bootcamp-6d4fb9c5dk-7mx2p"], True),
    ([V10_SET, "kubectl describe po kubernetes-bootcamp-6d4fb9c5dk-7mx2p"], True),
])
def test_the_break_step_passes_only_once_the_learner_looked_at_the_reason(lesson: Lesson, looked: list[str],
                                                                           seen: bool) -> None:
    """The failure alone is not the point: the learner must have looked at the events on this step (its own
    history, not the lesson's: step 1 suggests `describe pods` too)."""
    got = results(lesson, "break", v10_stall(), history=["kubectl get events", *looked], step_history=looked)
    assert got["looked-at-the-reason"].passed is seen
    assert all(r.passed for r in got.values() if r.id != "looked-at-the-reason")


def test_step_two_is_not_complete_on_the_v1_deployment(lesson: Lesson) -> None:
    """Skipping step 1 (Ctrl+N) leaves a complete v1 Deployment: that is not step 2's rollout."""
    got = results(lesson, "verify", start_state())
    assert not got["rollout-complete"].passed
    assert not got["all-v2"].passed


def test_the_break_step_waits_for_the_pull_failure(lesson: Lesson) -> None:
    early = v10_stall()
    early["pods"][3] = pod("v10-0", V10, waiting="ContainerCreating")
    early["events"] = []
    got = results(lesson, "break", early)
    assert not got["new-pods-cannot-pull"].passed
    assert not got["pull-not-found"].passed


def test_rollback_needs_v10_superseded_and_four_v2_pods(lesson: Lesson) -> None:
    got = results(lesson, "rollback", v10_stall())
    assert not got["image-v2-again"].passed
    assert got["image-v2-again"].message("en") == (
        f"The Deployment's image is still `{V10}`, not v2 (`{V2}`): go back with `kubectl rollout undo`")
    assert not got["no-failing-pods"].passed
    assert got["no-failing-pods"].message("en") == "2 v10 pods are still around"
    got = results(lesson, "rollback", rolled_back())
    assert not got["looked-at-the-revisions"].passed  # `rollout undo` alone does not end the lesson
    assert all(r.passed for r in got.values() if r.id != "looked-at-the-revisions")
    got = results(lesson, "rollback", rolled_back(), step_history=[
        "kubectl rollout undo deployments/kubernetes-bootcamp", "kubectl rollout history deployments/kubernetes-bootcamp"])
    assert all(r.passed for r in got.values()), {k: (r.passed, r.error) for k, r in got.items()}


def test_a_missing_object_is_a_failed_check_with_its_error_kept(lesson: Lesson) -> None:
    context = build_context({})
    result = evaluate(lesson.step("update").checks[0], context)
    assert not result.passed
    assert result.error is not None and "kubernetes-bootcamp" in result.error
    assert result.message("en").startswith("The Deployment's image is `?`")


def test_setup_ready_checks(lesson: Lesson) -> None:
    context = build_context(start_state())
    assert all(evaluate(c, context).passed for c in lesson.setup.ready)
    assert not all(evaluate(c, build_context(v2_done())).passed for c in lesson.setup.ready)


def _with(check: Any, source: str) -> Any:
    from dataclasses import replace

    from tutor.lesson.cellint import compile_expression

    return replace(check, cel=source, program=compile_expression(source), observed=None, observed_program=None)


@pytest.mark.parametrize("snapshot", [start_state, v2_done, v10_stall, rolled_back])
def test_each_check_reads_only_what_it_names_and_judges_as_on_the_whole_context(
        lesson: Lesson, snapshot: Any) -> None:
    """The CEL library converts every value it is handed on every evaluation, so a check is evaluated with the
    names it spells alone (one converted ``cel.Context`` shared by a step's checks): the verdicts are those of
    the whole context."""
    commands = (CommandRun("curl localhost:31234", 0, "Hello v=2"),)
    context = build_context(snapshot(), variables={"NODE_PORT": "31234"}, history=["kubectl rollout status x"],
                            step_history=["kubectl describe pod v10-0"], commands=commands)
    for step in lesson.steps:
        verdict = asyncio.run(evaluate_checks(step.id, step.checks, context))
        whole = []
        for check in step.checks:
            try:
                whole.append(check.program.execute(dict(context)) is True)
            except Exception:  # noqa: BLE001 - a missing object: the check does not hold
                whole.append(False)
        assert [r.passed for r in verdict.results] == whole, step.id


def test_a_check_is_not_handed_the_names_it_does_not_read(lesson: Lesson) -> None:
    template = lesson.step("update").checks[0]
    context = {**build_context(v2_done(), variables={"NODE_PORT": "31234"}),
               "events": [object()]}  # a value the CEL library cannot convert: handing it over would fail
    reads_vars = _with(template, 'vars["NODE_PORT"] == "31234"')
    reads_events = _with(template, "events.size() == 1")
    # a name spelled as a macro's variable or a field is read as a superset: harmless
    spells_pods = _with(template, 'deployment["kubernetes-bootcamp"].spec.replicas == 4 && [1].all(pods, pods == 1)')
    assert evaluate(reads_vars, context).passed
    assert evaluate(spells_pods, context).passed
    assert not evaluate(reads_events, context).passed
    verdict = asyncio.run(evaluate_checks("x", [reads_vars, spells_pods], context))
    assert [r.passed for r in verdict.results] == [True, True]

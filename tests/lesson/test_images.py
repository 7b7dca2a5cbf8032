"""What a lesson's images mean: the images its commands name, and the pods that will never run."""

from __future__ import annotations

from typing import Any

import pytest

from tutor.lesson.checks import build_context, evaluate
from tutor.lesson.images import code_lines, command_images, images_settled, pods_that_cannot_run

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
V10 = "jocatalin/kubernetes-bootcamp:v10"

COMMANDS = [
    ("kubectl get pods", []),
    (f"kubectl create deployment web --image={V1} --replicas=4", [V1]),
    ("kubectl run web --image nginx:1.27 --port 80", ["nginx:1.27"]),
    ("kubectl create deployment two --image=a:1 --image=b:2", ["a:1", "b:2"]),
    # set image: CONTAINER=IMAGE pairs after the resources (upstream GetResourcesAndPairs / ParsePairs)
    (f"kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp={V2}", [V2]),
    ("kubectl set image deployment/web busybox=busybox nginx=nginx:1.9.1", ["busybox", "nginx:1.9.1"]),
    ("kubectl set image daemonset abc *=nginx:1.9.1", ["nginx:1.9.1"]),
    ("kubectl set image deployments,rc nginx=nginx:1.9.1 --all", ["nginx:1.9.1"]),
    # a flag's value is not a pair
    ("kubectl set image -l app=web deployments web=busybox:1", ["busybox:1"]),
    ("kubectl -n default set image deployment/web web=busybox:1 --record=true", ["busybox:1"]),
    # other KEY=VALUE arguments are not images
    ("kubectl set env deployment/web FOO=bar", []),
    ("kubectl label pods web app=web", []),
    ("echo image=nginx", []),
    # several commands on a line; kubectl inside $(...)
    (f"kubectl get pods && kubectl set image deploy/web web={V10}; kubectl get rs", [V10]),
    ("export IMG=$(kubectl get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')", []),
    # manifests and patches written into the command
    ("kubectl apply -f - <<EOF\nspec:\n  containers:\n  - name: web\n    image: nginx:1.25\nEOF", ["nginx:1.25"]),
    ("""kubectl patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"redis"}]}}}}'""",
     ["redis"]),
    # not literal references: variables and placeholders
    ("kubectl set image deploy/web web=$IMAGE", []),
    ("kubectl set image deployments/<name> <container>=<image>", []),
    ("kubectl create deployment web --image=${IMAGE}", []),
    # an open quote does not stop the search
    ("kubectl create deployment web --image=busybox -- echo 'it's", ["busybox"]),
    ("/usr/local/bin/kubectl run web --image=busybox", ["busybox"]),
]


@pytest.mark.parametrize(("command", "images"), COMMANDS, ids=[command[:50] for command, _ in COMMANDS])
def test_the_images_a_command_names(command: str, images: list[str]) -> None:
    assert [image for _, image in command_images(command)] == images


def test_images_are_found_with_the_line_of_the_command() -> None:
    assert command_images("kubectl get pods\nkubectl run a --image=busybox\n\nkubectl run b --image=redis") == [
        (1, "busybox"), (3, "redis")]


def test_code_lines_are_the_lines_of_fenced_blocks() -> None:
    text = ("Run `kubectl run a --image=inline` first.\n\n"
            "```\nkubectl get pods\nkubectl run b --image=busybox\n```\n\n"
            "    indented code is not a command block\n\n"
            "- in a list:\n\n  ```sh\n  kubectl get rs\n  ```\n")
    assert code_lines(text) == [(3, "kubectl get pods"), (4, "kubectl run b --image=busybox"), (12, "kubectl get rs")]


def pod(name: str, image: str, waiting: str | None = None, *, init: str | None = None,
        init_waiting: str | None = None) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    found: dict[str, Any] = {
        "metadata": {"name": name},
        "spec": {"nodeName": "node", "containers": [{"name": "app", "image": image}]},
        "status": {"containerStatuses": [{"name": "app", "image": image, "state": state}]}}
    if init is not None:
        found["spec"]["initContainers"] = [{"name": "init", "image": init}]
        found["status"]["initContainerStatuses"] = [{"name": "init", "image": init, "state": {
            "waiting": {"reason": init_waiting}} if init_waiting else {"terminated": {"exitCode": 0}}}]
    return found


def test_pods_of_declared_images_can_run() -> None:
    pods = [pod("a", V1), pod("b", "docker.io/" + V2), pod("c", V2, "ContainerCreating")]
    assert pods_that_cannot_run(pods, [V1, V2], []) == []


def test_a_pod_of_an_undeclared_image_is_named() -> None:
    assert pods_that_cannot_run([pod("web-1", "nginx", "ContainerCreating")], [V1], []) == [
        "pod web-1 runs the image 'nginx', which the lesson does not declare (add it to images.pull, or to "
        "images.absent if its failure to pull is the point)"]


@pytest.mark.parametrize("reason", ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"])
def test_a_pod_failing_to_pull_a_declared_image_can_never_start(reason: str) -> None:
    assert pods_that_cannot_run([pod("web-1", V2, reason)], [V1, V2], []) == [
        f"pod web-1 can never start: its image '{V2}' fails to pull ({reason}), but the lesson declares it under "
        "images.pull"]


def test_a_pod_failing_to_pull_an_image_absent_on_purpose_is_part_of_the_lesson() -> None:
    assert pods_that_cannot_run([pod("v10-1", V10, "ImagePullBackOff")], [V1, V2], [V10]) == []


def test_init_containers_count_too() -> None:
    pods = [pod("web-1", V1, "PodInitializing", init="busybox", init_waiting="ErrImagePull")]
    assert pods_that_cannot_run(pods, [V1], []) == [
        "pod web-1 runs the image 'busybox', which the lesson does not declare (add it to images.pull, or to "
        "images.absent if its failure to pull is the point)"]
    assert pods_that_cannot_run(pods, [V1, "busybox"], []) == [
        "pod web-1 can never start: its image 'busybox' fails to pull (ErrImagePull), but the lesson declares it "
        "under images.pull"]


def unscheduled() -> dict[str, Any]:
    return {"metadata": {"name": "pending"}, "spec": {"containers": [{"name": "app", "image": V1}]}, "status": {}}


def no_status_yet() -> dict[str, Any]:
    return {"metadata": {"name": "new"}, "spec": {"nodeName": "node", "containers": [{"name": "app", "image": V1}]},
            "status": {}}


SETTLED = [
    ("running", [pod("a", V1)], True, []),
    ("failed-to-pull", [pod("a", V2, "ErrImagePull"), pod("b", V10, "ImagePullBackOff")], True, []),
    ("crash-loop", [pod("a", V1, "CrashLoopBackOff")], True, []),
    ("not-on-a-node", [unscheduled()], True, []),
    ("no-status-yet", [no_status_yet()], False, ["new"]),
    ("creating", [pod("a", V1), pod("b", V2, "ContainerCreating")], False, ["b"]),
    ("initializing", [pod("a", V1, "PodInitializing", init="busybox")], False, ["a"]),
    ("init-cannot-pull", [pod("a", V1, "PodInitializing", init="busybox", init_waiting="ImagePullBackOff")], True, []),
]


@pytest.mark.parametrize(("pods", "done", "getting"), [case[1:] for case in SETTLED], ids=[c[0] for c in SETTLED])
def test_the_start_state_waits_until_pods_are_done_with_their_images(pods: list[dict[str, Any]], done: bool,
                                                                      getting: list[str]) -> None:
    result = evaluate(images_settled(), build_context({"pods": pods}))
    assert (result.passed, result.observed, result.error) == (done, getting, None)
    if not done:
        assert result.message("en") == f"Pods still getting their images: {', '.join(getting)}"

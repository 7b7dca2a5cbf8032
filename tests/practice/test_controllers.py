"""Controller behaviour beyond the lesson path: deadlines, Recreate, rounding, history, back-off order."""

from __future__ import annotations

import re

from tests.practice.conftest import Kube, WatchStream, rollout_bounds, wait_for

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"


def create(kube: Kube, replicas: int, *extra: str) -> None:
    kube("create", "deployment", "kubernetes-bootcamp", f"--image={V1}", f"--replicas={replicas}")
    for patch in extra:
        kube("patch", "deployment", "kubernetes-bootcamp", "--type=merge", "-p", patch)
    kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")


def bounds_during(kube: Kube, change: list[str]) -> tuple[int, int]:
    """Run ``change`` under a pod watch until the rollout completes; return (max active, min ready)."""
    initial = len(kube.pods())
    watch = WatchStream(kube)
    watch.wait_for_events(initial)
    kube(*change)
    kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    most, least, after = rollout_bounds(watch.stop(), initial)
    assert after > 5, "the watch saw the rollout"
    return most, least


def test_ten_replicas_round_surge_up_and_unavailable_down(kube: Kube) -> None:
    create(kube, 10)  # 25% of 10: surge ceil(2.5) = 3, unavailable floor(2.5) = 2
    most, least = bounds_during(kube, ["set", "image", "deployment/kubernetes-bootcamp", f"kubernetes-bootcamp={V2}"])
    assert most <= 13
    assert least >= 8
    assert most > 10, "a rolling update surges above the desired count"


def test_max_unavailable_zero_keeps_every_pod_serving(kube: Kube) -> None:
    create(kube, 4, '{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":2}}}}')
    most, least = bounds_during(kube, ["set", "image", "deployment/kubernetes-bootcamp", f"kubernetes-bootcamp={V2}"])
    assert most <= 6
    assert least >= 4


def test_recreate_stops_every_old_pod_first(kube: Kube) -> None:
    create(kube, 3, '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}')
    kube("set", "image", "deployment/kubernetes-bootcamp", f"kubernetes-bootcamp={V2}")
    kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    events = kube("get", "events", "--field-selector", "involvedObject.kind=Deployment",
                  "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}").splitlines()
    down = next(i for i, e in enumerate(events) if re.search(r"Scaled down replica set \S+ from 3 to 0", e))
    up = next(i for i, e in enumerate(events) if re.search(r"Scaled up replica set \S+ from 0 to 3", e)
              and i > 0)
    assert down < up
    assert re.search(r"StrategyType:\s+Recreate\n", kube("describe", "deployment", "kubernetes-bootcamp"))


def test_progress_deadline_ends_rollout_status_with_the_real_error(kube: Kube) -> None:
    create(kube, 2, '{"spec":{"progressDeadlineSeconds":20}}')
    kube("set", "image", "deployment/kubernetes-bootcamp", "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v10")
    done = kube.run("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    assert done.returncode == 1
    assert done.stderr.strip() == 'error: deployment "kubernetes-bootcamp" exceeded its progress deadline'
    assert done.stdout.startswith('Waiting for deployment "kubernetes-bootcamp" rollout to finish: 1 out of 2 new '
                                  "replicas have been updated...")
    described = kube("describe", "deployment", "kubernetes-bootcamp")
    assert re.search(r"Progressing\s+False\s+ProgressDeadlineExceeded", described)
    assert re.search(r"Available\s+True\s+MinimumReplicasAvailable", described)
    cond = [c for c in kube.deployment()["status"]["conditions"] if c["type"] == "Progressing"][0]
    assert re.fullmatch(r'ReplicaSet "kubernetes-bootcamp-\S+" has timed out progressing\.', cond["message"])


def test_scaling_mid_rollout_is_proportional(kube: Kube) -> None:
    create(kube, 4)
    kube("set", "image", "deployment/kubernetes-bootcamp", "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v10")
    wait_for(lambda: kube("get", "deployments").splitlines()[1].split()[1:4] == ["3/4", "2", "3"],
             message="v10 stall")
    kube("scale", "deployment/kubernetes-bootcamp", "--replicas=8")

    def sizes() -> list[int]:
        return sorted(rs["spec"]["replicas"] for rs in kube.json("get", "rs")["items"])

    # 5 pods at 4+1; 8+2 allowed: 5 more, shared 3:2 by size (upstream getProportion), leftover to the larger.
    wait_for(lambda: sizes() == [4, 6], message="proportional scale to 6 old + 4 new")
    assert kube.deployment()["spec"]["replicas"] == 8


def test_revision_history_limit_deletes_the_oldest_replicasets(kube: Kube) -> None:
    create(kube, 1, '{"spec":{"revisionHistoryLimit":1}}')
    for image in (V2, V1, V2):
        kube("set", "image", "deployment/kubernetes-bootcamp", f"kubernetes-bootcamp={image}")
        kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    wait_for(lambda: len(kube.json("get", "rs")["items"]) == 2, message="old ReplicaSets cleaned up")


def test_image_pull_back_off_keeps_the_kubelet_order(kube: Kube) -> None:
    kube("run", "broken", "--image=jocatalin/kubernetes-bootcamp:v10")

    def reasons() -> list[str]:
        events = kube.json("get", "events", "--field-selector", "involvedObject.name=broken")["items"]
        events.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))
        return [e["reason"] + ("/" + e["message"] if e["message"].startswith("Error:") else "") for e in events]

    wait_for(lambda: "BackOff" in reasons(), message="a BackOff event")
    got = reasons()
    assert got[:5] == ["Scheduled", "Pulling", "Failed", "Failed/Error: ErrImagePull", "BackOff"], got
    wait_for(lambda: any(e.get("count", 1) >= 2 for e in kube.json(
        "get", "events", "--field-selector", "involvedObject.name=broken,reason=Pulling")["items"]),
        timeout=60, message="a second pull attempt after the back-off")
    status = kube.json("get", "pod", "broken")["status"]
    assert status["phase"] == "Pending"
    waiting = status["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] in ("ErrImagePull", "ImagePullBackOff")
    # The pod never started: deletion is immediate (no grace period to wait out).
    assert kube("delete", "pod", "broken").strip() == f'pod "broken" deleted from {kube.namespace} namespace'


def test_a_shorter_grace_period_cuts_a_pending_termination(bootcamp: Kube) -> None:
    kube = bootcamp
    bootcamp("patch", "deployment", "kubernetes-bootcamp", "--type=merge", "-p",
             '{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":3000}}}}')
    kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    name = next(p["metadata"]["name"] for p in kube.pods() if not p["metadata"].get("deletionTimestamp"))
    kube("delete", "pod", name, "--wait=false")
    pod = kube.json("get", "pod", name)
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 3000
    assert " Terminating " in kube("get", "pod", name)
    done = kube.run("delete", "pod", name, "--grace-period=1")
    assert done.returncode == 0, done.stderr
    assert kube.run("get", "pod", name).stderr.strip() == f'Error from server (NotFound): pods "{name}" not found'

"""Every command of the seed lesson, run with the real kubectl against the practice cluster."""

from __future__ import annotations

import re
import urllib.request

from tests.practice.conftest import Kube, WatchStream, rollout_bounds, wait_for

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
V10 = "jocatalin/kubernetes-bootcamp:v10"
POD_NAME = re.compile(r"^kubernetes-bootcamp-[4-9bcdf]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$")


def images(kube: Kube) -> list[str]:
    return sorted(p["spec"]["containers"][0]["image"] for p in kube.pods()
                  if not p["metadata"].get("deletionTimestamp"))


def curl(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def node_port(kube: Kube) -> int:
    out = kube("get", "services/kubernetes-bootcamp", "-o", "go-template={{(index .spec.ports 0).nodePort}}")
    return int(out)


def test_start_state_has_four_running_pods(bootcamp: Kube) -> None:
    out = bootcamp("get", "deployments")
    assert out.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert out.splitlines()[1].split()[:4] == ["kubernetes-bootcamp", "4/4", "4", "4"]
    lines = bootcamp("get", "pods").splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == 5
    for line in lines[1:]:
        name, ready, status, restarts, _age = line.split()
        assert POD_NAME.match(name), name
        assert (ready, status, restarts) == ("1/1", "Running", "0")


def test_get_wide_and_all(bootcamp: Kube) -> None:
    wide = bootcamp("get", "pods", "-o", "wide").splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                               "READINESS", "GATES"]
    cells = wide[1].split()
    assert re.match(r"^10\.244\.\d+\.\d+$", cells[5])
    assert cells[6] == "kube-tutor-control-plane"
    everything = bootcamp("get", "all")
    assert "deployment.apps/kubernetes-bootcamp   4/4" in everything
    assert re.search(r"service/kubernetes-bootcamp\s+NodePort\s+10\.96\.\d+\.\d+\s+<none>\s+8080:3\d{4}/TCP",
                     everything)
    assert re.search(r"replicaset.apps/kubernetes-bootcamp-[4-9bcdf]+\s+4\s+4\s+4", everything)
    rs = bootcamp("get", "rs", "-o", "wide")
    assert "gcr.io/google-samples/kubernetes-bootcamp:v1" in rs
    assert "app=kubernetes-bootcamp,pod-template-hash=" in rs


def test_describe_pods_deployment_service(bootcamp: Kube) -> None:
    pods = bootcamp("describe", "pods")
    assert len(re.findall(r"Image:\s+gcr\.io/google-samples/kubernetes-bootcamp:v1\n", pods)) == 4
    assert "Controlled By:  ReplicaSet/kubernetes-bootcamp-" in pods
    assert "Node:             kube-tutor-control-plane/127.0.0.1" in pods
    name = bootcamp.pods()[0]["metadata"]["name"]
    one = bootcamp("describe", "pod", name)
    assert re.search(r"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned "
                     rf"{bootcamp.namespace}/{name} to kube-tutor-control-plane", one)
    assert 'spec.containers{kubernetes-bootcamp}: Container image "gcr.io/google-samples/kubernetes-bootcamp:v1" ' \
           "already present on machine" in one
    assert "spec.containers{kubernetes-bootcamp}: Container started" in one  # the 1.37 kubelet's wording
    deployment = bootcamp("describe", "deployment", "kubernetes-bootcamp")
    assert "Replicas:               4 desired | 4 updated | 4 total | 4 available | 0 unavailable" in deployment
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in deployment
    assert re.search(r"Available\s+True\s+MinimumReplicasAvailable", deployment)
    assert re.search(r"Progressing\s+True\s+NewReplicaSetAvailable", deployment)
    assert re.search(r"NewReplicaSet:\s+kubernetes-bootcamp-\S+ \(4/4 replicas created\)", deployment)
    assert re.search(r"Scaled up replica set kubernetes-bootcamp-\S+ from 0 to 4", deployment)
    service = bootcamp("describe", "services/kubernetes-bootcamp")
    assert re.search(r"Type:\s+NodePort", service)
    assert re.search(r"NodePort:\s+<unset>\s+3\d{4}/TCP", service)
    assert re.search(r"Endpoints:\s+10\.244\.\S+:8080,10\.244\.\S+:8080,10\.244\.\S+:8080 \+ 1 more\.\.\.", service)


def test_the_whole_lesson(bootcamp: Kube) -> None:
    kube = bootcamp
    # Step 1: update to v2, watching that the rollout keeps 3..5 pods.
    watch = WatchStream(kube)
    watch.wait_for_events(4)
    out = kube("set", "image", "deployments/kubernetes-bootcamp", f"kubernetes-bootcamp={V2}")
    assert out.strip() == "deployment.apps/kubernetes-bootcamp image updated"
    # Step 2: rollout status prints the real waiting lines and ends successfully.
    status = kube("rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=60s")
    lines = status.strip().splitlines()
    assert lines[-1] == 'deployment "kubernetes-bootcamp" successfully rolled out'
    for line in lines[:-1]:
        assert re.match(r'^Waiting for deployment "kubernetes-bootcamp" rollout to finish: '
                        r"(\d+ out of 4 new replicas have been updated|\d+ old replicas are pending termination|"
                        r"\d+ of 4 updated replicas are available)\.\.\.$|"
                        r"^Waiting for deployment spec update to be observed\.\.\.$", line), line
    most, least, after = rollout_bounds(watch.stop(), 4)
    assert after > 10, "the watch saw the rollout"
    assert most <= 5, f"{most} active pods during the rollout (maxSurge 1)"
    assert least >= 3, f"only {least} available pods during the rollout (maxUnavailable 1)"
    wait_for(lambda: images(kube) == [f"{V2}"] * 4, message="4 v2 pods")
    # The v1 pods ignore SIGTERM: they stay Terminating for their grace period, then go.
    wait_for(lambda: len(kube.pods()) == 4, message="old pods gone")
    port = node_port(kube)
    answers = {curl(port) for _ in range(8)}
    assert len(answers) >= 2, answers
    for answer in answers:
        assert re.match(r"^Hello Kubernetes bootcamp! \| Running on: kubernetes-bootcamp-\S+ \| v=2\n$", answer)
    env_out = kube.shell("export NODE_PORT=$(kubectl get services/kubernetes-bootcamp -o go-template="
                         "'{{(index .spec.ports 0).nodePort}}'); echo NODE_PORT=$NODE_PORT; curl -s localhost:$NODE_PORT")
    assert env_out.stdout.startswith(f"NODE_PORT={port}\nHello Kubernetes bootcamp! | Running on: ")
    assert len(re.findall(rf"Image:\s+{re.escape(V2)}\n", kube("describe", "pods"))) >= 4
    # Step 3: v10 does not exist: the rollout stalls with 3 available and two failing pods.
    kube("set", "image", "deployments/kubernetes-bootcamp", f"kubernetes-bootcamp={V10}")

    def stalled() -> bool:
        pods = [p for p in kube.pods() if not p["metadata"].get("deletionTimestamp")]
        reasons = sorted(((p["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("waiting") or {})
                         .get("reason", "Running") for p in pods)
        return len(pods) == 5 and reasons.count("Running") == 3 and \
            all(r in ("ErrImagePull", "ImagePullBackOff") for r in reasons if r != "Running")

    wait_for(stalled, message="the v10 stall")
    row = kube("get", "deployments").splitlines()[1].split()
    assert row[:4] == ["kubernetes-bootcamp", "3/4", "2", "3"]
    # The v2 pod scaled away stays Terminating for its grace period; then five pods in all.
    wait_for(lambda: len(kube("get", "pods").splitlines()[1:]) == 5, message="five pods")
    wait_for(lambda: any(" ImagePullBackOff " in line for line in kube("get", "pods").splitlines()),
             message="ImagePullBackOff")
    pending = kube("get", "pods", "--field-selector", "status.phase=Pending", "-o", "name").split()
    assert len(pending) == 2
    # kubectl 1.37 prints events only when it describes a single object (describe.go --show-events).
    every = kube("describe", "pods")
    assert len(re.findall(r"Reason:\s+(ErrImagePull|ImagePullBackOff)\n", every)) == 2
    assert len(re.findall(rf"Image:\s+{re.escape(V10)}\n", every)) == 2
    described = kube("describe", "pod", pending[0].split("/")[1])
    assert f'Pulling image "{V10}"' in described
    assert f'Failed to pull image "{V10}": rpc error: code = NotFound' in described
    assert "Error: ErrImagePull" in described
    assert re.search(r"Back-off pulling image \"jocatalin/kubernetes-bootcamp:v10\"", described)
    # Undo: back to v2, failing pods gone, 4/4 available.
    assert kube("rollout", "undo", "deployments/kubernetes-bootcamp").strip() == \
        "deployment.apps/kubernetes-bootcamp rolled back"
    kube("rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=60s")
    wait_for(lambda: images(kube) == [f"{V2}"] * 4, message="back on v2")
    row = kube("get", "deployments").splitlines()[1].split()
    assert row[:4] == ["kubernetes-bootcamp", "4/4", "4", "4"]
    history = kube("rollout", "history", "deployments/kubernetes-bootcamp")
    assert history == ("deployment.apps/kubernetes-bootcamp \nREVISION  CHANGE-CAUSE\n1         <none>\n"
                       "3         <none>\n4         <none>\n\n")
    revision = kube("rollout", "history", "deployments/kubernetes-bootcamp", "--revision=4")
    assert "deployment.apps/kubernetes-bootcamp with revision #4" in revision
    assert f"Image:\t{V2}" in revision

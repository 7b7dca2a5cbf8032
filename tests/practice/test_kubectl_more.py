"""More of the real kubectl against the practice cluster: exact outputs of everyday commands.

Names, ages and IPs vary; everything else is compared with what kubectl 1.37 prints against a real
apiserver (see /work/shared/reference/kubectl-api.md and k8s-semantics.md).
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.practice.conftest import Kube, wait_for

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
V10 = "jocatalin/kubernetes-bootcamp:v10"
HASH = r"[4-9bcdf]{6,10}"
SUFFIX = r"[bcdfghjklmnpqrstvwxz2456789]{5}"
POD_NAME = re.compile(rf"^kubernetes-bootcamp-{HASH}-{SUFFIX}$")
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


# ---- helpers -------------------------------------------------------------------------------------
class Stream:
    """The stdout of a long-running kubectl, read line by line by a thread (no fixed sleeps)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def read_until(self, done: Callable[[list[str]], bool], *, timeout: float = 30.0,
                   message: str = "lines") -> list[str]:
        """Read lines until ``done(all lines so far)``; fail at the deadline or if the stream ends."""
        deadline = time.monotonic() + timeout
        while not done(self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"timed out after {timeout} s waiting for {message}; got {self.lines!r}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                stderr = self.proc.stderr.read() if self.proc.stderr else ""
                pytest.fail(f"the stream ended (exit {self.proc.wait()}) before {message}; "
                            f"got {self.lines!r}; stderr {stderr!r}")
            self.lines.append(line)
        return self.lines

    def stop(self) -> str:
        """Terminate kubectl like Ctrl-C would; return its stderr."""
        self.proc.terminate()
        _, stderr = self.proc.communicate(timeout=10)
        self._thread.join(timeout=10)
        return stderr


def active(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def names(pods: list[dict[str, Any]]) -> set[str]:
    return {p["metadata"]["name"] for p in pods}


def rows(out: str) -> list[list[str]]:
    """The cells of a kubectl table (header excluded), split on runs of 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[1:] if line.strip()]


def node_port(kube: Kube, service: str = "kubernetes-bootcamp") -> int:
    return int(kube("get", f"services/{service}", "-o", "go-template={{(index .spec.ports 0).nodePort}}"))


def curl(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def answering_pod(answer: str) -> str:
    found = re.match(r"^Hello Kubernetes bootcamp! \| Running on: (\S+) \| v=\d+\n$", answer)
    assert found, answer
    return found.group(1)


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def deployment_settled(kube: Kube, replicas: int, name: str = "kubernetes-bootcamp") -> Callable[[], bool]:
    def check() -> bool:
        d = kube.deployment(name)
        s = d.get("status", {})
        pods = kube.pods(f"app={name}")
        return (d["spec"]["replicas"] == replicas and s.get("observedGeneration") == d["metadata"]["generation"]
                and s.get("replicas") == s.get("readyReplicas") == s.get("availableReplicas") == replicas
                and len(pods) == replicas and all(ready(p) for p in pods))

    return check


def write_manifest(path: Path, *docs: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def web_deployment(replicas: int = 2, image: str = V2, name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "web", "image": image,
                                                  "ports": [{"containerPort": 8080}]}]}},
        },
    }


# ---- scale -----------------------------------------------------------------------------------------
def test_scale_down_terminates_two_pods_then_scale_back_up(bootcamp: Kube) -> None:
    kube = bootcamp
    before = names(kube.pods())
    watch = Stream(kube.popen("get", "pods", "-w", "--output-watch-events", "-o",
                              'jsonpath={.type} {.object.metadata.name} {.object.metadata.deletionTimestamp}{"\\n"}'))
    try:
        watch.read_until(lambda lines: len(lines) >= 4, message="the 4 initial ADDED events")
        assert kube("scale", "deployments/kubernetes-bootcamp", "--replicas=2") == \
            "deployment.apps/kubernetes-bootcamp scaled\n"

        def two_deleted(lines: list[str]) -> bool:
            return sum(line.startswith("DELETED ") for line in lines) >= 2

        lines = watch.read_until(two_deleted, message="two pods deleted")
    finally:
        watch.stop()
    events = [line.split(" ") for line in lines]
    assert [e[0] for e in events[:4]] == ["ADDED"] * 4
    assert {e[1] for e in events[:4]} == before
    deleted = [e[1] for e in events if e[0] == "DELETED"]
    assert len(deleted) == 2 and set(deleted) <= before
    for name in deleted:
        # Terminating first (deletionTimestamp set, still listed), then gone.
        marks = [i for i, e in enumerate(events) if e[1] == name and e[0] == "MODIFIED" and len(e) > 2 and e[2]]
        assert marks and marks[0] < max(i for i, e in enumerate(events) if e[1] == name and e[0] == "DELETED")
    wait_for(deployment_settled(kube, 2), message="2/2")
    assert kube("get", "deployments").splitlines()[1].split()[:4] == ["kubernetes-bootcamp", "2/2", "2", "2"]
    assert names(kube.pods()) == before - set(deleted)

    assert kube("scale", "deployments/kubernetes-bootcamp", "--replicas=4") == \
        "deployment.apps/kubernetes-bootcamp scaled\n"
    kube("rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=60s")
    wait_for(deployment_settled(kube, 4), message="4/4 again")
    assert kube("get", "deployments").splitlines()[1].split()[:4] == ["kubernetes-bootcamp", "4/4", "4", "4"]


def test_scale_to_a_negative_count_is_refused_by_kubectl(kube: Kube) -> None:
    kube("create", "deployment", "neg", f"--image={V1}")
    result = kube.run("scale", "deployments/neg", "--replicas=-1")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n"


# ---- delete pod ----------------------------------------------------------------------------------
def test_delete_pod_blocks_for_the_grace_period_and_is_replaced_at_once(bootcamp: Kube) -> None:
    kube = bootcamp
    victim = kube.pods()[0]["metadata"]["name"]
    proc = kube.popen("delete", "pod", victim)
    try:
        def replacement_while_terminating() -> bool:
            running = proc.poll() is None
            table = {r[0]: r for r in rows(kube("get", "pods"))}
            if victim in table and not running:
                pytest.fail(f"kubectl delete returned while {victim} was still listed")
            others = [r for name, r in table.items() if name != victim]
            return victim in table and table[victim][1:4] == ["1/1", "Terminating", "0"] and len(others) == 4

        wait_for(replacement_while_terminating, message="a 5th pod while the deleted one is Terminating")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, out, err) == (0, f'pod "{victim}" deleted from {kube.namespace} namespace\n', "")
    gone = kube.run("get", "pod", victim)
    assert (gone.returncode, gone.stderr) == (1, f'Error from server (NotFound): pods "{victim}" not found\n')
    events = kube("get", "events", "--field-selector", f"involvedObject.name={victim}")
    assert re.search(r"Normal\s+Killing\s+pod/\S+\s+Stopping container kubernetes-bootcamp", events), events
    wait_for(lambda: len(kube.pods()) == 4 and all(ready(p) for p in kube.pods()), message="4 ready pods")


def test_force_delete_removes_the_pod_at_once(bootcamp: Kube) -> None:
    kube = bootcamp
    victim = kube.pods()[0]["metadata"]["name"]
    result = kube.run("delete", "pod", victim, "--grace-period=0", "--force")
    assert result.returncode == 0
    assert result.stdout == f'pod "{victim}" force deleted from {kube.namespace} namespace\n'
    assert result.stderr == ("Warning: Immediate deletion does not wait for confirmation that the running resource "
                             "has been terminated. The resource may continue to run on the cluster indefinitely.\n")
    gone = kube.run("get", "pod", victim)
    assert gone.stderr == f'Error from server (NotFound): pods "{victim}" not found\n'
    wait_for(lambda: len(active(kube.pods())) == 4 and victim not in names(kube.pods()), message="replacement")


def test_a_pod_whose_container_never_started(kube: Kube) -> None:
    kube("create", "deployment", "broken", f"--image={V10}")

    def failing() -> str | None:
        for pod in kube.pods("app=broken"):
            waiting = ((pod["status"].get("containerStatuses") or [{}])[0].get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
                return pod["metadata"]["name"]
        return None

    pod = wait_for(failing, message="a pod failing to pull v10")
    logs = kube.run("logs", pod)
    assert (logs.returncode, logs.stdout) == (1, "")
    assert logs.stderr == (f'Error from server (BadRequest): container "kubernetes-bootcamp" in pod "{pod}" '
                           "is waiting to start: trying and failing to pull image\n")
    assert kube("delete", "pod", pod) == f'pod "{pod}" deleted from {kube.namespace} namespace\n'
    assert kube.run("get", "pod", pod).returncode == 1
    # No container ran, so nothing had to be stopped (a running one gets a Killing event).
    events = kube("get", "events", "--field-selector", f"involvedObject.name={pod}")
    assert "Killing" not in events, events
    assert "Failed to pull image" in events


# ---- logs ------------------------------------------------------------------------------------------
def banner(pod: str) -> str:
    return rf"Kubernetes Bootcamp App Started At: {ISO_MS} \| Running On:  {re.escape(pod)} "


def test_logs_show_the_banner_and_each_request(bootcamp: Kube) -> None:
    kube = bootcamp
    for pod in names(kube.pods()):
        assert re.fullmatch(banner(pod) + r"\n+", kube("logs", pod)), pod
    answered = answering_pod(curl(node_port(kube)))
    assert POD_NAME.match(answered)
    lines = [line for line in kube("logs", answered).splitlines() if line]
    assert len(lines) == 2, lines
    assert re.fullmatch(banner(answered), lines[0])
    assert re.fullmatch(rf"Running On: {re.escape(answered)} \| Total Requests: 1 \| App Uptime: \d+(\.\d+)? "
                        r"seconds \| Log Time: .+", lines[1]), lines[1]
    others = names(kube.pods()) - {answered}
    for pod in others:  # only the pod that answered logged a request
        assert "Total Requests" not in kube("logs", pod)


def test_logs_of_a_deployment_use_one_of_its_pods(bootcamp: Kube) -> None:
    result = bootcamp.run("logs", "deploy/kubernetes-bootcamp")
    assert result.returncode == 0
    found = re.fullmatch(r"Found 4 pods, using pod/(\S+)\n", result.stderr)
    assert found, result.stderr
    assert found.group(1) in names(bootcamp.pods())
    assert re.fullmatch(banner(found.group(1)) + r"\n+", result.stdout)


def test_logs_match_what_server_js_prints(bootcamp: Kube) -> None:
    kube = bootcamp
    answered = answering_pod(curl(node_port(kube)))
    # server.js: console.log("Kubernetes Bootcamp App Started At:", startTime, "| Running On: ", host, "\n")
    #            console.log("Running On:", host, "| Total Requests:", ++requests, "| App Uptime:", ..., "seconds",
    #                        "| Log Time:", new Date())
    assert re.fullmatch(banner(answered) + r"\n\n"
                        rf"Running On: {re.escape(answered)} \| Total Requests: 1 \| App Uptime: \d+(\.\d+)? seconds "
                        rf"\| Log Time: {ISO_MS}\n", kube("logs", answered)), kube("logs", answered)


# ---- get -w ----------------------------------------------------------------------------------------
def test_get_pods_watch_streams_until_interrupted(bootcamp: Kube) -> None:
    kube = bootcamp
    before = names(kube.pods())
    watch = Stream(kube.popen("get", "pods", "-w"))
    try:
        lines = watch.read_until(lambda ls: len(ls) >= 5, message="the header and 4 rows")
        assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert {line.split()[0] for line in lines[1:5]} == before
        assert kube("scale", "deployments/kubernetes-bootcamp", "--replicas=5") == \
            "deployment.apps/kubernetes-bootcamp scaled\n"

        def new_pod_running(ls: list[str]) -> bool:
            return any(line.split()[0] not in before and line.split()[1:3] == ["1/1", "Running"] for line in ls[5:])

        lines = watch.read_until(new_pod_running, message="the new pod's rows up to Running")
        assert watch.proc.poll() is None, "kubectl get -w must keep watching"
    finally:
        stderr = watch.stop()
    assert stderr == ""
    new_rows = [line.split() for line in lines[5:]]
    new_pod = [r for r in new_rows if r[0] not in before]
    assert len({r[0] for r in new_pod}) == 1 and POD_NAME.match(new_pod[0][0])
    assert all(len(r) == 5 and r[3] == "0" for r in new_pod)
    assert new_pod[-1][1:3] == ["1/1", "Running"]
    assert {r[2] for r in new_pod} <= {"Pending", "ContainerCreating", "Running"}


# ---- apply -----------------------------------------------------------------------------------------
def test_apply_creates_configures_and_leaves_unchanged(kube: Kube, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "web.yaml", web_deployment(replicas=2))
    assert kube("apply", "-f", str(manifest)) == "deployment.apps/web created\n"
    applied = kube.deployment("web")
    assert "kubectl.kubernetes.io/last-applied-configuration" in applied["metadata"]["annotations"]
    assert kube("apply", "-f", str(manifest)) == "deployment.apps/web unchanged\n"
    write_manifest(manifest, web_deployment(replicas=3))
    assert kube("apply", "-f", str(manifest)) == "deployment.apps/web configured\n"
    assert kube.deployment("web")["spec"]["replicas"] == 3
    assert kube("apply", "-f", str(manifest)) == "deployment.apps/web unchanged\n"
    wait_for(deployment_settled(kube, 3, "web"), message="web 3/3")


def test_apply_a_service(kube: Kube, tmp_path: Path) -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    manifest = write_manifest(tmp_path / "svc.yaml", service)
    assert kube("apply", "-f", str(manifest)) == "service/web created\n"
    assert kube("apply", "-f", str(manifest)) == "service/web unchanged\n"
    svc = kube.json("get", "service", "web")
    assert svc["spec"]["type"] == "ClusterIP"
    assert re.fullmatch(r"10\.96\.\d+\.\d+", svc["spec"]["clusterIP"])
    service["spec"]["ports"][0]["port"] = 81
    write_manifest(manifest, service)
    assert kube("apply", "-f", str(manifest)) == "service/web configured\n"
    assert kube.json("get", "service", "web")["spec"]["clusterIP"] == svc["spec"]["clusterIP"]
    both = write_manifest(tmp_path / "both.yaml", service, web_deployment(replicas=1))
    assert kube("apply", "-f", str(both)) == "service/web unchanged\ndeployment.apps/web created\n"


def test_apply_server_side(kube: Kube, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "ssa.yaml", web_deployment(replicas=1, name="ssa"))
    assert kube("apply", "--server-side", "-f", str(manifest)) == "deployment.apps/ssa serverside-applied\n"
    assert kube.deployment("ssa")["spec"]["replicas"] == 1
    write_manifest(manifest, web_deployment(replicas=2, name="ssa"))
    assert kube("apply", "--server-side", "-f", str(manifest)) == "deployment.apps/ssa serverside-applied\n"
    assert kube.deployment("ssa")["spec"]["replicas"] == 2
    wait_for(deployment_settled(kube, 2, "ssa"), message="ssa 2/2")


def test_apply_rejects_unknown_fields(kube: Kube, tmp_path: Path) -> None:
    doc = web_deployment(name="typo")
    doc["spec"]["foo"] = "bar"
    manifest = write_manifest(tmp_path / "typo.yaml", doc)
    result = kube.run("apply", "-f", str(manifest))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f'Error from server (BadRequest): error when creating "{manifest}": Deployment in '
                             'version "v1" cannot be handled as a Deployment: strict decoding error: '
                             'unknown field "spec.foo"\n')


def test_apply_rejects_a_selector_that_does_not_match_the_template(kube: Kube, tmp_path: Path) -> None:
    doc = web_deployment(name="bad")
    doc["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    result = kube.run("apply", "-f", str(write_manifest(tmp_path / "bad.yaml", doc)))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith('The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: ')
    assert result.stderr.endswith(": `selector` does not match template `labels`\n")
    assert '"app"' in result.stderr and '"other"' in result.stderr
    assert kube.run("get", "deployment", "bad").returncode == 1


def test_invalid_values_are_rendered_as_json_like_a_1_37_server(kube: Kube, tmp_path: Path) -> None:
    doc = web_deployment(name="bad")
    doc["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    result = kube.run("apply", "-f", str(write_manifest(tmp_path / "bad.yaml", doc)))
    assert result.stderr == ('The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: '
                             '{"app":"other"}: `selector` does not match template `labels`\n')


def test_patch_with_a_negative_replica_count_is_invalid(kube: Kube) -> None:
    kube("create", "deployment", "neg", f"--image={V1}")
    result = kube.run("patch", "deployment", "neg", "-p", '{"spec":{"replicas":-1}}')
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('The Deployment "neg" is invalid: spec.replicas: Invalid value: -1: '
                             "must be greater than or equal to 0\n")


# ---- rollout history / undo --------------------------------------------------------------------------
def test_rollout_history_revision_and_undo(bootcamp: Kube) -> None:
    kube = bootcamp
    assert kube("set", "image", "deployments/kubernetes-bootcamp", f"kubernetes-bootcamp={V2}") == \
        "deployment.apps/kubernetes-bootcamp image updated\n"
    kube("rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=60s")
    revision = kube("rollout", "history", "deployments/kubernetes-bootcamp", "--revision=2")
    assert re.fullmatch(
        "deployment.apps/kubernetes-bootcamp with revision #2\n"
        "Pod Template:\n"
        "  Labels:\tapp=kubernetes-bootcamp\n"
        f"\tpod-template-hash={HASH}\n"
        "  Containers:\n"
        "   kubernetes-bootcamp:\n"
        f"    Image:\t{re.escape(V2)}\n"
        "    Port:\t<none>\n"
        "    Host Port:\t<none>\n"
        "    Environment:\t<none>\n"
        "    Mounts:\t<none>\n"
        "  Volumes:\t<none>\n"
        "  Node-Selectors:\t<none>\n"
        "  Tolerations:\t<none>\n\n", revision), revision
    first = kube("rollout", "history", "deployments/kubernetes-bootcamp", "--revision=1")
    assert f"    Image:\t{V1}\n" in first
    missing = kube.run("rollout", "history", "deployments/kubernetes-bootcamp", "--revision=9")
    assert (missing.returncode, missing.stdout, missing.stderr) == \
        (1, "", "error: unable to find the specified revision\n")

    assert kube("rollout", "undo", "deployments/kubernetes-bootcamp", "--to-revision=1") == \
        "deployment.apps/kubernetes-bootcamp rolled back\n"
    kube("rollout", "status", "deployments/kubernetes-bootcamp", "--timeout=60s")
    wait_for(lambda: sorted(p["spec"]["containers"][0]["image"] for p in active(kube.pods())) == [V1] * 4,
             message="back on v1")
    # The v1 ReplicaSet was re-used and became revision 3; revision 1 is gone from the history.
    assert kube("rollout", "history", "deployments/kubernetes-bootcamp") == \
        "deployment.apps/kubernetes-bootcamp \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n"
    again = kube.run("rollout", "undo", "deployments/kubernetes-bootcamp", "--to-revision=3")
    assert (again.returncode, again.stdout) == \
        (0, "deployment.apps/kubernetes-bootcamp skipped rollback (current template already matches revision 3)\n")
    gone = kube.run("rollout", "undo", "deployments/kubernetes-bootcamp", "--to-revision=1")
    assert (gone.returncode, gone.stderr) == (1, "error: unable to find specified revision 1 in history\n")
    assert kube.deployment()["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


# ---- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "message"), [
    (("get", "deployment", "nope"), 'deployments.apps "nope" not found'),
    (("get", "pod", "nope"), 'pods "nope" not found'),
    (("get", "service", "nope"), 'services "nope" not found'),
    (("describe", "deployment", "nope"), 'deployments.apps "nope" not found'),
    (("describe", "pod", "nope"), 'pods "nope" not found'),
    (("describe", "service", "nope"), 'services "nope" not found'),
    (("delete", "deployment", "nope"), 'deployments.apps "nope" not found'),
    (("delete", "pod", "nope"), 'pods "nope" not found'),
    (("delete", "service", "nope"), 'services "nope" not found'),
    (("scale", "deployment", "nope", "--replicas=1"), 'deployments.apps "nope" not found'),
])
def test_not_found(kube: Kube, args: tuple[str, ...], message: str) -> None:
    result = kube.run(*args)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Error from server (NotFound): {message}\n"


def test_logs_of_a_missing_pod(kube: Kube) -> None:
    result = kube.run("logs", "nope")
    assert (result.returncode, result.stdout) == (1, "")
    # kubectl's own wording for logs (polymorphichelpers.logsForObject), not the server's message verbatim.
    assert result.stderr == f'error: error from server (NotFound): pods "nope" not found in namespace "{kube.namespace}"\n'


def test_already_exists(kube: Kube) -> None:
    assert kube("create", "deployment", "kubernetes-bootcamp", f"--image={V1}") == \
        "deployment.apps/kubernetes-bootcamp created\n"
    again = kube.run("create", "deployment", "kubernetes-bootcamp", f"--image={V1}")
    assert (again.returncode, again.stdout, again.stderr) == \
        (1, "", 'error: failed to create deployment: deployments.apps "kubernetes-bootcamp" already exists\n')
    assert kube("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080") == \
        "service/kubernetes-bootcamp exposed\n"
    twice = kube.run("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080")
    assert (twice.returncode, twice.stdout, twice.stderr) == \
        (1, "", 'Error from server (AlreadyExists): services "kubernetes-bootcamp" already exists\n')


def test_replace_with_a_stale_resource_version_conflicts(bootcamp: Kube, tmp_path: Path) -> None:
    kube = bootcamp
    stale = tmp_path / "deployment.yaml"
    stale.write_text(kube("get", "deployment", "kubernetes-bootcamp", "-o", "yaml"))
    kube("scale", "deployments/kubernetes-bootcamp", "--replicas=3")
    result = kube.run("replace", "-f", str(stale))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f'Error from server (Conflict): error when replacing "{stale}": Operation cannot be '
                             'fulfilled on deployments.apps "kubernetes-bootcamp": the object has been modified; '
                             "please apply your changes to the latest version and try again\n")
    assert kube.deployment()["spec"]["replicas"] == 3
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(kube("get", "deployment", "kubernetes-bootcamp", "-o", "yaml"))
    assert kube("replace", "-f", str(fresh)) == "deployment.apps/kubernetes-bootcamp replaced\n"
    without_rv = yaml.safe_load(fresh.read_text())
    del without_rv["metadata"]["resourceVersion"]
    without_rv["spec"]["replicas"] = 2
    write_manifest(fresh, without_rv)
    assert kube("replace", "-f", str(fresh)) == "deployment.apps/kubernetes-bootcamp replaced\n"
    assert kube.deployment()["spec"]["replicas"] == 2


# ---- create, run, label, annotate, selectors -------------------------------------------------------
def test_create_deployment_names_replicasets_and_pods(kube: Kube) -> None:
    assert kube("create", "deployment", "x", f"--image={V2}", "--replicas=2") == "deployment.apps/x created\n"
    wait_for(deployment_settled(kube, 2, "x"), message="x 2/2")
    (rs,) = kube.json("get", "rs", "-l", "app=x")["items"]
    rs_name = rs["metadata"]["name"]
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(rf"x-{HASH}", rs_name) and rs_name == f"x-{pod_hash}"
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    for pod in kube.pods("app=x"):
        assert re.fullmatch(rf"{re.escape(rs_name)}-{SUFFIX}", pod["metadata"]["name"])
        assert pod["metadata"]["generateName"] == f"{rs_name}-"
        assert pod["spec"]["containers"][0]["name"] == "kubernetes-bootcamp"
        assert pod["metadata"]["labels"] == {"app": "x", "pod-template-hash": pod_hash}


def test_run_label_and_annotate_a_pod(kube: Kube) -> None:
    assert kube("run", "one", f"--image={V1}") == "pod/one created\n"
    pod = kube.json("get", "pod", "one")
    assert pod["metadata"]["labels"] == {"run": "one"}
    assert pod["spec"]["containers"][0] == {**pod["spec"]["containers"][0], "name": "one", "image": V1}
    assert kube("label", "pod", "one", "tier=web") == "pod/one labeled\n"
    clash = kube.run("label", "pod", "one", "tier=db")
    assert (clash.returncode, clash.stderr) == \
        (1, "error: 'tier' already has a value (web), and --overwrite is false\n")
    assert kube("label", "pod", "one", "tier=db", "--overwrite") == "pod/one labeled\n"
    assert kube("annotate", "pod", "one", "note=hello") == "pod/one annotated\n"
    assert kube("label", "pod", "one", "tier-") == "pod/one unlabeled\n"
    pod = kube.json("get", "pod", "one")
    assert pod["metadata"]["labels"] == {"run": "one"}
    assert pod["metadata"]["annotations"]["note"] == "hello"
    wait_for(lambda: kube("get", "pod", "one").splitlines()[1].split()[1:3] == ["1/1", "Running"],
             message="pod one Running")


def test_label_and_field_selectors(bootcamp: Kube) -> None:
    kube = bootcamp
    pods = sorted(names(kube.pods()))
    kube("label", "pod", pods[0], "tier=db")
    everything = kube("get", "pods", "-l", "app=kubernetes-bootcamp")
    assert sorted(r[0] for r in rows(everything)) == pods
    not_db = kube("get", "pods", "-l", "app in (kubernetes-bootcamp),tier notin (db)", "-o", "name")
    assert sorted(not_db.split()) == [f"pod/{p}" for p in pods[1:]]
    assert kube("get", "pods", "-l", "tier in (db)", "-o", "name") == f"pod/{pods[0]}\n"
    assert kube("get", "pods", "-l", "!tier", "-o", "name").split() == [f"pod/{p}" for p in pods[1:]]
    running = kube("get", "pods", "--field-selector", "status.phase=Running", "-o", "name")
    assert sorted(running.split()) == [f"pod/{p}" for p in pods]
    both = kube("get", "pods", "-l", "tier=db", "--field-selector", f"metadata.name!={pods[0]}")
    assert both == ""
    none = kube.run("get", "pods", "--field-selector", "status.phase=Pending")
    assert (none.returncode, none.stdout, none.stderr) == (0, "", f"No resources found in {kube.namespace} namespace.\n")


def test_events_filtered_by_involved_object_kind(bootcamp: Kube) -> None:
    kube = bootcamp
    pod_events = kube("get", "events", "--field-selector", "involvedObject.kind=Pod")
    header = pod_events.splitlines()[0].split()
    assert header == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    objects = {line.split()[3] for line in pod_events.splitlines()[1:]}
    assert objects == {f"pod/{p}" for p in names(kube.pods())}
    assert re.search(r"Normal\s+Scheduled\s+pod/\S+\s+Successfully assigned "
                     rf"{kube.namespace}/\S+ to kube-tutor-control-plane", pod_events)
    deployment_events = kube("get", "events", "--field-selector", "involvedObject.kind=Deployment")
    assert re.fullmatch(r"LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n"
                        r"\S+\s+Normal\s+ScalingReplicaSet\s+deployment/kubernetes-bootcamp\s+"
                        rf"Scaled up replica set kubernetes-bootcamp-{HASH} from 0 to 4\n", deployment_events)


# ---- other read-only commands -----------------------------------------------------------------------
def test_endpoints_and_endpointslices(bootcamp: Kube) -> None:
    endpoints = bootcamp.run("get", "endpoints")
    assert endpoints.returncode == 0
    assert endpoints.stdout.splitlines()[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    ip = r"10\.244\.\d+\.\d+"
    assert re.fullmatch(rf"kubernetes-bootcamp\s+{ip}:8080,{ip}:8080,{ip}:8080 \+ 1 more\.\.\.\s+\S+",
                        endpoints.stdout.splitlines()[1]), endpoints.stdout
    slices = bootcamp("get", "endpointslices")
    assert slices.splitlines()[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert re.fullmatch(rf"kubernetes-bootcamp-[a-z0-9]{{5}}\s+IPv4\s+8080\s+{ip},{ip},{ip} \+ 1 more\.\.\.\s+\S+",
                        slices.splitlines()[1]), slices
    pod_ips = sorted(p["status"]["podIP"] for p in bootcamp.pods())
    (ep,) = bootcamp.json("get", "endpoints")["items"]
    assert sorted(a["ip"] for a in ep["subsets"][0]["addresses"]) == pod_ips
    (eps,) = bootcamp.json("get", "endpointslices", "-l", "kubernetes.io/service-name=kubernetes-bootcamp")["items"]
    assert sorted(e["addresses"][0] for e in eps["endpoints"]) == pod_ips


def test_get_endpoints_warns_about_the_deprecation(bootcamp: Kube) -> None:
    result = bootcamp.run("get", "endpoints")
    assert result.stderr == "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n"


def test_get_all_in_all_namespaces(bootcamp: Kube) -> None:
    out = bootcamp("get", "all", "-A")
    sections = out.strip().split("\n\n")
    assert len(sections) >= 4
    assert all(s.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"] for s in sections)
    ns = bootcamp.namespace
    assert len(re.findall(rf"^{ns}\s+pod/kubernetes-bootcamp-\S+\s+1/1\s+Running\s+0\s+\S+$", out, re.M)) == 4
    assert re.search(r"^default\s+service/kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP\s+\S+$", out, re.M)
    assert re.search(rf"^{ns}\s+service/kubernetes-bootcamp\s+NodePort\s+", out, re.M)
    assert re.search(rf"^{ns}\s+deployment\.apps/kubernetes-bootcamp\s+4/4\s+4\s+4\s+\S+$", out, re.M)
    assert re.search(rf"^{ns}\s+replicaset\.apps/kubernetes-bootcamp-{HASH}\s+4\s+4\s+4\s+\S+$", out, re.M)


def test_nodes_wide(kube: Kube) -> None:
    out = kube("get", "nodes", "-o", "wide").splitlines()
    assert out[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
                              "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert len(out) == 2
    cells = rows("\n".join(out))[0]
    assert cells[0:3] == ["kube-tutor-control-plane", "Ready", "control-plane"]
    assert re.fullmatch(r"v1\.\d+\.\d+", cells[4])
    assert cells[5:7] == ["127.0.0.1", "<none>"]
    assert len(cells) == 10


def test_api_resources_lists_short_names(kube: Kube) -> None:
    out = kube("api-resources")
    assert out.splitlines()[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    table = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert table["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert table["replicasets"] == ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"]
    assert table["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert table["services"] == ["services", "svc", "v1", "true", "Service"]
    assert table["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert table["endpointslices"] == ["endpointslices", "discovery.k8s.io/v1", "true", "EndpointSlice"]


def test_cluster_info_and_version(kube: Kube) -> None:
    server = yaml.safe_load(kube.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    # kube-dns carries kubernetes.io/cluster-service=true, so it is listed as on kind.
    assert kube("cluster-info") == (
        f"Kubernetes control plane is running at {server}\nCoreDNS is running at {server}/api/v1/namespaces/"
        "kube-system/services/kube-dns:dns/proxy\n\nTo further debug and diagnose cluster problems, use 'kubectl "
        "cluster-info dump'.\n")
    result = kube.run("version")
    assert (result.returncode, result.stderr) == (0, "")
    found = re.fullmatch(r"Client Version: v1\.(\d+)\.\d+\nKustomize Version: v\d+\.\d+\.\d+\n"
                         r"Server Version: v1\.(\d+)\.\d+\n", result.stdout)
    assert found, result.stdout
    assert abs(int(found.group(1)) - int(found.group(2))) <= 1
    versions = json.loads(kube("version", "-o", "json"))
    assert versions["serverVersion"]["minor"] == found.group(2)
    assert versions["clientVersion"]["minor"] == found.group(1)


def test_controllerrevisions_are_served_but_empty(kube: Kube) -> None:
    result = kube.run("get", "controllerrevisions")
    assert (result.returncode, result.stdout, result.stderr) == \
        (0, "", f"No resources found in {kube.namespace} namespace.\n")


# ---- cascading deletes -------------------------------------------------------------------------------
def owned(kube: Kube) -> str:
    return kube("get", "rs,pods", "-l", "app=kubernetes-bootcamp", "-o", "name")


def test_delete_deployment_in_the_background(bootcamp: Kube) -> None:
    kube = bootcamp
    assert kube("delete", "deployment", "kubernetes-bootcamp") == \
        f'deployment.apps "kubernetes-bootcamp" deleted from {kube.namespace} namespace\n'
    assert kube.run("get", "deployment", "kubernetes-bootcamp").returncode == 1
    wait_for(lambda: owned(kube) == "", message="the ReplicaSet and its pods deleted by the garbage collector")


def test_delete_deployment_in_the_foreground(bootcamp: Kube) -> None:
    kube = bootcamp
    assert kube("delete", "deployment", "kubernetes-bootcamp", "--cascade=foreground", "--wait=false") == \
        f'deployment.apps "kubernetes-bootcamp" deleted from {kube.namespace} namespace\n'
    deployment = kube.deployment()
    assert deployment["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in deployment["metadata"]["finalizers"]
    assert kube.pods(), "the pods are still Terminating"
    kube("wait", "--for=delete", "deployment/kubernetes-bootcamp", "--timeout=60s")
    assert owned(kube) == "", "the deployment goes only after its dependents"


def test_delete_deployment_orphaning_its_replicaset(bootcamp: Kube) -> None:
    kube = bootcamp
    before = names(kube.pods())
    assert kube("delete", "deployment", "kubernetes-bootcamp", "--cascade=orphan") == \
        f'deployment.apps "kubernetes-bootcamp" deleted from {kube.namespace} namespace\n'
    assert kube.run("get", "deployment", "kubernetes-bootcamp").returncode == 1
    (rs,) = kube.json("get", "rs")["items"]
    assert "ownerReferences" not in rs["metadata"]
    assert not rs["metadata"].get("finalizers")
    pods = kube.pods()
    assert names(active(pods)) == before
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"] for p in pods)
    assert rows(kube("get", "rs"))[0][1:4] == ["4", "4", "4"]


def test_delete_namespace_empties_and_removes_it(kube: Kube) -> None:
    doomed = f"{kube.namespace}-gone"
    assert kube("create", "namespace", doomed) == f"namespace/{doomed} created\n"
    kube("-n", doomed, "create", "deployment", "kubernetes-bootcamp", f"--image={V1}", "--replicas=2")
    kube("-n", doomed, "expose", "deployment/kubernetes-bootcamp", "--port", "8080")
    kube("-n", doomed, "rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    assert kube("delete", "namespace", doomed) == f'namespace "{doomed}" deleted\n'
    gone = kube.run("get", "namespace", doomed)
    assert (gone.returncode, gone.stderr) == (1, f'Error from server (NotFound): namespaces "{doomed}" not found\n')
    left = kube.run("get", "all", "-n", doomed)
    assert (left.stdout, left.stderr) == ("", f"No resources found in {doomed} namespace.\n")
    assert doomed not in kube("get", "pods", "-A")

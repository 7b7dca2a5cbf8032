"""Container lifecycle and the kubelet's 1.37 wording with the real kubectl against the practice cluster."""

from __future__ import annotations

from typing import Any

from tests.practice.conftest import Kube, wait_for

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"


def _status(kube: Kube, pod: str) -> dict[str, Any]:
    statuses = kube.json("get", "pod", pod)["status"].get("containerStatuses") or [{}]
    return dict(statuses[0])


def test_run_to_completion_prints_its_log(kube: Kube) -> None:
    """``run --restart=Never -- echo hello``: the command runs (not the image's app), the container ends
    ``Terminated``/``Completed`` with exit code 0, the pod ``Succeeded`` (``pkg/kubelet/kubelet_pods.go``
    ``getPhase``), and ``logs`` prints its output."""
    kube("run", "hello", f"--image={V1}", "--restart=Never", "--", "echo", "hello")
    wait_for(lambda: kube.json("get", "pod", "hello")["status"].get("phase") == "Succeeded", message="Succeeded")
    terminated = _status(kube, "hello")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert kube("logs", "hello") == "hello\n"
    assert kube("get", "pod", "hello", "--no-headers").split()[1:4] == ["0/1", "Completed", "0"]
    previous = kube.run("logs", "hello", "--previous")
    # pkg/kubelet/kubelet_pods.go validateContainerLogStatus
    assert previous.stderr == 'Error from server (BadRequest): previous terminated container "hello" in pod "hello" ' \
                              'not found\n'


def test_a_failing_command_crash_loops(kube: Kube) -> None:
    """``--command -- false`` with restartPolicy Always: Error, restarted with the kubelet's back-off (10 s
    doubling to 300 s, ``pkg/kubelet/kubelet.go``), ``CrashLoopBackOff`` with growing RESTARTS, ``lastState``,
    the BackOff event (``pkg/kubelet/kuberuntime/kuberuntime_manager.go`` ``doBackOff``) and ``logs --previous``."""
    kube("run", "crash", f"--image={V1}", "--command", "--", "sh", "-c", "echo dying; exit 3")
    wait_for(lambda: (_status(kube, "crash").get("restartCount") or 0) >= 2, message="two restarts")
    status = wait_for(lambda: (s := _status(kube, "crash")) and "waiting" in s["state"] and s, message="waiting")
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["state"]["waiting"]["message"].startswith("back-off ")
    assert status["state"]["waiting"]["message"].endswith(" restarting failed container=crash pod=crash_"
                                                          f"{kube.namespace}({kube.json('get', 'pod', 'crash')['metadata']['uid']})")
    last = status["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (3, "Error")
    assert kube("get", "pod", "crash", "--no-headers").split()[2] == "CrashLoopBackOff"
    assert kube("logs", "crash", "--previous") == "dying\n"
    events = kube("events", "--for", "pod/crash")
    assert "Back-off restarting failed container crash in pod crash_" in events
    assert kube.json("get", "pod", "crash")["status"]["phase"] == "Running"


def test_on_failure_and_never(kube: Kube) -> None:
    """restartPolicy Never and a failing command: Failed, never restarted; OnFailure and success: Succeeded."""
    kube("run", "never", f"--image={V1}", "--restart=Never", "--command", "--", "false")
    wait_for(lambda: kube.json("get", "pod", "never")["status"].get("phase") == "Failed", message="Failed")
    assert _status(kube, "never")["restartCount"] == 0
    assert _status(kube, "never")["state"]["terminated"]["reason"] == "Error"
    kube("run", "once", f"--image={V1}", "--restart=OnFailure", "--", "true")
    wait_for(lambda: kube.json("get", "pod", "once")["status"].get("phase") == "Succeeded", message="Succeeded")


def test_kubelet_137_wording_and_service_account_volume(kube: Kube) -> None:
    """1.37's kubelet events (``Container created``, ``Container started``, ``... already present on machine and
    can be accessed by the pod``), containerd 2.x's pull error (``client/pull.go``: ``failed to resolve image``),
    and the ServiceAccount admission plugin's ``kube-api-access-<5>`` projected volume and its mount
    (``plugin/pkg/admission/serviceaccount/admission.go``)."""
    kube("run", "web", f"--image={V1}")
    wait_for(lambda: "running" in (_status(kube, "web").get("state") or {}), message="running")
    events = kube("events", "--for", "pod/web")
    assert "Container created" in events and "Container started" in events
    assert f'Container image "{V1}" already present on machine and can be accessed by the pod' in events
    pod = kube.json("get", "pod", "web")
    volume = pod["spec"]["volumes"][0]
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == len("kube-api-access-") + 5
    assert [list(s)[0] for s in volume["projected"]["sources"]] == ["serviceAccountToken", "configMap",
                                                                     "downwardAPI"]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    described = kube("describe", "pod", "web")
    assert f"/var/run/secrets/kubernetes.io/serviceaccount from {volume['name']} (ro)" in described
    assert "Type:                    Projected" in described
    kube("run", "bad", "--image=jocatalin/kubernetes-bootcamp:v10")
    wait_for(lambda: "ErrImagePull" in kube("events", "--for", "pod/bad") or None, message="pull failure")
    ref = "docker.io/jocatalin/kubernetes-bootcamp:v10"
    assert (f'failed to pull and unpack image "{ref}": failed to resolve image: {ref}: not found'
            in kube("events", "--for", "pod/bad"))


def test_service_env_is_envvars_go() -> None:
    """``FromServices`` of kubernetes ``pkg/kubelet/envvars/envvars.go``: host, first port, named ports, Docker
    link variables per port; a headless service gives none."""
    from tutor.practice.node.containers import service_env

    svc = {"metadata": {"name": "my-app"}, "spec": {"clusterIP": "10.96.1.2", "ports": [
        {"port": 80, "protocol": "TCP"}, {"name": "metrics", "port": 9090, "protocol": "UDP"}]}}
    headless = {"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}}
    assert service_env([svc, headless]) == [
        ("MY_APP_SERVICE_HOST", "10.96.1.2"), ("MY_APP_SERVICE_PORT", "80"), ("MY_APP_SERVICE_PORT_METRICS", "9090"),
        ("MY_APP_PORT", "tcp://10.96.1.2:80"), ("MY_APP_PORT_80_TCP", "tcp://10.96.1.2:80"),
        ("MY_APP_PORT_80_TCP_PROTO", "tcp"), ("MY_APP_PORT_80_TCP_PORT", "80"), ("MY_APP_PORT_80_TCP_ADDR", "10.96.1.2"),
        ("MY_APP_PORT_9090_UDP", "udp://10.96.1.2:9090"), ("MY_APP_PORT_9090_UDP_PROTO", "udp"),
        ("MY_APP_PORT_9090_UDP_PORT", "9090"), ("MY_APP_PORT_9090_UDP_ADDR", "10.96.1.2")]

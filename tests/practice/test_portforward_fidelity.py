"""``kubectl port-forward`` with the real kubectl 1.37: SPDY/3.1 tunnelled through a WebSocket to the pod's app.

Upstream: kubernetes/client-go ``tools/portforward/portforward.go`` (the client), ``tunneling_dialer.go`` and
``tunneling_connection.go`` (SPDY inside WebSocket binary messages), kubernetes/apiserver
``pkg/util/proxy/streamtunnel.go`` (the server's tunnel).
"""

from __future__ import annotations

import re
import urllib.error
from collections.abc import Callable

import pytest

from tests.practice.conftest import Kube, wait_for
from tests.practice.longrun import LongRunning, http_get, running

FORWARDING = re.compile(r"^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$")


def _local_port(process: LongRunning, remote: int) -> int:
    line = process.wait_for_output("Forwarding from 127.0.0.1:")
    match = FORWARDING.match(line.strip())
    assert match and int(match.group(2)) == remote, line
    return int(match.group(1))


def _hello(name: str) -> tuple[int, str]:
    return 200, f"Hello Kubernetes bootcamp! | Running on: {name} | v=1\n"


def test_port_forward_pod_answers_as_that_pod(bootcamp: Kube) -> None:
    """``port-forward pod/X :8080`` (a random local port), then ``curl localhost:<local>`` twice.

    Upstream: kubernetes/client-go ``tools/portforward/portforward.go`` (``parsePorts``: ``:8080`` is a random
    local port; ``Forwarding from``, ``Handling connection for``; one error and one data stream per connection).
    """
    name = bootcamp.pods()[0]["metadata"]["name"]
    with running(bootcamp, "port-forward", f"pod/{name}", ":8080") as forward:
        local = _local_port(forward, 8080)
        assert http_get(f"http://127.0.0.1:{local}/") == _hello(name)
        assert http_get(f"http://127.0.0.1:{local}/again") == _hello(name)
        wait_for(lambda: sum("Handling connection for" in line for line in forward.stdout) == 2,
                 message="two handled connections")
        assert forward.stdout[-1].strip() == f"Handling connection for {local}"
    assert not any("error" in line.lower() for line in forward.stderr), forward.stderr


def test_port_forward_falls_back_to_plain_spdy(bootcamp: Kube) -> None:
    """With the WebSocket tunnel turned off, kubectl upgrades the connection itself to SPDY/3.1 and forwards.

    Upstream: kubernetes/kubectl ``pkg/cmd/portforward/portforward.go`` (``createDialer``: the tunnelling dialer
    unless ``KUBECTL_PORT_FORWARD_WEBSOCKETS=false``), kubernetes/apimachinery
    ``pkg/util/httpstream/spdy/upgrade.go`` (the server's ``101``).
    """
    name = bootcamp.pods()[0]["metadata"]["name"]
    bootcamp.env["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false"
    with running(bootcamp, "port-forward", f"pod/{name}", ":8080", "-v=6") as forward:
        local = _local_port(forward, 8080)
        assert http_get(f"http://127.0.0.1:{local}/") == _hello(name)
    log = "".join(forward.stderr)
    assert "tunneling_dialer" not in log and "101 Switching Protocols" in log, log


@pytest.mark.parametrize("kind", ["svc", "deploy"])
def test_port_forward_service_and_deployment(bootcamp: Kube, kind: str) -> None:
    """``port-forward svc/…`` and ``deploy/…`` forward to one pod chosen by kubectl (the service's target port).

    Upstream: kubernetes/kubectl ``pkg/cmd/portforward/portforward.go`` (``translateServicePortToTargetPort``)
    and ``pkg/polymorphichelpers/attachablepodforobject.go``.
    """
    names = {p["metadata"]["name"] for p in bootcamp.pods()}
    with running(bootcamp, "port-forward", f"{kind}/kubernetes-bootcamp", "0:8080") as forward:
        local = _local_port(forward, 8080)
        status, body = http_get(f"http://127.0.0.1:{local}/")
        match = re.match(r"^Hello Kubernetes bootcamp! \| Running on: (\S+) \| v=1\n$", body)
        assert status == 200 and match and match.group(1) in names, body


def _failed_connection_ends_it(kube: Kube, pod: str, port: int,
                               before: Callable[[int], None] = lambda local: None) -> str:
    """``port-forward pod/POD :PORT``, ``before(local port)``, then one connection that fails: kubectl must exit 1;
    its stderr."""
    forward = LongRunning(kube.popen("port-forward", f"pod/{pod}", f":{port}"))
    try:
        local = _local_port(forward, port)
        before(local)
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            http_get(f"http://127.0.0.1:{local}/")
        wait_for(lambda: forward.proc.poll() is not None, message="kubectl to exit")
    finally:
        forward.stop()
    assert forward.proc.returncode == 1
    return "".join(forward.stderr)


def test_port_forward_to_a_port_nothing_listens_on(bootcamp: Kube) -> None:
    """A port the app does not listen on: the error stream carries containerd's ``connection refused`` wording
    and kubectl ends with ``lost connection to pod``.

    Upstream: kubernetes/kubernetes ``pkg/kubelet/cri/streaming/portforward/httpstream.go`` (``error forwarding
    port %d to pod %s, uid %v: %v``), containerd ``internal/cri/server/sandbox_portforward_linux.go``
    (``failed to execute portforward in network namespace %q``, ``failed to connect to localhost:%d inside
    namespace %q, IPv4: %v IPv6 %v ``), client-go ``tools/portforward/portforward.go`` (``ErrLostConnectionToPod``).
    """
    name = bootcamp.pods()[0]["metadata"]["name"]
    stderr = _failed_connection_ends_it(bootcamp, name, 9999)
    pattern = (r"error forwarding port 9999 to pod [0-9a-f]{64}, uid : failed to execute portforward in network "
               r'namespace \\?"/var/run/netns/cni-[0-9a-f-]{36}\\?": failed to connect to localhost:9999 inside '
               r'namespace \\?"[0-9a-f]{64}\\?", IPv4: dial tcp4 127\.0\.0\.1:9999: connect: connection refused '
               r"IPv6 dial tcp6 \[::1\]:9999: connect: connection refused")
    assert re.search(pattern, stderr), stderr
    assert stderr.rstrip().endswith("error: lost connection to pod"), stderr


def test_port_forward_to_a_pod_that_is_gone_ends_so_that_it_can_be_started_again(bootcamp: Kube) -> None:
    """``port-forward service/X`` forwards to one pod for its whole life (a rolling update replaces it): once that
    pod is gone, the next connection gets containerd's "no such sandbox" on the error stream and kubectl ends
    with ``lost connection to pod``, so a caller that starts it again (kube-tutor's port-forward loop, on an
    existing cluster) reaches a pod that exists. Before, the session kept forwarding to the gone pod's stale
    status and never ended: a learner's ``curl`` after the v2 rollout never reached v2.

    Upstream: client-go ``tools/portforward/portforward.go`` (``handleConnection``: an error on the error stream
    closes the connection; ``ErrLostConnectionToPod``), containerd ``internal/cri/server/sandbox_portforward.go``
    (``failed to find sandbox %q in store: %w``), the kubelet's ``error forwarding port %d to pod %s, uid %v: %v``.
    """
    name = bootcamp.pods()[0]["metadata"]["name"]

    def delete_the_pod(local: int) -> None:
        assert http_get(f"http://127.0.0.1:{local}/") == _hello(name)
        bootcamp("delete", "pod", name, "--grace-period=0", "--force")
        wait_for(lambda: name not in [p["metadata"]["name"] for p in bootcamp.pods()], message="the pod to be gone")

    stderr = _failed_connection_ends_it(bootcamp, name, 8080, before=delete_the_pod)
    assert re.search(r"error forwarding port 8080 to pod ([0-9a-f]{64}), uid : failed to find sandbox "
                     r'\\?"\1\\?" in store: not found', stderr), stderr
    assert stderr.rstrip().endswith("error: lost connection to pod"), stderr


def test_port_forward_to_a_pod_that_is_not_running(kube: Kube) -> None:
    """kubectl refuses a pod that is not Running before it dials.

    Upstream: kubernetes/kubectl ``pkg/cmd/portforward/portforward.go`` (``unable to forward port because pod is
    not running. Current status=%v``).
    """
    kube("run", "nowhere", "--image=example.invalid/nothing:1")
    result = kube.run("port-forward", "pod/nowhere", "8080:8080", timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: unable to forward port because pod is not running. Current status=Pending"

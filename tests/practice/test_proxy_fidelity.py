"""The pod, service and node ``proxy`` subresources with the real kubectl: ``kubectl proxy`` and ``get --raw``.

The earlier Kubernetes Basics modules curl ``http://localhost:8001/api/v1/namespaces/default/pods/$POD_NAME:8080/
proxy/`` and the services form through ``kubectl proxy``; both answer as the bootcamp app of a pod.
"""

from __future__ import annotations

import json
import re

from tests.practice.conftest import Kube
from tests.practice.longrun import http_get, running

HELLO = re.compile(r"^Hello Kubernetes bootcamp! \| Running on: (\S+) \| v=1\n$")


def _pod(kube: Kube) -> dict:
    return kube.pods()[0]


def _raw(kube: Kube, path: str) -> tuple[int, str, str]:
    result = kube.run("get", "--raw", path)
    return result.returncode, result.stdout, result.stderr.strip()


def test_pod_proxy_through_kubectl_proxy(bootcamp: Kube) -> None:
    """``kubectl proxy`` + ``curl .../pods/$POD_NAME:8080/proxy/`` answers as that pod's app.

    Upstream: kubernetes/kubernetes ``pkg/registry/core/pod/rest/subresources.go`` (``ProxyREST``) and
    ``pkg/registry/core/pod/strategy.go`` (``ResourceLocation``); kubectl ``pkg/proxy/proxy_server.go``.
    """
    ns = bootcamp.namespace
    names = {p["metadata"]["name"] for p in bootcamp.pods()}
    with running(bootcamp, "proxy", "--port=0") as proxy:
        line = proxy.wait_for_output("Starting to serve on")
        port = int(line.strip().rsplit(":", 1)[1])
        base = f"http://127.0.0.1:{port}/api/v1/namespaces/{ns}"
        for name in names:
            status, body = http_get(f"{base}/pods/{name}:8080/proxy/")
            assert status == 200
            assert HELLO.match(body) and HELLO.match(body).group(1) == name  # type: ignore[union-attr]
            status, body = http_get(f"{base}/pods/http:{name}:8080/proxy/any/path?x=1")
            assert (status, body) == (200, f"Hello Kubernetes bootcamp! | Running on: {name} | v=1\n")
        # The services form picks a ready endpoint, as the apiserver's service ResourceLocation does.
        for path in ("kubernetes-bootcamp", "kubernetes-bootcamp:8080", "http:kubernetes-bootcamp:"):
            status, body = http_get(f"{base}/services/{path}/proxy/")
            match = HELLO.match(body)
            assert status == 200 and match and match.group(1) in names, (path, status, body)


def test_pod_proxy_with_get_raw_and_its_errors(bootcamp: Kube) -> None:
    """``get --raw`` of the pod proxy, and what the apiserver answers when it cannot reach the pod.

    Upstream: kubernetes/kubernetes ``pkg/registry/core/pod/strategy.go`` (``invalid pod request %q``, the first
    container port or the scheme's default), kubernetes/apimachinery ``pkg/util/net/port_split.go``
    (``SplitSchemeNamePort``) and ``pkg/util/proxy/transport.go`` (503 ``error trying to reach service: %v``
    with Go's dial error).
    """
    pod = _pod(bootcamp)
    name, ip = pod["metadata"]["name"], pod["status"]["podIP"]
    base = f"/api/v1/namespaces/{bootcamp.namespace}/pods"
    assert _raw(bootcamp, f"{base}/{name}:8080/proxy/") == (
        0, f"Hello Kubernetes bootcamp! | Running on: {name} | v=1\n", "")
    code, _, err = _raw(bootcamp, f"{base}/{name}:9999/proxy/")
    assert code == 1
    assert err == (f"Error from server (ServiceUnavailable): error trying to reach service: dial tcp {ip}:9999: "
                   "connect: connection refused")
    # `kubectl create deployment` declares no container port: the request goes to port 80.
    assert _raw(bootcamp, f"{base}/{name}/proxy/")[2] == (
        f"Error from server (ServiceUnavailable): error trying to reach service: dial tcp {ip}:80: "
        "connect: connection refused")
    assert _raw(bootcamp, f"{base}/ftp:{name}:8080/proxy/")[2] == (
        f'Error from server (BadRequest): invalid pod request "ftp:{name}:8080"')
    assert _raw(bootcamp, f"{base}/nope:8080/proxy/")[2] == 'Error from server (NotFound): pods "nope" not found'


def test_pod_proxy_uses_the_first_declared_port(kube: Kube) -> None:
    """With no port named, the pod proxy dials the first declared container port.

    Upstream: kubernetes/kubernetes ``pkg/registry/core/pod/strategy.go`` (``ResourceLocation``).
    """
    kube("run", "web", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1", "--port=8080")
    kube("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
    assert _raw(kube, f"/api/v1/namespaces/{kube.namespace}/pods/web/proxy/") == (
        0, "Hello Kubernetes bootcamp! | Running on: web | v=1\n", "")


def test_service_proxy_errors(bootcamp: Kube) -> None:
    """A service port that does not exist, and a service without ready endpoints, are 503s.

    Upstream: kubernetes/kubernetes ``pkg/registry/core/service/storage/storage.go`` (``ResourceLocation``:
    ``no service port %d found for service %q``, ``no endpoints available for service %q``).
    """
    base = f"/api/v1/namespaces/{bootcamp.namespace}/services"
    assert _raw(bootcamp, f"{base}/kubernetes-bootcamp:9999/proxy/")[2] == (
        'Error from server (ServiceUnavailable): no service port 9999 found for service "kubernetes-bootcamp"')
    bootcamp("create", "service", "clusterip", "lonely", "--tcp=80:8080")
    assert _raw(bootcamp, f"{base}/lonely/proxy/")[2] == (
        'Error from server (ServiceUnavailable): no endpoints available for service "lonely"')
    assert _raw(bootcamp, f"{base}/nope/proxy/")[2] == 'Error from server (NotFound): services "nope" not found'
    assert _raw(bootcamp, f"{base}/a:b:c:d/proxy/")[2] == (
        'Error from server (BadRequest): invalid service request "a:b:c:d"')


def test_node_proxy_reaches_the_kubelet(kube: Kube) -> None:
    """``nodes/<name>/proxy/healthz`` is the kubelet's ``ok``; ``/pods`` its pod list.

    Upstream: kubernetes/kubernetes ``pkg/registry/core/node/strategy.go`` (``ResourceLocation``: the kubelet's
    port when none is named) and ``pkg/kubelet/server/server.go`` (``/healthz``, ``/pods``).
    """
    node = kube.json("get", "nodes")["items"][0]["metadata"]["name"]
    assert _raw(kube, f"/api/v1/nodes/{node}/proxy/healthz") == (0, "ok", "")
    assert _raw(kube, f"/api/v1/nodes/{node}:10250/proxy/healthz") == (0, "ok", "")
    kube("run", "solo", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1")
    code, out, _ = _raw(kube, f"/api/v1/nodes/{node}/proxy/pods")
    listed = json.loads(out)
    assert code == 0 and listed["kind"] == "PodList"
    assert "solo" in {p["metadata"]["name"] for p in listed["items"]}
    assert _raw(kube, f"/api/v1/nodes/{node}/proxy/nope")[2] == (
        "Error from server (NotFound): the server could not find the requested resource")
    assert _raw(kube, "/api/v1/nodes/nope/proxy/healthz")[2] == 'Error from server (NotFound): nodes "nope" not found'

"""Seeded fuzzing of the practice cluster's API, and its connections: bad input is the client's fault, a 4xx.

Each category of ``tests/practice/fuzz.py`` sends ``--fuzz-cases`` raw requests (``KUBE_TUTOR_FUZZ_CASES``;
default 150) from ``--fuzz-seed`` (``KUBE_TUTOR_FUZZ_SEED``; default 1) to a practice cluster of this module's
own. No answer may be a 5xx except the strategic-merge failures kube-apiserver answers with 500 too
(``fuzz.STRATEGIC_500``, cited there), none may leave the client waiting, and afterwards ``cluster.log`` holds
no traceback and no credential, the server answers and the objects no case named are as they were.

The connection tests run a cluster in this process with short timeouts: kube-apiserver's header-read timeout
(``ReadHeaderTimeout``, kubernetes/apiserver ``pkg/server/secure_serving.go``), its request timeout for a body
that never comes (``pkg/server/filters/timeout.go``), and the NodePort stand-in's Node.js rules (nodejs/node
``lib/_http_server.js``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.practice import fuzz
from tests.practice.conftest import Kube, wait_for
from tutor.backends.practice import PracticeBackend

CASES = int(os.environ.get("KUBE_TUTOR_FUZZ_CASES", "150"))
SEED = int(os.environ.get("KUBE_TUTOR_FUZZ_SEED", "1"))


@dataclass
class Target:
    backend: PracticeBackend
    client: fuzz.Client
    token: str


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A practice cluster of this module's own (its log holds only what the fuzzer caused), at most 3 GiB."""
    backend = PracticeBackend(tmp_path_factory.mktemp("fuzz"), time_scale=20.0)
    with fuzz.memory_limit(3072):
        backend.up()
    try:
        config = backend.kubeconfig.read_text()
        token = re.search(r"token: (\S+)", config).group(1)  # type: ignore[union-attr]
        port = int(re.search(r"https://127\.0\.0\.1:(\d+)", config).group(1))  # type: ignore[union-attr]
        client = fuzz.Client(port, backend.directory / "pki" / "ca.crt", timeout=30.0)
        fuzz.setup_objects(client, token)
        yield Target(backend, client, token)
    finally:
        backend.down()


@pytest.fixture(scope="module")
def witness_before(target: Target) -> dict[str, Any]:
    return fuzz.witness(target.client, target.token)


@pytest.fixture
def cases(request: pytest.FixtureRequest) -> int:
    option = request.config.getoption("--fuzz-cases", default=None)
    return int(option) if option else CASES


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    option = request.config.getoption("--fuzz-seed", default=None)
    return int(option) if option else SEED


@pytest.mark.timeout(900)
@pytest.mark.parametrize("category", list(fuzz.CATEGORIES))
def test_fuzzed_requests_are_never_the_servers_fault(target: Target, witness_before: dict[str, Any], category: str,
                                                     cases: int, seed: int) -> None:
    fuzz.reset_targets(target.client, target.token)
    report = fuzz.run(target.client, fuzz.cases(seed, cases, [category], target.token))
    assert len(report.answers) == cases
    server_errors = [f"{c.id}: {a.status} {fuzz.message(a)[:200]}" for c, a in report.server_errors()]
    assert server_errors == [], f"{len(server_errors)} 5xx answers (seed {seed})"
    waited = [f"{c.id}: {a.error}" for c, a in report.timeouts()]
    assert waited == [], f"requests left waiting (seed {seed})"
    print(f"{category}: {len(report.answers)} requests, {report.rate():.0f}/s, "  # the bench note's figure
          f"{dict(sorted(report.by_status().items()))}")


def test_the_cluster_came_through(target: Target, witness_before: dict[str, Any]) -> None:
    """After every category: alive, the untargeted objects unchanged, a log without tracebacks or the token."""
    assert target.client.send(fuzz.request("GET", "/readyz")).body == b"ok"
    assert fuzz.witness(target.client, target.token) == witness_before
    text = target.backend.log_path.read_text(encoding="utf-8", errors="replace")
    log = fuzz.scan_log(text, target.token)
    assert (log["tracebacks"], log["exceptions"]) == (0, {}), log
    assert log["token"] == 0, "the bearer token reached cluster.log"
    assert log["errors"] == 0, log
    refused = [line for line in text.splitlines() if "refused a malformed HTTP request" in line]
    if "protocol" in fuzz.CATEGORIES:  # aiohttp's parser errors: one line each, the reason without what it quotes
        assert refused and all(re.fullmatch(r".* INFO tutor\.practice\.http: refused a malformed HTTP request from "
                                            r"127\.0\.0\.1: .+ \(\w+\)", line) and "b'" not in line
                               for line in refused), refused[:3]


# ---- single cases, with upstream's exact answers ----------------------------------------------------------
def status_of(answer: fuzz.Answer) -> tuple[int, str, str]:
    body = answer.json()
    assert body["kind"] == "Status" and body["code"] == answer.status, body
    return answer.status, body.get("reason", ""), body["message"]


CM = f"/api/v1/namespaces/{fuzz.NS}/configmaps"
SCALE = f"/apis/apps/v1/namespaces/{fuzz.NS}/deployments/d/scale"
BINDING = f"/api/v1/namespaces/{fuzz.NS}/pods/p/binding"


def send(target: Target, method: str, path: str, body: bytes | None = None, content_type: str | None = "application/json",
         **kwargs: Any) -> fuzz.Answer:
    return target.client.send(fuzz.request(method, path, body=body, content_type=content_type if body else None,
                                           token=target.token, **kwargs))


def test_a_body_over_3_mib_is_413(target: Target) -> None:
    """``limitedReadBody`` (kubernetes/apiserver pkg/endpoints/handlers/rest.go) with ``MaxRequestBodyBytes``
    3 MiB (pkg/server/config.go)."""
    big = json.dumps({"metadata": {"name": "big"}, "data": {"a": "x" * (3 * 1024 * 1024)}}).encode()
    for method, path in (("POST", CM), ("PUT", CM + "/cm"), ("PATCH", CM + "/cm"), ("DELETE", CM + "/cm")):
        answer = send(target, method, path, big,
                      "application/merge-patch+json" if method == "PATCH" else "application/json")
        assert status_of(answer) == (413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
    assert send(target, "GET", CM + "/cm").status == 200  # DELETE did not happen


def test_an_unknown_content_type_is_415(target: Target) -> None:
    """``NegotiateInputSerializer`` (kubernetes/apiserver pkg/endpoints/handlers/negotiation/negotiate.go)."""
    for content_type in ("text/plain", "application/cbor", "application/json;;", "multipart/form-data; boundary=x"):
        answer = send(target, "POST", CM, b'{"metadata":{"name":"ct"}}', content_type)
        assert status_of(answer) == (415, "UnsupportedMediaType", "the body of the request was in an unknown format "
                                     "- accepted media types include: application/json, application/yaml, "
                                     "application/vnd.kubernetes.protobuf"), content_type


def test_a_content_encoding_is_not_decoded(target: Target) -> None:
    """Go's server decodes no request ``Content-Encoding`` and kube-apiserver reads the body as sent
    (``limitedReadBody``): a gzip body is JSON that does not parse (``transformDecodeError``, rest.go)."""
    import gzip

    answer = send(target, "POST", CM, gzip.compress(b'{"metadata":{"name":"gz"}}'),
                  headers=[("Content-Encoding", "gzip")])
    status, reason, message = status_of(answer)
    assert (status, reason) == (400, "BadRequest")
    assert message.startswith("the object provided is unrecognized (must be of type ConfigMap): couldn't get "
                              "version/kind; json parse error: invalid character '\\x1f' looking for beginning of value")


@pytest.mark.parametrize(("body", "message"), [
    (b'{"spec":"x"}', 'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go '
                      "struct field Scale.spec of type v1.ScaleSpec"),
    (b'{"spec":{"replicas":2147483648}}', 'Scale in version "v1" cannot be handled as a Scale: json: cannot '
                                          "unmarshal number 2147483648 into Go struct field ScaleSpec.spec.replicas "
                                          "of type int32"),
    (b'{"metadata":"str","spec":{"replicas":1}}', 'Scale in version "v1" cannot be handled as a Scale: json: cannot '
                                                  "unmarshal string into Go struct field Scale.metadata of type "
                                                  "v1.ObjectMeta"),
])
def test_scale_bodies_decode_into_the_scale_struct(target: Target, body: bytes, message: str) -> None:
    """autoscaling/v1 ``Scale`` (k8s.io/api autoscaling/v1 types.go), decoded as sigs.k8s.io/json words it."""
    fuzz.reset_targets(target.client, target.token)
    assert status_of(send(target, "PUT", SCALE, body)) == (400, "BadRequest", message)


def test_binding_bodies_decode_into_the_binding_struct(target: Target) -> None:
    fuzz.reset_targets(target.client, target.token)
    assert status_of(send(target, "POST", BINDING, b'{"target":"x"}')) == (
        400, "BadRequest", 'Binding in version "v1" cannot be handled as a Binding: json: cannot unmarshal string '
                           "into Go struct field Binding.target of type v1.ObjectReference")
    # BindingREST.Create (kubernetes/kubernetes pkg/registry/core/pod/storage/storage.go): the name first, then
    # ValidatePodBinding (pkg/apis/core/validation/validation.go), whose aggregate is returned unconverted: a 500
    # without a reason (ErrorToAPIStatus, apiserver pkg/endpoints/handlers/responsewriters/status.go).
    assert status_of(send(target, "POST", BINDING, b'{"target":null}')) == (
        400, "BadRequest", "name in URL does not match name in Binding object")
    assert status_of(send(target, "POST", BINDING, b'{"metadata":{"name":"p"},"target":null}')) == (
        500, "", "target.name: Required value")


@pytest.mark.parametrize(("body", "message"), [
    (b"\xff\xfe", "couldn't get version/kind; json parse error: invalid character '\u00ff' looking for beginning of "
                  "value"),
    (b'{"preconditions":"x"}', "json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of "
                               "type v1.Preconditions"),
    (b'{"gracePeriodSeconds":' + b"9" * 5000 + b"}",
     "json: cannot unmarshal number " + "9" * 5000 + " into Go struct field DeleteOptions.gracePeriodSeconds of type "
                                                     "int64"),
])
def test_delete_options_that_do_not_decode_are_400(target: Target, body: bytes, message: str) -> None:
    """``DeleteResource`` (kubernetes/apiserver pkg/endpoints/handlers/delete.go): since 1.35 a body that does not
    decode into ``metav1.DeleteOptions`` is ``errors.NewBadRequest(err.Error())``."""
    fuzz.reset_targets(target.client, target.token)
    assert status_of(send(target, "DELETE", CM + "/cm", body)) == (400, "BadRequest", message)
    assert send(target, "GET", CM + "/cm").status == 200


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "\uff11", "9" * 5000, "+\u00b2", " 1"])
def test_unicode_digits_and_huge_numbers_in_integer_parameters(target: Target, value: str) -> None:
    """``strconv.ParseInt`` (golang/go src/strconv/atoi.go) takes ASCII digits only."""
    from urllib.parse import quote

    from tutor.kube.strconv import NumError, parse_int

    with pytest.raises(NumError) as expected:
        parse_int(value)
    for path in (f"{CM}?watch=true&timeoutSeconds={quote(value)}", f"{CM}?limit={quote(value)}",
                 f"/api/v1/namespaces/{fuzz.NS}/pods/p/log?tailLines={quote(value)}"):
        assert status_of(send(target, "GET", path)) == (400, "BadRequest", str(expected.value)), path


def test_a_big_integer_in_a_body_is_a_type_error(target: Target) -> None:
    digits = "1" * 5000
    body = ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"big"},"spec":{"replicas":' + digits +
            "}}").encode()
    assert status_of(send(target, "POST", f"/apis/apps/v1/namespaces/{fuzz.NS}/deployments", body)) == (
        400, "BadRequest", 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
                           f"number {digits} into Go struct field DeploymentSpec.spec.replicas of type int32")


def test_deep_json_is_decoded_as_go_does(target: Target) -> None:
    """Go's decoder takes 10,000 levels (golang/go src/encoding/json/scanner.go ``maxNestingDepth``): 5,000
    levels in an unknown field are dropped with a warning; 10,001 are a syntax error."""
    deep = "[" * 5000 + "]" * 5000
    answer = send(target, "POST", CM, ('{"metadata":{"name":"deep"},"zzz":' + deep + "}").encode())
    assert answer.status == 201, fuzz.message(answer)
    assert answer.headers.get("warning") == '299 - "unknown field \\"zzz\\""'
    too_deep = "[" * 10001 + "]" * 10001
    status, reason, message = status_of(send(target, "POST", CM, too_deep.encode()))
    assert (status, reason) == (400, "BadRequest")
    assert "json parse error: invalid character '[' exceeded max depth" in message


@pytest.mark.parametrize(("body", "message"), [
    (b"metadata: &m {name: rec, labels: *m}\n", "yaml: anchor 'm' value contains itself"),
    (fuzz._alias_bomb(9, 10).encode(), "yaml: document contains excessive aliasing"),
    (b"metadata: {name: x}\ndata: {a: .inf}\n", "json: unsupported value: +Inf"),
])
def test_yaml_bodies_are_refused_as_yaml_v2_refuses_them(target: Target, body: bytes, message: str) -> None:
    """sigs.k8s.io/yaml ``YAMLToJSON`` over go.yaml.in/yaml/v2 decode.go (``allowedAliasRatio``, ``alias``); the
    create handler's ``transformDecodeError`` (kubernetes/apiserver pkg/endpoints/handlers/rest.go) and, for an
    apply patch, Kubernetes 1.37's ``validateAndTranscodePatch`` (pkg/endpoints/handlers/patch.go)."""
    started = time.monotonic()
    status, reason, text = status_of(send(target, "POST", CM, body, "application/yaml"))
    assert (status, reason) == (400, "BadRequest")
    assert text.startswith(f"the object provided is unrecognized (must be of type ConfigMap): error converting YAML "
                           f"to JSON: {message} ("), text
    apply = send(target, "PATCH", CM + "/cm?fieldManager=t", body, "application/apply-patch+yaml")
    assert status_of(apply) == (400, "BadRequest", f"error encoding patch: error converting YAML to JSON: {message}")
    assert time.monotonic() - started < 30  # refused early, not after expanding (a bound, not a benchmark)
    assert send(target, "GET", CM + "/rec").status == 404


def test_a_non_ascii_bearer_token_is_401(target: Target) -> None:
    for token in (target.token + "\u00e4", "\u00e4" * 3):
        raw = (b"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
               + token.encode() + b"\r\n\r\n")
        assert status_of(target.client.send(raw)) == (401, "Unauthorized", "Unauthorized")


def test_an_http_1_0_watch_streams_until_the_connection_closes(target: Target) -> None:
    """Go answers HTTP/1.0 without chunked encoding: the stream ends when the connection does."""
    raw = fuzz.request("GET", f"{CM}?watch=true&timeoutSeconds=1", token=target.token, version="HTTP/1.0")
    answer = target.client.send(raw)
    assert answer.status == 200 and "transfer-encoding" not in answer.headers
    events = [json.loads(line) for line in answer.body.splitlines()]
    assert events and all(e["type"] == "ADDED" for e in events)


def test_paths_with_newlines_surrogates_and_bad_utf8_get_a_status(target: Target) -> None:
    for name, shown in (("a%0Ab", "a\nb"), ("%ED%A0%80", "\ufffd\ufffd\ufffd"), ("%ff", "\ufffd")):
        assert status_of(send(target, "GET", f"{CM}/{name}")) == (404, "NotFound", f'configmaps "{shown}" not found')
    for method in ("DELETE", "POST", "PUT"):
        answer = send(target, method, "/api/v1/configmaps", b"{}")  # namespaced kinds: only list and watch across
        assert status_of(answer) == (405, "MethodNotAllowed",
                                     "the server does not allow this method on the requested resource")


# ---- connections (a cluster in this process, with short timeouts) ------------------------------------------
@pytest.fixture
async def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tutor.practice.apiserver import server
    from tutor.practice.cluster import PracticeCluster

    monkeypatch.setattr(server, "REQUEST_TIMEOUT", 1.0)
    cluster = PracticeCluster(tmp_path / "practice", time_scale=20)
    cluster.header_timeout = 1.0
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


def _tls(cluster: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cluster.directory / "pki" / "ca.crt"))


def _closed(sock: ssl.SSLSocket | socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, ssl.SSLWantReadError):
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


async def test_half_sent_requests_are_closed_after_the_header_timeout(local: Any) -> None:
    context = _tls(local)

    def scenario() -> None:
        half = [context.wrap_socket(socket.create_connection(("127.0.0.1", local.port), timeout=5),
                                    server_hostname="127.0.0.1") for _ in range(20)]
        silent = [socket.create_connection(("127.0.0.1", local.port), timeout=5) for _ in range(5)]  # no TLS hello
        for sock in half:
            sock.sendall(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")
        wait_for(lambda: all(_closed(s) for s in half + silent), timeout=20, message="the server closing them")
        for sock in half + silent:
            sock.close()
        whole = fuzz.Client(local.port, local.directory / "pki" / "ca.crt").send(fuzz.request("GET", "/readyz"))
        assert (whole.status, whole.body) == (200, b"ok")

    await asyncio.to_thread(scenario)


async def test_a_body_that_never_comes_gets_the_request_timeout(local: Any) -> None:
    """``WithTimeoutForNonLongRunningRequests`` (kubernetes/apiserver pkg/server/filters/timeout.go): 504."""
    assert local.credentials is not None
    token = local.credentials.token

    def scenario() -> fuzz.Answer:
        raw = fuzz.request("POST", "/api/v1/namespaces/default/configmaps", body=b'{"metadata":', token=token,
                           content_type="application/json", content_length=False)
        raw = raw.replace(b"\r\n\r\n", b"\r\nContent-Length: 100\r\n\r\n", 1)
        return fuzz.Client(local.port, local.directory / "pki" / "ca.crt", timeout=15).send(raw)

    answer = await asyncio.to_thread(scenario)
    assert status_of(answer) == (504, "Timeout", "Timeout: request did not complete within the allotted timeout")


# ---- the NodePort stand-in ------------------------------------------------------------------------------
def node_port(kube: Kube) -> int:
    return int(kube("get", "services/kubernetes-bootcamp", "-o", "go-template={{(index .spec.ports 0).nodePort}}"))


def exchange(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` and read until the server closes (or answers one request on a kept-alive connection)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"Connection: keep-alive" in received and received.endswith(b"\n"):
                    break
        except ConnectionResetError:
            pass
    return received


@pytest.mark.parametrize("request_bytes", [
    b"garbage\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: 1.5\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
    b"GET / HTTP/1.1\r\nContent-Length: " + b"9" * 30 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\n folded: header\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\n\r\n",
], ids=["garbage", "negative-length", "fraction-length", "two-lengths", "overflow-length", "huge-length",
        "gzip-coding", "coding-and-length", "folded", "http2", "nul"])
def test_the_node_port_answers_malformed_requests_with_400(bootcamp: Kube, request_bytes: bytes) -> None:
    answer = exchange(node_port(bootcamp), request_bytes)
    assert answer == b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n", answer


def test_the_node_port_answers_before_a_body_that_never_comes(bootcamp: Kube) -> None:
    port = node_port(bootcamp)
    for request_bytes in (b"POST / HTTP/1.1\r\nContent-Length: 100\r\nConnection: close\r\n\r\nabc",
                          b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffff\r\nab",
                          b"GET / HTTP/1.0\r\n\r\n"):
        answer = exchange(port, request_bytes)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close\r\n" in answer, answer
        assert answer.endswith(b"\n") and b"Hello Kubernetes bootcamp!" in answer
    keep = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"Connection: keep-alive\r\n" in keep


async def test_node_port_header_and_body_timeouts() -> None:
    from tutor.practice.node.nodeports import Head, Malformed, read_head, skip_body

    def reader(data: bytes, eof: bool = False) -> asyncio.StreamReader:
        stream = asyncio.StreamReader(limit=16 * 1024 + 4)
        stream.feed_data(data)
        if eof:
            stream.feed_eof()
        return stream

    with pytest.raises(Malformed) as slow:  # Node's 408 once headersTimeout passes
        await read_head(reader(b"GET / HTTP/1.1\r\nHost"), timeout=0.2, idle=0.2)
    assert slow.value.status == 408
    with pytest.raises(Malformed) as large:  # Node's 431 past --max-http-header-size
        await read_head(reader(b"GET / HTTP/1.1\r\nX: " + b"a" * 20000), timeout=1, idle=1)
    assert large.value.status == 431
    assert await read_head(reader(b""), timeout=1, idle=0.2) is None  # an idle keep-alive connection ends
    assert await read_head(reader(b"GET / HTTP/1.1\r\n\r\n"), timeout=1, idle=1) == b"GET / HTTP/1.1"
    assert await skip_body(reader(b"abc"), Head(True, 100, False), timeout=0.2) is False
    assert await skip_body(reader(b"3\r\nabc\r\n0\r\n\r\n"), Head(True, 0, True), timeout=1) is True
    assert await skip_body(reader(b"zz\r\n"), Head(True, 0, True), timeout=1) is False

"""Raw HTTPS requests against the practice cluster: authentication, TLS, bad input, discovery, watches.

Every error must come back as the status code a real apiserver uses with a well-formed ``Status``
body, and nothing a client sends may take the server down.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.practice.conftest import Kube
from tutor.backends.practice import PracticeBackend

AGGREGATED_ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io"
JSON = "application/json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Api:
    """An HTTPS client for the practice cluster that trusts only its CA."""

    host: str
    port: int
    token: str
    ca: Path
    extra: dict[str, str] = field(default_factory=dict)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def connect(self, timeout: float = 10.0, host: str | None = None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(host or self.host, self.port, context=self.context(), timeout=timeout)

    def headers(self, headers: dict[str, str] | None, token: str | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if token is None else ({"Authorization": token} if token
                                                                                else {})
        out.update(headers or {})
        return out

    def request(self, method: str, path: str, body: bytes | str | None = None, *,
                headers: dict[str, str] | None = None, token: str | None = None, timeout: float = 10.0) -> Reply:
        """``token=None``: the cluster's token; ``""``: no Authorization header; else the whole header."""
        conn = self.connect(timeout)
        try:
            conn.request(method, path, body=body, headers=self.headers(headers, token))
            response = conn.getresponse()
            data = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def watch(self, path: str, timeout: float = 10.0) -> Iterator[dict[str, Any]]:
        """The events of a watch, one per line, until the server ends the stream."""
        conn = self.connect(timeout)
        try:
            conn.request("GET", path, headers=self.headers(None, None))
            response = conn.getresponse()
            assert response.status == 200, (response.status, response.read())
            assert response.getheader("Content-Type") == JSON
            while line := response.readline():
                yield json.loads(line)
        finally:
            conn.close()


@pytest.fixture(scope="session")
def api(practice: PracticeBackend) -> Api:
    config = yaml.safe_load(practice.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://127.0.0.1:")
    return Api("127.0.0.1", int(server.rsplit(":", 1)[1]), config["users"][0]["user"]["token"],
               practice.directory / "pki" / "ca.crt")


def assert_status(reply: Reply, code: int, reason: str, message: str | None = None) -> dict[str, Any]:
    """A well-formed failure ``Status``; returns it for further checks."""
    assert reply.status == code, (reply.status, reply.body)
    assert reply.content_type == JSON, reply.headers
    status = reply.json()
    assert status["kind"] == "Status" and status["apiVersion"] == "v1", status
    assert status["status"] == "Failure" and status["code"] == code, status
    assert status["metadata"] == {}
    assert status.get("reason", "") == reason, status  # StatusReasonUnknown ("") is omitted
    assert isinstance(status["message"], str) and status["message"], status
    if message is not None:
        assert status["message"] == message, status
    return status


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


# ---- authentication and transport ---------------------------------------------------------------------
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized",
                "reason": "Unauthorized", "code": 401}


@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
@pytest.mark.parametrize("path", ["/api/v1/namespaces/default/pods", "/apis", "/version", "/openapi/v3",
                                  "/api/v1/namespaces/default/services?watch=true"])
def test_requests_without_the_token_are_unauthorized(api: Api, authorization: str, path: str) -> None:
    reply = api.get(path, token=authorization)
    assert_status(reply, 401, "Unauthorized", "Unauthorized")
    assert reply.json() == UNAUTHORIZED
    assert b"kubernetes" not in reply.body


def test_health_endpoints_need_no_token(api: Api) -> None:
    for path in ("/readyz", "/livez", "/healthz"):
        reply = api.get(path, token="")
        assert (reply.status, reply.body) == (200, b"ok")


def test_the_bearer_scheme_is_case_insensitive(api: Api) -> None:
    assert api.get("/api/v1/namespaces/default/services", token=f"bearer {api.token}").status == 200


def test_kubectl_with_a_wrong_token(kube: Kube) -> None:
    # Cold discovery cache: discovery itself is refused (kubectl retries and logs it, as with a real apiserver).
    cold = kube.run("--token=wrong-token", "get", "pods")
    assert (cold.returncode, cold.stdout) == (1, "")
    *retries, last = cold.stderr.splitlines()
    assert last == "error: You must be logged in to the server (the server has asked for the client to provide " \
                   "credentials)"
    assert retries and all(line.endswith('"Couldn\'t get current server API group list" err="the server has asked '
                                         'for the client to provide credentials"') for line in retries)
    # Warm cache (discovery already known): the resource request itself gets the 401 Status.
    kube("get", "pods")
    warm = kube.run("--token=wrong-token", "get", "pods")
    assert (warm.returncode, warm.stdout) == (1, "")
    assert warm.stderr == "error: You must be logged in to the server (Unauthorized)\n"


def test_plain_http_to_the_https_port_serves_nothing(api: Api) -> None:
    request = (f"GET /api/v1/namespaces/default/services HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {api.token}\r\nConnection: close\r\n\r\n").encode()
    received = b""
    with socket.create_connection((api.host, api.port), timeout=10) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    # Either the connection is dropped or (like Go) a 400 tells the client to use https; never data.
    assert received == b"" or received.startswith(b"HTTP/1.") and b" 400 " in received.split(b"\r\n")[0], received
    assert b"kubernetes" not in received and b"ServiceList" not in received


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_verifies_against_the_cluster_ca(api: Api, host: str) -> None:
    conn = api.connect(host=host)
    try:
        conn.request("GET", "/api/v1/namespaces/default/services/kubernetes",
                     headers={"Authorization": f"Bearer {api.token}"})
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["spec"]["clusterIP"] == "10.96.0.1"
        assert conn.sock is not None and conn.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        conn.close()


def test_tls_rejects_a_name_not_in_the_certificate(api: Api) -> None:
    with socket.create_connection((api.host, api.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            api.context().wrap_socket(raw, server_hostname="not-the-cluster.example")
    with socket.create_connection((api.host, api.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")  # system CAs only


# ---- malformed requests -----------------------------------------------------------------------------------
@pytest.fixture
def objects(kube: Kube, api: Api) -> str:
    """A namespace with a deployment ``d`` and a configmap ``cm``; returns the namespace."""
    kube("create", "deployment", "d", f"--image={V1}")
    kube("create", "configmap", "cm", "--from-literal=a=b")
    return kube.namespace


@dataclass(frozen=True)
class Bad:
    """One malformed request and the ``Status`` a real apiserver answers it with."""

    id: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None
    code: int = 400
    reason: str = "BadRequest"
    message: str | None = None

    def send(self, api: Api, namespace: str, timeout: float = 10.0) -> Reply:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        return api.request(self.method, self.path.format(ns=namespace), self.body, headers=headers, timeout=timeout)


CM = "/api/v1/namespaces/{ns}/configmaps"
DEPLOY = "/apis/apps/v1/namespaces/{ns}/deployments/d"
PODS = "/api/v1/namespaces/{ns}/pods"
GO_SYNTAX = "invalid character 'b' looking for beginning of object key string"

BAD_REQUESTS = [
    Bad("post-malformed-json", "POST", CM, b"{bad", JSON),
    Bad("put-malformed-json", "PUT", CM + "/cm", b"{bad", JSON),
    Bad("post-a-list", "POST", CM, b"[1,2]", JSON),
    Bad("post-empty-body", "POST", CM, b"", JSON),
    Bad("wrong-kind", "POST", CM, body({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}), JSON),
    Bad("wrong-group", "POST", CM, body({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        JSON),
    Bad("namespace-mismatch", "POST", CM,
        body({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "elsewhere"}}), JSON,
        message="the namespace of the provided object does not match the namespace sent on the request"),
    Bad("name-mismatch", "PUT", CM + "/cm",
        body({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "resourceVersion": "1"}}), JSON,
        message="the name of the object (other) does not match the name on the URL (cm)"),
    # Kubernetes 1.37 checks a patch's JSON before any patcher (validateAndTranscodePatch, apiserver
    # pkg/endpoints/handlers/patch.go); 1.36 answered the patchers' own messages.
    Bad("merge-patch-malformed", "PATCH", DEPLOY, b"{bad", MERGE, message="invalid JSON patch"),
    Bad("strategic-patch-malformed", "PATCH", DEPLOY, b"{bad", STRATEGIC, message="invalid JSON patch"),
    Bad("json-patch-malformed", "PATCH", DEPLOY, b"{bad", JSON_PATCH, message="invalid JSON patch"),
    Bad("json-patch-not-a-list", "PATCH", DEPLOY, b'{"op":"add"}', JSON_PATCH,
        message="json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
    Bad("json-patch-test-fails", "PATCH", DEPLOY, body([{"op": "test", "path": "/spec/replicas", "value": 99}]),
        JSON_PATCH, 422, "Invalid", "the server rejected our request due to an error in our request"),
    Bad("unknown-patch-type", "PATCH", DEPLOY, b"{}", "text/plain", 415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, "
        "application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"),
    Bad("label-selector", "GET", PODS + "?labelSelector=" + quote("app in ("),
        message="unable to parse requirement: found '', expected: ',', ')' or identifier"),
    Bad("label-selector-on-watch", "GET", PODS + "?watch=true&labelSelector=" + quote("app in ("),
        message="unable to parse requirement: found '', expected: ',', ')' or identifier"),
    Bad("field-selector-unsupported-field", "GET", PODS + "?fieldSelector=" + quote("spec.foo=bar"),
        message="field label not supported: spec.foo"),
    Bad("field-selector-without-value", "GET", PODS + "?fieldSelector=status.phase",
        message="invalid selector: 'status.phase'; can't understand 'status.phase'"),
    # A real apiserver answers 500 here (kubernetes/kubernetes#139485); 400 is what it should answer.
    Bad("watch-bad-resource-version", "GET", PODS + "?watch=true&resourceVersion=abc"),
    Bad("put-on-a-collection", "PUT", PODS, b"{}", JSON, 405, "MethodNotAllowed",
        "the server does not allow this method on the requested resource"),
    Bad("post-to-an-object", "POST", PODS + "/x", b"{}", JSON, 405, "MethodNotAllowed",
        "the server does not allow this method on the requested resource"),
    Bad("options", "OPTIONS", PODS, code=405, reason="MethodNotAllowed",
        message="the server does not allow this method on the requested resource"),
    Bad("get-missing-object", "GET", CM + "/missing", code=404, reason="NotFound",
        message='configmaps "missing" not found'),
    Bad("create-in-missing-namespace", "POST", "/api/v1/namespaces/{ns}-missing/configmaps",
        body({"metadata": {"name": "x"}}), JSON, 404, "NotFound", 'namespaces "{ns}-missing" not found'),
    Bad("invalid-name", "POST", CM, body({"metadata": {"name": "UPPER"}}), JSON, 422, "Invalid"),
]


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=[b.id for b in BAD_REQUESTS])
def test_malformed_requests_get_a_status(api: Api, objects: str, bad: Bad) -> None:
    reply = bad.send(api, objects)
    message = bad.message.format(ns=objects) if bad.message else None
    status = assert_status(reply, bad.code, bad.reason, message)
    if bad.id == "json-patch-test-fails":
        assert status["details"] == {}  # NewGenericServerResponse keeps no cause (apimachinery errors.go)
    if bad.id == "wrong-kind":
        assert status["message"].startswith('Secret in version "v1" cannot be handled as a ConfigMap: ')


def test_unknown_paths_are_404(api: Api) -> None:
    for path in ("/nope", "/apis/nope.example.com/v1", "/api/v2", "/apis/apps/v1/namespaces/default/widgets",
                 "/api/v1/namespaces/default/pods/x/nope"):
        reply = api.get(path)
        assert reply.status == 404, path
        assert b"kubernetes" not in reply.body
    plain = api.get("/nope")
    assert (plain.content_type.split(";")[0], plain.body) == ("text/plain", b"404 page not found\n")


def test_an_unknown_resource_of_a_served_group_version_gets_a_status(api: Api) -> None:
    assert_status(api.get("/api/v1/namespaces/default/widgets"), 404, "NotFound",
                  "the server could not find the requested resource")


def test_unsupported_method_on_version(api: Api) -> None:
    assert_status(api.request("DELETE", "/version"), 405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource")


@pytest.mark.parametrize(("method", "path", "data", "message"), [
    ("POST", CM, b"{bad", "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
                          f"version/kind; json parse error: {GO_SYNTAX} ({{bad)"),
    ("PUT", CM + "/cm", b"{bad", "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
                                 f"version/kind; json parse error: {GO_SYNTAX} ({{bad)"),
    ("POST", CM, b"[1,2]", "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
                           "version/kind; json parse error: json: cannot unmarshal array into Go value of type "
                           'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string '
                           '"json:\\"kind,omitempty\\"" } (5b312c325d)'),
], ids=["post", "put", "list"])
def test_malformed_json_is_reported_in_go_words(api: Api, objects: str, method: str, path: str, data: bytes,
                                                message: str) -> None:
    """Texts from a real apiserver: Go's encoding/json errors (golang/go src/encoding/json/scanner.go,
    decode.go) from ``SimpleMetaFactory.Interpret`` (apimachinery pkg/runtime/serializer/json/meta.go),
    wrapped by ``transformDecodeError`` (apiserver pkg/endpoints/handlers/rest.go)."""
    reply = api.request(method, path.format(ns=objects), data, headers={"Content-Type": JSON})
    assert_status(reply, 400, "BadRequest", message)


UNRECOGNIZED = "the object provided is unrecognized (must be of type ConfigMap): "


@pytest.mark.parametrize(("data", "message"), [
    (b"", UNRECOGNIZED + "couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)"),
    (b'{"apiVersion": 5}', UNRECOGNIZED + "couldn't get version/kind; json parse error: json: cannot unmarshal "
                                          'number into Go struct field .apiVersion of type string ({"apiVersion": 5})'),
    (b'{"KIND": true}', UNRECOGNIZED + "couldn't get version/kind; json parse error: json: cannot unmarshal bool "
                                       'into Go struct field .kind of type string ({"KIND": true})'),
    (b'{"apiVersion": "a/b/c"}', UNRECOGNIZED + 'unexpected GroupVersion string: a/b/c ({"apiVersion": "a/b/c"})'),
    (b'"x"', UNRECOGNIZED + "couldn't get version/kind; json parse error: json: cannot unmarshal string into Go "
                            'value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string '
                            '"json:\\"kind,omitempty\\"" } (227822)'),
], ids=["empty", "number-api-version", "folded-kind-key", "group-version", "string"])
def test_what_interpret_rejects(api: Api, objects: str, data: bytes, message: str) -> None:
    """``SimpleMetaFactory.Interpret`` (apimachinery pkg/runtime/serializer/json/meta.go): Go's json.Unmarshal
    into its anonymous struct (fields match keys case-insensitively), then ``schema.ParseGroupVersion``."""
    reply = api.request("POST", CM.format(ns=objects), data, headers={"Content-Type": JSON})
    assert_status(reply, 400, "BadRequest", message)


def test_null_body_decodes_to_an_empty_object(api: Api, objects: str) -> None:
    reply = api.request("POST", CM.format(ns=objects), b"null", headers={"Content-Type": JSON})
    assert_status(reply, 422, "Invalid")  # nothing decoded: the name is missing


def test_malformed_delete_options_are_a_bad_request(api: Api, objects: str) -> None:
    """The delete handler (apiserver pkg/endpoints/handlers/delete.go) wraps the decode error in
    ``errors.NewBadRequest`` since Kubernetes 1.35 (kubernetes/kubernetes#132359); it was a 500 before."""
    reply = api.request("DELETE", CM.format(ns=objects) + "/cm", b"{bad", headers={"Content-Type": JSON})
    assert_status(reply, 400, "BadRequest", f"couldn't get version/kind; json parse error: {GO_SYNTAX}")


def test_nested_type_errors_name_the_innermost_struct(api: Api, objects: str) -> None:
    """sigs.k8s.io/json words a type error with the innermost struct and the path of JSON names (no indexes)."""
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "typed"},
                  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                      "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": 5}]}}}}
    reply = api.request("POST", f"/apis/apps/v1/namespaces/{objects}/deployments", body(deployment),
                        headers={"Content-Type": JSON})
    assert_status(reply, 400, "BadRequest",
                  'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number into Go '
                  "struct field Container.spec.template.spec.containers.image of type string")


WRONGLY_TYPED = [
    Bad("pod-spec-string", "POST", PODS, body({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                              "spec": "x"}), JSON,
        message='Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
                "Pod.spec of type v1.PodSpec"),
    Bad("deployment-template-list", "POST", "/apis/apps/v1/namespaces/{ns}/deployments",
        body({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "t"}, "spec": {"template": []}}),
        JSON),
    Bad("configmap-data-number", "POST", CM, body({"apiVersion": "v1", "kind": "ConfigMap",
                                                  "metadata": {"name": "n"}, "data": {"a": 1}}), JSON,
        message='ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go '
                "struct field ConfigMap.data of type string"),
    Bad("strategic-patch-spec-list", "PATCH", DEPLOY, b'{"spec":[1]}', STRATEGIC, 422, "Invalid"),
]


@pytest.mark.parametrize("bad", WRONGLY_TYPED, ids=[b.id for b in WRONGLY_TYPED])
def test_wrongly_typed_fields_are_rejected(api: Api, objects: str, bad: Bad) -> None:
    assert_status(bad.send(api, objects), bad.code, bad.reason, bad.message)


BAD_PARAMETERS = [
    Bad("watch-timeout-seconds", "GET", PODS + "?watch=true&timeoutSeconds=abc",
        message='strconv.ParseInt: parsing "abc": invalid syntax'),
    Bad("list-limit", "GET", PODS + "?limit=abc", message='strconv.ParseInt: parsing "abc": invalid syntax'),
]


@pytest.mark.parametrize("bad", BAD_PARAMETERS, ids=[b.id for b in BAD_PARAMETERS])
def test_non_numeric_integer_parameters_are_rejected(api: Api, objects: str, bad: Bad) -> None:
    conn = api.connect(timeout=10)
    try:
        conn.request(bad.method, bad.path.format(ns=objects), headers=api.headers(None, None))
        response = conn.getresponse()
        assert response.status == 400  # checked before reading: a watch that does not end would block here
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()
    assert_status(reply, bad.code, bad.reason, bad.message)


def test_unknown_propagation_policy_is_invalid(api: Api, objects: str) -> None:
    reply = api.request("DELETE", CM.format(ns=objects) + "/cm", body({"propagationPolicy": "Sideways"}),
                        headers={"Content-Type": JSON})
    status = assert_status(reply, 422, "Invalid")
    assert 'propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", ' \
           '"Orphan", "nil"' in status["message"]


def test_the_server_survives_all_of_it(api: Api, objects: str, kube: Kube) -> None:
    for bad in BAD_REQUESTS + WRONGLY_TYPED + BAD_PARAMETERS:
        try:
            reply = bad.send(api, objects, timeout=2)
        except TimeoutError:
            continue  # a watch that stays open (see test_non_numeric_integer_parameters_are_rejected)
        assert 200 <= reply.status < 600, (bad.id, reply.status)
        if reply.status >= 400 and reply.content_type == JSON:
            assert reply.json()["kind"] == "Status", bad.id
    assert api.get("/readyz", token="").body == b"ok"
    assert api.get("/api/v1/namespaces/default/services/kubernetes").status == 200
    assert kube("get", "configmap", "cm", "-o", "jsonpath={.data.a}") == "b"
    assert kube("get", "deployment", "d", "-o", "name") == "deployment.apps/d\n"
    assert kube("get", "--raw", "/readyz") == "ok"


# ---- discovery ------------------------------------------------------------------------------------------
def test_aggregated_discovery(api: Api) -> None:
    for path in ("/api", "/apis"):
        reply = api.get(path, headers={"Accept": AGGREGATED_ACCEPT})
        assert reply.status == 200
        assert reply.headers["content-type"] == AGGREGATED_TYPE
        doc = reply.json()
        assert (doc["kind"], doc["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
        assert doc["items"]
        for group in doc["items"]:
            assert (group["metadata"].get("name", "") == "") == (path == "/api")
            for version in group["versions"]:
                for res in version["resources"]:
                    assert set(res) >= {"resource", "responseKind", "scope", "verbs"}, res
                    assert res["scope"] in ("Namespaced", "Cluster")
    core = api.get("/api", headers={"Accept": AGGREGATED_ACCEPT}).json()["items"][0]["versions"][0]
    short = {r["resource"]: r.get("shortNames") for r in core["resources"]}
    assert (short["pods"], short["services"], short["events"]) == (["po"], ["svc"], ["ev"])


def test_legacy_discovery_without_the_aggregated_accept(api: Api) -> None:
    versions = api.get("/api")
    assert (versions.status, versions.content_type) == (200, JSON)
    assert versions.json()["kind"] == "APIVersions" and versions.json()["versions"] == ["v1"]
    groups = api.get("/apis", headers={"Accept": "application/json, */*"})
    assert (groups.status, groups.content_type) == (200, JSON)
    doc = groups.json()
    assert (doc["kind"], doc["apiVersion"]) == ("APIGroupList", "v1")
    names = [g["name"] for g in doc["groups"]]
    assert "apps" in names and "discovery.k8s.io" in names
    for group in doc["groups"]:
        assert group["preferredVersion"] in group["versions"]
        one = api.get(f"/apis/{group['name']}").json()
        assert (one["kind"], one["name"]) == ("APIGroup", group["name"])


def advertised(api: Api) -> list[tuple[str, dict[str, Any]]]:
    """(group/version, resource) of every resource in both discovery forms, subresources excluded."""
    out: list[tuple[str, dict[str, Any]]] = []
    gvs = ["v1"] + [v["groupVersion"] for g in api.get("/apis").json()["groups"] for v in g["versions"]]
    for gv in gvs:
        doc = api.get(f"/api/{gv}" if gv == "v1" else f"/apis/{gv}").json()
        assert (doc["kind"], doc["groupVersion"]) == ("APIResourceList", gv)
        out += [(gv, {"name": r["name"], "namespaced": r["namespaced"], "kind": r["kind"], "verbs": r["verbs"]})
                for r in doc["resources"] if "/" not in r["name"]]
    aggregated = [("v1" if not g["metadata"].get("name") else f"{g['metadata']['name']}/{v['version']}", v)
                  for path in ("/api", "/apis")
                  for g in api.get(path, headers={"Accept": AGGREGATED_ACCEPT}).json()["items"]
                  for v in g["versions"]]
    for gv, version in aggregated:
        for res in version["resources"]:
            entry = {"name": res["resource"], "namespaced": res["scope"] == "Namespaced",
                     "kind": res["responseKind"]["kind"], "verbs": res["verbs"]}
            assert (gv, entry) in out, f"{gv} {res['resource']} differs between aggregated and legacy discovery"
    return out


def test_every_advertised_resource_lists_cleanly(api: Api) -> None:
    resources = advertised(api)
    assert len(resources) >= 15
    for gv, res in resources:
        if "list" not in res["verbs"]:
            continue
        prefix = "/api/v1" if gv == "v1" else f"/apis/{gv}"
        path = f"{prefix}/namespaces/default/{res['name']}" if res["namespaced"] else f"{prefix}/{res['name']}"
        reply = api.get(path)
        assert (reply.status, reply.content_type) == (200, JSON), (path, reply.body[:300])
        doc = reply.json()
        assert (doc["kind"], doc["apiVersion"]) == (f"{res['kind']}List", gv), path
        assert isinstance(doc["items"], list) and doc["metadata"]["resourceVersion"], path
        table = api.get(path, headers={"Accept": TABLE_ACCEPT})
        assert table.status == 200, path
        assert table.json()["kind"] == "Table" and table.json()["columnDefinitions"], path


def test_openapi_v3_index_resolves(api: Api) -> None:
    index = api.get("/openapi/v3")
    assert (index.status, index.content_type) == (200, JSON)
    paths = index.json()["paths"]
    gvs = {"api/v1"} | {f"apis/{v['groupVersion']}" for g in api.get("/apis").json()["groups"]
                        for v in g["versions"]}
    assert gvs <= set(paths), gvs - set(paths)  # apply validates every kind it sends against its GV document
    for gv, entry in paths.items():
        reply = api.get(entry["serverRelativeURL"])
        assert (reply.status, reply.content_type) == (200, JSON), gv
        doc = reply.json()
        assert doc["openapi"].startswith("3.") and doc["paths"], gv
        patch_ops = [op["patch"] for op in doc["paths"].values() if "patch" in op]
        assert patch_ops and all("x-kubernetes-group-version-kind" in op for op in patch_ops), gv
        assert all(any(p["name"] == "fieldValidation" for p in op["parameters"]) for op in patch_ops), gv


def test_version_is_within_one_minor_of_kubectl(api: Api, kube: Kube) -> None:
    reply = api.get("/version")
    assert (reply.status, reply.content_type) == (200, JSON)
    server = reply.json()
    client = json.loads(kube("version", "--client", "-o", "json"))["clientVersion"]
    assert re.fullmatch(rf"v{server['major']}\.{server['minor']}\.\d+", server["gitVersion"]), server
    assert server["major"] == client["major"] == "1"
    assert abs(int(server["minor"]) - int(client["minor"].rstrip("+"))) <= 1
    assert server["platform"] == "linux/amd64"
    # As `curl localhost:8001/version` shows it (module 2): kube-apiserver writes /version with WriteRawJSON,
    # json.MarshalIndent(v, "", "  ") (kubernetes/apiserver pkg/endpoints/handlers/responsewriters/writers.go).
    assert reply.body.decode() == json.dumps(server, indent=2)
    assert reply.body.decode().startswith('{\n  "major": "1",\n  "minor": ')


def test_the_root_lists_the_served_paths(api: Api, kube: Kube) -> None:
    """``/`` (and ``/index.html``): ``IndexLister`` (kubernetes/apiserver ``pkg/server/routes/index.go``), the sorted
    paths as ``metav1.RootPaths``, written with ``WriteRawJSON``: what ``curl localhost:8001/`` shows through
    ``kubectl proxy``."""
    reply = api.get("/")
    assert (reply.status, reply.content_type) == (200, JSON)
    paths = reply.json()["paths"]
    assert paths == sorted(set(paths))
    assert {"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/apis/rbac.authorization.k8s.io/v1",
            "/healthz", "/readyz/etcd", "/livez/ping", "/openapi/v3", "/version"} <= set(paths)
    assert "/livez/etcd" not in paths
    assert reply.body.decode() == json.dumps({"paths": paths}, indent=2)
    assert api.get("/index.html").json() == {"paths": paths}
    assert json.loads(kube("get", "--raw", "/"))["paths"] == paths
    for path in paths:  # every listed path answers
        assert api.get(path).status == 200, path


# ---- tables ------------------------------------------------------------------------------------------------
def test_table_responses(api: Api, objects: str) -> None:
    reply = api.get(f"/api/v1/namespaces/{objects}/configmaps",
                    headers={"Accept": f"{TABLE_ACCEPT},application/json;as=Table;v=v1beta1;g=meta.k8s.io,{JSON}"})
    assert (reply.status, reply.content_type) == (200, JSON)
    table = reply.json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["columnDefinitions"][0] == {**table["columnDefinitions"][0], "name": "Name", "type": "string",
                                             "format": "name"}
    assert [r["cells"][0] for r in table["rows"]] == ["cm", "kube-root-ca.crt"]  # the root-CA publisher's too
    assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"])
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    one = api.get(f"/apis/apps/v1/namespaces/{objects}/deployments/d", headers={"Accept": TABLE_ACCEPT}).json()
    assert one["kind"] == "Table" and [r["cells"][0] for r in one["rows"]] == ["d"]
    assert [c["name"] for c in one["columnDefinitions"] if c["priority"] == 0] == \
        ["Name", "Ready", "Up-to-date", "Available", "Age"]
    plain = api.get(f"/api/v1/namespaces/{objects}/configmaps/cm", headers={"Accept": JSON}).json()
    assert plain["kind"] == "ConfigMap"


# ---- watches -----------------------------------------------------------------------------------------------
def configmap(name: str) -> bytes:
    return body({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})


def test_watch_list_sends_initial_events_then_a_bookmark(api: Api, kube: Kube) -> None:
    ns = kube.namespace
    for name in ("a", "b"):
        assert api.request("POST", f"/api/v1/namespaces/{ns}/configmaps", configmap(name),
                           headers={"Content-Type": JSON}).status == 201
    events = []
    for event in api.watch(f"/api/v1/namespaces/{ns}/configmaps?watch=true&sendInitialEvents=true"
                           "&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=30"):
        events.append(event)
        if event["type"] == "BOOKMARK":
            break
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "ADDED", "BOOKMARK"]
    # Every namespace has the root-CA publisher's kube-root-ca.crt too.
    assert sorted(e["object"]["metadata"]["name"] for e in events[:3]) == ["a", "b", "kube-root-ca.crt"]
    for event in events:
        assert (event["object"]["kind"], event["object"]["apiVersion"]) == ("ConfigMap", "v1")
    bookmark = events[-1]["object"]["metadata"]
    assert bookmark["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["resourceVersion"]) >= max(int(e["object"]["metadata"]["resourceVersion"])
                                                   for e in events[:3])


def test_watch_from_a_resource_version_replays_later_changes(api: Api, kube: Kube) -> None:
    ns = kube.namespace
    base = f"/api/v1/namespaces/{ns}/configmaps"
    start = api.get(base).json()["metadata"]["resourceVersion"]
    assert api.request("POST", base, configmap("c"), headers={"Content-Type": JSON}).status == 201
    assert api.request("PATCH", f"{base}/c", b'{"data":{"k":"w"}}', headers={"Content-Type": MERGE}).status == 200
    assert api.request("DELETE", f"{base}/c").status == 200
    events = list(api.watch(f"{base}?watch=true&resourceVersion={start}&timeoutSeconds=1"))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == \
        [("ADDED", "c"), ("MODIFIED", "c"), ("DELETED", "c")]
    assert [e["object"]["data"]["k"] for e in events] == ["v", "w", "w"]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert int(start) < versions[0] < versions[1] < versions[2]
    for event in events:
        assert (event["object"]["kind"], event["object"]["apiVersion"]) == ("ConfigMap", "v1")


def test_watch_ends_after_timeout_seconds(api: Api, kube: Kube) -> None:
    base = f"/apis/apps/v1/namespaces/{kube.namespace}/deployments"
    start = api.get(base).json()["metadata"]["resourceVersion"]
    # Nothing happens in the namespace: the stream must still end (cleanly) after about a second.
    assert list(api.watch(f"{base}?watch=true&resourceVersion={start}&timeoutSeconds=1", timeout=15)) == []


def test_watch_events_carry_kind_and_api_version(api: Api, kube: Kube) -> None:
    kube("create", "deployment", "w", f"--image={V1}")
    base = f"/apis/apps/v1/namespaces/{kube.namespace}/deployments"
    seen = list(api.watch(f"{base}?watch=true&fieldSelector=metadata.name%3Dw&timeoutSeconds=1"))
    assert seen and seen[0]["type"] == "ADDED"
    for event in seen:
        assert (event["object"]["kind"], event["object"]["apiVersion"]) == ("Deployment", "apps/v1")
    pods = list(api.watch(f"/api/v1/namespaces/{kube.namespace}/pods?watch=true&timeoutSeconds=1"))
    assert pods and all((e["object"]["kind"], e["object"]["apiVersion"]) == ("Pod", "v1") for e in pods)


# ---- start-up and sockets (in process) -----------------------------------------------------------------
async def test_start_up_does_no_host_name_lookups_and_listens_on_loopback_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.practice.cluster import PracticeCluster

    lookups: list[tuple[str, tuple[Any, ...]]] = []

    def refuse(name: str) -> Any:
        def lookup(*args: Any, **kwargs: Any) -> Any:
            lookups.append((name, args))
            raise AssertionError(f"socket.{name}{args} called: a slow DNS lookup on start-up")
        return lookup

    monkeypatch.setattr(socket, "getfqdn", refuse("getfqdn"))
    monkeypatch.setattr(socket, "gethostbyaddr", refuse("gethostbyaddr"))
    cluster = PracticeCluster(tmp_path / "practice", time_scale=20)
    await cluster.start()
    try:
        assert cluster.port > 0
        runner = getattr(cluster, "_runner", None)
        if runner is not None:
            assert runner.addresses == [("127.0.0.1", cluster.port)]
        # Bound to 127.0.0.1 only: another loopback address of this host gets no answer.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", cluster.port), timeout=5).close()

        context = ssl.create_default_context(cafile=str(tmp_path / "practice" / "pki" / "ca.crt"))
        conn = http.client.HTTPSConnection("127.0.0.1", cluster.port, context=context, timeout=10)

        def ready() -> tuple[int, bytes]:
            conn.request("GET", "/readyz")
            response = conn.getresponse()
            return response.status, response.read()

        try:
            assert await asyncio.to_thread(ready) == (200, b"ok")
            server = getattr(runner, "server", None)
            if server is None or not hasattr(server, "connections"):
                pytest.skip("the aiohttp server's connections are not reachable")
            sockets = [h.transport.get_extra_info("socket") for h in server.connections if h.transport]
            assert sockets, "the keep-alive connection is open on the server side"
            for sock in sockets:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), "Nagle would delay small writes"
                assert sock.getsockname()[0] == "127.0.0.1"
        finally:
            conn.close()
    finally:
        await cluster.stop()
    assert lookups == []


def test_a_large_list_is_sent_in_chunks_and_is_the_same_json(api: Api, kube: Kube) -> None:
    """A list answer past 64 KiB goes out chunked as its items were encoded (``_list_response``), and is the same
    JSON a small one is: kubectl reads it whole, as it reads the apiserver's (which streams its lists too,
    ``k8s.io/apiserver/pkg/endpoints/handlers/responsewriters``)."""
    data = {"blob": "x" * 2048}
    for i in range(40):
        api.request("POST", f"/api/v1/namespaces/{kube.namespace}/configmaps",
                    json.dumps({"metadata": {"name": f"big-{i:02d}"}, "data": data}),
                    headers={"Content-Type": JSON})
    reply = api.request("GET", f"/api/v1/namespaces/{kube.namespace}/configmaps")
    assert reply.status == 200 and reply.content_type == JSON
    assert reply.headers.get("transfer-encoding") == "chunked"
    listed = reply.json()
    names = sorted(item["metadata"]["name"] for item in listed["items"] if item["metadata"]["name"].startswith("big-"))
    assert names == [f"big-{i:02d}" for i in range(40)]
    assert listed["kind"] == "ConfigMapList" and listed["metadata"]["resourceVersion"]
    assert json.loads(kube("get", "configmaps", "-o", "json"))["items"][0]["kind"] == "ConfigMap"


@pytest.mark.parametrize("plural", ["configmaps", "events"])
def test_a_list_read_while_it_is_sent_is_the_view_of_its_first_item(plural: str) -> None:
    """``Store.scan`` takes its entries when first advanced (a packed kind's bytes, or the never-mutated dicts),
    so a list answer whose later items are encoded while earlier chunks go out (``_list_response``) is still one
    resourceVersion's view: writes made meanwhile do not show in it, as in the apiserver's list from its cache."""
    from tutor.practice.apiserver.store import Store
    from tutor.practice.clock import Clock

    store = Store(Clock(1.0))
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    kind = {"configmaps": "ConfigMap", "events": "Event"}[plural]
    for i in range(5):
        store.create(plural, {"apiVersion": "v1", "kind": kind,
                              "metadata": {"name": f"o-{i}", "namespace": "default"}, "message": f"v{i}"})
    scan = store.scan(plural, "default")
    first = next(scan)
    store.remove(plural, "default", "o-3")
    changed = store.must_get(plural, "default", "o-1")
    store.update(plural, {**changed, "message": "changed"})
    store.create(plural, {"apiVersion": "v1", "kind": kind, "metadata": {"name": "o-9", "namespace": "default"}})
    rest = list(scan)
    assert [o["metadata"]["name"] for o in [first, *rest]] == [f"o-{i}" for i in range(5)]
    assert rest[0]["message"] == "v1"
    assert [o["metadata"]["name"] for o in store.scan(plural, "default")] == ["o-0", "o-1", "o-2", "o-4", "o-9"]

"""A seeded fuzzer of the practice cluster's HTTPS API: raw requests, counted answers, a scanned log.

Every case is one raw HTTP request (bytes: request line, headers, body) sent on a fresh TLS connection, so
nothing a client library would refuse to send is out of reach. The cases come in categories, one per
kind of bad input a hostile or unlucky client sends (:data:`CATEGORIES`); each category is a generator
seeded from one ``random.Random``, so a seed names a run exactly.

Used by ``tests/practice/test_fuzz_api.py`` (a few hundred cases per category) and on its own for longer
runs and the request rate of the bench note::

    .venv/bin/python -m tests.practice.fuzz --cases 2000 --seed 7

which starts a practice cluster of its own in a temporary directory and prints, per category, the
answers by status code, every 5xx, the tracebacks in ``cluster.log`` and the rate.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import random
import re
import resource
import socket
import ssl
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

NS = "fuzz"
"""The namespace the cases target."""
WITNESS_NS = "witness-qx7vjz3w0k"
"""A namespace no case names: what is in it must be unchanged after a run."""
V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
TOKEN_MARK = "\u00e4"
"""A non-ASCII character put into bearer tokens (a 401, never a 500)."""


# ---- the client ---------------------------------------------------------------------------------------
@dataclass
class Answer:
    """What came back for one case: the status (0: no HTTP answer), the body, or the transport error."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""
    seconds: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Case:
    """One raw request."""

    category: str
    id: str
    raw: bytes
    stream: bool = False
    """A watch or a followed log: the status line and headers are enough."""


def request(method: str, target: str | bytes, *, body: bytes | None = None, content_type: str | None = None,
            headers: list[tuple[str | bytes, str | bytes]] | None = None, token: str | bytes | None = None,
            version: str = "HTTP/1.1", content_length: bool = True) -> bytes:
    """The bytes of one HTTP request; ``token`` is the bearer token (None: no Authorization header)."""

    def b(value: str | bytes) -> bytes:
        return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")

    lines = [b(method) + b" " + b(target) + b" " + b(version), b"Host: 127.0.0.1", b"Connection: close",
             b"User-Agent: kube-tutor-fuzz"]
    if token is not None:
        lines.append(b"Authorization: Bearer " + b(token))
    if content_type is not None:
        lines.append(b"Content-Type: " + b(content_type))
    for name, value in headers or []:
        lines.append(b(name) + b": " + b(value))
    if body is not None and content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


class Client:
    """Sends raw requests over TLS to one server, each on a connection of its own."""

    def __init__(self, port: int, ca: Path, timeout: float = 20.0) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(ca))
        self.timeout = timeout

    def send(self, raw: bytes, *, stream: bool = False) -> Answer:
        start = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as plain:
                with self.context.wrap_socket(plain, server_hostname="127.0.0.1") as sock:
                    try:
                        sock.sendall(raw)
                    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                        pass  # the server may answer (and close) before it has read everything
                    answer = self._read(sock, stream)
        except TimeoutError:
            return Answer(0, error="timeout", seconds=time.monotonic() - start)
        except (OSError, ssl.SSLError) as error:
            return Answer(0, error=f"{type(error).__name__}: {error}", seconds=time.monotonic() - start)
        answer.seconds = time.monotonic() - start
        return answer

    @staticmethod
    def _read(sock: ssl.SSLSocket, stream: bool) -> Answer:
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError) as error:
                return Answer(0, error=f"{type(error).__name__}: {error}") if not data else _parse(data)
            if not chunk:
                return Answer(0, error="closed without an answer") if not data else _parse(data)
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        answer = _parse(head + b"\r\n\r\n")
        if stream and answer.status == 200:
            return answer
        length = answer.headers.get("content-length")
        chunked = answer.headers.get("transfer-encoding", "").lower() == "chunked"
        body = rest
        while len(body) < Client.KEEP:
            if length is not None and len(body) >= int(length):
                break
            if chunked and body.endswith(b"0\r\n\r\n"):
                break
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            body += chunk
        answer.body = _dechunk(body) if chunked else body
        return answer

    KEEP = 256 * 1024
    """The most of an answer's body kept (enough for any Status; lists can be large)."""


def _parse(head: bytes) -> Answer:
    lines = head.split(b"\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    if match is None:
        return Answer(0, error=f"not an HTTP answer: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return Answer(int(match.group(1)), headers)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return out
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


# ---- valid objects, the material of the cases ------------------------------------------------------
def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "f"}},
            "data": {"a": "b"}}


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "minReadySeconds": 0, "progressDeadlineSeconds": 600,
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                                      {"name": "c", "image": V1, "ports": [{"containerPort": 8080}],
                                       "resources": {"limits": {"cpu": "100m"}}}]}}}}


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "f"}},
            "spec": {"terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": V1, "ports": [{"containerPort": 8080}]}]}}


def service(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "nothing"}, "ports": [{"port": 80, "targetPort": 8080}]}}


def secret(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": {"k": "dmFsdWU="}}


KINDS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "configmaps": (f"/api/v1/namespaces/{NS}/configmaps", configmap),
    "deployments": (f"/apis/apps/v1/namespaces/{NS}/deployments", deployment),
    "pods": (f"/api/v1/namespaces/{NS}/pods", pod),
    "services": (f"/api/v1/namespaces/{NS}/services", service),
    "secrets": (f"/api/v1/namespaces/{NS}/secrets", secret),
}
"""Collections the cases create in, with a valid object of each."""
TARGETS: dict[str, str] = {
    "configmaps": "cm", "deployments": "d", "pods": "p", "services": "s", "secrets": "sec",
}
"""The object of each collection the cases update, patch and delete (re-created between categories)."""
JSON = "application/json"
YAML = "application/yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (MERGE, STRATEGIC, JSON_PATCH, APPLY)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value (keys and list indexes), the root excluded."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


_PLACEHOLDER = "\u0000PLACEHOLDER\u0000"


def with_literal(obj: dict[str, Any], path: tuple[Any, ...], literal: str) -> bytes:
    """``obj`` as JSON with the raw text ``literal`` at ``path`` (numbers Python would not print)."""
    copy = json.loads(json.dumps(obj))
    _set(copy, path, _PLACEHOLDER)
    return dumps(copy).replace(json.dumps(_PLACEHOLDER).encode(), literal.encode("utf-8", "surrogateescape"))


def patch_body(content_type: str, path: tuple[Any, ...], literal: str) -> bytes:
    """A patch of ``content_type`` that sets ``path`` to the raw JSON text ``literal``."""
    if content_type == JSON_PATCH:
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
        return b'[{"op":"add","path":' + dumps(pointer) + b',"value":' + literal.encode("utf-8",
                                                                                          "surrogateescape") + b"}]"
    nested: Any = _PLACEHOLDER
    for step in reversed(path):
        nested = {str(step): nested} if not isinstance(step, int) else [nested]
    return dumps(nested).replace(json.dumps(_PLACEHOLDER).encode(), literal.encode("utf-8", "surrogateescape"))


# ---- the categories -------------------------------------------------------------------------------------
Generator = Callable[[random.Random, str, int], Iterator[Case]]


def _object_path(kind: str, sub: str = "") -> str:
    return f"{KINDS[kind][0]}/{TARGETS[kind]}" + (f"/{sub}" if sub else "")


def _write(rng: random.Random, kind: str, body: bytes, token: str, content_type: str = JSON) -> tuple[str, str]:
    """A method and path that decode ``body`` as ``kind``: create, update, or a patch of the target."""
    choice = rng.choice(["POST", "PUT", "PATCH"])
    if choice == "POST":
        return "POST", KINDS[kind][0]
    return choice, _object_path(kind)


def big_number(rng: random.Random) -> str:
    digits = rng.choice([19, 20, 40, 309, 310, 400, 4299, 4300, 4301, 5000, 20000, 100000])
    text = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(digits - 1))
    form = rng.choice(["int", "neg", "exp", "frac", "negexp"])
    if form == "neg":
        return "-" + text
    if form == "exp":
        return text[:rng.randint(1, 5)] + rng.choice(["e", "E", "e+"]) + str(rng.choice([308, 309, 400, 99999]))
    if form == "negexp":
        return "1e-" + str(rng.choice([400, 99999]))
    if form == "frac":
        return text + "." + text[:50]
    return text


NUMERIC_PARAMS = ("timeoutSeconds", "limit", "gracePeriodSeconds", "tailLines", "sinceSeconds", "limitBytes",
                  "resourceVersion")
ODD_NUMBERS = ["\u00b2", "\u0663", "\uff11\uff12", "\u2079", "\U0001d7d9", "+1", "-1", " 1", "1 ", "0x10", "1e3",
               "", "1_000", "\uff19", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
               "1.5", "\u0661\u0662", "00000000000000000000001", "%ff", "%c2%b2", "NaN", "true"]


def numbers(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """Integers of every size in bodies (4,300+ digits is Python's limit) and odd numeric query values."""
    int_paths = {
        "deployments": [("spec", "replicas"), ("spec", "minReadySeconds"), ("spec", "progressDeadlineSeconds"),
                        ("metadata", "generation"), ("spec", "template", "spec", "terminationGracePeriodSeconds"),
                        ("spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"),
                        ("spec", "strategy", "rollingUpdate", "maxSurge"),
                        ("spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"),
                        ("metadata", "labels", "app"), ("spec", "zzzUnknown"), ("status", "replicas")],
        "configmaps": [("data", "a"), ("metadata", "name"), ("zzz",), ("metadata", "generation")],
        "pods": [("spec", "terminationGracePeriodSeconds"), ("spec", "containers", 0, "ports", 0, "containerPort"),
                 ("spec", "priority"), ("spec", "activeDeadlineSeconds")],
        "services": [("spec", "ports", 0, "port"), ("spec", "ports", 0, "nodePort"), ("spec", "ports", 0,
                                                                                           "targetPort")],
    }
    for n in range(count):
        if rng.random() < 0.55:
            kind = rng.choice(list(int_paths))
            path = rng.choice(int_paths[kind])
            literal = big_number(rng)
            method = rng.choice(["POST", "PUT", "PATCH", "SCALE", "DELETE"])
            if method == "SCALE":
                scale = {"apiVersion": "autoscaling/v1", "kind": "Scale",
                         "metadata": {"name": "d", "namespace": NS}, "spec": {"replicas": 1}}
                yield Case("numbers", f"scale-{n}", request(
                    rng.choice(["PUT", "PATCH"]), _object_path("deployments", "scale"),
                    body=with_literal(scale, ("spec", "replicas"), literal),
                    content_type=rng.choice([JSON, MERGE]), token=token))
            elif method == "DELETE":
                options = with_literal({"gracePeriodSeconds": 0}, ("gracePeriodSeconds",), literal)
                yield Case("numbers", f"delete-{n}", request(
                    "DELETE", f"{KINDS['configmaps'][0]}/nope-{n}", body=options, content_type=JSON, token=token))
            elif method == "PATCH":
                content_type = rng.choice(PATCH_TYPES)
                yield Case("numbers", f"patch-{n}", request(
                    "PATCH", _object_path(kind), body=patch_body(content_type, path, literal),
                    content_type=content_type, token=token))
            else:
                obj = KINDS[kind][1](f"n{n}" if method == "POST" else TARGETS[kind])
                if method == "PUT":
                    obj["metadata"]["resourceVersion"] = "1"
                try:
                    body = with_literal(obj, path, literal)
                except (KeyError, IndexError, TypeError):
                    body = dumps(obj)
                target = KINDS[kind][0] if method == "POST" else _object_path(kind)
                yield Case("numbers", f"{method.lower()}-{n}", request(method, target, body=body, content_type=JSON,
                                                                      token=token))
        else:
            param = rng.choice(NUMERIC_PARAMS)
            value = rng.choice(ODD_NUMBERS + [big_number(rng).lstrip("-")])
            encoded = value if value.startswith("%") else quote(value, safe="")
            where = rng.choice(["list", "watch", "log", "delete", "get"])
            if where == "list":
                target, method = f"{KINDS['pods'][0]}?{param}={encoded}", "GET"
            elif where == "watch":
                target, method = f"{KINDS['configmaps'][0]}?watch=true&{param}={encoded}", "GET"
            elif where == "log":
                target, method = f"{_object_path('pods', 'log')}?{param}={encoded}", "GET"
            elif where == "delete":
                target, method = f"{KINDS['configmaps'][0]}/nope-{n}?{param}={encoded}", "DELETE"
            else:
                target, method = f"{_object_path('configmaps')}?{param}={encoded}", "GET"
            if where == "watch" and param != "timeoutSeconds":
                target += "&timeoutSeconds=1"
            yield Case("numbers", f"query-{where}-{param}-{n}", request(method, target, token=token),
                       stream=where == "watch")


BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe2\x82", b"\x80",
            b"\xfe\xfe\xff\xff"]
SURROGATE_ESCAPES = ["\\ud800", "\\udfff", "\\ud800\\u0041", "\\udbff\\udfff\\udc00"]
ODD_NAMES = ["%ff", "%ED%A0%80", "%C0%AF", "%00", "%0A", "%0D%0A", "a%0Ab", "%", "%zz", "..", "%2F", "a%2Fb",
             "x" * 300, "%C3%A4", "%E2%80%8B", "%F0%9F%98%80", "a%20b", "%09", "%7F", "%5C", "~", "a;b", "%3F"]


def utf8(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """Invalid UTF-8 and lone surrogates in bodies, names and paths; newlines and odd bytes in paths."""
    for n in range(count):
        what = rng.choice(["body", "escape", "path", "rawpath", "yaml", "delete"])
        kind = rng.choice(list(KINDS))
        if what in ("body", "delete", "yaml"):
            bad = rng.choice(BAD_UTF8)
            obj = KINDS[kind][1](f"u{n}")
            text = dumps(obj)
            if what == "yaml":
                import yaml

                text = yaml.safe_dump(obj).encode()
            spots = [m.start() for m in re.finditer(rb'"|: ', text)] or [0]
            at = rng.choice(spots) + 1
            body = text[:at] + bad + text[at:]
            if what == "delete":
                body = rng.choice([bad, b'{"propagationPolicy":"' + bad + b'"}', b"{" + bad + b"}", bad * 3])
                yield Case("utf8", f"delete-{n}", request("DELETE", _object_path("configmaps") + "-nope",
                                                          body=body, content_type=JSON, token=token))
                continue
            content_type = YAML if what == "yaml" else rng.choice([JSON, *PATCH_TYPES])
            method = "PATCH" if content_type in PATCH_TYPES else rng.choice(["POST", "PUT"])
            target = KINDS[kind][0] if method == "POST" else _object_path(kind)
            yield Case("utf8", f"{what}-{n}", request(method, target, body=body, content_type=content_type,
                                                      token=token))
        elif what == "escape":
            escape = rng.choice(SURROGATE_ESCAPES)
            obj = KINDS[kind][1](_PLACEHOLDER)
            spot = rng.choice(["name", "label", "data"])
            if spot == "label":
                obj["metadata"]["labels"] = {"k": _PLACEHOLDER}
            elif spot == "data":
                obj["metadata"]["name"] = f"e{n}"
                obj["metadata"]["annotations"] = {_PLACEHOLDER: "v"}
            if spot != "name":
                obj["metadata"]["name"] = f"e{n}"
            body = dumps(obj).replace(json.dumps(_PLACEHOLDER)[1:-1].encode(), escape.encode())
            content_type = rng.choice([JSON, MERGE, STRATEGIC, APPLY])
            method = "PATCH" if content_type != JSON else "POST"
            target = KINDS[kind][0] if method == "POST" else _object_path(kind)
            yield Case("utf8", f"escape-{n}", request(method, target, body=body, content_type=content_type,
                                                      token=token))
        elif what == "path":
            name = rng.choice(ODD_NAMES)
            method = rng.choice(["GET", "DELETE", "PUT", "PATCH", "POST"])
            sub = rng.choice(["", "", "status", "log", "scale", "binding"])
            target = f"{KINDS[kind][0]}/{name}" + (f"/{sub}" if sub else "")
            if rng.random() < 0.2:
                target = f"/api/v1/namespaces/{name}/configmaps"
            body = dumps(KINDS[kind][1]("x")) if method in ("PUT", "POST", "PATCH") else None
            yield Case("utf8", f"path-{n}", request(method, target, body=body, content_type=JSON if body else None,
                                                    token=token))
        else:
            raw_name = b"r" + rng.choice(BAD_UTF8 + [b"\x00", b"\x7f", b"\xc3\xa4", b"\t"])
            target = KINDS[kind][0].encode() + b"/" + raw_name
            yield Case("utf8", f"rawpath-{n}", request(rng.choice(["GET", "DELETE"]), target, token=token))


WRONG_VALUES: list[Any] = [None, "x", "", 1, -1, 1.5, True, False, [], {}, [None], [1], ["x"], {"a": None},
                           [[]], {"a": {"b": []}}, [{}], 2**40, -(2**63) - 1]


def types(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """A value of the wrong JSON type at every path of valid objects, and on the subresources."""
    subresource_bodies: list[tuple[str, str, str, Any]] = [
        ("PUT", "deployments", "scale", {"apiVersion": "autoscaling/v1", "kind": "Scale",
                                          "metadata": {"name": "d", "namespace": NS}, "spec": {"replicas": 2}}),
        ("PATCH", "deployments", "scale", {"spec": {"replicas": 2}}),
        ("POST", "pods", "binding", {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
                                     "target": {"apiVersion": "v1", "kind": "Node", "name": "kube-tutor"}}),
        ("PUT", "deployments", "status", deployment("d")),
        ("PATCH", "deployments", "status", {"status": {"replicas": 1}}),
        ("PUT", "pods", "status", pod("p")),
        ("DELETE", "configmaps", "", {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                                      "propagationPolicy": "Background", "preconditions": {"uid": "x"},
                                      "dryRun": ["All"], "orphanDependents": False}),
    ]
    for n in range(count):
        value = rng.choice(WRONG_VALUES)
        if rng.random() < 0.35:
            method, kind, sub, template = rng.choice(subresource_bodies)
            obj = json.loads(json.dumps(template))
            paths = list(_paths(obj))
            if paths and rng.random() < 0.9:
                _set(obj, rng.choice(paths), value)
            else:
                obj = value
            content_type = JSON if method != "PATCH" else rng.choice([MERGE, STRATEGIC])
            target = _object_path(kind, sub) if sub else f"{KINDS[kind][0]}/nope-{n}"
            if method == "PUT" and isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
                obj["metadata"]["resourceVersion"] = "1"
            yield Case("types", f"{kind}-{sub or 'delete'}-{n}", request(method, target, body=dumps(obj),
                                                                        content_type=content_type, token=token))
            continue
        kind = rng.choice(list(KINDS))
        method = rng.choice(["POST", "PUT", "PATCH"])
        obj = KINDS[kind][1](f"t{n}" if method == "POST" else TARGETS[kind])
        paths = list(_paths(obj))
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            paths = list(_paths(obj))
            if paths:
                _set(obj, rng.choice(paths), json.loads(json.dumps(rng.choice(WRONG_VALUES))))
        if method == "PUT" and isinstance(obj.get("metadata"), dict):
            obj["metadata"]["resourceVersion"] = "1"
        content_type = JSON if method != "PATCH" else rng.choice(PATCH_TYPES)
        if content_type == JSON_PATCH:
            body = dumps([{"op": rng.choice(["add", "replace", "test"]), "path": "/" + "/".join(
                str(p) for p in rng.choice(list(_paths(KINDS[kind][1]("x"))))), "value": value}])
        else:
            body = dumps(obj)
        target = KINDS[kind][0] if method == "POST" else _object_path(kind)
        yield Case("types", f"{kind}-{method.lower()}-{n}", request(method, target, body=body,
                                                                    content_type=content_type, token=token))


def _compressed(kind: str, data: bytes) -> bytes:
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "deflate":
        return zlib.compress(data)
    return data


def encoding(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """Content-Encoding and Content-Type values a server may not take, with bodies that match them or not."""
    encodings = ["gzip", "deflate", "br", "zstd", "xyz", "gzip, gzip", "identity", "gzip, identity", "compress",
                 "GZIP", "", "\u00e4", "chunked"]
    content_types = ["text/plain", "application/json; charset=utf-16", "application/json;charset=latin1",
                     "application/vnd.kubernetes.protobuf", "application/cbor", "", "*/*", YAML,
                     "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json;;",
                     "application/json; v=\u00e4", "application/jsonx", "application/ json", "json",
                     "application/vnd.kubernetes.protobuf;stream=watch"]
    for n in range(count):
        kind = rng.choice(list(KINDS))
        method = rng.choice(["POST", "PUT", "PATCH", "DELETE"])
        target = KINDS[kind][0] if method == "POST" else _object_path(kind)
        obj = KINDS[kind][1](f"c{n}" if method == "POST" else TARGETS[kind])
        data = dumps(obj) if method != "DELETE" else b'{"gracePeriodSeconds":0,"dryRun":["All"]}'
        headers: list[tuple[str | bytes, str | bytes]] = []
        if rng.random() < 0.5:
            enc = rng.choice(encodings)
            mode = rng.choice(["match", "plain", "garbage"])
            if mode == "match":
                data = _compressed(enc.split(",")[0].strip().lower(), data)
            elif mode == "garbage":
                data = rng.choice([b"\x1f\x8b\x08\x00garbage", b"\x78\x9cgarbage", b"\x00" * 16, data[:-3]])
            headers.append(("Content-Encoding", enc))
            content_type = JSON if method != "PATCH" else MERGE
        else:
            content_type = rng.choice(content_types)
            if content_type.startswith("application/vnd.kubernetes.protobuf") and rng.random() < 0.5:
                data = b"k8s\x00" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        if rng.random() < 0.15:
            headers.append(("Transfer-Encoding", "chunked"))
            data = b"%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n"
            yield Case("encoding", f"{method.lower()}-chunked-{n}", request(
                method, target, body=data, content_type=content_type, headers=headers, token=token,
                content_length=False))
            continue
        yield Case("encoding", f"{method.lower()}-{n}", request(method, target, body=data, content_type=content_type,
                                                                headers=headers, token=token))


MAX_BODY = 3 * 1024 * 1024


def size(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """Bodies around and beyond upstream's 3 MiB limit, and JSON nested beyond what a recursive decoder takes."""
    for n in range(count):
        what = rng.choice(["deep", "deep", "deep", "big", "wide"])
        kind = rng.choice(["configmaps", "deployments", "pods"])
        if what == "deep":
            depth = rng.choice([100, 999, 1000, 1001, 3000, 9999, 10000, 10001, 50000, 200000])
            opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
            nested = opener * depth + "1" + closer * depth
            where = rng.choice(["root", "unknown", "annotation", "patch-merge", "patch-strategic", "patch-json",
                                "apply", "yaml", "delete"])
            if where == "root":
                body, content_type, method = nested.encode(), JSON, "POST"
            elif where == "delete":
                body, content_type, method = ('{"preconditions":' + nested + "}").encode(), JSON, "DELETE"
            elif where == "yaml":
                flow = "[" * depth + "1" + "]" * depth
                body, content_type, method = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {flow}\n".encode(), YAML, \
                    "POST"
                kind = "configmaps"
            elif where.startswith("patch") or where == "apply":
                content_type = {"patch-merge": MERGE, "patch-strategic": STRATEGIC, "patch-json": JSON_PATCH,
                                "apply": APPLY}[where]
                if content_type == JSON_PATCH:
                    body = ('[{"op":"add","path":"/metadata/annotations","value":' + nested + "}]").encode()
                else:
                    body = ('{"metadata":{"annotations":' + nested + "}}").encode()
                method = "PATCH"
            else:
                obj = KINDS[kind][1](f"z{n}")
                key = ("zzz",) if where == "unknown" else ("metadata", "annotations")
                body, content_type, method = with_literal(obj, key, nested), JSON, "POST"
            target = (KINDS[kind][0] if method == "POST" else _object_path(kind) if method == "PATCH" else
                      f"{KINDS[kind][0]}/nope-{n}")
            yield Case("size", f"deep-{where}-{depth}-{n}", request(method, target, body=body,
                                                                    content_type=content_type, token=token))
        elif what == "big":
            length = rng.choice([MAX_BODY - 200, MAX_BODY + 1, MAX_BODY + 4096, 4 * 1024 * 1024,
                                 16 * 1024 * 1024 + 1, 20 * 1024 * 1024])
            obj = configmap(f"b{n}")
            base = len(dumps(obj))
            obj["data"]["big"] = "x" * max(0, length - base - 9)
            method = rng.choice(["POST", "PUT", "PATCH", "DELETE"])
            target = KINDS["configmaps"][0] if method == "POST" else _object_path("configmaps")
            target += "?dryRun=All"  # what fits is not kept: the run's memory is not what is measured
            if method == "PUT":
                obj["metadata"]["name"] = "cm"
                obj["metadata"]["resourceVersion"] = "1"
            content_type = JSON if method != "PATCH" else MERGE
            if method == "DELETE":
                target = f"{KINDS['configmaps'][0]}/nope-{n}"
            yield Case("size", f"big-{method.lower()}-{length}-{n}", request(method, target, body=dumps(obj),
                                                                             content_type=content_type, token=token))
        else:
            obj = configmap(f"w{n}")
            obj["data"] = {f"k{i}": "v" for i in range(rng.choice([1000, 20000, 100000]))}
            yield Case("size", f"wide-{n}", request("POST", KINDS["configmaps"][0] + "?dryRun=All", body=dumps(obj),
                                                    content_type=JSON, token=token))


def _alias_bomb(levels: int, fanout: int) -> str:
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        refs = ", ".join(f"*a{level - 1}" for _ in range(fanout))
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


YAML_ODDITIES = [
    "metadata: &m {name: rec, labels: *m}\n",
    "metadata: &m\n  name: rec\n  x: *m\n",
    "data: &d [*d]\n",
    "data: *nope\n",
    "metadata: {name: tags}\ndata: {a: !!binary aGVsbG8=}\n",
    "metadata: {name: tags}\ndata: !!set {a, b}\n",
    "metadata: {name: tags}\ndata: {a: !!python/object:os.system x}\n",
    "metadata: {name: tags}\ndata: {a: .inf}\n",
    "metadata: {name: tags}\ndata: {a: .nan}\n",
    "metadata: {name: tags}\ndata: {? [a, b] : c}\n",
    "metadata: {name: tags}\ndata: {1: a, true: b, null: c, 1.5: d}\n",
    "metadata: {name: tags}\ndata: {a: 2001-12-14t21:59:43.10-05:00}\n",
    "metadata: {name: tags}\ndata: {a: !!timestamp 2001-12-14}\n",
    "metadata: {name: dup, name: dup2}\n",
    "---\nmetadata: {name: docs}\n---\nmetadata: {name: docs2}\n",
    "metadata:\n\tname: tab\n",
    "metadata: {name: merge}\nbase: &b {a: b}\ndata:\n  <<: *b\n  c: d\n",
    "metadata: {name: merge2}\ndata:\n  <<: [*x]\n",
    "%YAML 1.1\n---\nmetadata: {name: directive}\n",
    "metadata: {name: 'anchors'}\ndata: {a: &x b, c: *x}\n",
    "!!map {metadata: {name: tagged}}\n",
    "metadata: {name: big-int}\ndata: {a: 0x" + "f" * 5000 + "}\n",
    "metadata: {name: big-int2}\nspec: {replicas: " + "9" * 5000 + "}\n",
    "metadata: {name: octal}\nspec: {replicas: 0o17}\n",
    "metadata: {name: sexagesimal}\nspec: {replicas: 1:30}\n",
    "",
    "null\n",
    "[1, 2]\n",
    "'just a string'\n",
    "metadata: {name: x}\n...\ngarbage: [\n",
]


def yaml_bodies(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """YAML bodies (application/yaml and apply patches): alias bombs, recursive aliases, tags, odd scalars."""
    for n in range(count):
        if rng.random() < 0.45:
            text = _alias_bomb(rng.choice([3, 4, 5, 6, 8, 9, 10, 12]), rng.choice([2, 5, 9, 10]))
            where = rng.choice(["data", "metadata-labels", "top", "annotations"])
            if where == "data":
                text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bomb{n}}}\n" + text
            elif where == "metadata-labels":
                text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb{n}\n  labels:\n" + "".join(
                    "    " + line + "\n" for line in text.splitlines())
            elif where == "annotations":
                text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb{n}\n  annotations:\n" + "".join(
                    "    " + line + "\n" for line in text.splitlines())
        else:
            text = rng.choice(YAML_ODDITIES)
            if "apiVersion" not in text and text.startswith(("metadata", "data", "spec", "!!map", "---", "%")):
                text = "apiVersion: v1\nkind: ConfigMap\n" + text if not text.startswith(("---", "%")) else text
        how = rng.choice(["create", "update", "apply", "apply-new"])
        body = text.encode()
        if how == "create":
            yield Case("yaml", f"create-{n}", request("POST", KINDS["configmaps"][0], body=body, content_type=YAML,
                                                      token=token))
        elif how == "update":
            yield Case("yaml", f"update-{n}", request("PUT", _object_path("configmaps"), body=body,
                                                      content_type=YAML, token=token))
        elif how == "apply":
            yield Case("yaml", f"apply-{n}", request("PATCH", _object_path("configmaps") + "?fieldManager=fuzz",
                                                     body=body, content_type=APPLY, token=token))
        else:
            yield Case("yaml", f"apply-new-{n}", request(
                "PATCH", f"{KINDS['configmaps'][0]}/apply-{n}?fieldManager=fuzz", body=body, content_type=APPLY,
                token=token))


def protocol(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """Requests aiohttp's parser refuses, odd tokens, HTTP/1.0 watches, odd Content-Length and framing."""
    path = KINDS["configmaps"][0]
    secret_header = f"Bearer {token}"
    for n in range(count):
        what = rng.choice(["line", "header", "token", "http10", "length", "framing", "method", "target"])
        if what == "line":
            raw = rng.choice([b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                              b"GET /" + b"a" * rng.choice([9000, 70000]) + b" HTTP/1.1\r\n\r\n",
                              b"GET  / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n",
                              b"\r\n\r\nGET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n",  # blank lines first
                              b"GET / HTTP/1.1\n\n", b"G\xffT / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x00\x00\r\n\r\n"])
        elif what == "header":
            bad = rng.choice([b"Foo\r\n", b"Foo : bar\r\n", b"F\x00o: bar\r\n", b"Foo bar: x\r\n",
                              b"X-Long: " + b"v" * rng.choice([9000, 70000]) + b"\r\n",
                              b"".join(b"X-%d: v\r\n" % i for i in range(rng.choice([129, 200]))),
                              b" continued\r\n", b"X: \x7f\x00\r\n", b"X-\xff: y\r\n",
                              b"Authorization: " + secret_header.encode() + b"\x00leak\r\n",
                              b"Authorization: " + secret_header.encode() + b"\r\nX: \x00\r\n",
                              b"X-Token-Echo: " + secret_header.encode() + b"\x01\r\n"])
            raw = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   + b"Authorization: " + secret_header.encode() + b"\r\n" + bad + b"\r\n")
        elif what == "token":
            value = rng.choice([f"{token}{TOKEN_MARK}", f"{TOKEN_MARK}{token}", "\u00e4\u00f6\u00fc", "\u2028",
                                token + "\u00a0", "\U0001f600", token[:-1] + "\u00e9"])
            raw = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   b"Authorization: Bearer " + value.encode(rng.choice(["utf-8", "latin-1"]), "replace") + b"\r\n\r\n")
        elif what == "http10":
            query = rng.choice(["?watch=true&timeoutSeconds=1", "?watch=1&timeoutSeconds=1", "", "?limit=1"])
            target = rng.choice([path, f"/apis/apps/v1/namespaces/{NS}/deployments", _object_path("pods", "log") +
                                 "?follow=true&tailLines=1"])
            raw = request("GET", target + (query if "?" not in target else ""), token=token, version="HTTP/1.0")
            yield Case("protocol", f"http10-{n}", raw, stream=True)
            continue
        elif what == "length":
            value = rng.choice([b"-1", b"abc", b"1.5", b"99999999999999999999999", b"+5", b" 5", b"5, 5", b"0x10",
                                b"\xc2\xb2", b"18446744073709551616", b""])
            body = b'{"metadata":{"name":"len"}}'
            raw = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   b"Authorization: " + secret_header.encode() + b"\r\nContent-Type: application/json\r\n"
                   b"Content-Length: " + value + b"\r\n\r\n" + body)
            if rng.random() < 0.3:
                raw = raw.replace(b"Content-Length: " + value, b"Content-Length: 5\r\nContent-Length: 7")
        elif what == "framing":
            body = b'{"metadata":{"name":"chunk%d"}}' % n
            # (A chunk that never ends is a body that never comes: test_fuzz_api's connection tests.)
            variant = rng.choice(["bad-size", "te-and-cl", "te-gzip", "te-unknown", "trailer"])
            te = {"bad-size": b"chunked", "te-and-cl": b"chunked", "te-gzip": b"gzip, chunked", "te-unknown": b"xyz",
                  "trailer": b"chunked"}[variant]
            chunks = {"bad-size": b"zz\r\n" + body + b"\r\n0\r\n\r\n",
                      "te-and-cl": b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n",
                      "te-gzip": b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n",
                      "te-unknown": body,
                      "trailer": b"%x\r\n" % len(body) + body + b"\r\n0\r\nX-Trailer: " + secret_header.encode()
                                 + b"\x00\r\n\r\n"}[variant]
            extra = b"Content-Length: 3\r\n" if variant == "te-and-cl" else b""
            raw = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   b"Authorization: " + secret_header.encode() + b"\r\nContent-Type: application/json\r\n"
                   + extra + b"Transfer-Encoding: " + te + b"\r\n\r\n" + chunks)
        elif what == "method":
            method = rng.choice(["get", "FOO", "CONNECT", "TRACE", "OPTIONS", "HEAD", "PROPFIND", "G=T", "PRI"])
            raw = request(method, path, token=token)
        else:
            target = rng.choice(["*", "https://127.0.0.1/api/v1/namespaces", "//api/v1", "/api/v1/../v1/namespaces",
                                 "/api/v1/namespaces/" + NS + "/configmaps?%ff=1", "/api/v1?x=%zz",
                                 "/api/v1/namespaces/" + NS + "/configmaps#frag", "/%2e%2e/api", "/api/v1;x",
                                 "/api/v1/namespaces/" + NS + "/configmaps?watch=true&timeoutSeconds=1&watch=false",
                                 "/api/v1/namespaces/" + NS + "/configmaps?labelSelector=%ff",
                                 "/api/v1/namespaces/" + NS + "/configmaps?fieldSelector=metadata.name%3D%ff",
                                 "/api/v1/namespaces/" + NS + "/configmaps?labelSelector=" + "a" * 5000])
            raw = request("GET", target, token=token)
        yield Case("protocol", f"{what}-{n}", raw)


def _valid_requests(token: str, n: int) -> list[bytes]:
    return [
        request("POST", KINDS["configmaps"][0], body=dumps(configmap(f"m{n}")), content_type=JSON, token=token),
        request("POST", KINDS["deployments"][0], body=dumps(deployment(f"m{n}")), content_type=JSON, token=token),
        request("PUT", _object_path("configmaps"), body=dumps({**configmap("cm"), "metadata": {
            "name": "cm", "resourceVersion": "1"}}), content_type=JSON, token=token),
        request("PATCH", _object_path("deployments"), body=b'{"spec":{"replicas":1}}', content_type=STRATEGIC,
                token=token),
        request("PATCH", _object_path("deployments"), body=b'[{"op":"replace","path":"/spec/replicas","value":1}]',
                content_type=JSON_PATCH, token=token),
        request("PATCH", _object_path("configmaps"), body=b"data:\n  a: c\n", content_type=APPLY, token=token),
        request("GET", KINDS["pods"][0] + "?labelSelector=app%3Df&limit=5", token=token),
        request("GET", _object_path("deployments", "scale"), token=token),
        request("DELETE", f"{KINDS['configmaps'][0]}/m{n}", body=b'{"propagationPolicy":"Background"}',
                content_type=JSON, token=token),
        request("POST", _object_path("pods", "binding"), body=dumps({"target": {"name": "kube-tutor"}}),
                content_type=JSON, token=token),
    ]


def mutate(rng: random.Random, token: str, count: int) -> Iterator[Case]:
    """Valid requests with random bytes flipped, inserted, deleted, duplicated or cut off."""
    for n in range(count):
        raw = bytearray(rng.choice(_valid_requests(token, n)))
        head_end = raw.find(b"\r\n\r\n")
        body_only = rng.random() < 0.6 and head_end + 4 < len(raw)
        low = head_end + 4 if body_only else 0
        for _ in range(rng.choice([1, 1, 2, 3, 8])):
            if len(raw) <= low + 1:
                break
            at = rng.randrange(low, len(raw))
            op = rng.choice(["flip", "insert", "delete", "dup", "cut", "byte"])
            if op == "flip":
                raw[at] ^= 1 << rng.randrange(8)
            elif op == "insert":
                raw[at:at] = bytes([rng.choice(b'{}[]":,\\\x00\xff0123456789-eE.tfn \r\n')])
            elif op == "delete":
                del raw[at]
            elif op == "dup":
                end = min(len(raw), at + rng.randint(1, 40))
                raw[at:at] = raw[at:end] * rng.randint(1, 20)
            elif op == "cut" and body_only:
                del raw[at:]
            else:
                raw[at] = rng.randrange(256)
        data = bytes(raw)
        head, _, body = data.partition(b"\r\n\r\n")
        declared = re.search(rb"Content-Length: (\d+)", head)
        if declared is not None and (body_only or int(declared.group(1)) > len(body)):
            # Honest most of the time, else short (what follows is the next request's garbage); never longer
            # than what is sent: a body that never comes is test_fuzz_api's connection tests' business.
            length = len(body) if rng.random() < 0.8 else rng.randrange(len(body) + 1)
            head = head[:declared.start(1)] + b"%d" % length + head[declared.end(1):]
            data = head + b"\r\n\r\n" + body
        yield Case("mutate", f"mutate-{n}", data)


CATEGORIES: dict[str, Generator] = {
    "numbers": numbers, "utf8": utf8, "types": types, "encoding": encoding, "size": size, "yaml": yaml_bodies,
    "protocol": protocol, "mutate": mutate,
}


# ---- what is allowed to be a 5xx -----------------------------------------------------------------------
STRATEGIC_500 = (
    re.compile(r"^unknown patch type: .* in map: "),
    re.compile(r"^map: .* does not contain declared merge key: "),
    re.compile(r"^expected a .*, but received a "),
    re.compile(r"^list element types are not identical: "),
)
APPLY_500 = STRATEGIC_500
"""Strategic merge failures kube-apiserver answers with 500 (``StatusReasonInternalError``): the plain errors of
``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`` (``mergepatch.ErrBadPatchType``,
``mergepatch.ErrNoMergeKey``, ``mergepatch.ErrBadArgType``, ``sliceElementType``'s
``list element types are not identical``) that ``interpretStrategicMergePatchError``
(``k8s.io/apiserver/pkg/endpoints/handlers/patch.go``) does not map to 400 or 422, so the handler passes them
on and ``ErrorToAPIStatus`` makes them an internal error.

The practice cluster's server-side apply is a strategic merge (see ``patch.py``), so an apply patch fails with
these too; kube-apiserver's structured merge answers such patches with a 500 as well: ``failed to create typed
patch object (...)`` is a plain error (k8s.io/apimachinery ``pkg/util/managedfields/internal/structuredmerge.go``,
kubernetes/kubernetes#122480), with its own wording."""


BINDING_500 = re.compile(r"^\[?target\.(name: Required value|kind: Unsupported value: )")
"""``BindingREST.Create`` (kubernetes/kubernetes ``pkg/registry/core/pod/storage/storage.go``) returns
``ValidatePodBinding``'s aggregate unconverted, so ``ErrorToAPIStatus`` makes it a 500 without a reason."""

TOO_LARGE_500 = re.compile(r"etcdserver: request is too large$")
"""An object over etcd's 1.5 MiB request limit (but under the 3 MiB body limit): etcd's error reaches the client
as a 500 (``pkg/storage/etcd3/store.go`` passes it on; etcd ``api/v3rpc/rpctypes/error.go``)."""


def allowed_5xx(case: Case, answer: Answer) -> bool:
    """A 5xx kube-apiserver gives too: a strategic merge failure (see :data:`STRATEGIC_500`), a failed
    ``ValidatePodBinding`` (:data:`BINDING_500`) or an object too large for etcd (:data:`TOO_LARGE_500`)."""
    if answer.status != 500:
        return False
    try:
        message = answer.json()["message"]
    except (ValueError, KeyError, TypeError):
        return False
    head = case.raw.split(b"\r\n\r\n", 1)[0]
    request_line = head.split(b"\r\n", 1)[0]
    if b"/binding" in request_line and BINDING_500.search(message):
        return True
    if TOO_LARGE_500.search(message):
        return True
    if b"strategic-merge-patch" not in head and b"apply-patch" not in head:
        return False
    return any(pattern.search(message) for pattern in STRATEGIC_500)


# ---- a run ----------------------------------------------------------------------------------------------
@dataclass
class Report:
    """The answers of a run, by category."""

    answers: list[tuple[Case, Answer]] = field(default_factory=list)
    seconds: float = 0.0

    def by_status(self, category: str | None = None) -> Counter[int]:
        return Counter(a.status for c, a in self.answers if category in (None, c.category))

    def server_errors(self) -> list[tuple[Case, Answer]]:
        return [(c, a) for c, a in self.answers if a.status >= 500 and not allowed_5xx(c, a)]

    def timeouts(self) -> list[tuple[Case, Answer]]:
        return [(c, a) for c, a in self.answers if a.error == "timeout"]

    def rate(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else 0.0


def cases(seed: int, count: int, categories: list[str], token: str) -> list[Case]:
    """The cases of a run: ``count`` per category, each category seeded from ``seed`` and its name."""
    out: list[Case] = []
    for name in categories:
        rng = random.Random(f"{seed}/{name}")
        out.extend(CATEGORIES[name](rng, token, count))
    return out


def run(client: Client, batch: list[Case], workers: int = 4) -> Report:
    """Send the cases, ``workers`` at a time; returns every answer."""
    report = Report()
    lock = threading.Lock()

    def one(case: Case) -> None:
        answer = client.send(case.raw, stream=case.stream)
        with lock:
            report.answers.append((case, answer))

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, batch))
    report.seconds = time.monotonic() - start
    return report


def setup_objects(client: Client, token: str) -> None:
    """The namespaces, the targets of the cases and the witness objects no case names."""
    for ns in (NS, WITNESS_NS):
        client.send(request("POST", "/api/v1/namespaces", body=dumps({"metadata": {"name": ns}}),
                            content_type=JSON, token=token))
    reset_targets(client, token)
    for kind in ("configmaps", "deployments", "services", "secrets"):
        collection, make = KINDS[kind]
        client.send(request("POST", collection.replace(f"/namespaces/{NS}/", f"/namespaces/{WITNESS_NS}/"),
                            body=dumps(make("witness")), content_type=JSON, token=token))


def reset_targets(client: Client, token: str) -> None:
    """Create the objects the cases update, patch and delete, where a case removed them."""
    for kind, name in TARGETS.items():
        collection, make = KINDS[kind]
        client.send(request("POST", collection, body=dumps(make(name)), content_type=JSON, token=token))


def witness(client: Client, token: str) -> dict[str, Any]:
    """The witness objects as the server has them now."""
    out = {}
    for kind in ("configmaps", "deployments", "services", "secrets"):
        collection = KINDS[kind][0].replace(f"/namespaces/{NS}/", f"/namespaces/{WITNESS_NS}/")
        answer = client.send(request("GET", f"{collection}/witness", token=token))
        obj = answer.json() if answer.status == 200 else {"status": answer.status}
        if kind == "deployments" and answer.status == 200:  # its controller owns status, annotations, generation
            obj = {"spec": obj["spec"], "uid": obj["metadata"]["uid"], "labels": obj["metadata"].get("labels")}
        out[kind] = obj
    return out


TRACEBACK = "Traceback (most recent call last)"


def scan_log(text: str, token: str) -> dict[str, Any]:
    """Tracebacks (and the exceptions they end with), ERROR lines and the token in a cluster.log."""
    kinds: Counter[str] = Counter()
    inside = False
    for line in text.splitlines():
        if line.startswith(TRACEBACK):
            inside = True
        elif inside and line and not line[0].isspace():
            kinds[line.split(":", 1)[0]] += 1
            inside = False
    return {"tracebacks": text.count(TRACEBACK), "errors": sum(1 for line in text.splitlines() if " ERROR " in line),
            "token": text.count(token), "lines": len(text.splitlines()), "exceptions": dict(kinds.most_common())}


def message(answer: Answer) -> str:
    """The ``message`` of a Status answer, else the start of the body."""
    try:
        return str(answer.json()["message"])
    except (ValueError, KeyError, TypeError):
        return answer.body[:80].decode("utf-8", "replace")


@contextlib.contextmanager
def memory_limit(mib: int) -> Iterator[None]:
    """Start processes with at most ``mib`` MiB of address space (a runaway server dies, not the machine)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (mib * 1024 * 1024, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def main(argv: list[str] | None = None) -> int:
    from tutor.backends.practice import PracticeBackend

    parser = argparse.ArgumentParser(prog="python -m tests.practice.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="cases per category")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--category", action="append", choices=sorted(CATEGORIES))
    parser.add_argument("--show", type=int, default=3, help="5xx answers shown per distinct message")
    parser.add_argument("--memory-limit", type=int, default=3072, help="address space of the server, MiB")
    parser.add_argument("--keep-log", type=Path, help="copy cluster.log here")
    args = parser.parse_args(argv)
    categories = args.category or list(CATEGORIES)
    with tempfile.TemporaryDirectory(prefix="kube-tutor-fuzz-") as tmp:
        backend = PracticeBackend(Path(tmp), time_scale=20.0)
        with memory_limit(args.memory_limit):
            backend.up()
        try:
            config = backend.kubeconfig.read_text()
            token = re.search(r"token: (\S+)", config).group(1)  # type: ignore[union-attr]
            port = int(re.search(r"https://127\.0\.0\.1:(\d+)", config).group(1))  # type: ignore[union-attr]
            client = Client(port, backend.directory / "pki" / "ca.crt")
            setup_objects(client, token)
            before = witness(client, token)
            total = Report()
            for name in categories:
                reset_targets(client, token)
                report = run(client, cases(args.seed, args.cases, [name], token), args.workers)
                total.answers.extend(report.answers)
                total.seconds += report.seconds
                statuses = dict(sorted(report.by_status().items()))
                print(f"{name:9} {len(report.answers):6} requests {report.rate():7.1f}/s  {statuses}", flush=True)
            after = witness(client, token)
            alive = client.send(request("GET", "/readyz")).body == b"ok"
            log = scan_log(backend.log_path.read_text(encoding="utf-8", errors="replace"), token)
            if args.keep_log:
                args.keep_log.write_bytes(backend.log_path.read_bytes())
        finally:
            backend.down()
        errors = total.server_errors()
        for case, answer in total.answers:
            if answer.status >= 500 and allowed_5xx(case, answer):
                print(f"  allowed: {case.category}/{case.id}: {answer.status} {message(answer)[:150]!r}")
        print(f"total     {len(total.answers):6} requests {total.rate():7.1f}/s  5xx: {len(errors)}  "
              f"timeouts: {len(total.timeouts())}  alive: {alive}  witness unchanged: {before == after}  log: {log}")
        if before != after:
            print("  witness before:", json.dumps(before)[:600])
            print("  witness after: ", json.dumps(after)[:600])
        shown: Counter[str] = Counter()
        for case, answer in errors:
            key = f"{answer.status} {message(answer)[:90]!r}"
            shown[key] += 1
            if shown[key] <= args.show:
                print(f"  {case.category}/{case.id}: {key}")
        for key, seen in shown.items():
            if seen > args.show:
                print(f"  ... {seen} x {key}")
        for case, _answer in total.timeouts():
            print(f"  waited: {case.category}/{case.id}: {case.raw[:160]!r}")
        return 1 if errors or log["tracebacks"] or log["token"] or not alive or before != after else 0


if __name__ == "__main__":
    sys.exit(main())

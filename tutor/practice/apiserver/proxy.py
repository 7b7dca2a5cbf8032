"""Provides the ``proxy`` subresources of pods, services and nodes (``kubectl proxy``, ``kubectl get --raw``).

``/api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy/{path}`` reaches the pod's IP and port (the first
declared container port when none is named, else the scheme's default), ``.../services/{[scheme:]name[:port]}/
proxy/{path}`` one ready endpoint of the service, ``/api/v1/nodes/{[scheme:]name[:port]}/proxy/{path}`` the node's
kubelet (or another port of the node). The request is sent on and the answer comes back as the backend wrote it.

Upstream:
- kubernetes/apimachinery ``pkg/util/net/port_split.go`` (``SplitSchemeNamePort``);
- kubernetes/kubernetes ``pkg/registry/core/pod/strategy.go`` (``ResourceLocation``: ``invalid pod request``,
  ``address not allowed``), ``pkg/registry/core/service/storage/storage.go`` (``ResourceLocation``: ``no service
  port %d found for service %q``, ``no endpoints available for service %q``, both 503),
  ``pkg/registry/core/node/strategy.go`` (``ResourceLocation``: ``invalid node request``, the kubelet's port),
  ``pkg/registry/core/pod/rest/subresources.go`` (``ProxyREST``: the methods it proxies);
- kubernetes/apimachinery ``pkg/util/proxy/transport.go`` (a failed round trip is 503 ``error trying to reach
  service: <the dial error>``), ``pkg/util/proxy/upgradeaware.go``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, Store

KUBELET_PORT = 10250
"""The kubelet's ``--port``: what ``nodes/<name>/proxy`` reaches when no port is named."""
PROXY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
"""``ProxyREST.ConnectMethods``: what a proxy subresource takes."""
_VALID_SCHEMES = ("", "http", "https")
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authenticate", "proxy-authorization", "content-length"}
_WELL_KNOWN_PORTS = {"http": 80, "https": 443}
"""What Go's resolver finds for a port name (``/etc/services``), for the two names a learner might write."""
_MAX_RESPONSE = 16 * 1024 * 1024
_PATH = re.compile(r"^/api/v1/(?:namespaces/(?P<ns>[^/]+)/(?P<plural>pods|services)|(?P<nodes>nodes))/"
                   r"(?P<id>[^/]+)/proxy(?P<rest>/.*)?$", re.DOTALL)


class ServiceUnavailable(errors.ApiError):
    code = 503
    reason = "ServiceUnavailable"


class Network(Protocol):
    """What the proxy needs of the node: a connection to a pod's port and the kubelet's answers."""

    async def dial(self, pod: Obj, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]: ...

    def kubelet(self, method: str, path: str) -> tuple[int, str, bytes]: ...


def split_scheme_name_port(id_: str) -> tuple[str, str, str] | None:
    """``SplitSchemeNamePort``: ``name``, ``name:port`` or ``scheme:name:port``; None when not valid."""
    parts = id_.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in _VALID_SCHEMES:
        return None
    return scheme, name, port


def match(path: str) -> tuple[str, str, str, str] | None:
    """``(plural, namespace, id, path)`` of a proxy path; None for any other path."""
    m = _PATH.match(path)
    if m is None:
        return None
    plural = m["plural"] or "nodes"
    return plural, m["ns"] or "", m["id"], m["rest"] or ""


class Target:
    """Where a proxied request goes: a pod's port, or the kubelet."""

    def __init__(self, scheme: str, host: str, port: str, pod: Obj | None = None, kubelet: bool = False) -> None:
        self.scheme, self.host, self.port, self.pod, self.kubelet = scheme or "http", host, port, pod, kubelet

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _pod_target(store: Store, namespace: str, id_: str) -> Target:
    split = split_scheme_name_port(id_)
    if split is None:
        raise errors.BadRequest(f'invalid pod request "{id_}"')
    scheme, name, port = split
    pod = store.get("pods", namespace, name)
    if pod is None:
        raise errors.not_found("pods", "", name)
    if not port:
        for c in pod["spec"].get("containers") or []:
            if c.get("ports"):
                port = str(c["ports"][0].get("containerPort", ""))
                break
    ips = (pod.get("status") or {}).get("podIPs") or []
    ip = ips[0].get("ip", "") if ips else ""
    if not ip:
        raise errors.BadRequest("address not allowed")
    return Target(scheme, ip, port or ("443" if scheme == "https" else "80"), pod=pod)


def _service_target(store: Store, namespace: str, id_: str) -> Target:
    split = split_scheme_name_port(id_)
    if split is None:
        raise errors.BadRequest(f'invalid service request "{id_}"')
    scheme, name, port_name = split
    svc = store.get("services", namespace, name)
    if svc is None:
        raise errors.not_found("services", "", name)
    if port_name.isdigit():  # a port number names the service port: its name is what endpoints carry
        number = int(port_name)
        for p in svc["spec"].get("ports") or []:
            if p.get("port") == number:
                port_name = p.get("name", "")
                break
        else:
            raise ServiceUnavailable(f'no service port {number} found for service "{name}"')
    eps = store.get("endpoints", namespace, name)
    if eps is None:
        raise errors.not_found("endpoints", "", name)
    subsets = eps.get("subsets") or []
    if not subsets:
        raise ServiceUnavailable(f'no endpoints available for service "{name}"')
    for subset in subsets:
        for p in subset.get("ports") or []:
            if p.get("name", "") != port_name:
                continue
            for address in subset.get("addresses") or []:  # ready addresses only
                ref = address.get("targetRef") or {}
                pod = store.get("pods", ref.get("namespace", namespace), ref.get("name", ""))
                if pod is None or pod["metadata"].get("uid") != ref.get("uid", pod["metadata"].get("uid")):
                    continue  # isValidAddress: the endpoint's pod must still exist
                return Target(scheme, address["ip"], str(p.get("port")), pod=pod)
    raise ServiceUnavailable(f'no endpoints available for service "{name}"')


def _node_target(store: Store, id_: str) -> Target:
    split = split_scheme_name_port(id_)
    if split is None:
        raise errors.BadRequest(f'invalid node request "{id_}"')
    scheme, name, port = split
    node = store.get("nodes", "", name)
    if node is None:
        raise errors.not_found("nodes", "", name)
    addresses = (node.get("status") or {}).get("addresses") or []
    host = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), name)
    if not port or port == str(KUBELET_PORT):
        return Target("https", host, str(KUBELET_PORT), kubelet=True)
    return Target(scheme, host, port)


def resolve(store: Store, plural: str, namespace: str, id_: str) -> Target:
    """``ResourceLocation`` of a pod, a service or a node.

    Raises:
        errors.ApiError: what the apiserver answers before it dials anything.
    """
    if plural == "pods":
        return _pod_target(store, namespace, id_)
    if plural == "services":
        return _service_target(store, namespace, id_)
    return _node_target(store, id_)


async def serve(request: web.Request, store: Store, network: Network, matched: tuple[str, str, str, str],
                read_body: Callable[[web.Request], Awaitable[bytes]]) -> web.StreamResponse:
    """Answer a proxy request (``matched`` is what :func:`match` found in its path).

    Raises:
        errors.ApiError: a method the subresource does not take, what ``ResourceLocation`` refuses, or
            :class:`ServiceUnavailable` for a round trip that failed.
    """
    if request.method not in PROXY_METHODS:
        raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
    plural, namespace, id_, path = matched
    target = resolve(store, plural, namespace, id_)
    return await _round_trip(request, network, target, path, await read_body(request))


async def _round_trip(request: web.Request, network: Network, target: Target, path: str,
                      body: bytes) -> web.StreamResponse:
    """Send the request on to ``target`` and answer what it answered (``error trying to reach service: <Go's dial
    error>`` when that fails)."""
    if target.kubelet:
        status, content_type, data = network.kubelet(request.method, path or "/")
        return web.Response(status=status, body=data, headers={"Content-Type": content_type})
    if not target.port.isdigit():
        number = _WELL_KNOWN_PORTS.get(target.port)
        if number is None:
            raise ServiceUnavailable(f"error trying to reach service: dial tcp: lookup tcp/{target.port}: unknown port")
        target.port = str(number)
    if target.pod is None or int(target.port) > 65535:
        raise ServiceUnavailable(f"error trying to reach service: dial tcp {target.address}: connect: connection refused")
    try:
        reader, writer = await network.dial(target.pod, int(target.port))
    except ConnectionRefusedError:
        raise ServiceUnavailable(
            f"error trying to reach service: dial tcp {target.address}: connect: connection refused") from None
    try:
        if target.scheme == "https":
            # Go's TLS client reads the plain HTTP server's 400 answer to its ClientHello.
            raise ServiceUnavailable("error trying to reach service: tls: first record does not look like a TLS "
                                     "handshake")
        query = request.query_string
        head = [f"{request.method} {path or '/'}{'?' + query if query else ''} HTTP/1.1", f"Host: {target.address}"]
        for name, value in request.headers.items():
            if name.lower() in _HOP_BY_HOP or name.lower() in ("host", "authorization"):
                continue
            head.append(f"{name}: {value}")
        forwarded_for = request.remote or ""
        head += [f"X-Forwarded-For: {forwarded_for}", f"Content-Length: {len(body)}", "Connection: close"]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body)
        await writer.drain()
        status, headers, data = await _read_response(reader, request.method)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        raise ServiceUnavailable("error trying to reach service: EOF") from None
    finally:
        writer.close()
    response = web.Response(status=status, body=data)
    for name, value in headers:
        if name.lower() not in _HOP_BY_HOP:
            response.headers.add(name, value)
    return response


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, list[tuple[str, str]], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = []
    length = None
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if method == "HEAD" or status in (204, 304):
        return status, headers, b""
    if length is not None:
        return status, headers, await reader.readexactly(min(length, _MAX_RESPONSE))
    return status, headers, await reader.read(_MAX_RESPONSE)

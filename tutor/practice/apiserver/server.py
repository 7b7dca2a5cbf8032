"""Provides the HTTPS API server: routing, authentication, verbs, watches, Tables and subresources."""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
import logging
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from tutor.kube import strconv
from tutor.practice.apiserver import (
    auth,
    defaults,
    discovery,
    errors,
    fieldmanager,
    portforward,
    protobuf,
    proxy,
    rbac,
    schema,
    tables,
)
from tutor.practice.apiserver.admission import Admission, bind, check_stored_size, update_pod_condition
from tutor.practice.apiserver.deletion import Deletion
from tutor.practice.apiserver.openapi import OpenAPIService
from tutor.practice.apiserver.patch import APPLY_PATCH, apply_patch, decode_apply, patch_type, validate_patch
from tutor.practice.apiserver.resources import Resource, group_versions, lookup
from tutor.practice.apiserver.selectors import FieldSelector, LabelSelector
from tutor.practice.apiserver.storage import StorageFailed
from tutor.practice.apiserver.store import Obj, Store, WatchEvent, deep_copy

log = logging.getLogger(__name__)

JSON = "application/json"
YAML = "application/yaml"
SUPPORTED_MEDIA_TYPES = (JSON, YAML, protobuf.CONTENT_TYPE)
"""What the input serializers of kube-apiserver take, in the order its 415 message lists them."""
CLOCK_PATH = "/kube-tutor/clock"
"""The practice cluster's own admin path (no Kubernetes API has it): ``GET`` says ``{"paused": bool, "timeScale":
float}``; ``PUT`` of ``{"paused": bool}`` pauses or resumes the cluster's clock. Only ``system:masters`` (the
admin token) may use it; RBAC answers 403 to everyone else, as for any path no rule allows."""
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024
"""``MaxRequestBodyBytes``: the most a write's body may hold (kubernetes/apiserver ``pkg/server/config.go``,
``NewConfig``: 3 MiB, "2x as the largest request body size" etcd takes), enforced by ``limitedReadBody``
(``pkg/endpoints/handlers/rest.go``) with ``413 Request entity too large: limit is 3145728``."""
REQUEST_TIMEOUT = 60.0
"""``--request-timeout`` (1m0s): a request body that has not come in by then gets the timeout filter's 504
(kubernetes/apiserver ``pkg/server/filters/timeout.go``)."""
DECODE_IN_THREAD = 256 * 1024
"""Bodies larger than this are decoded (and patches applied) in a worker thread: the loop keeps serving."""
_WARNINGS: contextvars.ContextVar[list[str]] = contextvars.ContextVar("warnings")
_MANAGER: contextvars.ContextVar[str] = contextvars.ContextVar("manager", default="unknown")
"""The request's field manager (``managerOrUserAgent``: the ``fieldManager`` parameter, else the user agent)."""
"""``Warning`` headers of the request being handled."""
_USER: contextvars.ContextVar[auth.UserInfo] = contextvars.ContextVar("user", default=auth.ADMIN)
"""The authenticated user of the request being handled."""
_ANNOTATION_INITIAL_EVENTS_END = "k8s.io/initial-events-end"
_WARNING_TOTAL_RUNES, _WARNING_ITEM_RUNES = 4 * 1024, 256
"""``truncateAtTotalRunes`` and ``truncateItemRunes`` (kubernetes/apiserver ``pkg/endpoints/filters/warning.go``)."""


def dumps(obj: Any) -> bytes:
    """JSON as Go's encoder writes it: a string that is not valid Unicode gets U+FFFD, never an exception."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (from a name, a path): Go's encoder writes U+FFFD
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


def json_response(obj: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=dumps(obj), status=status, headers={"Content-Type": content_type})


_LIST_CHUNK_BYTES = 64 * 1024


def _list_response(head: dict[str, Any], key: str, encoded: Iterator[bytes]) -> web.Response:
    """``head`` with ``key`` (its last field) holding the items ``encoded`` yields: the bytes of ``dumps`` of the
    whole. Items are encoded up to about 64 KiB before answering; a small list is one body, a larger one goes out
    in chunks of about 64 KiB, the rest of its items encoded only as the chunks are sent. ``encoded`` must read a
    snapshot (:meth:`Store.scan`), so the answer is one resourceVersion's view however long sending takes. The
    whole is never built: a list of thousands of events costs about one chunk, not its size three times (items,
    body, write buffer), and leaves no peak behind in the heap."""
    head = {k: v for k, v in head.items() if k != key}
    opening = b"".join((dumps(head)[:-1], b',"', key.encode(), b'":['))
    first = bytearray(opening)
    count = 0
    for item in encoded:
        if count:
            first += b","
        first += item
        count += 1
        if len(first) >= _LIST_CHUNK_BYTES:
            break
    else:
        first += b"]}"
        return web.Response(body=bytes(first), headers={"Content-Type": JSON})

    async def chunks() -> AsyncIterator[bytes]:
        yield bytes(first)
        chunk = bytearray()
        for item in encoded:
            chunk += b","
            chunk += item
            if len(chunk) >= _LIST_CHUNK_BYTES:
                yield bytes(chunk)
                chunk = bytearray()
        chunk += b"]}"
        yield bytes(chunk)

    return web.Response(body=chunks(), headers={"Content-Type": JSON})


def status_response(error: errors.ApiError) -> web.Response:
    return json_response(error.status(), status=error.code)


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, as the bearer token authenticator reads it.

    Upstream: kubernetes/apiserver ``pkg/authentication/request/bearertoken/bearertoken.go``: the header is
    trimmed, split in at most three on single spaces; the scheme is case-insensitive; an empty token (two
    spaces) is no token.
    """
    parts = header.strip().split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


def warning_headers(warnings: list[str]) -> list[str]:
    """The ``Warning`` header values of a request's warnings, as the warning recorder writes them.

    Upstream: kubernetes/apiserver ``pkg/endpoints/filters/warning.go`` (deduplicated; once the texts pass
    4,096 runes each is cut to 256) and kubernetes/apimachinery ``pkg/util/net/http.go``
    (``NewWarningHeader``: a text that is not valid UTF-8 or holds a control character is dropped).
    """
    texts = [w for w in dict.fromkeys(warnings) if w and _header_safe(w)]
    if sum(len(w) for w in texts) > _WARNING_TOTAL_RUNES:
        texts = [w[:_WARNING_ITEM_RUNES] for w in texts]
    return ['299 - "' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in texts]


def _header_safe(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return not any(unicodedata.category(c) == "Cc" for c in text)


def request_path(request: web.Request) -> str:
    """The request's path as Go's ``URL.Path`` has it: percent-escapes decoded (``%2F`` too), bytes that are
    not UTF-8 as U+FFFD (how they reach JSON), never a lone surrogate."""
    raw = request.raw_path.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith("/"):
        raw = request.rel_url.raw_path  # absolute form (https://host/path): its path; "//x" stays a path, as in Go
    return unquote_to_bytes(raw.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")


def _parse_media_type(header: str) -> str | None:
    """``mime.ParseMediaType``'s media type (lower case), or None where Go's parser fails.

    Upstream: golang/go ``src/mime/mediatype.go`` (``ParseMediaType``, ``consumeMediaParam``, ``consumeValue``).
    """
    base = header.partition(";")[0]
    media_type = base.strip().lower()
    kind, slash, sub = media_type.partition("/")
    if not slash or not _token(kind) or not _token(sub):
        return None
    rest = header[len(base):]
    while rest := rest.lstrip():
        name, after = _consume_media_param(rest)
        if not name:
            if rest.strip() == ";":
                break  # a trailing semicolon is ignored
            return None
        rest = after
    return media_type


def _consume_media_param(text: str) -> tuple[str, str]:
    """``consumeMediaParam``: ``; name=value`` (a token, or a quoted string); ``("", text)`` if it is not one."""
    rest = text.lstrip()
    if not rest.startswith(";"):
        return "", text
    rest = rest[1:].lstrip()
    name = _leading_token(rest)
    rest = rest[len(name):].lstrip()
    if not name or not rest.startswith("="):
        return "", text
    rest = rest[1:].lstrip()
    if rest.startswith('"'):
        index = 1
        while index < len(rest) and rest[index] != '"':
            index += 2 if rest[index] == "\\" else 1
        if index >= len(rest):
            return "", text
        return name, rest[index + 1:]
    value = _leading_token(rest)
    if not value:
        return "", text
    return name, rest[len(value):]


def _leading_token(text: str) -> str:
    end = 0
    while end < len(text) and _token(text[end]):
        end += 1
    return text[:end]


def _token(text: str) -> bool:
    """RFC 1521 ``token``: printable ASCII without spaces and ``()<>@,;:\\"/[]?=``."""
    return bool(text) and all(0x20 < ord(c) < 0x7F and c not in '()<>@,;:\\"/[]?=' for c in text)


def success_status(res: Resource, obj: Obj) -> dict[str, Any]:
    """``finalizeDelete`` (kubernetes/apiserver ``pkg/registry/generic/registry/store.go``): Success, no code, and
    details whose empty fields are omitted (the core group)."""
    details = {"name": obj["metadata"]["name"], "group": res.group, "kind": res.plural,
               "uid": obj["metadata"].get("uid", "")}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {k: v for k, v in details.items() if v}}


class RequestInfo:
    """What a resource URL names: resource, namespace, name and subresource."""

    def __init__(self, res: Resource, namespace: str | None, name: str | None, sub: str | None) -> None:
        self.res, self.namespace, self.name, self.sub = res, namespace, name, sub


def _served_group_version(path: str) -> bool:
    """True for a path below ``/api/v1`` or a served ``/apis/<group>/<version>``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[:2] == ["api", "v1"]:
        return True
    return len(parts) >= 4 and parts[0] == "apis" and parts[2] in group_versions().get(parts[1], [])


def parse_resource_path(path: str) -> RequestInfo | None:
    """The served resource a URL names, from the request's one parse (:func:`rbac.request_attributes`, upstream's
    ``NewRequestInfo``); None when it names none (404): a discovery or other non-resource path, a ``watch``/``proxy``
    prefix, more than ``resource/name/subresource``, a namespace where the kind has none (or none where a name needs
    one), or a subresource the kind does not have."""
    attrs = rbac.request_attributes("GET", path, {})
    parts = attrs.parts
    if not attrs.resource_request or attrs.verb not in ("get", "list") or not parts or len(parts) > 3:
        return None
    res = lookup(attrs.api_group, attrs.api_version, attrs.resource)
    if res is None:
        return None
    # A namespace prefix was taken off when the path holds two more segments than the parts (upstream also sets
    # the namespace of a namespace's own path, /api/v1/namespaces/<name>, which has none).
    segments = len([p for p in path.split("/") if p]) - (2 if attrs.api_group == "" else 3)
    namespace = attrs.namespace if segments == len(parts) + 2 else None
    name = attrs.name or None
    sub = attrs.subresource or None
    if res.namespaced and namespace is None and name is not None:
        return None
    if not res.namespaced and namespace is not None:
        return None
    if sub is not None and sub not in res.subresources:
        return None
    return RequestInfo(res, namespace, name, sub)


LogEndpoint = Callable[[web.Request, str, str, dict[str, str]], Awaitable[web.StreamResponse]]
"""The kubelet's ``pods/log``: ``logs(request, namespace, name, query)``."""
StreamEndpoint = Callable[[web.Request, str, str, str], Awaitable[web.StreamResponse]]
"""The kubelet's ``pods/exec`` and ``pods/attach``: ``streams(request, subresource, namespace, name)``."""


class ApiServer:
    """The aiohttp application of one practice cluster.

    It gets what it serves, nothing more: the store, admission, deletion and the kubelet's log endpoint.
    Nothing leaves it that is not durable: every answer (and every watch event) is sent after
    ``store.commit()``.
    """

    def __init__(self, store: Store, admission: Admission, delete: Deletion, logs: LogEndpoint, token: str, *,
                 network: proxy.Network | None = None, streams: StreamEndpoint | None = None,
                 issuer: auth.TokenIssuer | None = None) -> None:
        self.store = store
        self.streams = streams
        self.admission = admission
        self.delete = delete
        self.logs = logs
        self.network = network
        self.token = token
        self.issuer = issuer
        self.authenticator = auth.Authenticator(token, issuer, store) if issuer is not None else None
        self.rbac = rbac.RBAC(store)
        self.address = "127.0.0.1"
        self.openapi = OpenAPIService(discovery.SERVER_GIT_VERSION)
        self.app = web.Application(middlewares=[self._middleware], client_max_size=MAX_REQUEST_BODY_BYTES)
        self.app.router.add_route("*", r"/{tail:[\s\S]*}", self._dispatch)  # every path, a newline in it too
        portforward.install(self.app)

    # ---- plumbing ------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        if _health_path(request.path) is None:
            token = bearer_token(request.headers.get("Authorization", ""))
            user = self._authenticate(token)
            if user is None:
                return status_response(errors.Unauthorized("Unauthorized"))
            _USER.set(user)
            if auth.SYSTEM_MASTERS not in user.groups:
                # WithAuthorization (kubernetes/apiserver pkg/endpoints/filters/authorization.go), on the
                # RequestInfo of every request: reads, watches, writes, proxy, exec, attach, port-forward, logs.
                attrs = rbac.request_attributes(request.method, request_path(request),
                                                parse_qs(request.query_string, keep_blank_values=True))
                try:
                    self.rbac.check(user, attrs)
                except errors.ApiError as error:
                    return status_response(error)
            storage = self.store.storage
            if storage is not None and storage.failure is not None and request.method not in ("GET", "HEAD"):
                # Writes are refused while nothing can be saved (an apiserver whose etcd is unavailable);
                # the retry below lets them through again as soon as saving works.
                try:
                    self._commit()
                except errors.ApiError as error:
                    return status_response(error)
        try:
            response = await handler(request)
        except errors.ApiError as error:
            response = status_response(error)
        except (ConnectionResetError, asyncio.CancelledError, web.HTTPException):
            raise
        except Exception as error:  # noqa: BLE001 - the server must stay up and answer a Status
            log.exception("internal error on %s %s", request.method, request.path_qs)
            response = status_response(errors.internal_error(str(error)))
        if _health_path(request.path) is not None:
            return response  # says nothing of the state; answers even while saving fails
        try:
            self._commit()
        except errors.ApiError as error:
            return status_response(error)
        return response

    def _authenticate(self, token: str | None) -> auth.UserInfo | None:
        if self.authenticator is not None:
            return self.authenticator.authenticate(token)
        presented = (token or "").encode("utf-8", "surrogateescape")  # any bytes a client sent
        if token is None or not hmac.compare_digest(presented, self.token.encode()):
            return None
        return auth.ADMIN

    def _commit(self) -> None:
        """Make every change so far durable before an answer leaves (a write's, or a read that shows one).

        Raises:
            errors.ApiError: the storage refused the write (500; the change is retried with the next commit).
        """
        try:
            self.store.commit()
        except StorageFailed as error:  # logged once by the storage
            raise errors.internal_error(str(error)) from error

    def _health_checks(self, endpoint: str) -> dict[str, str | None]:
        """The checks of ``/healthz``, ``/livez`` or ``/readyz``, each with why it fails (None: it passes)."""
        storage = self.store.storage
        checks: dict[str, str | None] = {"ping": None, "log": None}
        if endpoint != "livez":
            checks["etcd"] = storage.failure if storage is not None else None
        return checks

    def _root_paths(self) -> list[str]:
        """``IndexLister`` (kubernetes/apiserver ``pkg/server/routes/index.go``): the sorted paths listed at ``/``."""
        paths = {"/api", "/api/v1", "/apis", "/apis/", "/openapi/v3", "/openapi/v3/", "/version"}
        for group, versions in group_versions().items():
            if group:
                paths.add(f"/apis/{group}")
                paths.update(f"/apis/{group}/{version}" for version in versions)
        for endpoint in ("healthz", "livez", "readyz"):
            paths.add(f"/{endpoint}")
            paths.update(f"/{endpoint}/{check}" for check in self._health_checks(endpoint))
        return sorted(paths)

    def _health(self, request: web.Request, endpoint: str, check: str | None) -> web.Response:
        """``/healthz``, ``/livez``, ``/readyz`` and their checks, as kubernetes/apiserver ``pkg/server/healthz``.

        The checks are ``ping``, ``log`` and (not for ``/livez``) ``etcd``, which fails while the storage cannot
        save. The endpoint withholds the reason (``[-]etcd failed: reason withheld``); the check's own path
        (``/readyz/etcd``) says it: ``internal server error: <reason>``.
        """
        checks = self._health_checks(endpoint)
        if check is not None:
            if check not in checks:
                return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
            if checks[check] is not None:
                return web.Response(status=500, text=f"internal server error: {checks[check]}\n",
                                    content_type="text/plain")
            return web.Response(text="ok", content_type="text/plain")
        lines = "".join(f"[-]{name} failed: reason withheld\n" if reason is not None else f"[+]{name} ok\n"
                        for name, reason in checks.items())
        if any(reason is not None for reason in checks.values()):
            return web.Response(status=500, text=f"{lines}{endpoint} check failed\n", content_type="text/plain")
        if "verbose" in request.query:
            return web.Response(text=f"{lines}{endpoint} check passed\n", content_type="text/plain")
        return web.Response(text="ok", content_type="text/plain")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request_path(request).rstrip("/") or "/"
        accept = request.headers.get("Accept", "")
        health = _health_path(path)
        if health is not None:
            return self._health(request, *health)
        if path == "/version" and request.method != "GET":
            raise errors.generic(405)
        if path == CLOCK_PATH:
            return await self._clock(request)
        if request.method == "GET":
            if path in ("/version", "/", "/index.html"):  # WriteRawJSON (responsewriters/writers.go): MarshalIndent
                doc: object = discovery.version_info() if path == "/version" else {"paths": self._root_paths()}
                return web.Response(body=json.dumps(doc, indent=2).encode(), headers={"Content-Type": JSON})
            if path in ("/api", "/apis"):
                if "as=APIGroupDiscoveryList" in accept:
                    return json_response(discovery.aggregated(core=path == "/api"),
                                         content_type=discovery.AGGREGATED_CONTENT_TYPE)
                if path == "/api":
                    port = (request.transport.get_extra_info("sockname") or ("", 0))[1] if request.transport else 0
                    return json_response(discovery.legacy_api_versions(f"{self.address}:{port}"))
                return json_response(discovery.legacy_group_list())
            if path == "/openapi/v3":
                return self.openapi.handle_discovery(request)
            if path.startswith("/openapi/v3/"):  # kube-openapi handler3: every path under it is a group/version
                return self.openapi.handle_group_version(request, path[len("/openapi/v3/"):])
            parts = [p for p in path.split("/") if p]
            if len(parts) == 2 and parts[0] == "api":
                doc = discovery.legacy_resource_list("", parts[1])
                if doc:
                    return json_response(doc)
            if len(parts) == 2 and parts[0] == "apis":
                doc = discovery.legacy_group(parts[1])
                if doc:
                    return json_response(doc)
            if len(parts) == 3 and parts[0] == "apis":
                doc = discovery.legacy_resource_list(parts[1], parts[2])
                if doc:
                    return json_response(doc)
        proxied = proxy.match(request_path(request)) if self.network is not None else None
        if proxied is not None and self.network is not None:
            return await proxy.serve(request, self.store, self.network, proxied, self._read_body)
        forwarded = portforward.match(request_path(request)) if self.network is not None else None
        if forwarded is not None and self.network is not None:
            return await portforward.serve(request, self.store, self.network, *forwarded)
        info = parse_resource_path(path)
        if info is None:
            if _served_group_version(path):
                raise errors.generic(404)
            return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
        # Only list and watch are served across namespaces (kubernetes/apiserver pkg/endpoints/installer.go).
        if info.res.namespaced and info.namespace is None and request.method != "GET":
            raise errors.generic(405)
        if info.res.stored and info.sub is None and request.method != "GET" and _verb(request.method, info) \
                not in info.res.verbs:
            # A kind served read-only has no REST handler for the verb (installer.go registers only what the
            # storage implements): 405 MethodNotSupported.
            raise errors.generic(405)
        query = {k: v[-1] for k, v in parse_qs(request.query_string, keep_blank_values=True).items()}
        integers = ("timeoutSeconds", "limit", "gracePeriodSeconds") + (
            ("tailLines", "sinceSeconds", "limitBytes") if info.sub == "log" else ())
        for name in integers:  # ParameterCodec.DecodeParameters: strconv.ParseInt into the options' int64s
            value = query.get(name)
            if value is not None and value != "":
                try:
                    strconv.parse_int(value, 64)
                except strconv.NumError as error:
                    raise errors.BadRequest(str(error)) from None
        if info.sub in ("exec", "attach") and info.name is not None:
            # GET (a WebSocket upgrade, kubectl 1.37) or POST (SPDY): the kubelet's streaming endpoint.
            if request.method not in ("GET", "POST") or self.streams is None:
                raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
            return await self.streams(request, info.sub, info.namespace or "", info.name)
        handler = {
            "GET": self._get, "POST": self._post, "PUT": self._put, "PATCH": self._patch, "DELETE": self._delete,
        }.get(request.method)
        if handler is None:
            raise errors.generic(405)
        warnings: list[str] = []
        _WARNINGS.set(warnings)  # each request runs in its own task, so its own context
        _MANAGER.set(fieldmanager.manager_name(query.get("fieldManager"), request.headers.get("User-Agent", "")))
        response = await handler(request, info, query)
        if info.res.plural == "endpoints":
            warnings.append("v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice")
        if not response.prepared:
            for header in warning_headers(warnings):
                response.headers.add("Warning", header)
        return response

    async def _clock(self, request: web.Request) -> web.Response:
        """:data:`CLOCK_PATH`: the clock's state, and (``PUT``) pausing or resuming it.

        Raises:
            errors.Forbidden: not ``system:masters`` (kept here too, should RBAC ever allow the path).
            errors.BadRequest: a body that is not ``{"paused": true|false}``.
        """
        user = _USER.get()
        if auth.SYSTEM_MASTERS not in user.groups:
            raise errors.Forbidden(f'forbidden: User "{user.name}" cannot {request.method.lower()} path '
                                   f'"{CLOCK_PATH}"', details={})
        clock = self.store.clock
        if request.method == "PUT":
            try:
                body = json.loads(await self._read_body(request) or b"{}")
            except ValueError as error:
                raise errors.BadRequest(f"the body is not JSON: {error}") from None
            paused = body.get("paused") if isinstance(body, dict) else None
            if not isinstance(paused, bool) or set(body) - {"paused", "timeScale"}:
                raise errors.BadRequest('the body must be {"paused": true} or {"paused": false}')
            if "timeScale" in body and body["timeScale"] != clock.time_scale:
                raise errors.BadRequest(f"the time scale ({clock.time_scale:g}) is set when the cluster starts "
                                        "(kube-tutor cluster up --time-scale N)")
            if paused and not clock.paused:
                clock.pause()
                log.info("clock paused")
            elif not paused and clock.paused:
                clock.resume()
                log.info("clock resumed")
        elif request.method != "GET":
            raise errors.generic(405)
        return json_response({"paused": clock.paused, "timeScale": clock.time_scale})

    async def _read_body(self, request: web.Request) -> bytes:
        """``limitedReadBody``: the body, at most :data:`MAX_REQUEST_BODY_BYTES`, within :data:`REQUEST_TIMEOUT`.

        Raises:
            errors.RequestEntityTooLarge: a longer body (``Request entity too large: limit is 3145728``).
            errors.Timeout: the body did not come in time.
            errors.BadRequest: the body's framing is broken (a chunk size that is not hexadecimal, ...).
        """
        limit = MAX_REQUEST_BODY_BYTES
        if (request.content_length or 0) > limit:
            raise errors.RequestEntityTooLarge(f"limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                while chunk := await request.content.readany():
                    size += len(chunk)
                    if size > limit:
                        raise errors.RequestEntityTooLarge(f"limit is {limit}")
                    chunks.append(chunk)
        except TimeoutError:
            raise errors.Timeout("request did not complete within the allotted timeout") from None
        except (HttpProcessingError, RequestPayloadError) as error:
            message = getattr(error, "message", "") or str(error)
            raise errors.BadRequest(message.split("\n", 1)[0]) from None
        return b"".join(chunks)

    @staticmethod
    def _media_type(request: web.Request, supported: tuple[str, ...] = SUPPORTED_MEDIA_TYPES) -> str:
        """``NegotiateInputSerializer``: the body's media type; no ``Content-Type`` means JSON.

        Raises:
            errors.UnsupportedMediaType: any other type (``the body of the request was in an unknown format -
                accepted media types include: application/json, application/yaml, ...``).
        """
        header = request.headers.get("Content-Type", "")
        media_type = _parse_media_type(header) if header.strip() else JSON
        if media_type not in supported:
            raise errors.UnsupportedMediaType("the body of the request was in an unknown format - accepted media "
                                              "types include: " + ", ".join(supported))
        return media_type

    async def _body(self, request: web.Request, info: RequestInfo | None = None) -> Obj:
        """The decoded body of a create or an update (of a subresource too)."""
        media_type = self._media_type(request)
        raw = await self._read_body(request)
        into = info.res.kind if info and not info.sub else None

        def decode() -> Obj:
            if media_type == protobuf.CONTENT_TYPE:
                return protobuf.decode(raw, expected_kind=into)
            if media_type == YAML:
                return schema.decode_yaml_body(raw, into)
            return schema.decode_json_body(raw, into)

        data = await asyncio.to_thread(decode) if len(raw) > DECODE_IN_THREAD else decode()
        if not isinstance(data, dict):
            raise errors.BadRequest(f"Object 'Kind' is missing in '{raw[:200].decode('utf-8', 'replace')}'")
        return data

    def _wants_table(self, request: web.Request) -> bool:
        accept = request.headers.get("Accept", "")
        return "as=Table" in accept and "g=meta.k8s.io" in accept

    def _selectors(self, info: RequestInfo, query: dict[str, str]) -> Callable[[Obj], bool]:
        labels = LabelSelector.parse(query.get("labelSelector", ""))
        fields = FieldSelector.parse(query.get("fieldSelector", ""), kind=info.res.kind)

        def matches(obj: Obj) -> bool:
            return labels.matches(obj["metadata"].get("labels") or {}) and fields.matches(obj)

        return matches

    # ---- reads ---------------------------------------------------------------------------------
    async def _get(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.StreamResponse:
        res = info.res
        if info.name is None:
            if query.get("watch") in ("true", "1"):
                return await self._watch(request, info, query)
            return self._list(request, info, query)
        if info.sub == "log":
            return await self.logs(request, info.namespace or "", info.name, query)
        obj = self._get_object(info)
        if info.sub == "scale":
            return json_response(self._scale(obj))
        if self._wants_table(request) and not info.sub:
            return json_response(tables.table(res.kind, [obj], now=self.store.clock.now(),
                                              resource_version=str(self.store.rv),
                                              include_object=query.get("includeObject", "Metadata")))
        return json_response(obj)

    def _get_object(self, info: RequestInfo) -> Obj:
        if not info.res.stored:
            raise errors.not_found(info.res.plural, info.res.group, info.name or "")
        return self.store.must_get(info.res.plural, info.namespace or "", info.name or "")

    def _list(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.Response:
        res = info.res
        matches = self._selectors(info, query)
        items = (o for o in self.store.scan(res.plural, info.namespace) if matches(o)) if res.stored else iter(())
        rv = str(self.store.rv)
        # Each item is decoded, matched and encoded as it is sent, from the snapshot `scan` takes: the answer's
        # peak memory is about one chunk, not every object decoded and every row built at once.
        if self._wants_table(request):
            now, include = self.store.clock.now(), query.get("includeObject", "Metadata")
            head = tables.table(res.kind, [], now=now, resource_version=rv, include_object=include)
            rows = (dumps(tables.table(res.kind, [o], now=now, resource_version=rv, include_object=include,
                                       with_columns=False)["rows"][0]) for o in items)
            return _list_response(head, "rows", rows)
        return _list_response({"kind": res.kind_list, "apiVersion": res.api_version,
                               "metadata": {"resourceVersion": rv}}, "items", (dumps(o) for o in items))

    async def _watch(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.StreamResponse:
        res = info.res
        matches = self._selectors(info, query)
        as_table = self._wants_table(request)
        include_object = query.get("includeObject", "Metadata")
        rv_text = query.get("resourceVersion", "")
        send_initial = query.get("sendInitialEvents") == "true"
        if send_initial and query.get("allowWatchBookmarks") != "true":
            raise errors.Invalid("sendInitialEvents is forbidden for watch unless allowWatchBookmarks is set")
        since: int | None = None
        if rv_text not in ("", "0") and not send_initial:
            try:
                since = strconv.parse_uint(rv_text, 64)  # APIObjectVersioner.ParseResourceVersion
            except strconv.NumError:
                raise errors.BadRequest(f'invalid resource version "{rv_text}"') from None
        try:
            watcher = self.store.watch(res, info.namespace, matches, since)
        except errors.Gone as error:
            # Past authentication and a parsed resourceVersion, a watch fails as a watch event of type ERROR,
            # not as a status code (kubernetes/apiserver pkg/storage/cacher/cacher.go: newErrWatcher).
            response = web.StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache, private"})
            await response.prepare(request)
            await response.write(dumps({"type": "ERROR", "object": error.status()}) + b"\n")
            await response.write_eof()
            return response
        initial = []
        if since is None:
            initial = [o for o in self.store.list(res.plural, info.namespace) if matches(o)] if res.stored else []
        start_rv = self.store.rv
        timeout = None
        if query.get("timeoutSeconds"):
            timeout = strconv.parse_int(query["timeoutSeconds"], 64)  # checked in _dispatch
        # Chunked for HTTP/1.1; an HTTP/1.0 client gets the stream until the connection closes, as from Go.
        response = web.StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache, private"})
        await response.prepare(request)
        first = [True]

        def encode(kind: str, obj: Obj) -> bytes:
            if as_table and kind != "BOOKMARK":
                obj = tables.table(res.kind, [obj], now=self.store.clock.now(),
                                   resource_version=obj["metadata"].get("resourceVersion", ""),
                                   include_object=include_object, with_columns=first[0])
                first[0] = False
            return dumps({"type": kind, "object": obj}) + b"\n"

        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, 1 << 32) if timeout else None
        try:
            chunk = b"".join(encode("ADDED", o) for o in initial)
            if send_initial:
                bookmark = {"kind": res.kind, "apiVersion": res.api_version,
                            "metadata": {"resourceVersion": str(start_rv),
                                         "annotations": {_ANNOTATION_INITIAL_EVENTS_END: "true"}}}
                chunk += dumps({"type": "BOOKMARK", "object": bookmark}) + b"\n"
            if chunk:
                self._commit()
                await response.write(chunk)
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), remaining)
                except TimeoutError:
                    break
                if event is None:
                    break
                batch = [event]
                while not watcher.queue.empty():
                    nxt = watcher.queue.get_nowait()
                    if nxt is None:
                        batch.append(None)  # type: ignore[arg-type]
                        break
                    batch.append(nxt)
                stop = batch[-1] is None
                events: list[WatchEvent] = [e for e in batch if e is not None]
                if events:
                    self._commit()
                    await response.write(b"".join(encode(e.type, e.obj) for e in events))
                if stop:
                    break
        except (ConnectionResetError, ConnectionError, errors.ApiError):
            pass  # the client went away, or the storage failed: the watch ends and the client watches again
        finally:
            self.store.unwatch(watcher)
        try:
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    # ---- writes --------------------------------------------------------------------------------
    def _check_namespace(self, info: RequestInfo, obj: Obj) -> None:
        if obj.get("metadata") is None:
            obj["metadata"] = {}  # null decodes to the zero ObjectMeta
        meta = obj["metadata"]
        if not isinstance(meta, dict):
            raise errors.BadRequest("metadata must be an object")
        if info.res.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != info.namespace:
                raise errors.BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = info.namespace

    def _decode_check(self, info: RequestInfo, obj: Obj, query: dict[str, str], kind: str = "") -> None:
        """Types and unknown fields, as decoding into the Go struct does (see ``schema``): unknown fields go. A
        ``/scale`` body is an ``autoscaling/v1`` Scale."""
        kind = kind or ("Scale" if info.sub == "scale" else info.res.kind)
        _WARNINGS.get().extend(schema.check_body(obj, kind, query.get("fieldValidation")))

    def _check_kind(self, info: RequestInfo, obj: Obj) -> None:
        res = info.res
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != res.kind or api_version and api_version != res.api_version:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({res.api_version})" if api_version != res.api_version else
                f"{kind} in version \"{res.version}\" cannot be handled as a {res.kind}: no kind \"{kind}\" "
                f"is registered for version \"{res.api_version}\" in scheme")
        obj["kind"], obj["apiVersion"] = res.kind, res.api_version

    def _create(self, info: RequestInfo, obj: Obj, query: dict[str, str], *, applied: bool = False) -> Obj:
        """``applied``: an apply that creates the object, whose managed fields the apply set."""
        res = info.res
        if not res.stored:
            raise errors.generic(405)
        self._check_kind(info, obj)
        self._decode_check(info, obj, query)
        self._check_namespace(info, obj)
        if res.plural not in ("pods", "services", "namespaces"):
            obj.pop("status", None)
        managed = obj["metadata"].get("managedFields") if applied else None
        _strip_server_fields(obj)
        later = [key for key in _SET_AFTER_FIELD_MANAGER.get(res.plural, ()) if key not in (obj.get("spec") or {})]
        defaults.apply_defaults(res.plural, obj)
        if managed is not None:
            obj["metadata"]["managedFields"] = managed
        else:  # the create handler's FieldManager.UpdateNoErrors, on the decoded and defaulted object
            seen = deep_copy(obj)
            for key in later:
                seen["spec"].pop(key, None)
            fieldmanager.update(None, seen, manager=_MANAGER.get(), api_version=res.api_version,
                                now=self.store.clock.timestamp(), ignore=_reset_fields(res))
            if "managedFields" in seen["metadata"]:
                obj["metadata"]["managedFields"] = seen["metadata"]["managedFields"]
        defaults.validate(res.plural, obj)
        self.admission.admit_create(res.plural, obj, dry_run=query.get("dryRun") == "All")
        if query.get("dryRun") == "All":
            obj["metadata"].setdefault("creationTimestamp", self.store.clock.timestamp())
            return obj
        check_stored_size(res.plural, obj)  # etcd's limit: a dry run never reaches it
        return self.store.create(res.plural, obj)

    async def _post(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.StreamResponse:
        review = await self._review(request, info)
        if review is not None:
            return review
        if info.sub == "binding":
            body = await self._body(request, info)
            self._decode_check(info, body, query, kind="Binding")
            bind(self.store, self.store.clock, info.namespace or "", info.name or "", body,
                 dry_run=query.get("dryRun") == "All")
            return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "code": 201}, status=201)
        if info.sub == "eviction":
            return json_response(self._evict(info, await self._body(request, info), query), status=201)
        if info.name is not None:
            raise errors.generic(405)
        obj = await self._body(request, info)
        created = self._create(info, obj, query)
        return json_response(created, status=201)

    async def _review(self, request: web.Request, info: RequestInfo) -> web.Response | None:
        """TokenRequest (``serviceaccounts/token``) and the self reviews: created, answered, never stored."""
        plural = info.res.plural
        if plural == "serviceaccounts" and info.sub == "token":
            body = await self._body(request)
            account = self._get_object(info)
            if self.issuer is None:
                raise errors.generic(405)
            return json_response(auth.token_request(self.issuer, account, body), status=201)
        if plural not in ("selfsubjectreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews"):
            return None
        if info.name is not None:
            raise errors.generic(405)
        body = await self._body(request)
        self._check_kind(info, body)
        user = _USER.get()
        given = body.get("spec")
        spec: Obj = given if isinstance(given, dict) else {}
        out: Obj = {"kind": info.res.kind, "apiVersion": info.res.api_version, "metadata": {"creationTimestamp": None}}
        if plural == "selfsubjectreviews":  # pkg/registry/authentication/selfsubjectreview/rest.go
            out["status"] = {"userInfo": user.user_info()}
        elif plural == "selfsubjectaccessreviews":  # pkg/registry/authorization/selfsubjectaccessreview/rest.go
            out["spec"] = spec
            out["status"] = rbac.access_review(self.rbac, user, spec)
        else:  # pkg/registry/authorization/selfsubjectrulesreview/rest.go
            namespace = str(spec.get("namespace") or "")
            if not namespace:
                raise errors.BadRequest(f"no namespace on request: {spec!r}")
            if auth.SYSTEM_MASTERS in user.groups:
                # the privileged-group authorizer's RulesFor: everything (kube-apiserver union, first)
                resources: list[Obj] = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
                urls: list[Obj] = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
                failures: list[str] = []
            else:
                resources, urls, failures = self.rbac.rules_for(user, namespace)
            out["spec"] = spec
            out["status"] = {"resourceRules": resources, "nonResourceRules": urls, "incomplete": bool(failures)}
            if failures:
                out["status"]["evaluationError"] = ", ".join(failures)
        return json_response(out, status=201)

    def _evict(self, info: RequestInfo, eviction: Obj, query: dict[str, str]) -> Obj:
        """``EvictionREST.Create`` (``pkg/registry/core/pod/storage/eviction.go``), with no PodDisruptionBudgets
        to consult: the pod gets the ``DisruptionTarget`` condition and is deleted with the eviction's options."""
        name = (eviction.get("metadata") or {}).get("name")
        if name != info.name:
            raise errors.BadRequest("name in URL does not match name in Eviction object")
        pod = self._get_object(info)
        options = eviction.get("deleteOptions") or {}
        dry_run = query.get("dryRun") == "All" or options.get("dryRun") == ["All"]
        uid = (options.get("preconditions") or {}).get("uid")
        if uid and uid != pod["metadata"].get("uid"):
            raise errors.conflict("pods", "", info.name or "")
        if dry_run:
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
        if not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
                "Succeeded", "Failed"):
            status = deep_copy(pod.get("status") or {})
            condition = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                         "message": "Eviction API: evicting"}
            if update_pod_condition(status, condition, self.store.clock.timestamp()):
                pod = self.store.update("pods", dict(pod, status=status), status_only=True)
        grace = options.get("gracePeriodSeconds")
        self.delete("pods", pod, options.get("propagationPolicy"), grace if isinstance(grace, int) else None)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    def _update(self, info: RequestInfo, obj: Obj, query: dict[str, str], *, expect_rv: str | None,
                applied: bool = False) -> Obj:
        """``applied``: the object an apply made, whose managed fields the apply set."""
        res = info.res
        current = self._get_object(info)
        if info.sub == "scale":
            self._decode_check(info, obj, query, kind="Scale")
            replicas = defaults.validate_scale(info.name or "", obj)
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            new = deep_copy(current)
            fieldmanager.update_scale(new, replicas, manager=_MANAGER.get(), api_version=res.api_version)
            new["spec"]["replicas"] = replicas
            if query.get("dryRun") == "All":
                return self._scale(new)
            return self._scale(self.store.update(res.plural, new, expect_rv=rv or None))
        self._check_kind(info, obj)
        self._decode_check(info, obj, query)
        self._check_namespace(info, obj)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != info.name:
            raise errors.BadRequest(f"the name of the object ({meta['name']}) does not match the name on the "
                                    f"URL ({info.name})")
        meta["name"] = info.name
        if info.sub == "status":
            obj.setdefault("status", {})  # decoded into the kind's struct: a status left out is its zero value
            fieldmanager.update(current, obj, manager=_MANAGER.get(), api_version=res.api_version,
                                now=self.store.clock.timestamp(), subresource="status", ignore=("spec",))
            defaults.validate_status_update(res.plural, obj, current)
            if query.get("dryRun") == "All":
                return obj
            check_stored_size(res.plural, dict(obj, spec=current.get("spec")))
            return self.store.update(res.plural, obj, expect_rv=expect_rv, status_only=True)
        defaults.apply_defaults(res.plural, obj)
        if not applied:
            fieldmanager.update(current, obj, manager=_MANAGER.get(), api_version=res.api_version,
                                now=self.store.clock.timestamp(), ignore=_reset_fields(res))
        defaults.validate(res.plural, obj)
        defaults.validate_update(res.plural, obj, current)
        self.admission.admit_update(res.plural, current, obj, dry_run=query.get("dryRun") == "All")
        if query.get("dryRun") == "All":
            return obj
        check_stored_size(res.plural, obj)
        return self.store.update(res.plural, obj, expect_rv=expect_rv)

    async def _put(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.StreamResponse:
        if info.name is None:
            raise errors.generic(405)
        obj = await self._body(request, info)
        if info.sub == "scale":  # decoded first: a wrong type is a decode error before anything reads it
            self._decode_check(info, obj, query, kind="Scale")
        else:
            self._check_kind(info, obj)
            self._decode_check(info, obj, query)
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if not rv and info.sub != "scale":
            raise errors.invalid(info.res.kind, info.res.group, info.name,
                                 [("metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update")])
        return json_response(self._update(info, obj, query, expect_rv=rv))

    async def _patch(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.StreamResponse:
        if info.name is None:
            raise errors.generic(405)
        content_type = request.headers.get("Content-Type", "")
        is_apply = patch_type(content_type) == APPLY_PATCH  # 415 before the body is read, as PatchResource does
        _validate_patch_options(is_apply, query)
        raw = await self._read_body(request)
        res = info.res
        if len(raw) <= DECODE_IN_THREAD:
            validate_patch(content_type, raw)
        else:
            await asyncio.to_thread(validate_patch, content_type, raw)

        async def patch(base: Obj, kind: str) -> Obj:
            if len(raw) <= DECODE_IN_THREAD:
                return apply_patch(base, content_type, raw, kind=kind)
            return await asyncio.to_thread(apply_patch, base, content_type, raw, kind=kind)

        current = self.store.get(res.plural, info.namespace or "", info.name) if res.stored else None
        server_side_apply = is_apply and not info.sub
        if server_side_apply:
            config = decode_apply(raw)
            self._decode_check(info, config, query)  # a wrongly typed metadata is a decode error
            if config.get("metadata") is None:
                config["metadata"] = {}
            config.setdefault("apiVersion", res.api_version)
            config.setdefault("kind", res.kind)
        if current is None:
            if server_side_apply:
                config["metadata"]["name"] = info.name
                obj = fieldmanager.apply(None, config, manager=_MANAGER.get(), api_version=res.api_version,
                                         now=self.store.clock.timestamp(), force=query.get("force") == "true")
                return json_response(self._create(info, obj, query, applied=True), status=201)
            raise errors.not_found(res.plural, res.group, info.name)
        base = self._scale(current) if info.sub == "scale" else current
        if server_side_apply:
            patched = fieldmanager.apply(deep_copy(current), config, manager=_MANAGER.get(),
                                         api_version=res.api_version, now=self.store.clock.timestamp(),
                                         force=query.get("force") == "true")
        else:
            patched = await patch(deep_copy(base), "Scale" if info.sub == "scale" else res.kind)
        try:
            self._decode_check(info, patched, query)
        except errors.BadRequest as error:
            if "strict decoding error" in error.message:
                raise
            raise errors.Invalid(error.message) from error
        rv = (patched.get("metadata") or {}).get("resourceVersion")
        expect = rv if rv and rv != base["metadata"].get("resourceVersion") else None
        if expect is not None and content_type != "application/json-patch+json":
            raise errors.conflict(res.plural, res.group, info.name)
        return json_response(self._update(info, patched, query, expect_rv=None, applied=server_side_apply))

    async def _delete(self, request: web.Request, info: RequestInfo, query: dict[str, str]) -> web.StreamResponse:
        res = info.res
        options: Obj = {}
        raw = await self._read_body(request)
        if raw:  # DeleteResource (kubernetes/apiserver pkg/endpoints/handlers/delete.go)
            media_type = self._media_type(request)
            if media_type == protobuf.CONTENT_TYPE:
                options = protobuf.decode(raw)
            else:
                options = schema.decode_delete_options(raw, yaml=media_type == YAML)
        propagation = query.get("propagationPolicy") or options.get("propagationPolicy")
        grace = options.get("gracePeriodSeconds")
        if query.get("gracePeriodSeconds"):
            grace = strconv.parse_int(query["gracePeriodSeconds"], 64)  # checked in _dispatch
        if propagation not in (None, "Background", "Foreground", "Orphan"):
            detail = (f'Unsupported value: "{propagation}": supported values: "Foreground", "Background", '
                      '"Orphan", "nil"')
            raise errors.Invalid(f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: {detail}',
                                 details={"group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [
                                     {"reason": "FieldValueNotSupported", "field": "propagationPolicy",
                                      "message": detail}]})
        dry_run = query.get("dryRun") == "All" or options.get("dryRun") == ["All"]
        if info.name is None:
            if not res.stored:
                return json_response({"kind": res.kind_list, "apiVersion": res.api_version,
                                      "metadata": {"resourceVersion": str(self.store.rv)}, "items": []})
            matches = self._selectors(info, query)
            deleted = []
            for obj in [o for o in self.store.list(res.plural, info.namespace) if matches(o)]:
                if not dry_run:
                    self.delete(res.plural, obj, propagation, grace)
                deleted.append(obj)
            return json_response({"kind": res.kind_list, "apiVersion": res.api_version,
                                  "metadata": {"resourceVersion": str(self.store.rv)}, "items": deleted})
        obj = self._get_object(info)
        uid = ((options.get("preconditions") or {}).get("uid"))
        if uid and uid != obj["metadata"].get("uid"):
            raise errors.conflict(res.plural, res.group, info.name or "")
        if dry_run:
            return json_response(obj)
        remaining = self.delete(res.plural, obj, propagation, grace)
        if remaining is None:
            return json_response(success_status(res, obj))
        return json_response(remaining)

    def _scale(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        selector = LabelSelector.from_dict(spec.get("selector"))
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": spec.get("replicas", 0)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0), "selector": str(selector)}}


def _verb(method: str, info: RequestInfo) -> str:
    """The API verb of a write (``create``, ``update``, ``patch``, ``delete``, ``deletecollection``)."""
    if method == "DELETE":
        return "delete" if info.name is not None else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


def _health_path(path: str) -> tuple[str, str | None] | None:
    """``("readyz", "etcd")`` for ``/readyz/etcd``, ``("livez", None)`` for ``/livez``; None for other paths."""
    parts = path.strip("/").split("/")
    if parts[0] in ("healthz", "livez", "readyz") and len(parts) <= 2:
        return parts[0], parts[1] if len(parts) == 2 and parts[1] else None
    return None


_SET_AFTER_FIELD_MANAGER: dict[str, tuple[str, ...]] = {
    "services": ("ipFamilyPolicy", "ipFamilies"),
    "pods": ("priority", "preemptionPolicy", "serviceAccount", "serviceAccountName", "tolerations"),
}
"""Spec fields the practice cluster defaults but upstream sets after the create handler's field manager has run:
the service storage's ``initIPFamilyFields`` (kubernetes/kubernetes ``pkg/registry/core/service/storage``) and the
Priority, ServiceAccount and DefaultTolerationSeconds admission plugins (``plugin/pkg/admission``). No manager owns
them unless its request set them."""


def _reset_fields(res: Resource) -> tuple[str, ...]:
    """``GetResetFields`` of a kind's strategy: what its main resource's writes never set (its status)."""
    return ("status",) if "status" in res.subresources else ()


def _validate_patch_options(is_apply: bool, query: dict[str, str]) -> None:
    """``ValidatePatchOptions`` (kubernetes/apimachinery ``pkg/apis/meta/v1/validation/validation.go``).

    Raises:
        errors.Invalid: an apply without a ``fieldManager``, or ``force`` on another patch.
    """
    if is_apply and not query.get("fieldManager"):
        field, detail, reason = "fieldManager", "Required value: is required for apply patch", "FieldValueRequired"
    elif not is_apply and "force" in query:
        field, detail, reason = "force", "Forbidden: may not be specified for non-apply patch", "FieldValueForbidden"
    else:
        return
    raise errors.Invalid(f'PatchOptions.meta.k8s.io "" is invalid: {field}: {detail}',
                         details={"group": "meta.k8s.io", "kind": "PatchOptions",
                                  "causes": [{"reason": reason, "message": detail, "field": field}]})


def _strip_server_fields(obj: Obj) -> None:
    meta = obj["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                "generation", "selfLink", "managedFields"):
        meta.pop(key, None)

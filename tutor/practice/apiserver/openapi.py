"""Serves ``/openapi/v3`` and its group/version documents as kube-apiserver does, with upstream's schemas.

The schemas are data generated from upstream's OpenAPI documents by :mod:`tutor.practice.apiserver.openapi_gen`
(``openapi_schemas.json.gz``). They are read on the first request for ``/openapi/v3``, turned into one JSON
document per served group/version, and dropped: what stays is each document's bytes and ETag (the schemas as
Python objects are several times their JSON's size, and a session may never ask for them).

The answers follow kube-openapi's ``pkg/handler3/handler.go``: the index maps ``api/v1``, ``apis/apps/v1``... to a
``serverRelativeURL`` with ``?hash=`` the document's ETag (the upper-case hex SHA-512 of its JSON); a document is
negotiated on ``Accept`` (JSON; the protobuf form is not served, so a request that accepts only it gets 406), a
``hash`` that is not the current one redirects (301) to the current URL, a matching one makes the answer
``Cache-Control: public, immutable`` for a year; ``If-None-Match``/``If-Modified-Since`` answer 304 as Go's
``http.ServeContent`` does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tutor.practice.apiserver.resources import RESOURCES, group_versions

DATA = Path(__file__).with_name("openapi_schemas.json.gz")
REF = "#/components/schemas/"
_JSON = "json"
_PROTOBUF = "com.github.proto-openapi.spec.v3.v1.0+protobuf"
_PROTOBUF_DEPRECATED = "com.github.proto-openapi.spec.v3@v1.0+protobuf"


def gv_path(group: str, version: str) -> str:
    """``api/v1`` / ``apis/apps/v1``: the key of a group/version in the index."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _paths(group: str, version: str) -> dict[str, Any]:
    """The operations kubectl reads of a document besides its schemas.

    kubectl (cli-runtime ``resource/query_param_verifier_v3.go``) looks for a PATCH operation with the object's
    ``x-kubernetes-group-version-kind`` and a ``fieldValidation`` query parameter before it asks the server to
    validate fields.
    """
    prefix = "/" + gv_path(group, version)
    paths: dict[str, Any] = {}
    for res in RESOURCES:
        if res.group != group or res.version != version:
            continue
        item = (f"{prefix}/namespaces/{{namespace}}/{res.plural}/{{name}}" if res.namespaced
                else f"{prefix}/{res.plural}/{{name}}")
        gvk = {"group": res.group, "version": res.version, "kind": res.kind}
        params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]
        op = {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
              "parameters": params, "responses": {"200": {"description": "OK"}}}
        paths[item] = {"patch": op,
                       "put": dict(op, **{"x-kubernetes-action": "put"}),
                       "get": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "get",
                               "responses": {"200": {"description": "OK"}}}}
    return paths


def refs(node: Any) -> set[str]:
    """The schema names a schema refers to (``$ref``), at any depth."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF):
                found.add(ref[len(REF):])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def closure(schemas: dict[str, Any], roots: list[str]) -> list[str]:
    """The names reachable from ``roots`` (themselves included), sorted."""
    seen: set[str] = set()
    todo = [r for r in roots if r in schemas]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(r for r in refs(schemas[name]) if r in schemas and r not in seen)
    return sorted(seen)




def etag_of(data: bytes) -> str:
    """``computeETag``: ``%X`` of the SHA-512 of the bytes."""
    return hashlib.sha512(data).hexdigest().upper()


def server_relative_url(gv: str, etag: str) -> str:
    """``constructServerRelativeURL``: ``/openapi/v3/<gv>?hash=<etag>``."""
    return f"/openapi/v3/{gv}?{urlencode({'hash': etag})}"


class OpenAPIService:
    """The ``/openapi/v3`` documents, built on first use and then kept as bytes only."""

    def __init__(self, server_version: str, data: Path = DATA) -> None:
        self.server_version = server_version
        self.data = data
        self._lock = threading.Lock()
        self._documents: dict[str, tuple[bytes, str]] | None = None
        self._index: tuple[bytes, str] = (b"", "")
        self._modified = time.time()

    def _build(self) -> dict[str, tuple[bytes, str]]:
        with self._lock:
            if self._documents is not None:
                return self._documents
            try:
                loaded = json.loads(gzip.decompress(self.data.read_bytes()))
            except FileNotFoundError:
                loaded = {"schemas": {}, "groupVersions": {}}
            schemas: dict[str, Any] = loaded["schemas"]
            roots: dict[str, list[str]] = loaded["groupVersions"]
            documents: dict[str, tuple[bytes, str]] = {}
            for group, versions in group_versions().items():
                for version in versions:
                    gv = f"{group}/{version}" if group else version
                    names = closure(schemas, roots.get(gv, []))
                    document = {
                        "openapi": "3.0.0",
                        "info": {"title": "Kubernetes", "version": self.server_version},
                        "paths": _paths(group, version),
                        "components": {"schemas": {name: schemas[name] for name in names}},
                    }
                    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
                    documents[gv_path(group, version)] = (body, etag_of(body))
            del loaded, schemas
            index = {"paths": {gv: {"serverRelativeURL": server_relative_url(gv, etag)}
                               for gv, (_, etag) in sorted(documents.items())}}
            body = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
            self._index = (body, etag_of(body))
            self._modified = time.time()
            self._documents = documents
            return documents

    def document(self, gv: str) -> dict[str, Any] | None:
        """One document as an object (for tests and tools)."""
        found = self._build().get(gv)
        return json.loads(found[0]) if found else None

    def index(self) -> dict[str, Any]:
        self._build()
        return dict(json.loads(self._index[0]))

    # ---- HTTP ------------------------------------------------------------------------------------------
    def handle_discovery(self, request: web.Request) -> web.Response:
        """``HandleDiscovery``: the index, with its ETag."""
        self._build()
        body, etag = self._index
        return _serve_content(request, body, etag, "application/json", self._modified, {})

    def handle_group_version(self, request: web.Request, gv: str) -> web.Response:
        """``HandleGroupVersion``: one document, negotiated on ``Accept``."""
        documents = self._build()
        accept = request.headers.get("Accept", "") or "*/*"
        headers = {"Vary": "Accept"}
        for media_type, subtype in _parse_accept(accept):
            for accepted in (_JSON, _PROTOBUF, _PROTOBUF_DEPRECATED):
                if media_type not in ("application", "*") or subtype not in (accepted, "*"):
                    continue
                if accepted != _JSON:
                    continue  # the protobuf form is not served: try the next clause
                found = documents.get(gv)
                if found is None:  # getSingleGroupBytes fails: the handler returns without writing
                    return web.Response(status=200, headers=headers)
                body, etag = found
                wanted = request.query.get("hash", "")
                if wanted:
                    if wanted != etag:
                        location = server_relative_url(gv, etag)
                        return web.Response(status=301, headers={
                            **headers, "Content-Type": "text/html; charset=utf-8", "Location": location},
                            text=f'<a href="{location}">Moved Permanently</a>.\n\n')
                    headers["Cache-Control"] = "public, immutable"
                    headers["Expires"] = _a_year_from_now().strftime("%a, %d %b %Y %H:%M:%S UTC")
                return _serve_content(request, body, etag, "application/json", self._modified, headers)
        return web.Response(status=406, headers=headers)


def _a_year_from_now() -> datetime:
    """Go's ``time.Now().AddDate(1, 0, 0)`` (29 February normalises to 1 March)."""
    now = datetime.now(UTC)
    try:
        return now.replace(year=now.year + 1)
    except ValueError:
        return now.replace(year=now.year + 1, month=3, day=1)


def _parse_accept(header: str) -> list[tuple[str, str]]:
    """goautoneg ``ParseAccept``: (type, subtype) clauses by descending q (stable for equal q)."""
    clauses: list[tuple[float, int, str, str]] = []
    for number, part in enumerate(header.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media_type, _, subtype = media.partition("/")
        clauses.append((-q, number, media_type, subtype or "*"))
    return [(t, s) for _, _, t, s in sorted(clauses)]


def _serve_content(request: web.Request, body: bytes, etag: str, content_type: str, modified: float,
                   headers: dict[str, str]) -> web.Response:
    """Go's ``http.ServeContent`` for a whole body: Last-Modified, ETag, and 304 on a matching precondition."""
    quoted = json.dumps(etag)
    last_modified = datetime.fromtimestamp(int(modified), UTC)
    out = {**headers, "Etag": quoted, "Last-Modified": format_datetime(last_modified, usegmt=True),
           "Accept-Ranges": "bytes"}
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        if "*" in tags or quoted in tags or f"W/{quoted}" in tags:
            out.pop("Content-Type", None)
            return web.Response(status=304, headers=out)
    elif (since := request.headers.get("If-Modified-Since")) is not None:
        try:
            if last_modified <= parsedate_to_datetime(since):
                return web.Response(status=304, headers=out)
        except (TypeError, ValueError):
            pass
    return web.Response(body=body, headers={**out, "Content-Type": content_type})

"""Fidelity of the practice cluster's schemas and Status bodies, with the real kubectl 1.37.

``kubectl explain`` reads the OpenAPI v3 documents (kubernetes/kube-openapi ``pkg/handler3/handler.go`` serves
them); ``kubectl debug`` and every error kubectl prints read ``Status`` bodies (kubernetes/apimachinery
``pkg/api/errors/errors.go``).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.practice.conftest import Kube
from tests.practice.test_api_robustness import Api, api  # noqa: F401  (the fixture)
from tutor.practice.apiserver.resources import RESOURCES

JSON = "application/json"


# ---- explain -----------------------------------------------------------------------------------------------
def test_explain_a_nested_field_prints_upstream_docs(kube: Kube) -> None:
    """``explain deployment.spec.strategy.rollingUpdate``: kubectl's plaintext template
    (kubernetes/kubectl ``pkg/explain/v2/templates/plaintext.tmpl``) over upstream's schema
    (kubernetes/kubernetes ``api/openapi-spec/v3/apis__apps__v1_openapi.json``)."""
    out = kube("explain", "deployment.spec.strategy.rollingUpdate")
    assert out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\n")
    assert "FIELD: rollingUpdate <RollingUpdateDeployment>" in out
    assert "Rolling update config params. Present only if DeploymentStrategyType =" in out
    assert "  maxSurge\t<IntOrString>\n    The maximum number of pods that can be scheduled above the desired" in out
    assert "  maxUnavailable\t<IntOrString>" in out


@pytest.mark.parametrize(("resource", "head"), [
    ("svc", "KIND:       Service\nVERSION:    v1\n"),
    ("pods.spec.containers", "KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>"),
    ("ep", "KIND:       Endpoints\nVERSION:    v1\n"),
    ("endpointslices", "GROUP:      discovery.k8s.io\nKIND:       EndpointSlice\nVERSION:    v1\n"),
    ("events", "KIND:       Event\nVERSION:    v1\n"),
    ("ns", "KIND:       Namespace\nVERSION:    v1\n"),
    ("nodes.status.nodeInfo", "KIND:       Node\nVERSION:    v1\n\nFIELD: nodeInfo <NodeSystemInfo>"),
    ("cm", "KIND:       ConfigMap\nVERSION:    v1\n"),
    ("sa", "KIND:       ServiceAccount\nVERSION:    v1\n"),
    ("rs.spec.replicas", "GROUP:      apps\nKIND:       ReplicaSet\nVERSION:    v1\n\nFIELD: replicas <integer>"),
    ("jobs", "GROUP:      batch\nKIND:       Job\nVERSION:    v1\n"),
    ("hpa.spec", "GROUP:      autoscaling\nKIND:       HorizontalPodAutoscaler\nVERSION:    v2\n\n"
                 "FIELD: spec <HorizontalPodAutoscalerSpec>"),
])
def test_explain_every_served_kind(kube: Kube, resource: str, head: str) -> None:
    """Every kind the cluster serves has its schema (the document of its group/version,
    kubernetes/kubernetes ``api/openapi-spec/v3/``)."""
    result = kube.run("explain", resource)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(head), result.stdout[:300]
    assert "DESCRIPTION:\n" in result.stdout


@pytest.mark.parametrize("resource", sorted({res.plural for res in RESOURCES if res.stored}))
def test_every_stored_kind_can_be_explained(kube: Kube, resource: str) -> None:
    """A kind added to the practice cluster comes with its schema (``openapi_gen``: its group/version's document,
    or its Go structs): ``kubectl explain`` knows secrets, roles, quotas and leases as it knows pods."""
    result = kube.run("explain", resource)
    assert result.returncode == 0, result.stderr
    assert "DESCRIPTION:\n" in result.stdout and "FIELDS:\n" in result.stdout


def test_explain_knows_the_fields_of_1_37(kube: Kube) -> None:
    """Fields newer than the spec the data started from come from k8s.io/api's Go structs and their doc comments
    (``core/v1/types_swagger_doc_generated.go``): ``restartPolicyRules`` of a container (1.34+)."""
    out = kube("explain", "pods.spec.containers.restartPolicyRules")
    assert "FIELD: restartPolicyRules <[]ContainerRestartRule>" in out
    assert "  action\t<string>" in out and "  exitCodes\t<ContainerRestartRuleOnExitCodes>" in out


def test_explain_an_enum_field(kube: Kube) -> None:
    """A field of a ``+enum`` type carries ``enum`` and the ``Possible enum values`` lines kube-openapi's
    generator appends (kubernetes/kube-openapi ``pkg/generators/enum.go``), from the constants' doc comments in
    k8s.io/api ``apps/v1/types.go``; kubectl lists them under ``ENUM:``."""
    out = kube("explain", "deploy.spec.strategy.type")
    assert "FIELD: type <string>\nENUM:\n    Recreate\n    RollingUpdate\n\nDESCRIPTION:\n" in out
    assert "    Possible enum values:\n     - `\"Recreate\"` Kill all existing pods before creating new ones.\n" in out
    out = kube("explain", "pods.spec.containers.imagePullPolicy")
    assert ' - `"Never"` means that kubelet never pulls an image, but only uses a' in out


def test_explain_recursive_and_api_version(kube: Kube) -> None:
    """``--recursive`` walks every reference (kubectl ``pkg/explain/v2/templates/plaintext.tmpl``'s
    ``fieldList``); ``--api-version`` picks the group/version document."""
    out = kube("explain", "deployment", "--recursive")
    assert "  spec\t<DeploymentSpec>\n" in out
    assert "\n      rollingUpdate\t<RollingUpdateDeployment>\n        maxSurge\t<IntOrString>\n" in out
    assert "\n    template\t<PodTemplateSpec> -required-\n" in out and "\n      spec\t<PodSpec>\n" in out
    out = kube("explain", "deployment", "--api-version=apps/v1")
    assert out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n")


def test_explain_an_unknown_field(kube: Kube) -> None:
    """kubectl's own error for a path the schema lacks (kubectl ``pkg/explain/v2/funcs.go``)."""
    result = kube.run("explain", "deployment.spec.nope")
    assert result.returncode == 1
    assert result.stderr.strip() == 'error: field "nope" does not exist'


# ---- the OpenAPI v3 handler --------------------------------------------------------------------------------
def test_openapi_index_and_documents_as_handler3_serves_them(api: Api) -> None:  # noqa: F811
    """kubernetes/kube-openapi ``pkg/handler3/handler.go``: the index's hash is the upper-case hex SHA-512 of the
    document (its ETag); with the current hash the answer is immutable for a year; a stale hash redirects (301) to
    the current URL; ``If-None-Match`` answers 304."""
    index = api.get("/openapi/v3")
    assert (index.status, index.content_type) == (200, JSON)
    assert index.headers["etag"] == json.dumps(hashlib.sha512(index.body).hexdigest().upper())
    url = index.json()["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    reply = api.get(url, headers={"Accept": "application/json"})
    assert (reply.status, reply.content_type) == (200, JSON)
    etag = hashlib.sha512(reply.body).hexdigest().upper()
    assert url.endswith("hash=" + etag) and reply.headers["etag"] == f'"{etag}"'
    assert reply.headers["cache-control"] == "public, immutable"
    assert reply.headers["vary"] == "Accept" and "expires" in reply.headers and "last-modified" in reply.headers
    schemas = reply.json()["components"]["schemas"]
    assert schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert "io.k8s.api.core.v1.PodSpec" in schemas and "io.k8s.api.core.v1.Service" not in schemas
    stale = api.get("/openapi/v3/apis/apps/v1?hash=0123", headers={"Accept": "application/json"})
    assert (stale.status, stale.headers["location"]) == (301, url)
    cached = api.get(url, headers={"Accept": "application/json", "If-None-Match": f'"{etag}"'})
    assert (cached.status, cached.body) == (304, b"")
    no_hash = api.get("/openapi/v3/api/v1")
    assert no_hash.status == 200 and "cache-control" not in no_hash.headers


# ---- Status bodies -----------------------------------------------------------------------------------------
def status_of(reply: object) -> dict:
    body = json.loads(reply.body)  # type: ignore[attr-defined]
    assert list(body)[:4] == ["kind", "apiVersion", "metadata", "status"] and list(body)[-1] == "code", body
    return body


def test_not_found_and_generic_404_bodies(api: Api, kube: Kube) -> None:  # noqa: F811
    """``NewNotFound`` sets ``details`` {name, group, kind} with ``StatusDetails``' empty fields omitted (the core
    group); a path no route serves gets ``NewGenericServerResponse(404, ...)``'s ``"details": {}``
    (kubernetes/apimachinery ``pkg/api/errors/errors.go``; kubernetes/apiserver ``pkg/server/handler.go``)."""
    ns = kube.namespace
    pod = api.get(f"/api/v1/namespaces/{ns}/pods/nope")
    assert (pod.status, status_of(pod)) == (404, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "nope" not found', "reason": "NotFound", "details": {"name": "nope", "kind": "pods"},
        "code": 404})
    deploy = api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/nope")
    assert status_of(deploy)["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    route = api.get(f"/api/v1/namespaces/{ns}/pods/nope/ephemeralcontainers")
    assert (route.status, status_of(route)) == (404, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server could not find the requested resource", "reason": "NotFound", "details": {},
        "code": 404})
    method = api.request("PUT", f"/api/v1/namespaces/{ns}/pods", b"{}", headers={"Content-Type": JSON})
    assert (method.status, status_of(method)) == (405, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server does not allow this method on the requested resource", "reason": "MethodNotAllowed",
        "details": {}, "code": 405})


def test_forbidden_conflict_and_invalid_bodies(api: Api, kube: Kube) -> None:  # noqa: F811
    """``NewForbidden`` (the namespace lifecycle admission's ``this namespace may not be deleted``),
    ``NewAlreadyExists`` and ``NewInvalid``: details as kubernetes/apimachinery ``pkg/api/errors/errors.go``
    writes them."""
    forbidden = api.request("DELETE", "/api/v1/namespaces/default")
    assert (forbidden.status, status_of(forbidden)) == (403, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'namespaces "default" is forbidden: this namespace may not be deleted', "reason": "Forbidden",
        "details": {"name": "default", "kind": "namespaces"}, "code": 403})
    ns = kube.namespace
    kube("create", "configmap", "cm")
    exists = api.request("POST", f"/api/v1/namespaces/{ns}/configmaps", b'{"metadata":{"name":"cm"}}',
                         headers={"Content-Type": JSON})
    assert (exists.status, status_of(exists)["details"]) == (409, {"name": "cm", "kind": "configmaps"})
    invalid = api.request("POST", f"/api/v1/namespaces/{ns}/configmaps", b'{"metadata":{"name":"UPPER"}}',
                          headers={"Content-Type": JSON})
    details = status_of(invalid)["details"]
    assert invalid.status == 422 and (details["name"], details["kind"]) == ("UPPER", "ConfigMap")
    assert "group" not in details and details["causes"][0]["reason"] == "FieldValueInvalid"


def test_debug_says_ephemeral_containers_are_not_available(kube: Kube) -> None:
    """Without the ``ephemeralcontainers`` subresource the patch gets the generic 404, whose empty details
    kubectl reads (``serr.ErrStatus.Details.Name == ""``, kubernetes/kubectl ``pkg/cmd/debug/debug.go``): it says
    ephemeral containers are disabled instead of panicking on a nil ``Details``."""
    kube("run", "web", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1")
    for args in (("-it",), ()):
        result = kube.run("debug", "web", *args, "--image=busybox")
        assert result.returncode == 1
        assert "panic" not in result.stderr
        assert result.stderr.strip().splitlines()[-1] == (
            'error: ephemeral containers are disabled for this cluster '
            '(error from server: "the server could not find the requested resource")')
    missing = kube.run("debug", "nope", "--image=busybox")
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_every_field_the_cluster_decodes_has_a_schema() -> None:
    """The OpenAPI data (``openapi_gen.py``) and the Go structs table (``structs_gen.py``) come from one k8s.io/api
    commit: every JSON field of a served kind's structs is a property of its schema (regenerate the data when
    ``structs.py`` changes)."""
    import gzip

    from tutor.practice.apiserver import gotypes
    from tutor.practice.apiserver.openapi import DATA
    from tutor.practice.apiserver.openapi_gen import openapi_name
    from tutor.practice.apiserver.structs import STRUCTS

    schemas = json.loads(gzip.decompress(DATA.read_bytes()))["schemas"]
    missing = [f"{openapi_name(key)}.{name}" for key in STRUCTS if openapi_name(key) in schemas
               for name in gotypes.json_fields(STRUCTS, key)
               if name not in schemas[openapi_name(key)].get("properties", {})]
    assert not missing


def test_delete_success_status(api: Api, kube: Kube) -> None:  # noqa: F811
    """``finalizeDelete`` (kubernetes/apiserver ``pkg/registry/generic/registry/store.go``): Success with the
    deleted object's name, group, resource and uid, empty fields omitted, and no code."""
    kube("create", "configmap", "gone")
    uid = kube.json("get", "configmap", "gone")["metadata"]["uid"]
    reply = api.request("DELETE", f"/api/v1/namespaces/{kube.namespace}/configmaps/gone")
    assert (reply.status, json.loads(reply.body)) == (200, {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": "gone", "kind": "configmaps", "uid": uid}})

"""Tests the PATCH semantics of the practice cluster (tutor.practice.apiserver.patch)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tutor.practice.apiserver.errors import ApiError, BadRequest, Invalid, UnsupportedMediaType
from tutor.practice.apiserver.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_TYPES,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
    validate_patch,
)

SMP = STRATEGIC_MERGE_PATCH


def _container(name: str, image: str, **extra: Any) -> dict:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"limits": {"cpu": "500m"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        **extra,
    }


def _deployment(*containers: dict) -> dict:
    containers = containers or (_container("kubernetes-bootcamp", "gcr.io/google-samples/kubernetes-bootcamp:v1",
                                           ports=[{"containerPort": 8080, "protocol": "TCP"}]),)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "kubernetes-bootcamp",
            "namespace": "default",
            "labels": {"app": "kubernetes-bootcamp"},
            "annotations": {"deployment.kubernetes.io/revision": "2"},
            "finalizers": ["a", "b"],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "kubernetes-bootcamp"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "kubernetes-bootcamp"}},
                "spec": {
                    "containers": list(containers),
                    "restartPolicy": "Always",
                    "tolerations": [{"key": "a", "operator": "Exists"}],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                },
            },
        },
        "status": {"conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}]},
    }


def _patch(original: dict, content_type: str, body: Any, kind: str = "Deployment", **kwargs: Any) -> dict:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    before = copy.deepcopy(original)
    result = apply_patch(original, content_type, raw, kind=kind, **kwargs)
    assert original == before, "apply_patch must not mutate its input"
    return result


def _spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


# ---------------------------------------------------------------------------------------------
# kubectl's exact bodies

SET_IMAGE_BODY = (
    b'{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"kubernetes-bootcamp"}],'
    b'"containers":[{"image":"jocatalin/kubernetes-bootcamp:v2","name":"kubernetes-bootcamp"}]}}}}'
)


def test_kubectl_set_image_changes_only_the_image() -> None:
    original = _deployment()
    result = _patch(original, SMP, SET_IMAGE_BODY)
    expected = copy.deepcopy(original)
    _spec(expected)["containers"][0]["image"] = "jocatalin/kubernetes-bootcamp:v2"
    assert result == expected


def test_kubectl_set_image_on_one_of_two_containers_keeps_the_order() -> None:
    original = _deployment(_container("web", "nginx:1"), _container("sidecar", "busybox:1"))
    body = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
        "containers": [{"image": "busybox:2", "name": "sidecar"}],
    }}}}
    containers = _spec(_patch(original, SMP, body))["containers"]
    assert [c["name"] for c in containers] == ["web", "sidecar"]
    assert containers[0] == _container("web", "nginx:1")
    assert containers[1] == _container("sidecar", "busybox:2")


def test_kubectl_rollout_undo_json_patch() -> None:
    original = _deployment()
    template = copy.deepcopy(original["spec"]["template"])
    template["spec"]["containers"][0]["image"] = "gcr.io/google-samples/kubernetes-bootcamp:v0"
    annotations = {"deployment.kubernetes.io/revision": "3"}
    body = json.dumps([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]).encode()
    result = _patch(original, JSON_PATCH, body)
    assert result["spec"]["template"] == template
    assert result["metadata"]["annotations"] == annotations
    assert result["spec"]["replicas"] == 1


def test_rollout_undo_replace_adds_missing_annotations_like_upstream() -> None:
    original = _deployment()
    del original["metadata"]["annotations"]
    body = [{"op": "replace", "path": "/metadata/annotations", "value": {"a": "b"}}]
    assert _patch(original, JSON_PATCH, body)["metadata"]["annotations"] == {"a": "b"}


def test_kubectl_scale_merge_patch_on_scale_subresource() -> None:
    scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web", "namespace": "default"},
             "spec": {"replicas": 1}, "status": {"replicas": 1, "selector": "app=web"}}
    result = _patch(scale, MERGE_PATCH, b'{"spec":{"replicas":2}}', kind="Scale")
    assert result["spec"] == {"replicas": 2}
    assert result["status"] == scale["status"]


def test_result_shares_nothing_with_input_or_body() -> None:
    original = _deployment()
    result = apply_patch(original, SMP, SET_IMAGE_BODY, kind="Deployment")
    result["metadata"]["labels"]["x"] = "y"
    _spec(result)["containers"][0]["resources"]["limits"]["cpu"] = "1"
    assert "x" not in original["metadata"]["labels"]
    assert _spec(original)["containers"][0]["resources"]["limits"]["cpu"] == "500m"


# ---------------------------------------------------------------------------------------------
# Strategic merge patch semantics

STRATEGIC_CASES: list[tuple[str, dict, Any]] = [
    (
        "maps merge recursively",
        {"metadata": {"labels": {"tier": "web"}}},
        lambda r: r["metadata"]["labels"] == {"app": "kubernetes-bootcamp", "tier": "web"},
    ),
    (
        "null deletes a key",
        {"metadata": {"annotations": None}, "spec": {"strategy": {"rollingUpdate": None}}},
        lambda r: "annotations" not in r["metadata"] and r["spec"]["strategy"] == {"type": "RollingUpdate"},
    ),
    (
        "null for a missing key is ignored",
        {"metadata": {"nope": None}},
        lambda r: "nope" not in r["metadata"],
    ),
    (
        "nulls and directives inside new values are dropped",
        {"spec": {"template": {"metadata": {"annotations": {"a": None, "b": "x", "$patch": "merge"}}}}},
        lambda r: r["spec"]["template"]["metadata"]["annotations"] == {"b": "x"},
    ),
    (
        "scalars replace",
        {"spec": {"replicas": 3}},
        lambda r: r["spec"]["replicas"] == 3,
    ),
    (
        "a new container goes first, as upstream (and the kubectl patch docs) show",
        {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}},
        lambda r: [c["name"] for c in _spec(r)["containers"]] == ["sidecar", "kubernetes-bootcamp"],
    ),
    (
        "containers merge by name, keeping other fields",
        {"spec": {"template": {"spec": {"containers": [{"name": "kubernetes-bootcamp", "args": ["-v"]}]}}}},
        lambda r: _spec(r)["containers"][0]["args"] == ["-v"]
        and _spec(r)["containers"][0]["imagePullPolicy"] == "IfNotPresent",
    ),
    (
        "container ports merge by containerPort",
        {"spec": {"template": {"spec": {"containers": [{"name": "kubernetes-bootcamp", "ports": [
            {"containerPort": 8080, "name": "http"}, {"containerPort": 9090}]}]}}}},
        lambda r: _spec(r)["containers"][0]["ports"] == [
            {"containerPort": 8080, "protocol": "TCP", "name": "http"}, {"containerPort": 9090}],
    ),
    (
        "env merges by name",
        {"spec": {"template": {"spec": {"containers": [{"name": "kubernetes-bootcamp", "env": [
            {"name": "B", "value": "2"}]}]}}}},
        lambda r: _spec(r)["containers"][0]["env"] == [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
    ),
    (
        "volumeMounts merge by mountPath",
        {"spec": {"template": {"spec": {"containers": [{"name": "kubernetes-bootcamp", "volumeMounts": [
            {"mountPath": "/data", "readOnly": True}]}]}}}},
        lambda r: _spec(r)["containers"][0]["volumeMounts"] == [
            {"name": "data", "mountPath": "/data", "readOnly": True}],
    ),
    (
        "volumes merge by name",
        {"spec": {"template": {"spec": {"volumes": [{"name": "cache", "emptyDir": {}}]}}}},
        lambda r: [v["name"] for v in _spec(r)["volumes"]] == ["cache", "data"],
    ),
    (
        "imagePullSecrets merge by name",
        {"spec": {"template": {"spec": {"imagePullSecrets": [{"name": "two"}]}}}},
        lambda r: _spec(r)["imagePullSecrets"] == [{"name": "two"}, {"name": "one"}],
    ),
    (
        "tolerations replace",
        {"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}},
        lambda r: _spec(r)["tolerations"] == [{"key": "b", "operator": "Exists"}],
    ),
    (
        "lists without a strategy replace (selector expressions)",
        {"spec": {"template": {"spec": {"containers": [{"name": "kubernetes-bootcamp", "args": ["-x"]}]}}}},
        lambda r: _spec(r)["containers"][0]["args"] == ["-x"],
    ),
    (
        "finalizers merge as a set of primitives",
        {"metadata": {"finalizers": ["b", "c"]}},
        lambda r: r["metadata"]["finalizers"] == ["a", "b", "c"],
    ),
    (
        "$deleteFromPrimitiveList removes from a merged primitive list",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
        lambda r: r["metadata"]["finalizers"] == ["b"],
    ),
    (
        "status conditions merge by type",
        {"status": {"conditions": [{"type": "Progressing", "status": "False"}]}},
        lambda r: r["status"]["conditions"] == [
            {"type": "Available", "status": "True"}, {"type": "Progressing", "status": "False"}],
    ),
    (
        "$patch: delete on a list item removes it",
        {"spec": {"template": {"spec": {"containers": [{"name": "kubernetes-bootcamp", "$patch": "delete"}]}}}},
        lambda r: _spec(r)["containers"] == [],
    ),
    (
        "$patch: replace in a list replaces the whole list",
        {"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "x"}, {"$patch": "replace"}]}}}},
        lambda r: _spec(r)["containers"] == [{"name": "new", "image": "x"}],
    ),
    (
        "$patch: replace in a map replaces the map",
        {"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}},
        lambda r: r["spec"]["strategy"] == {"type": "Recreate"},
    ),
    (
        "$patch: delete in a map empties it",
        {"spec": {"template": {"metadata": {"$patch": "delete"}}}},
        lambda r: r["spec"]["template"]["metadata"] == {},
    ),
    (
        "$retainKeys clears the keys it does not list",
        {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
        lambda r: r["spec"]["strategy"] == {"type": "Recreate"},
    ),
    (
        "$setElementOrder reorders a merged list",
        {"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "kubernetes-bootcamp"}],
            "containers": [{"name": "sidecar", "image": "busybox"}]}}}},
        lambda r: [c["name"] for c in _spec(r)["containers"]] == ["sidecar", "kubernetes-bootcamp"],
    ),
    (
        "$setElementOrder orders a primitive list",
        {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}},
        lambda r: r["metadata"]["finalizers"] == ["c", "b", "a"],
    ),
    (
        "$setElementOrder without the list only reorders",
        {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}},
        lambda r: r["metadata"]["finalizers"] == ["b", "a"],
    ),
    (
        "ownerReferences merge by uid",
        {"metadata": {"ownerReferences": [{"uid": "2", "kind": "ReplicaSet", "name": "b"}]}},
        lambda r: [o["uid"] for o in r["metadata"]["ownerReferences"]] == ["2", "1"],
    ),
    (
        "a type change replaces",
        {"spec": {"replicas": {"odd": True}}},
        lambda r: r["spec"]["replicas"] == {"odd": True},
    ),
    (
        "an empty patch changes nothing",
        {},
        lambda r: r == _richer_deployment(),
    ),
]


def _richer_deployment() -> dict:
    obj = _deployment(_container("kubernetes-bootcamp", "v1",
                                 ports=[{"containerPort": 8080, "protocol": "TCP"}],
                                 env=[{"name": "A", "value": "1"}],
                                 volumeMounts=[{"name": "data", "mountPath": "/data"}]))
    _spec(obj)["imagePullSecrets"] = [{"name": "one"}]
    obj["metadata"]["ownerReferences"] = [{"uid": "1", "kind": "ReplicaSet", "name": "a"}]
    return obj


@pytest.mark.parametrize(("name", "body", "check"), STRATEGIC_CASES, ids=[c[0] for c in STRATEGIC_CASES])
def test_strategic_merge(name: str, body: dict, check: Any) -> None:
    result = _patch(_richer_deployment(), SMP, body)
    assert check(result), json.dumps(result, indent=1)


def test_service_ports_merge_by_port() -> None:
    service = {"kind": "Service", "metadata": {"name": "s"}, "spec": {
        "type": "ClusterIP", "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}
    body = {"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}}
    result = _patch(service, SMP, body, kind="Service")
    assert result["spec"]["ports"] == [{"port": 80, "targetPort": 9090, "protocol": "TCP"}, {"port": 443}]


def test_pod_spec_lists_merge_for_pods() -> None:
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [_container("a", "x:1")]},
           "status": {"conditions": [{"type": "Ready", "status": "False"}], "podIPs": [{"ip": "10.0.0.1"}]}}
    body = {"spec": {"containers": [{"name": "a", "image": "x:2"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    result = _patch(pod, SMP, body, kind="Pod")
    assert result["spec"]["containers"] == [_container("a", "x:2")]
    assert result["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    assert result["status"]["podIPs"] == [{"ip": "10.0.0.1"}]


def test_unknown_kind_merges_maps_and_replaces_lists() -> None:
    obj = {"kind": "Widget", "metadata": {"name": "w", "finalizers": ["x"]}, "spec": {"items": [{"name": "a"}]}}
    result = _patch(obj, SMP, {"metadata": {"finalizers": ["y"]}, "spec": {"items": [{"name": "b"}]}},
                    kind="Widget")
    assert result["metadata"]["finalizers"] == ["y", "x"]  # ObjectMeta is known for every kind
    assert result["spec"]["items"] == [{"name": "b"}]


def test_null_strategic_body_is_a_no_op() -> None:
    original = _deployment()
    assert _patch(original, SMP, b"null") == original


STRATEGIC_ERRORS: list[tuple[str, bytes, type[ApiError], str]] = [
    ("bad json", b"xyz", BadRequest, "invalid character 'x' looking for beginning of value"),
    ("empty body", b"", BadRequest, "unexpected end of JSON input"),
    ("truncated", b'{"spec":', BadRequest, "unexpected end of JSON input"),
    ("missing colon", b'{"a" 1}', BadRequest, "invalid character '1' after object key"),
    ("trailing comma", b'{"a":1,}', BadRequest, "invalid character '}' looking for beginning of object key string"),
    ("single quotes", b"{'a':1}", BadRequest,
     "invalid character '\\'' looking for beginning of object key string"),
    ("bad literal", b'{"a":tru}', BadRequest, "invalid character '}' in literal true (expecting 'e')"),
    ("after top level", b"{} x", BadRequest, "invalid character 'x' after top-level value"),
    ("bad number", b'{"a":-x}', BadRequest, "invalid character 'x' in numeric literal"),
    ("bad fraction", b'{"a":1.}', BadRequest, "invalid character '}' after decimal point in numeric literal"),
    ("bad escape", b'{"a":"\\q"}', BadRequest, "invalid character 'q' in string escape code"),
    ("control char", b'{"a":"\x01"}', BadRequest, "invalid character '\\x01' in string literal"),
    ("newline in string", b'{"a":"\n"}', BadRequest, "invalid character '\\n' in string literal"),
    ("array", b"[1]", BadRequest, "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ("string", b'"x"', BadRequest, "json: cannot unmarshal string into Go value of type map[string]interface {}"),
    ("number", b"1", BadRequest, "json: cannot unmarshal number into Go value of type map[string]interface {}"),
    ("merge directive in a map", b'{"spec":{"strategy":{"$patch":"merge"}}}', ApiError,
     "unknown patch type: merge in map: map[$patch:merge]"),
    ("merge directive in a list", b'{"spec":{"template":{"spec":{"containers":[{"$patch":"merge"}]}}}}', ApiError,
     "merging lists cannot yet be specified in the patch"),
    ("unknown directive in a list", b'{"spec":{"template":{"spec":{"containers":[{"$patch":"frob","name":"x"}]}}}}',
     ApiError, "unknown patch type: frob in map: map[$patch:frob name:x]"),
    ("mixed element types", b'{"metadata":{"finalizers":[["a"]]}}', ApiError,
     "list element types are not identical: [[a b] [[a]]]"),
    ("missing merge key", b'{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}', ApiError,
     "map: map[image:x] does not contain declared merge key: name"),
    ("retainKeys not a list", b'{"spec":{"strategy":{"$retainKeys":"type"}}}', BadRequest,
     "invalid patch format of retainKeys"),
    ("retainKeys missing a patched key", b'{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}}',
     BadRequest, "invalid patch format of retainKeys"),
    ("bad primitive list directive", b'{"metadata":{"$deleteFromPrimitiveListX/finalizers":["a"]}}', BadRequest,
     "invalid patch format of primitive list"),
    ("bad set order directive", b'{"metadata":{"$setElementOrderX/finalizers":["a"]}}', BadRequest,
     "invalid patch format of setElementOrder list"),
    ("set order not a list", b'{"metadata":{"$setElementOrder/finalizers":"a"}}', ApiError,
     "expected a []interface {}, but received a string"),
    ("set order missing an item",
     b'{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],'
     b'"containers":[{"name":"b","image":"x"}]}}}}', ApiError,
     "The order in patch list:\n[map[image:x name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]\n"),
]


@pytest.mark.parametrize(("name", "body", "error", "message"), STRATEGIC_ERRORS, ids=[c[0] for c in STRATEGIC_ERRORS])
def test_strategic_merge_errors(name: str, body: bytes, error: type[ApiError], message: str) -> None:
    with pytest.raises(error) as info:
        apply_patch(_deployment(), SMP, body, kind="Deployment")
    assert type(info.value) is error
    assert info.value.message == message


def test_list_of_lists_is_unprocessable() -> None:
    with pytest.raises(Invalid) as info:
        apply_patch({"metadata": {"finalizers": []}}, SMP, b'{"metadata":{"finalizers":[["a"]]}}', kind="Pod")
    assert info.value.message == "the server rejected our request due to an error in our request"
    status = info.value.status()
    assert status["code"] == 422 and status["reason"] == "Invalid"
    # NewGenericServerResponse(..., isUnexpectedResponse=false): the cause is not kept (apimachinery errors.go)
    assert status["details"] == {}


# ---------------------------------------------------------------------------------------------
# JSON merge patch

MERGE_CASES: list[tuple[str, Any, dict, dict]] = [
    ("sets a field", {"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    ("replaces a scalar", {"a": 1}, {"a": 2}, {"a": 2}),
    ("null deletes", {"a": 1, "b": 2}, {"a": None}, {"b": 2}),
    ("null for a missing key", {"a": 1}, {"z": None}, {"a": 1}),
    ("recurses into maps", {"m": {"x": 1, "y": 2}}, {"m": {"y": None, "z": 3}}, {"m": {"x": 1, "z": 3}}),
    ("replaces lists", {"l": [1, 2, 3]}, {"l": [4]}, {"l": [4]}),
    ("prunes nulls in new values", {}, {"m": {"a": None, "b": [1, None]}}, {"m": {"b": [1]}}),
    ("map replaces a scalar", {"a": 1}, {"a": {"b": None, "c": 1}}, {"a": {"c": 1}}),
    ("scalar replaces a map", {"a": {"b": 1}}, {"a": 1}, {"a": 1}),
    ("empty patch", {"a": 1}, {}, {"a": 1}),
]


@pytest.mark.parametrize(("name", "original", "body", "expected"), MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
def test_merge_patch(name: str, original: dict, body: dict, expected: dict) -> None:
    assert _patch(original, MERGE_PATCH, body) == expected


MERGE_ERRORS: list[tuple[str, bytes, str | None, str]] = [
    ("bad json", b"{x", None, "Invalid JSON Patch"),
    ("array", b"[]", None, "Invalid JSON Patch"),
    ("null", b"null", None, "Invalid JSON Patch"),
    ("string", b'"a"', None, "Invalid JSON Patch"),
    ("bad json, strict", b"xyz", "Strict", "error decoding patch: invalid character 'x' looking for beginning of value"),
    ("array, strict", b"[1]", "Strict",
     "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ("null, strict", b"null", "Warn", "Invalid JSON Patch"),
]


@pytest.mark.parametrize(("name", "body", "validation", "message"), MERGE_ERRORS, ids=[c[0] for c in MERGE_ERRORS])
def test_merge_patch_errors(name: str, body: bytes, validation: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        apply_patch({"a": 1}, MERGE_PATCH, body, kind="Deployment", field_validation=validation)
    assert info.value.message == message


# ---------------------------------------------------------------------------------------------
# JSON patch

DOC = {"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"list": [1, 2, 3], "n": None}}

JSON_PATCH_CASES: list[tuple[str, list, Any]] = [
    ("add a key", [{"op": "add", "path": "/metadata/labels/tier", "value": "x"}],
     lambda r: r["metadata"]["labels"] == {"app": "web", "tier": "x"}),
    ("add replaces an existing key", [{"op": "add", "path": "/metadata/name", "value": "x"}],
     lambda r: r["metadata"]["name"] == "x"),
    ("add into a list", [{"op": "add", "path": "/spec/list/1", "value": 9}],
     lambda r: r["spec"]["list"] == [1, 9, 2, 3]),
    ("add at the end", [{"op": "add", "path": "/spec/list/-", "value": 9}],
     lambda r: r["spec"]["list"] == [1, 2, 3, 9]),
    ("add at len", [{"op": "add", "path": "/spec/list/3", "value": 9}],
     lambda r: r["spec"]["list"] == [1, 2, 3, 9]),
    ("add with a negative index", [{"op": "add", "path": "/spec/list/-1", "value": 9}],
     lambda r: r["spec"]["list"] == [1, 2, 3, 9]),
    ("add without value adds null", [{"op": "add", "path": "/spec/x"}], lambda r: r["spec"]["x"] is None),
    ("remove a key", [{"op": "remove", "path": "/metadata/labels/app"}], lambda r: r["metadata"]["labels"] == {}),
    ("remove from a list", [{"op": "remove", "path": "/spec/list/0"}], lambda r: r["spec"]["list"] == [2, 3]),
    ("remove with a negative index", [{"op": "remove", "path": "/spec/list/-1"}],
     lambda r: r["spec"]["list"] == [1, 2]),
    ("replace", [{"op": "replace", "path": "/spec/list/2", "value": 7}], lambda r: r["spec"]["list"] == [1, 2, 7]),
    ("replace a missing key adds it", [{"op": "replace", "path": "/spec/new", "value": 1}],
     lambda r: r["spec"]["new"] == 1),
    ("move", [{"op": "move", "from": "/metadata/labels", "path": "/spec/labels"}],
     lambda r: "labels" not in r["metadata"] and r["spec"]["labels"] == {"app": "web"}),
    ("copy", [{"op": "copy", "from": "/metadata/labels", "path": "/spec/labels"}],
     lambda r: r["metadata"]["labels"] == r["spec"]["labels"] == {"app": "web"}),
    ("test then replace", [{"op": "test", "path": "/metadata/name", "value": "web"},
                           {"op": "replace", "path": "/metadata/name", "value": "api"}],
     lambda r: r["metadata"]["name"] == "api"),
    ("test a null", [{"op": "test", "path": "/spec/n", "value": None}], lambda r: r == DOC),
    ("test a missing key against null", [{"op": "test", "path": "/spec/missing", "value": None}],
     lambda r: r == DOC),
    ("escaped pointer", [{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "w"}],
     lambda r: r["metadata"]["labels"]["app.kubernetes.io/name"] == "w"),
    ("empty patch", [], lambda r: r == DOC),
]


@pytest.mark.parametrize(("name", "ops", "check"), JSON_PATCH_CASES, ids=[c[0] for c in JSON_PATCH_CASES])
def test_json_patch(name: str, ops: list, check: Any) -> None:
    result = _patch(DOC, JSON_PATCH, ops)
    assert check(result), result


def test_json_patch_null_body_is_a_no_op() -> None:
    assert _patch(DOC, JSON_PATCH, b"null") == DOC


JSON_PATCH_FAILURES: list[tuple[str, list, str]] = [
    ("test fails", [{"op": "test", "path": "/metadata/name", "value": "api"}],
     "testing value /metadata/name failed: test failed"),
    ("test a missing key", [{"op": "test", "path": "/spec/missing", "value": 1}],
     "testing value /spec/missing failed: test failed"),
    ("test a missing path", [{"op": "test", "path": "/nope/x", "value": 1}],
     "test operation does not apply: is missing path: /nope/x: missing value"),
    ("remove a missing key", [{"op": "remove", "path": "/metadata/labels/x"}],
     "error in remove for path: '/metadata/labels/x': Unable to remove nonexistent key: x: missing value"),
    ("remove under a missing path", [{"op": "remove", "path": "/nope/x"}],
     'remove operation does not apply: doc is missing path: "/nope/x": missing value'),
    ("remove past the end", [{"op": "remove", "path": "/spec/list/3"}],
     "error in remove for path: '/spec/list/3': Unable to access invalid index: 3: invalid index referenced"),
    ("add under a missing path", [{"op": "add", "path": "/spec/nope/x", "value": 1}],
     'add operation does not apply: doc is missing path: "/spec/nope/x": missing value'),
    ("add past the end", [{"op": "add", "path": "/spec/list/5", "value": 1}],
     "error in add for path: '/spec/list/5': Unable to access invalid index: 5: invalid index referenced"),
    ("add with a bad index", [{"op": "add", "path": "/spec/list/x", "value": 1}],
     "error in add for path: '/spec/list/x': value was not a proper array index: 'x': "
     'strconv.Atoi: parsing "x": invalid syntax'),
    ("replace under a missing path", [{"op": "replace", "path": "/nope/x", "value": 1}],
     "replace operation does not apply: doc is missing path: /nope/x: missing value"),
    ("replace past the end", [{"op": "replace", "path": "/spec/list/3", "value": 1}],
     "replace operation does not apply: doc is missing key: /spec/list/3: missing value"),
    ("move from a missing key", [{"op": "move", "from": "/spec/nope", "path": "/spec/x"}],
     "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value"),
    ("copy from a missing path", [{"op": "copy", "from": "/a/b", "path": "/spec/x"}],
     "copy operation does not apply: doc is missing from path: /a/b: missing value"),
    ("unknown op", [{"op": "frob", "path": "/a"}], "Unexpected kind: frob"),
    ("missing op", [{"path": "/a"}], "Unexpected kind: unknown"),
    ("missing path", [{"op": "replace", "value": 1}],
     "replace operation failed to decode path: operation missing path field: missing value"),
    ("missing path on add", [{"op": "add", "value": 1}], "add operation failed to decode path: missing value"),
    ("missing from", [{"op": "move", "path": "/a"}],
     "move operation failed to decode from: operation, missing from field: missing value"),
]


@pytest.mark.parametrize(("name", "ops", "cause"), JSON_PATCH_FAILURES, ids=[c[0] for c in JSON_PATCH_FAILURES])
def test_json_patch_failures_are_422(name: str, ops: list, cause: str) -> None:
    with pytest.raises(Invalid) as info:
        apply_patch(DOC, JSON_PATCH, json.dumps(ops).encode(), kind="Deployment")
    status = info.value.status()
    assert status["code"] == 422
    assert status["message"] == "the server rejected our request due to an error in our request"
    assert status["details"] == {}  # the cause is not kept (apiserver patch.go, apimachinery errors.go)


def test_failed_json_patch_leaves_the_input_alone() -> None:
    original = copy.deepcopy(DOC)
    ops = [{"op": "remove", "path": "/metadata/labels/app"}, {"op": "test", "path": "/x", "value": 1}]
    with pytest.raises(Invalid):
        apply_patch(original, JSON_PATCH, json.dumps(ops).encode(), kind="Pod")
    assert original == DOC


JSON_PATCH_DECODE_ERRORS: list[tuple[str, bytes, str | None, str]] = [
    ("bad json", b"[{", None, "unexpected end of JSON input"),
    ("garbage", b"xyz", None, "invalid character 'x' looking for beginning of value"),
    ("object", b'{"op":"add"}', None, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
    ("element not an object", b"[1]", None, "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
    ("garbage, strict", b"xyz", "Strict", "error decoding patch: invalid character 'x' looking for beginning of value"),
    ("object, strict", b"{}", "Strict",
     "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
]


@pytest.mark.parametrize(("name", "body", "validation", "message"), JSON_PATCH_DECODE_ERRORS,
                         ids=[c[0] for c in JSON_PATCH_DECODE_ERRORS])
def test_json_patch_decode_errors(name: str, body: bytes, validation: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        apply_patch(DOC, JSON_PATCH, body, kind="Pod", field_validation=validation)
    assert info.value.message == message


def test_json_patch_operation_limit() -> None:
    ops = [{"op": "test", "path": "/metadata/name", "value": "web"}] * 10001
    with pytest.raises(ApiError) as info:
        apply_patch(DOC, JSON_PATCH, json.dumps(ops).encode(), kind="Pod")
    assert info.value.status()["code"] == 413
    assert info.value.message == "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"


# ---------------------------------------------------------------------------------------------
# Server-side apply (simplified)


def test_apply_json_body_merges_strategically() -> None:
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kubernetes-bootcamp"},
            "spec": {"replicas": 4, "template": {"spec": {"containers": [
                {"name": "kubernetes-bootcamp", "image": "v3"}]}}}}
    result = _patch(_deployment(), APPLY_PATCH, body)
    assert result["spec"]["replicas"] == 4
    container = _spec(result)["containers"][0]
    assert container["image"] == "v3" and container["imagePullPolicy"] == "IfNotPresent"
    assert result["metadata"]["labels"] == {"app": "kubernetes-bootcamp"}  # nothing omitted is removed


def test_apply_yaml_body() -> None:
    body = b"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kubernetes-bootcamp
  annotations:
    when: 2024-01-01T00:00:00Z
spec:
  replicas: 2
"""
    result = _patch(_deployment(), APPLY_PATCH, body)
    assert result["spec"]["replicas"] == 2
    assert result["metadata"]["annotations"]["when"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(("body", "message"), [
    # libyaml's scanner message, as yaml.v2 (its Go port) words it; yaml.v2's parser.fail (decode.go) names
    # no line for an error on the first line (its line 0).
    (b"a: b: c", "error decoding patch: error converting YAML to JSON: yaml: "
                 "mapping values are not allowed in this context"),
    (b"a: 1\nb: c: d", "error decoding patch: error converting YAML to JSON: yaml: line 2: "
                       "mapping values are not allowed in this context"),
    (b"a: &x [1, *x]", "error decoding patch: error converting YAML to JSON: yaml: anchor 'x' value contains itself"),
    (b"- 1\n- 2\n", "error decoding patch: error unmarshaling JSON: while decoding JSON: "
                    "json: cannot unmarshal array into Go value of type map[string]interface {}"),
])
def test_apply_errors(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        apply_patch(_deployment(), APPLY_PATCH, body, kind="Deployment")
    assert info.value.message == message


@pytest.mark.parametrize(("content_type", "body", "message"), [
    (MERGE_PATCH, b"{bad", "invalid JSON patch"),
    (STRATEGIC_MERGE_PATCH, b'{"a":1,}', "invalid JSON patch"),
    (JSON_PATCH, b"", "invalid JSON patch"),
    (JSON_PATCH, b"[" * 10001 + b"]" * 10001, "invalid JSON patch"),
    (APPLY_PATCH, b"a: b: c", "error encoding patch: error converting YAML to JSON: yaml: mapping values are not "
                              "allowed in this context"),
])
def test_patch_bodies_are_checked_before_any_patcher(content_type: str, body: bytes, message: str) -> None:
    """Kubernetes 1.37's ``validateAndTranscodePatch`` (kubernetes/apiserver pkg/endpoints/handlers/patch.go)."""
    with pytest.raises(BadRequest) as info:
        validate_patch(content_type, body)
    assert info.value.message == message


@pytest.mark.parametrize(("content_type", "body"), [
    (MERGE_PATCH, b'{"a":' + b"9" * 5000 + b"}"),  # valid syntax: the typed decode judges the number
    (JSON_PATCH, b"[" * 9999 + b"]" * 9999),
    (APPLY_PATCH, b"{not json, not checked here"),  # yaml.ToJSON takes a body that starts with { as JSON
    (APPLY_PATCH, b"spec: {replicas: 2}\n"),
])
def test_patch_bodies_that_pass_the_early_check(content_type: str, body: bytes) -> None:
    validate_patch(content_type, body)


# ---------------------------------------------------------------------------------------------
# Content types and robustness


@pytest.mark.parametrize("content_type", [
    "application/json", "application/yaml", "text/plain", "", "application/strategic-merge-patch+json ",
])
def test_unknown_content_type(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        apply_patch({}, content_type, b"{}", kind="Pod")
    assert info.value.status()["code"] == 415
    assert info.value.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )


@pytest.mark.parametrize("content_type", [f"{t}; charset=utf-8" for t in PATCH_TYPES])
def test_content_type_parameters_are_ignored(content_type: str) -> None:
    body = b"[]" if content_type.startswith(JSON_PATCH) else b"{}"
    assert apply_patch({"a": 1}, content_type, body, kind="Pod") == {"a": 1}


ODD_BODIES = [
    b"", b"\xff\xfe", b"{", b"[", b"null", b"true", b"1e999", b'{"a":' * 50 + b"1" + b"}" * 50,
    b"[" * 20000, b'{"$patch":"delete"}', b'{"$retainKeys":null}', b'{"metadata":{"$setElementOrder/x":[1]}}',
    b'{"metadata":{"finalizers":[1,"a"]}}', b'{"metadata":{"ownerReferences":[1]}}',
    b'{"spec":{"template":{"spec":{"containers":{"name":"x"}}}}}',
    b'{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":"x"}}}}',
    b'{"spec":{"template":{"spec":{"$setElementOrder/containers":[1],"containers":[{"name":"x"}]}}}}',
    b'[{"op":"add","path":"","value":1}]', b'[{"op":"move","from":"/spec","path":"/spec/x"}]',
    b'[{"op":"copy","from":"/spec/replicas","path":"/spec/template/spec/containers/9"}]',
    b'[{"op":"add","path":7}]', b'[null]', b'[{"op":"test","path":"","value":{}}]',
    b"- {a: [b, {c: d}]}\n", b"!!python/object:os.system x",
]


@pytest.mark.parametrize("content_type", PATCH_TYPES)
@pytest.mark.parametrize("body", ODD_BODIES)
def test_only_api_errors_escape(content_type: str, body: bytes) -> None:
    original = _deployment()
    before = copy.deepcopy(original)
    try:
        result = apply_patch(original, content_type, body, kind="Deployment")
    except ApiError:
        pass
    else:
        assert isinstance(result, dict)
    assert original == before

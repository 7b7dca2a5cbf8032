"""Fidelity of managed fields and server-side apply, with the real kubectl 1.37.

The API server keeps ``metadata.managedFields`` with kubernetes/apimachinery ``pkg/util/managedfields`` over
sigs.k8s.io/structured-merge-diff; kubectl names its managers (``kubectl-create``, ``kubectl-set``, ``kubectl`` for
``apply --server-side``) in kubernetes/kubectl ``pkg/cmd/*``, and ``kubectl scale`` sends none, so the server names
it after the user agent (kubernetes/apiserver ``pkg/endpoints/handlers/create.go`` ``managerOrUserAgent``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.practice.conftest import Kube
from tests.practice.test_api_robustness import Api, api  # noqa: F401  (the fixture)

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
APPLY = "application/apply-patch+yaml"


def manifest(replicas: int | None = 2, labels: dict[str, str] | None = None, image: str = V1) -> str:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 8080}]}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "labels": labels or {"app": "web"}}, "spec": spec})


def server_side_apply(kube: Kube, tmp_path: Path, body: str, *args: str) -> Any:
    path = tmp_path / "web.json"
    path.write_text(body)
    return kube.run("apply", "--server-side", "-f", str(path), *args)


def entries(kube: Kube, resource: str = "deployment/web") -> list[dict[str, Any]]:
    return list(kube.json("get", resource, "--show-managed-fields")["metadata"].get("managedFields", []))


def test_create_records_kubectl_create_and_the_defaulted_fields(kube: Kube) -> None:
    """A create is an update from the new, empty object (kubernetes/apiserver ``pkg/endpoints/handlers/create.go``:
    ``FieldManager.UpdateNoErrors(New(), obj)``), compared after defaulting (structured-merge-diff
    ``typed/compare.go``): what Go's zero object already has (``spec``, ``strategy``) is not itself a member, a
    pointer or map that appears (``rollingUpdate``, ``labels``) and a list item are (``.``)."""
    kube("create", "deployment", "web", f"--image={V1}")
    [entry] = entries(kube)
    assert {k: v for k, v in entry.items() if k != "time"} == {
        "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "manager": "kubectl-create", "operation": "Update",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {}, "f:selector": {},
                "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                               "f:type": {}},
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:containers": {'k:{"name":"kubernetes-bootcamp"}': {
                            ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {},
                            "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                        "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {},
                        "f:terminationGracePeriodSeconds": {}}}}}}
    assert entry["time"].endswith("Z")
    assert "managedFields" not in kube.json("get", "deployment/web")["metadata"]  # kubectl hides them by default


def test_an_update_moves_ownership_to_its_manager(kube: Kube) -> None:
    """``Updater.Update`` (structured-merge-diff ``merge/update.go``): ``kubectl set image`` (manager
    ``kubectl-set``, kubernetes/kubectl ``pkg/cmd/set/set_image.go``) takes the image from ``kubectl-create``."""
    kube("create", "deployment", "web", f"--image={V1}")
    kube("set", "image", "deployment/web", f"kubernetes-bootcamp={V2}")
    by_manager = {e["manager"]: e for e in entries(kube)}
    assert set(by_manager) == {"kubectl-create", "kubectl-set"}
    container = 'k:{"name":"kubernetes-bootcamp"}'
    assert by_manager["kubectl-set"]["fieldsV1"] == {
        "f:spec": {"f:template": {"f:spec": {"f:containers": {container: {"f:image": {}}}}}}}
    created = by_manager["kubectl-create"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][container]
    assert "f:image" not in created and "f:name" in created


def test_apply_after_scale_reports_the_conflict(kube: Kube, tmp_path: Path) -> None:
    """``kubectl scale`` updates ``/scale`` as ``kubectl`` (its user agent) and, through the scale handler
    (kubernetes/apimachinery ``pkg/util/managedfields/scalehandler.go``), owns the deployment's ``.spec.replicas``;
    an apply that sets replicas then fails with ``conflict.go``'s wording, and ``--force-conflicts`` takes it."""
    assert server_side_apply(kube, tmp_path, manifest(2)).stdout.strip() == "deployment.apps/web serverside-applied"
    kube("scale", "deployment/web", "--replicas=5")
    scale_entry = [e for e in entries(kube) if e.get("subresource") == "scale"]
    assert scale_entry == [{"apiVersion": "apps/v1", "fieldsType": "FieldsV1",
                            "fieldsV1": {"f:spec": {"f:replicas": {}}}, "manager": "kubectl",
                            "operation": "Update", "subresource": "scale"}]
    result = server_side_apply(kube, tmp_path, manifest(2))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == ('error: Apply failed with 1 conflict: conflict with "kubectl" with '
                                             'subresource "scale" using apps/v1: .spec.replicas')
    assert "--force-conflicts" in result.stderr
    assert kube.deployment("web")["spec"]["replicas"] == 5
    forced = server_side_apply(kube, tmp_path, manifest(2), "--force-conflicts")
    assert forced.returncode == 0, forced.stderr
    assert kube.deployment("web")["spec"]["replicas"] == 2
    [applied] = entries(kube)  # the scale manager lost its only field
    assert (applied["manager"], applied["operation"]) == ("kubectl", "Apply")
    assert "f:replicas" in applied["fieldsV1"]["f:spec"]


def test_apply_without_replicas_keeps_the_scaled_count(kube: Kube, tmp_path: Path) -> None:
    """An apply configuration that leaves a field out neither conflicts on it nor resets it."""
    server_side_apply(kube, tmp_path, manifest(None))
    kube("scale", "deployment/web", "--replicas=3")
    again = server_side_apply(kube, tmp_path, manifest(None, image=V2))
    assert again.returncode == 0, again.stderr
    deployment = kube.deployment("web")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == V2


def test_apply_keys_list_items_as_upstream_and_prunes_what_it_stopped_applying(kube: Kube, tmp_path: Path) -> None:
    """Container ports are a map list keyed by ``containerPort`` and ``protocol``, the missing key taken from its
    default (structured-merge-diff ``typed/helpers.go``); a label the applier alone set and no longer applies is
    removed (``Updater.prune``, ``merge/update.go``)."""
    server_side_apply(kube, tmp_path, manifest(2, {"app": "web", "tier": "front"}))
    [entry] = entries(kube)
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {"f:app": {}, "f:tier": {}}}
    container = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container["f:ports"] == {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}
    server_side_apply(kube, tmp_path, manifest(2, {"app": "web"}))
    assert kube.deployment("web")["metadata"]["labels"] == {"app": "web"}


def test_apply_requires_a_field_manager(api: Api, kube: Kube) -> None:  # noqa: F811
    """``ValidatePatchOptions`` (kubernetes/apimachinery ``pkg/apis/meta/v1/validation/validation.go``)."""
    path = f"/apis/apps/v1/namespaces/{kube.namespace}/deployments/web"
    reply = api.request("PATCH", path, manifest(), headers={"Content-Type": APPLY})
    assert reply.status == 422
    assert reply.json()["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                                       "is required for apply patch")
    assert reply.json()["details"] == {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
        {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch",
         "field": "fieldManager"}]}


@pytest.mark.parametrize("managers", [2])
def test_several_conflicts_are_listed_by_manager(api: Api, kube: Kube, managers: int) -> None:  # noqa: F811
    """``getConflictMessage`` (kubernetes/apimachinery ``pkg/util/managedfields/internal/conflict.go``): with
    more than one conflict, each manager's paths on lines of their own, managers in order."""
    ns = kube.namespace
    path = f"/api/v1/namespaces/{ns}/configmaps/cm"
    for n in range(managers):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
                           "data": {f"k{n}": "a", "shared": "a"}})
        assert api.request("PATCH", f"{path}?fieldManager=m{n}", body, headers={"Content-Type": APPLY}).status in (
            200, 201)
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
                       "data": {"k0": "b", "k1": "b", "shared": "b"}})
    reply = api.request("PATCH", f"{path}?fieldManager=mine", body, headers={"Content-Type": APPLY})
    assert reply.status == 409
    status = reply.json()
    assert status["reason"] == "Conflict"
    assert status["message"] == ('Apply failed with 4 conflicts: conflicts with "m0":\n- .data.k0\n- .data.shared\n'
                                 'conflicts with "m1":\n- .data.k1\n- .data.shared')
    assert status["details"]["causes"][0] == {"reason": "FieldManagerConflict", "message": 'conflict with "m0"',
                                              "field": ".data.k0"}


def test_expose_owns_what_it_sent_and_the_defaults_not_what_the_registry_sets(kube: Kube) -> None:
    """``kubectl expose`` (manager ``kubectl-expose``, kubernetes/kubectl ``pkg/cmd/expose/expose.go``): the
    field manager runs on the decoded, defaulted Service before the service registry sets its IP families
    (kubernetes/kubernetes ``pkg/registry/core/service/storage/alloc.go``), so those are no one's."""
    kube("create", "deployment", "web", f"--image={V1}")
    kube("expose", "deployment/web", "--type=NodePort", "--port=8080")
    [entry] = entries(kube, "service/web")
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == ("kubectl-expose", "Update", "v1")
    assert entry["fieldsV1"]["f:spec"] == {
        "f:externalTrafficPolicy": {}, "f:internalTrafficPolicy": {},
        "f:ports": {".": {}, 'k:{"port":8080,"protocol":"TCP"}': {
            ".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}},
        "f:selector": {}, "f:sessionAffinity": {}, "f:type": {}}


def test_client_side_then_server_side_apply_migrates(kube: Kube, tmp_path: Path) -> None:
    """``kubectl apply`` then ``kubectl apply --server-side`` with a changed image: the server lets kubectl take
    what client-side apply last applied and nobody changed since (kubernetes/apimachinery
    ``pkg/util/managedfields/internal/lastappliedmanager.go``), keeps the annotation in step
    (``lastappliedupdater.go``), and kubectl's migration (kubernetes/kubectl ``pkg/cmd/apply/apply.go``,
    client-go ``util/csaupgrade``) moves ``kubectl-client-side-apply``'s fields to ``kubectl`` without a warning."""
    path = tmp_path / "web.json"
    path.write_text(manifest(2))
    assert kube("apply", "-f", str(path)).strip() == "deployment.apps/web created"
    assert [e["manager"] for e in entries(kube)] == ["kubectl-client-side-apply"]
    path.write_text(manifest(2, image=V2))
    result = kube.run("apply", "--server-side", "-f", str(path))
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert sorted((e["manager"], e["operation"]) for e in entries(kube)) == [
        ("kubectl", "Apply"), ("kubectl-last-applied", "Apply")]
    deployment = kube.deployment("web")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == V2
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "web"}
    last = json.loads(deployment["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["template"]["spec"]["containers"][0]["image"] == V2


def test_run_owns_the_defaults_not_what_admission_sets(kube: Kube) -> None:
    """``kubectl run`` (manager ``kubectl-run``): the decoder's defaults are the creator's (``dnsPolicy``,
    ``enableServiceLinks``), what the Priority, ServiceAccount and DefaultTolerationSeconds admission plugins
    set after the field manager ran is nobody's (kubernetes/apiserver ``pkg/endpoints/handlers/create.go``)."""
    kube("run", "one", f"--image={V1}")
    [entry] = entries(kube, "pod/one")
    assert entry["manager"] == "kubectl-run"
    spec = entry["fieldsV1"]["f:spec"]
    assert {"f:dnsPolicy", "f:enableServiceLinks", "f:restartPolicy", "f:schedulerName", "f:securityContext",
            "f:terminationGracePeriodSeconds", "f:containers"} <= set(spec)
    assert not {"f:priority", "f:preemptionPolicy", "f:serviceAccount", "f:serviceAccountName",
                "f:tolerations"} & set(spec)

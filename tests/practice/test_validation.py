"""Validation as kube-apiserver 1.37 does it, with the real kubectl and raw HTTPS against the practice cluster.

Each case is one the practice cluster used to accept where a real apiserver refuses (issue 9): the
wording is upstream's, and nothing refused is stored. Upstream sources:

- typed decoding (``json: cannot unmarshal ...``): ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go``
  ``transformDecodeError`` and Go's ``encoding/json`` (``sigs.k8s.io/json``);
- ``kubernetes/apimachinery`` ``pkg/api/validation/objectmeta.go`` (``ValidateOwnerReferences``,
  ``ValidateAnnotations``, ``ValidateImmutableField``), ``pkg/apis/meta/v1/validation/validation.go``
  (``ValidateLabels``, ``ValidateLabelSelector``), ``pkg/api/validate/content/kube.go`` (``IsLabelKey``,
  ``IsLabelValue``), ``pkg/util/validation/field/errors.go`` (the wording of a field error);
- ``kubernetes/kubernetes`` ``pkg/apis/apps/validation/validation.go`` (``ValidateDeploymentSpec``,
  ``ValidateDeploymentStatus``), ``pkg/registry/apps/deployment/strategy.go`` (the immutable selector),
  ``pkg/apis/autoscaling/validation/validation.go`` (``ValidateScale``),
  ``pkg/registry/core/pod/storage/storage.go`` (``BindingREST``: binding once), the pod strategy's
  negative ``terminationGracePeriodSeconds`` (kubernetes/kubernetes#115606, ``test/e2e/node/pods.go``);
- ``kubernetes/kubernetes`` ``pkg/scheduler`` (``FitError.Error``, ``NodeResourcesFit``'s ``Too many pods``,
  the ``DynamicResources`` and ``DefaultPreemption`` post-filters) for ``FailedScheduling``;
- etcd's ``--max-request-bytes`` (1.5 MiB) and ``ErrorToAPIStatus`` for an object too large to store.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.practice.conftest import TIME_SCALE, Kube, wait_for
from tests.practice.test_api_robustness import Api, assert_status, body
from tutor.backends.practice import PracticeBackend
from tutor.practice.apiserver import defaults
from tutor.practice.controllers.replicaset import slow_start_batch
from tutor.practice.controllers.scheduler import fit_error, quantity_value

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
JSON = "application/json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
NAME_PART_ERROR = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                   "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
                   "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_ERROR = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                     "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                     "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


TOO_MANY_PODS = ("0/1 nodes are available: 1 Too many pods. no new claims to deallocate, preemption: 0/1 nodes are "
                 "available: 1 No preemption victims found for incoming pod.")


@pytest.fixture
def api(practice: PracticeBackend) -> Api:
    """An HTTPS client for the session's cluster (as ``test_api_robustness``'s)."""
    config = yaml.safe_load(practice.kubeconfig.read_text())
    port = int(config["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1])
    return Api("127.0.0.1", port, config["users"][0]["user"]["token"], practice.directory / "pki" / "ca.crt")


def deployment_path(kube: Kube, name: str = "web", sub: str = "") -> str:
    return f"/apis/apps/v1/namespaces/{kube.namespace}/deployments/{name}" + (f"/{sub}" if sub else "")


def web(kube: Kube, name: str = "web", replicas: int = 1) -> dict[str, Any]:
    """A Deployment the controllers are done with (its status no longer changes), so a test can compare
    resourceVersions before and after a refused write."""
    kube("create", "deployment", name, f"--image={V1}", f"--replicas={replicas}")
    def finished() -> dict[str, Any] | None:  # the deployment controller's last write of a finished rollout
        deployment = kube.deployment(name)  # (pkg/controller/deployment/sync.go, syncRolloutStatus)
        conditions = (deployment.get("status") or {}).get("conditions") or []
        done = any(c.get("type") == "Progressing" and c.get("reason") == "NewReplicaSetAvailable" for c in conditions)
        return deployment if done else None

    found: dict[str, Any] = wait_for(finished, message=f"deployment {name} rolled out")
    return found


def invalid(result: Any, kind: str, name: str, *causes: str) -> None:
    """kubectl's rendering of a 422 with causes (``checkErr``: one cause on the line, several as a list)."""
    assert (result.returncode, result.stdout) == (1, ""), result
    if len(causes) == 1:
        assert result.stderr == f'The {kind} "{name}" is invalid: {causes[0]}\n'
    else:
        assert result.stderr == f'The {kind} "{name}" is invalid: \n' + "".join(f"* {c}\n" for c in causes)


# ---- int32 ranges and types -------------------------------------------------------------------------------
def test_kubectl_scale_beyond_int32_is_refused_and_nothing_changes(kube: Kube) -> None:
    before = web(kube)
    result = kube.run("scale", "deployment", "web", "--replicas=2147483648")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("The request is invalid: ")
    assert result.stderr.endswith("json: cannot unmarshal number 2147483648 into Go struct field ScaleSpec.spec.replicas "
                                  "of type int32\n")
    after = kube.deployment("web")
    assert after["spec"]["replicas"] == 1
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


@pytest.mark.parametrize(("value", "name"), [(2147483648, "number 2147483648"), (-2147483649, "number -2147483649"),
                                             (True, "bool"), ("3", "string"), (1.5, "number 1.5")])
def test_a_scale_body_is_decoded_as_an_autoscaling_v1_scale(api: Api, kube: Kube, value: Any, name: str) -> None:
    web(kube)
    scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web"}, "spec": {"replicas": value}}
    reply = api.request("PUT", deployment_path(kube, sub="scale"), body(scale), headers={"Content-Type": JSON})
    assert_status(reply, 400, "BadRequest", 'Scale in version "v1" cannot be handled as a Scale: json: cannot '
                                            f"unmarshal {name} into Go struct field ScaleSpec.spec.replicas of type int32")
    reply = api.request("PATCH", deployment_path(kube, sub="scale"), body({"spec": {"replicas": value}}),
                        headers={"Content-Type": MERGE})
    assert reply.status == 422, reply
    assert kube.deployment("web")["spec"]["replicas"] == 1


def test_a_negative_scale_is_invalid(api: Api, kube: Kube) -> None:
    web(kube)
    reply = api.request("PATCH", deployment_path(kube, sub="scale"), body({"spec": {"replicas": -1}}),
                        headers={"Content-Type": MERGE})
    status = assert_status(reply, 422, "Invalid", 'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: '
                                                  "-1: must be greater than or equal to 0")
    assert status["details"] == {"name": "web", "group": "autoscaling", "kind": "Scale", "causes": [
        {"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be greater than or equal to 0",
         "field": "spec.replicas"}]}


@pytest.mark.parametrize("value", [2147483648, True])
def test_replicas_beyond_int32_or_of_the_wrong_type_never_reach_the_store(api: Api, kube: Kube, value: Any) -> None:
    web(kube)
    for content_type in (MERGE, STRATEGIC):
        reply = api.request("PATCH", deployment_path(kube), body({"spec": {"replicas": value}}),
                            headers={"Content-Type": content_type})
        assert reply.status == 422, (content_type, reply)
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "new"},
           "spec": {"replicas": value, "selector": {"matchLabels": {"app": "new"}},
                    "template": {"metadata": {"labels": {"app": "new"}},
                                 "spec": {"containers": [{"name": "c", "image": V1}]}}}}
    reply = api.request("POST", f"/apis/apps/v1/namespaces/{kube.namespace}/deployments", body(doc),
                        headers={"Content-Type": JSON})
    got = "bool" if value is True else f"number {value}"
    assert_status(reply, 400, "BadRequest", 'Deployment in version "v1" cannot be handled as a Deployment: json: '
                                            f"cannot unmarshal {got} into Go struct field DeploymentSpec.spec.replicas "
                                            "of type int32")
    assert kube.deployment("web")["spec"]["replicas"] == 1
    assert kube.run("get", "deployment", "new").returncode == 1


# ---- status: types and consistency ----------------------------------------------------------------------
def test_a_wrongly_typed_status_is_never_stored_whatever_the_path(api: Api, kube: Kube) -> None:
    web(kube)
    wait_for(lambda: kube.deployment("web")["status"].get("readyReplicas") == 1, message="web ready")
    path = deployment_path(kube, sub="status")
    current = kube.deployment("web")
    broken = json.loads(json.dumps(current))
    broken["status"]["replicas"] = "x"
    message = ('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go '
               "struct field DeploymentStatus.status.replicas of type int32")
    assert_status(api.request("PUT", path, body(broken), headers={"Content-Type": JSON}), 400, "BadRequest", message)
    assert_status(api.request("PUT", path, yaml.safe_dump(broken), headers={"Content-Type": "application/yaml"}),
                  400, "BadRequest", message)
    patches = [(MERGE, body({"status": {"replicas": "x"}})), (STRATEGIC, body({"status": {"replicas": "x"}})),
               (JSON_PATCH, body([{"op": "replace", "path": "/status/replicas", "value": "x"}])),
               (APPLY, body({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                             "status": {"replicas": "x"}}))]
    for content_type, patch in patches:
        reply = api.request("PATCH", path + ("?fieldManager=t" if content_type == APPLY else ""), patch,
                            headers={"Content-Type": content_type})
        # Server-side apply fails in the field manager's typed conversion (upstream: a 500, "failed to create
        # typed patch object"); the other patches fail to decode (422). Either way nothing is stored.
        assert reply.status == 422 or content_type == APPLY and reply.status >= 400, (content_type, reply)
    for result in (kube.run("get", "deployment", "web"), kube.run("rollout", "status", "deployment/web")):
        assert result.ok, result
    assert kube.deployment("web")["status"]["replicas"] == 1
    # The controllers still work on it.
    kube("scale", "deployment", "web", "--replicas=2")
    wait_for(lambda: kube.deployment("web")["status"].get("readyReplicas") == 2, message="web scaled to 2")


def test_an_inconsistent_status_is_invalid(kube: Kube) -> None:
    web(kube)
    wait_for(lambda: kube.deployment("web")["status"].get("availableReplicas") == 1, message="web available")
    result = kube.run("patch", "deployment", "web", "--subresource=status", "--type=merge",
                      "-p", '{"status":{"replicas":-2}}')
    invalid(result, "Deployment", "web",
            "status.replicas: Invalid value: -2: must be greater than or equal to 0",
            "status.updatedReplicas: Invalid value: 1: cannot be greater than status.replicas",
            "status.readyReplicas: Invalid value: 1: cannot be greater than status.replicas",
            "status.availableReplicas: Invalid value: 1: cannot be greater than status.replicas")
    assert kube.deployment("web")["status"]["replicas"] == 1


# ---- immutable selectors ----------------------------------------------------------------------------------
def test_a_deployment_selector_is_immutable(kube: Kube) -> None:
    web(kube)
    pods = {p["metadata"]["name"] for p in kube.pods("app=web")}
    patch = '{"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}}}}}'
    result = kube.run("patch", "deployment", "web", "--type=merge", "-p", patch)
    invalid(result, "Deployment", "web", 'spec.selector: Invalid value: {"matchLabels":{"app":"x"}}: field is immutable')
    assert kube.deployment("web")["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert {p["metadata"]["name"] for p in kube.pods("app=web")} >= pods


def test_a_replicaset_selector_is_immutable(kube: Kube) -> None:
    web(kube)
    rs = kube.json("get", "replicasets")["items"][0]
    name = rs["metadata"]["name"]
    patch = ('{"spec":{"selector":{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}],'
             '"matchLabels":null}}}')
    result = kube.run("patch", "replicaset", name, "--type=merge", "-p", patch)
    hash_ = rs["spec"]["selector"]["matchLabels"]["pod-template-hash"]
    invalid(result, "ReplicaSet", name, 'spec.selector: Invalid value: {"matchExpressions":[{"key":"app",'
                                        '"operator":"In","values":["web"]}]}: field is immutable')
    assert kube.json("get", "replicaset", name)["spec"]["selector"]["matchLabels"]["pod-template-hash"] == hash_


# ---- labels, annotations, owner references, durations ----------------------------------------------------
def test_invalid_label_keys_and_values_are_refused(kube: Kube) -> None:
    web(kube)
    result = kube.run("label", "deployment", "web", "bad key!=v v")
    assert (result.returncode, result.stdout) == (1, "")
    result = kube.run("patch", "deployment", "web", "--type=merge", "-p", '{"metadata":{"labels":{"bad key!":"v v"}}}')
    invalid(result, "Deployment", "web", f'metadata.labels: Invalid value: "bad key!": {NAME_PART_ERROR}',
            f'metadata.labels: Invalid value: "v v": {LABEL_VALUE_ERROR}')
    assert "bad key!" not in (kube.deployment("web")["metadata"].get("labels") or {})


def test_invalid_labels_in_a_selector_and_its_template(kube: Kube, tmp_path: Path) -> None:
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
           "spec": {"selector": {"matchLabels": {"app": "a b"}},
                    "template": {"metadata": {"labels": {"app": "a b"}},
                                 "spec": {"containers": [{"name": "c", "image": V1}]}}}}
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(yaml.safe_dump(doc))
    result = kube.run("apply", "-f", str(manifest))
    invalid(result, "Deployment", "bad",
            f'spec.selector.matchLabels: Invalid value: "a b": {LABEL_VALUE_ERROR}',
            'spec.selector: Invalid value: {"matchLabels":{"app":"a b"}}: invalid label selector')
    assert kube.run("get", "deployment", "bad").returncode == 1


def test_invalid_annotation_keys_and_too_many_annotations(kube: Kube, tmp_path: Path) -> None:
    web(kube)
    result = kube.run("annotate", "deployment", "web", "a/b/c=x")
    invalid(result, "Deployment", "web", 'metadata.annotations: Invalid value: "a/b/c": a valid label key must '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')")
    patch = tmp_path / "big.json"
    patch.write_text(json.dumps({"metadata": {"annotations": {"big": "x" * (256 * 1024)}}}))
    result = kube.run("patch", "deployment", "web", "--type=merge", f"--patch-file={patch}")
    invalid(result, "Deployment", "web", "metadata.annotations: Too long: may not be more than 262144 bytes")


def test_negative_durations_and_counts_are_refused(kube: Kube) -> None:
    web(kube)
    result = kube.run("patch", "deployment", "web", "--type=merge",
                      "-p", '{"spec":{"minReadySeconds":-5,"revisionHistoryLimit":-1,"progressDeadlineSeconds":-3}}')
    invalid(result, "Deployment", "web",
            "spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0",
            "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
            "spec.progressDeadlineSeconds: Invalid value: -3: must be greater than or equal to 0")
    result = kube.run("patch", "deployment", "web", "--type=merge", "-p", '{"spec":{"progressDeadlineSeconds":5,'
                      '"minReadySeconds":5}}')
    invalid(result, "Deployment", "web",
            "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds")
    spec = kube.deployment("web")["spec"]
    assert (spec.get("minReadySeconds", 0), spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (0, 10, 600)


def test_a_negative_pod_grace_period_becomes_one(kube: Kube) -> None:
    overrides = '{"spec":{"terminationGracePeriodSeconds":-5}}'
    kube("run", "neg", f"--image={V1}", f"--overrides={overrides}")
    assert kube.json("get", "pod", "neg")["spec"]["terminationGracePeriodSeconds"] == 1


def test_owner_references_need_their_fields(kube: Kube) -> None:
    web(kube)
    result = kube.run("patch", "deployment", "web", "--type=merge", "-p", '{"metadata":{"ownerReferences":[{}]}}')
    invalid(result, "Deployment", "web",
            "metadata.ownerReferences[0].apiVersion: Required value: must not be empty",
            "metadata.ownerReferences[0].kind: Required value: must not be empty",
            "metadata.ownerReferences[0].name: Required value: must not be empty",
            "metadata.ownerReferences[0].uid: Required value: must not be empty")
    refs = [{"apiVersion": "v1", "kind": "ConfigMap", "name": n, "uid": n, "controller": True} for n in ("a", "b")]
    result = kube.run("patch", "deployment", "web", "--type=merge",
                      "-p", json.dumps({"metadata": {"ownerReferences": refs}}))
    invalid(result, "Deployment", "web", 'metadata.ownerReferences: Invalid value: [{"apiVersion":"v1","kind":'
            '"ConfigMap","name":"a","uid":"a","controller":true},{"apiVersion":"v1","kind":"ConfigMap","name":"b",'
            '"uid":"b","controller":true}]: Only one reference can have Controller set to true. Found "true" in '
            "references for ConfigMap/a and ConfigMap/b")
    result = kube.run("patch", "deployment", "web", "--type=merge", "-p",
                      '{"metadata":{"ownerReferences":[{"apiVersion":"a/b/c","kind":"K","name":"n","uid":"u"}]}}')
    invalid(result, "Deployment", "web",
            'metadata.ownerReferences[0].apiVersion: Invalid value: "a/b/c": must be <group>/<version> or <version>')
    assert "ownerReferences" not in kube.deployment("web")["metadata"]


# ---- binding -------------------------------------------------------------------------------------------------
def binding(name: str, target: dict[str, Any]) -> bytes:
    return body({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": target})


def test_a_pod_is_bound_once(api: Api, kube: Kube) -> None:
    kube("run", "bound", f"--image={V1}")
    wait_for(lambda: kube.json("get", "pod", "bound")["spec"].get("nodeName"), message="bound scheduled")
    node = kube.json("get", "pod", "bound")["spec"]["nodeName"]
    path = f"/api/v1/namespaces/{kube.namespace}/pods/bound/binding"
    reply = api.request("POST", path, binding("bound", {"kind": "Node", "name": "elsewhere"}),
                        headers={"Content-Type": JSON})
    status = assert_status(reply, 409, "Conflict", 'Operation cannot be fulfilled on pods/binding "bound": pod bound '
                                                   f'is already assigned to node "{node}"')
    assert status["details"] == {"name": "bound", "kind": "pods/binding"}  # StatusDetails.Group is omitempty
    assert kube.json("get", "pod", "bound")["spec"]["nodeName"] == node
    assert_status(api.request("POST", path, binding("other", {"name": "x"}), headers={"Content-Type": JSON}),
                  400, "BadRequest", "name in URL does not match name in Binding object")
    # ValidatePodBinding's errors are returned as they are: a 500 without a reason, as upstream answers.
    assert_status(api.request("POST", path, binding("bound", {}), headers={"Content-Type": JSON}),
                  500, "", "target.name: Required value")
    assert_status(api.request("POST", path, binding("bound", {"kind": "Pod", "name": "x"}),
                              headers={"Content-Type": JSON}),
                  500, "", 'target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"')


def test_a_pod_for_another_scheduler_is_bound_through_the_api(api: Api, kube: Kube) -> None:
    kube("run", "manual", f"--image={V1}", '--overrides={"spec":{"schedulerName":"my-scheduler"}}')
    pod = kube.json("get", "pod", "manual")
    assert not pod["spec"].get("nodeName")
    node = "kube-tutor-control-plane"
    reply = api.request("POST", f"/api/v1/namespaces/{kube.namespace}/pods/manual/binding",
                        binding("manual", {"kind": "Node", "name": node}), headers={"Content-Type": JSON})
    assert (reply.status, reply.json()) == (201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                  "status": "Success", "code": 201})
    wait_for(lambda: kube.json("get", "pod", "manual")["status"].get("phase") == "Running", message="manual running")
    conditions = {c["type"]: c["status"] for c in kube.json("get", "pod", "manual")["status"]["conditions"]}
    assert conditions["PodScheduled"] == "True"


# ---- the size of a stored object --------------------------------------------------------------------------
def configmap(name: str, size: int) -> bytes:
    return body({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"d": "x" * size}})


def deployment_with_env(name: str, size: int) -> bytes:
    """A Deployment whose one env value is ``size`` bytes (no validation limits an env value's length)."""
    return body({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                 "spec": {"selector": {"matchLabels": {"app": name}},
                          "template": {"metadata": {"labels": {"app": name}},
                                       "spec": {"containers": [{"name": "c", "image": "busybox",
                                                                "env": [{"name": "D", "value": "x" * size}]}]}}}})


def test_a_config_map_over_1_mib_is_invalid_as_upstream_validates_it(api: Api, kube: Kube) -> None:
    """``ValidateConfigMap`` (kubernetes ``pkg/apis/core/validation/validation.go``): data and binaryData together
    at most ``MaxSecretSize`` (1 MiB), else ``field.TooLong(field.NewPath(""), ...)``: the whole object, so the
    cause has no field; ``ValidateSecret`` puts it at ``data``."""
    path = f"/api/v1/namespaces/{kube.namespace}/configmaps"
    assert api.request("POST", path, configmap("small", 1024 * 1024), headers={"Content-Type": JSON}).status == 201
    reply = api.request("POST", path, configmap("big", 1024 * 1024 + 1), headers={"Content-Type": JSON}, timeout=30)
    status = assert_status(reply, 422, "Invalid",
                           'ConfigMap "big" is invalid: : Too long: may not be more than 1048576 bytes')
    assert status["details"]["causes"] == [{"reason": "FieldValueTooLong",
                                            "message": "Too long: may not be more than 1048576 bytes"}]
    secret = body({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big"},
                   "stringData": {"d": "x" * (1024 * 1024 + 1)}})
    reply = api.request("POST", f"/api/v1/namespaces/{kube.namespace}/secrets", secret,
                        headers={"Content-Type": JSON}, timeout=30)
    status = assert_status(reply, 422, "Invalid",
                           'Secret "big" is invalid: data: Too long: may not be more than 1048576 bytes')
    assert status["details"]["causes"][0]["field"] == "data"


def test_an_object_too_large_for_the_storage_is_refused_as_etcd_refuses_it(api: Api, kube: Kube,
                                                                           tmp_path: Path) -> None:
    path = f"/apis/apps/v1/namespaces/{kube.namespace}/deployments"
    assert api.request("POST", path, deployment_with_env("small", 1024 * 1024),
                       headers={"Content-Type": JSON}).status == 201
    reply = api.request("POST", path, deployment_with_env("big", 2 * 1024 * 1024), headers={"Content-Type": JSON},
                        timeout=30)
    assert_status(reply, 500, "", "etcdserver: request is too large")
    dry_run = api.request("POST", path + "?dryRun=All", deployment_with_env("big", 2 * 1024 * 1024),
                          headers={"Content-Type": JSON}, timeout=30)
    assert dry_run.status == 201, dry_run  # a dry run never reaches the storage
    assert kube.run("get", "deployment", "big").returncode == 1
    manifest = tmp_path / "big.json"
    manifest.write_bytes(deployment_with_env("big", 2 * 1024 * 1024))
    result = kube.run("create", "-f", str(manifest))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f'Error from server: error when creating "{manifest}": etcdserver: request is too large\n'
    grown = tmp_path / "grown.json"
    grown.write_text(json.dumps({"metadata": {"annotations": {"note": "small"}},
                                 "spec": {"template": {"spec": {"containers": [
                                     {"name": "c", "env": [{"name": "D", "value": "y" * (2 * 1024 * 1024)}]}]}}}}))
    result = kube.run("patch", "deployment", "small", "--type=strategic", f"--patch-file={grown}")
    assert (result.returncode, result.stderr) == (1, "Error from server: etcdserver: request is too large\n")
    assert "note" not in kube.json("get", "deployment", "small")["metadata"]["annotations"]


# ---- node capacity -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    """A cluster of its own, whose node's pod count the tests set."""
    backend = PracticeBackend(tmp_path_factory.mktemp("small-node"), time_scale=TIME_SCALE)
    status = backend.up()
    assert status.running, status.detail
    yield Kube(backend.kubeconfig, "default", Path(os.environ["HOME"]))
    backend.down()


def make_room(kube: Kube, free: int) -> None:
    """Set the node's ``pods`` so that ``free`` more fit beside the pods it runs now."""
    pods = kube.json("get", "pods", "--all-namespaces")["items"]
    used = sum(1 for p in pods if p["spec"].get("nodeName") and p["status"].get("phase") not in ("Succeeded", "Failed"))
    count = json.dumps(str(used + free))
    kube("patch", "node", "kube-tutor-control-plane", "--subresource=status", "--type=merge",
         "-p", f'{{"status":{{"capacity":{{"pods":{count}}},"allocatable":{{"pods":{count}}}}}}}')


def test_pods_past_the_node_capacity_stay_pending_with_failed_scheduling(small_node: Kube) -> None:
    kube = small_node
    make_room(kube, 3)
    kube("create", "deployment", "many", f"--image={V1}", "--replicas=5")

    def phases() -> dict[str, str]:
        return {p["metadata"]["name"]: p["status"]["phase"] for p in kube.pods("app=many")}

    wait_for(lambda: sorted(phases().values()) == ["Pending", "Pending", "Running", "Running", "Running"],
             message="3 running, 2 pending")
    pending = [n for n, phase in phases().items() if phase == "Pending"]
    for name in pending:
        pod = kube.json("get", "pod", name)
        assert not pod["spec"].get("nodeName")
        condition = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
        assert {k: condition[k] for k in ("status", "reason", "message")} == {
            "status": "False", "reason": "Unschedulable", "message": TOO_MANY_PODS}
        events = kube.json("get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
        assert [(e["type"], e["reason"], e["message"], e["source"]["component"]) for e in events] == [
            ("Warning", "FailedScheduling", TOO_MANY_PODS, "default-scheduler")]
    described = kube("describe", "pod", pending[0])
    assert "Warning  FailedScheduling  " in described and f"default-scheduler  {TOO_MANY_PODS}" in described
    assert kube("get", "deployment", "many").split("\n")[1].split()[1] == "3/5"
    # A running pod that goes makes room: a pending one is scheduled in its place.
    running = sorted(n for n, phase in phases().items() if phase == "Running")
    kube("delete", "pod", running[0], "--wait=false")
    wait_for(lambda: any(phases().get(n) == "Running" for n in pending), message="a pending pod scheduled")
    kube("scale", "deployment", "many", "--replicas=3")
    wait_for(lambda: sorted(phases().values()) == ["Running"] * 3, message="3 running")


def test_pods_are_pending_while_the_node_is_full_and_scheduled_when_it_grows(small_node: Kube) -> None:
    kube = small_node
    make_room(kube, 0)
    kube("create", "deployment", "grow", f"--image={V1}", "--replicas=2")
    wait_for(lambda: [p["status"]["phase"] for p in kube.pods("app=grow")] == ["Pending", "Pending"],
             message="both pending on a full node")
    make_room(kube, 2)
    wait_for(lambda: [p["status"]["phase"] for p in kube.pods("app=grow")] == ["Running", "Running"],
             message="both running once the node takes 5")


# ---- units -------------------------------------------------------------------------------------------------------
def test_slow_start_batch_doubles_and_stops_at_the_first_failed_batch() -> None:
    from tutor.practice.apiserver import errors

    calls: list[int] = []

    def fail_at(n: int) -> Any:
        def fn() -> None:
            calls.append(len(calls) + 1)
            if len(calls) == n:
                raise errors.ApiError("boom")
        return fn

    assert slow_start_batch(10, 1, fail_at(0)) == (10, None) and len(calls) == 10  # batches 1, 2, 4, 3
    calls.clear()
    successes, error = slow_start_batch(10, 1, fail_at(5))  # batch 4 (calls 4-7) has the failure
    assert (successes, str(error), len(calls)) == (6, "boom", 7)
    calls.clear()
    assert slow_start_batch(10, 1, fail_at(0), stop=lambda: len(calls) >= 3) == (3, None)  # yields after batch 2


def test_fit_error_and_quantities() -> None:
    assert fit_error(1, {"Too many pods": 1}, "preemption: x") == "0/1 nodes are available: 1 Too many pods. preemption: x"
    assert fit_error(3, {"b": 1, "a": 2}) == "0/3 nodes are available: 1 b, 2 a."
    assert [quantity_value(q) for q in ("110", "1k", "1Ki", "1.5", "100m", "1e3", "x", None)] == [
        110, 1000, 1024, 2, 1, 1000, 0, 0]


def test_bad_values_are_rendered_as_a_1_37_apiserver_renders_them() -> None:
    from tutor.practice.apiserver.gotypes import struct

    selector = {"matchExpressions": [{"values": ["b"], "operator": "In", "key": "a"}], "matchLabels": {"z": "1", "a": "<"}}
    assert defaults.go_json(selector, struct("meta/v1.LabelSelector")) == (
        '{"matchLabels":{"a":"\\u003c","z":"1"},"matchExpressions":[{"key":"a","operator":"In","values":["b"]}]}')
    assert defaults.go_json({"type": "Foo"}, struct("apps/v1.DeploymentStrategy"), internal=True) == (
        '{"Type":"Foo","RollingUpdate":null}')
    assert defaults.go_json({}, struct("meta/v1.OwnerReference")) == '{"apiVersion":"","kind":"","name":"","uid":""}'

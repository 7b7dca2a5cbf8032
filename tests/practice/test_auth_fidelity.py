"""ServiceAccount tokens, RBAC and Secrets with the real kubectl against the practice cluster.

Upstream: kubernetes ``pkg/registry/core/serviceaccount/storage/token.go`` and ``pkg/serviceaccount/jwt.go``,
``claims.go`` (TokenRequest and its JWT), ``plugin/pkg/auth/authorizer/rbac/rbac.go`` and
``pkg/apis/rbac/v1/evaluation_helpers.go`` (the authorizer), ``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
policy.go`` (the default ClusterRoles), kubernetes/apiserver ``pkg/endpoints/request/requestinfo.go`` and
``pkg/endpoints/handlers/responsewriters/errors.go`` (``forbiddenMessage``), ``pkg/printers/internalversion/
printers.go`` (the Secret and binding tables).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
import yaml

from tests.practice.conftest import Kube, kubectl_of
from tutor.backends.practice import PracticeBackend


def _seat(kube: Kube, tmp_path: Path, *, role: str = "admin", duration: str = "10m") -> Kube:
    """A ServiceAccount ``learner`` bound to ``role`` in the test's namespace, and kubectl with its token."""
    kube("create", "serviceaccount", "learner")
    kube("create", "rolebinding", "learner", f"--clusterrole={role}", f"--serviceaccount={kube.namespace}:learner")
    token = kube("create", "token", "learner", "--duration", duration).strip()
    config = yaml.safe_load(kube.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": token}
    path = tmp_path / "learner-kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return Kube(path, kube.namespace, Path(os.environ["HOME"]))


def _other_namespace(kube: Kube) -> str:
    other = f"{kube.namespace}-other"
    kube("create", "namespace", other)
    return other


def test_a_token_bound_to_admin_works_in_its_namespace_and_nowhere_else(kube: Kube, tmp_path: Path) -> None:
    learner = _seat(kube, tmp_path)
    other = _other_namespace(kube)
    user = f"system:serviceaccount:{kube.namespace}:learner"
    try:
        assert learner("create", "deployment", "web", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1") \
            .strip() == "deployment.apps/web created"
        assert learner("scale", "deployment", "web", "--replicas=3").strip() == "deployment.apps/web scaled"
        assert learner.json("get", "deployment", "web")["spec"]["replicas"] == 3
        assert learner("auth", "can-i", "create", "deployments").strip() == "yes"
        assert learner("auth", "can-i", "create", "deployments/scale").strip() == "yes"
        assert learner("auth", "can-i", "get", "pods/log").strip() == "yes"
        denied = learner.run("auth", "can-i", "list", "pods", "-n", other)
        assert (denied.returncode, denied.stdout.strip()) == (1, "no")

        pods = learner.run("get", "pods", "-n", other)
        assert pods.returncode == 1
        assert pods.stderr.strip() == (f'Error from server (Forbidden): pods is forbidden: User "{user}" cannot list '
                                       f'resource "pods" in API group "" in the namespace "{other}"')
        gone = learner.run("delete", "namespace", other)
        assert gone.stderr.strip() == (f'Error from server (Forbidden): namespaces "{other}" is forbidden: User '
                                       f'"{user}" cannot delete resource "namespaces" in API group "" in the '
                                       f'namespace "{other}"')
        secrets = learner.run("get", "secrets", "-A")
        assert secrets.stderr.strip() == (f'Error from server (Forbidden): secrets is forbidden: User "{user}" '
                                          'cannot list resource "secrets" in API group "" at the cluster scope')
        nodes = learner.run("get", "nodes")
        assert nodes.stderr.strip() == (f'Error from server (Forbidden): nodes is forbidden: User "{user}" cannot '
                                        'list resource "nodes" in API group "" at the cluster scope')
        watch = learner.run("get", "pods", "-n", other, "--watch", "--request-timeout=5s")
        assert "cannot watch resource \"pods\"" in watch.stderr or "cannot list resource \"pods\"" in watch.stderr
        # discovery, /version and the reviews are every authenticated user's (system:discovery, basic-user)
        assert learner("version", "-o", "json")
        assert "deployments" in learner("api-resources", "--api-group=apps")
    finally:
        kube.run("delete", "namespace", other, "--wait=false")


def test_auth_whoami_and_can_i_list_name_the_service_account(kube: Kube, tmp_path: Path) -> None:
    learner = _seat(kube, tmp_path, role="view")
    review = json.loads(learner("auth", "whoami", "-o", "json"))
    info = review["status"]["userInfo"]
    assert review["kind"] == "SelfSubjectReview"
    assert info["username"] == f"system:serviceaccount:{kube.namespace}:learner"
    assert info["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{kube.namespace}",
                              "system:authenticated"]
    assert info["uid"] == kube.json("get", "serviceaccount", "learner")["metadata"]["uid"]
    assert info["extra"]["authentication.kubernetes.io/credential-id"][0].startswith("JTI=")
    admin = json.loads(kube("auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert admin == {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}

    listing = learner("auth", "can-i", "--list").splitlines()
    assert listing[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert any(line.startswith("pods ") and "[get list watch]" in line for line in listing)
    assert any(line.startswith("deployments.apps ") and "[get list watch]" in line for line in listing)
    assert any(line.startswith("selfsubjectreviews.authentication.k8s.io ") and "[create]" in line
               for line in listing)
    assert not any("[create" in line and line.startswith("deployments.apps ") for line in listing)
    view_denied = learner.run("create", "deployment", "web", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1")
    assert view_denied.stderr.strip() == (
        f'error: failed to create deployment: deployments.apps is forbidden: User "system:serviceaccount:'
        f'{kube.namespace}:learner" cannot create resource "deployments" in API group "apps" in the namespace '
        f'"{kube.namespace}"')
    secret = learner.run("get", "secret", "nope")
    assert 'secrets "nope" is forbidden: User' in secret.stderr  # view does not read Secrets


def test_invalid_tokens_are_401_and_a_deleted_account_s_token_stops_working(kube: Kube, tmp_path: Path) -> None:
    learner = _seat(kube, tmp_path)
    assert learner.run("get", "pods").stderr.strip() == f"No resources found in {kube.namespace} namespace."
    config = yaml.safe_load(learner.kubeconfig.read_text())
    token = config["users"][0]["user"]["token"]
    head, claims, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged["kubernetes.io"]["serviceaccount"]["name"] = "default"
    config["users"][0]["user"]["token"] = ".".join(
        (head, base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode(), signature))
    learner.kubeconfig.write_text(yaml.safe_dump(config))
    assert learner.run("get", "pods").stderr.strip() == "error: You must be logged in to the server (Unauthorized)"
    config["users"][0]["user"]["token"] = token
    learner.kubeconfig.write_text(yaml.safe_dump(config))
    assert learner.run("get", "pods").ok
    kube("delete", "serviceaccount", "learner")
    assert "You must be logged in to the server" in learner.run("get", "pods").stderr


def test_token_request_defaults_and_limits(kube: Kube) -> None:
    """``expirationSeconds`` defaults to an hour and may not be under 10 minutes (``pkg/apis/authentication``)."""
    kube("create", "serviceaccount", "learner")
    short = kube.run("create", "token", "learner", "--duration", "5m")
    assert short.stderr.strip() == (
        'error: failed to create token: TokenRequest.authentication.k8s.io "learner" is invalid: '
        "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes")
    token = kube("create", "token", "learner").strip()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == f"system:serviceaccount:{kube.namespace}:learner"
    assert claims["aud"] == ["https://kubernetes.default.svc.cluster.local"]
    assert claims["kubernetes.io"]["namespace"] == kube.namespace
    assert claims["kubernetes.io"]["serviceaccount"]["name"] == "learner"
    assert claims["nbf"] == claims["iat"] < claims["exp"]
    missing = kube.run("create", "token", "nobody")
    assert missing.stderr.strip() == 'error: failed to create token: serviceaccounts "nobody" not found'


def test_roles_bindings_and_resource_names(kube: Kube, tmp_path: Path) -> None:
    """``kubectl create role`` with ``--resource-name``, a RoleBinding to a Role, ``*/scale``; the tables."""
    kube("create", "serviceaccount", "learner")
    kube("create", "configmap", "mine", "--from-literal=a=b")
    kube("create", "configmap", "theirs", "--from-literal=a=b")
    kube("create", "role", "one-map", "--verb=get", "--resource=configmaps", "--resource-name=mine")
    kube("create", "rolebinding", "one-map", "--role=one-map", f"--serviceaccount={kube.namespace}:learner")
    token = kube("create", "token", "learner").strip()
    config = yaml.safe_load(kube.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": token}
    (tmp_path / "k").write_text(yaml.safe_dump(config))
    learner = Kube(tmp_path / "k", kube.namespace, Path(os.environ["HOME"]))
    assert learner.json("get", "configmap", "mine")["data"] == {"a": "b"}
    assert "cannot get resource \"configmaps\"" in learner.run("get", "configmap", "theirs").stderr
    assert "cannot list resource \"configmaps\"" in learner.run("get", "configmaps").stderr
    roles = kube("get", "roles").splitlines()
    assert roles[0].split() == ["NAME", "CREATED", "AT"]
    assert roles[1].split()[0] == "one-map"
    bindings = kube("get", "rolebindings", "-o", "wide").splitlines()
    assert bindings[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert bindings[1].split()[:2] == ["one-map", "Role/one-map"]
    assert bindings[1].split()[-1] == f"{kube.namespace}/learner"
    # a binding to a role that does not exist: denied, the resolution error as the reason (rbac.go)
    kube("create", "rolebinding", "dangling", "--role=nothing", f"--serviceaccount={kube.namespace}:learner")
    assert learner.run("get", "pods").stderr.strip().endswith(
        f'in the namespace "{kube.namespace}": RBAC: role.rbac.authorization.k8s.io "nothing" not found')
    clusterroles = kube("get", "clusterroles", "admin", "edit", "view", "cluster-admin").splitlines()
    assert [line.split()[0] for line in clusterroles[1:]] == ["admin", "edit", "view", "cluster-admin"]
    admin = kube.json("get", "clusterrole", "admin")
    assert admin["aggregationRule"]["clusterRoleSelectors"] == [
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]
    assert {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings", "roles"],
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]} \
        in admin["rules"]
    crb = kube("get", "clusterrolebinding", "cluster-admin", "-o", "wide").splitlines()
    assert crb[1].split()[:2] == ["cluster-admin", "ClusterRole/cluster-admin"]
    assert "system:masters" in crb[1]


def test_secrets_generic_get_describe(kube: Kube) -> None:
    assert kube("create", "secret", "generic", "db", "--from-literal=user=admin", "--from-literal=password=s3cr3t") \
        .strip() == "secret/db created"
    secret = kube.json("get", "secret", "db")
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"password": base64.b64encode(b"s3cr3t").decode(),
                              "user": base64.b64encode(b"admin").decode()}
    table = kube("get", "secrets").splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert table[1].split()[:3] == ["db", "Opaque", "2"]
    described = kube("describe", "secret", "db")
    assert "password:  6 bytes" in described and "user:      5 bytes" in described
    assert "s3cr3t" not in described
    # stringData is merged into data on write and not stored (Convert_v1_Secret_To_core_Secret)
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mixed"},
                "data": {"a": base64.b64encode(b"old").decode(), "b": base64.b64encode(b"kept").decode()},
                "stringData": {"a": "new"}}
    kube.shell(f"echo '{json.dumps(manifest)}' | kubectl create -f -")
    mixed = kube.json("get", "secret", "mixed")
    assert mixed["data"] == {"a": base64.b64encode(b"new").decode(), "b": base64.b64encode(b"kept").decode()}
    assert "stringData" not in mixed
    bad_key = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "badkey"}, "stringData": {"a b": "x"}}
    result = kube.shell(f"echo '{json.dumps(bad_key)}' | kubectl create -f -")
    assert result.stderr.strip() == (
        'The Secret "badkey" is invalid: data[a b]: Invalid value: "a b": a valid config key must consist of '
        "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
        "for validation is '[-._a-zA-Z0-9]+')")
    bad_data = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "baddata"}, "data": {"a": "no!"}}
    result = kube.shell(f"echo '{json.dumps(bad_data)}' | kubectl create -f -")
    assert 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 2' \
        in result.stderr


async def test_tokens_expire_on_the_practice_clock(tmp_path: Path) -> None:
    """A 10-minute token at time scale 600 lasts a second (plus go-jose's minute of leeway, scaled): then 401."""
    import asyncio

    from tutor.practice.cluster import PracticeCluster

    directory = tmp_path / "practice"
    cluster = PracticeCluster(directory, time_scale=600)
    await cluster.start()
    try:
        done = await kubectl_of(directory, tmp_path, "create", "token", "default", "-n", "default",
                                "--duration", "10m")
        token = done.stdout.strip()
        config = yaml.safe_load((directory / "kubeconfig").read_text())
        config["users"][0]["user"] = {"token": token}
        seat = tmp_path / "seat"
        seat.mkdir()
        (seat / "kubeconfig").write_text(yaml.safe_dump(config))
        first = await kubectl_of(seat, tmp_path, "auth", "whoami")
        assert "system:serviceaccount:default:default" in first.stdout, first.stderr
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            later = await kubectl_of(seat, tmp_path, "auth", "whoami")
            if later.returncode:
                break
            assert asyncio.get_running_loop().time() < deadline, "the token did not expire"
            await asyncio.sleep(0.2)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
        assert later.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"
    finally:
        await cluster.stop()


def test_the_practice_backend_keeps_its_admin(practice: PracticeBackend) -> None:
    config = yaml.safe_load(practice.kubeconfig.read_text())
    assert config["users"][0]["user"]["token"]


def test_request_attributes_follow_requestinfo() -> None:
    """``NewRequestInfo`` (kubernetes/apiserver ``pkg/endpoints/request/requestinfo.go``)."""
    from tutor.practice.apiserver.rbac import request_attributes

    def attrs(method: str, path: str, query: str = "") -> tuple[object, ...]:
        q = dict(item.split("=", 1) for item in query.split("&")) if query else {}
        a = request_attributes(method, path, {k: [v] for k, v in q.items()})
        return (a.verb, a.resource_request, a.api_group, a.resource, a.subresource, a.namespace, a.name)

    assert attrs("GET", "/api/v1/namespaces/a/pods") == ("list", True, "", "pods", "", "a", "")
    assert attrs("GET", "/api/v1/namespaces/a/pods", "watch=true") == ("watch", True, "", "pods", "", "a", "")
    assert attrs("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name%3Dx")[0] == "list"
    assert attrs("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name=x")[6] == "x"
    assert attrs("DELETE", "/api/v1/namespaces/a") == ("delete", True, "", "namespaces", "", "a", "a")
    assert attrs("DELETE", "/api/v1/namespaces/a/pods") == ("deletecollection", True, "", "pods", "", "a", "")
    assert attrs("PUT", "/api/v1/namespaces/a/finalize")[3:] == ("namespaces", "finalize", "a", "a")
    assert attrs("PATCH", "/apis/apps/v1/namespaces/a/deployments/web/scale") == \
        ("patch", True, "apps", "deployments", "scale", "a", "web")
    assert attrs("POST", "/api/v1/namespaces/a/pods/p/exec")[3:5] == ("pods", "exec")
    assert attrs("GET", "/api/v1/nodes") == ("list", True, "", "nodes", "", "", "")
    assert attrs("GET", "/apis/apps/v1")[:2] == ("get", False)  # discovery is a non-resource path
    assert attrs("GET", "/version")[:2] == ("get", False)
    assert attrs("POST", "/openapi/v3")[:2] == ("post", False)


def test_rule_matching_and_forbidden_wording() -> None:
    """``evaluation_helpers.go`` and ``forbiddenMessage``."""
    from tutor.practice.apiserver.auth import service_account_user
    from tutor.practice.apiserver.rbac import Attributes, forbidden, rule_allows

    scale = Attributes("update", resource_request=True, api_group="apps", resource="deployments",
                       subresource="scale", namespace="a", name="web")
    assert rule_allows(scale, {"verbs": ["*"], "apiGroups": ["apps"], "resources": ["*/scale"]})
    assert rule_allows(scale, {"verbs": ["update"], "apiGroups": ["*"], "resources": ["deployments/scale"],
                               "resourceNames": ["web"]})
    assert not rule_allows(scale, {"verbs": ["update"], "apiGroups": ["apps"], "resources": ["deployments"]})
    assert not rule_allows(scale, {"verbs": ["update"], "apiGroups": ["apps"], "resources": ["*/status"]})
    assert not rule_allows(scale, {"verbs": ["update"], "apiGroups": ["apps"], "resources": ["deployments/scale"],
                                   "resourceNames": ["other"]})
    health = Attributes("get", path="/healthz/etcd")
    assert rule_allows(health, {"verbs": ["get"], "nonResourceURLs": ["/healthz/*"]})
    assert not rule_allows(health, {"verbs": ["get"], "nonResourceURLs": ["/healthz"]})
    user = service_account_user("seat-07", "learner", "u")
    denied = forbidden(user, Attributes("get", path="/metrics"), "")
    assert denied.status()["message"] == \
        'forbidden: User "system:serviceaccount:seat-07:learner" cannot get path "/metrics"'
    listing = forbidden(user, Attributes("list", resource_request=True, resource="pods", namespace="seat-08"), "")
    assert listing.status()["message"] == ('pods is forbidden: User "system:serviceaccount:seat-07:learner" cannot '
                                           'list resource "pods" in API group "" in the namespace "seat-08"')
    exec_ = forbidden(user, Attributes("create", resource_request=True, resource="pods", subresource="exec",
                                       namespace="seat-08", name="p"), "")
    assert exec_.status()["message"].startswith('pods "p" is forbidden: User "system:serviceaccount:seat-07:'
                                                'learner" cannot create resource "pods/exec" in API group ""')


@pytest.mark.parametrize(("path", "expected"), [
    ("/api/v1/namespaces/a/pods", ("pods", "a", None, None)),
    ("/api/v1/namespaces/a/pods/p/log", ("pods", "a", "p", "log")),
    ("/api/v1/pods", ("pods", None, None, None)),
    ("/api/v1/namespaces/a", ("namespaces", None, "a", None)),
    ("/api/v1/namespaces/a/status", ("namespaces", None, "a", "status")),
    ("/apis/apps/v1/namespaces/a/deployments/web/scale", ("deployments", "a", "web", "scale")),
    ("/api/v1/nodes/n", ("nodes", None, "n", None)),
    ("/api/v1/pods/p", None),  # a name needs its namespace
    ("/api/v1/namespaces/a/nodes/n", None),  # a cluster-scoped kind in a namespace
    ("/api/v1/namespaces/a/namespaces/a", None),
    ("/api/v1/namespaces/a/pods/p/log/more", None),
    ("/api/v1/namespaces/a/pods/p/nosuch", None),
    ("/api/v1/watch/namespaces/a/pods", None),  # the deprecated watch prefix is not served
    ("/apis/apps/v1", None),
    ("/api/v1/nosuch", None),
])
def test_the_server_serves_what_the_one_parse_of_a_path_names(path: str, expected: tuple[object, ...] | None) -> None:
    """The resource handlers and the authorizer read the same parse of a path (``NewRequestInfo``, kubernetes/
    apiserver ``pkg/endpoints/request/requestinfo.go``); what the handlers have no route for is a 404."""
    from tutor.practice.apiserver.server import parse_resource_path

    info = parse_resource_path(path)
    assert (None if info is None else (info.res.plural, info.namespace, info.name, info.sub)) == expected

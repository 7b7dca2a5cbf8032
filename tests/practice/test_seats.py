"""Learner seats (``tutor.backends.seats``) prepared with the admin's kubeconfig on the practice cluster, used and
refused with the real kubectl, and torn down to exactly what was there before.

Upstream: the ``admin`` ClusterRole (``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go``), ``kubectl
cluster-info`` (``staging/src/k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo.go``: lists the services of kube-system
labelled ``kubernetes.io/cluster-service=true``), the Forbidden wording of ``responsewriters/errors.go``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.practice.conftest import Kube, wait_for
from tutor.backends.base import BackendError
from tutor.backends.practice import PracticeBackend
from tutor.backends.seats import MANAGED_BY, load_seat, prepare_seat, tear_down_seat
from tutor.backends.watch import direct_access


def admin(practice: PracticeBackend) -> Kube:
    return Kube(practice.kubeconfig, "default", Path(os.environ["HOME"]))


def cluster_objects(kube: Kube) -> dict[str, list[str]]:
    """What tear-down must leave as it found: namespaces, cluster roles and bindings, kube-system's roles."""
    def names(*args: str) -> list[str]:
        items: list[dict[str, Any]] = kube.json("get", *args, "-o", "json")["items"]
        return sorted(item["metadata"]["name"] for item in items
                      if not item["metadata"].get("deletionTimestamp"))

    return {"namespaces": names("namespaces"), "clusterroles": names("clusterroles"),
            "clusterrolebindings": names("clusterrolebindings"),
            "kube-system roles": names("roles", "-n", "kube-system"),
            "kube-system rolebindings": names("rolebindings", "-n", "kube-system")}


def seat_kube(directory: Path) -> Kube:
    seat = load_seat(directory)
    assert seat is not None
    return Kube(Path(seat.kubeconfig), seat.namespace, Path(os.environ["HOME"]))


def test_a_seat_works_in_its_namespace_and_nowhere_else_and_tear_down_leaves_what_was_there(
        practice: PracticeBackend, tmp_path: Path) -> None:
    root = admin(practice)
    before = cluster_objects(root)
    first = prepare_seat(practice.kubeconfig, "seat-01", tmp_path / "seat-01", lifetime=3600)
    prepare_seat(practice.kubeconfig, "seat-02", tmp_path / "seat-02", lifetime=3600)
    learner = seat_kube(tmp_path / "seat-01")
    user = "system:serviceaccount:seat-01:learner"

    # The seat's kubeconfig holds its token and the CA: nothing of the admin's credentials.
    config = yaml.safe_load(Path(first.kubeconfig).read_text())
    admin_config = yaml.safe_load(practice.kubeconfig.read_text())
    [seat_user] = config["users"]
    assert set(seat_user["user"]) == {"token"}
    for secret in admin_config["users"][0]["user"].values():
        assert str(secret) not in Path(first.kubeconfig).read_text()
    assert config["contexts"][0]["context"]["namespace"] == "seat-01"
    assert oct(Path(first.kubeconfig).stat().st_mode & 0o777) == "0o600"
    # so the seat's TUI watches its cluster itself, with no kubectl running (what tutor.workshop.capacity counts)
    assert direct_access({"KUBECONFIG": str(first.kubeconfig)}) is not None

    # What the lessons do, inside the seat.
    assert learner("auth", "whoami", "-o", "json") and \
        json.loads(learner("auth", "whoami", "-o", "json"))["status"]["userInfo"]["username"] == user
    assert learner("create", "deployment", "kubernetes-bootcamp",
                   "--image=gcr.io/google-samples/kubernetes-bootcamp:v1").strip() == \
        "deployment.apps/kubernetes-bootcamp created"
    learner("scale", "deployment/kubernetes-bootcamp", "--replicas=4")
    learner("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    learner("set", "image", "deployment/kubernetes-bootcamp",
            "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2")
    learner("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    assert "rolled back" in learner("rollout", "undo", "deployment/kubernetes-bootcamp")
    assert learner("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080").strip() == \
        "service/kubernetes-bootcamp exposed"
    assert learner("auth", "can-i", "create", "deployments").strip() == "yes"
    assert "control plane is running at" in learner("cluster-info")
    assert learner("get", "nodes", "-o", "name").strip() == "node/kube-tutor-control-plane"
    # Containers without requests got the LimitRange's defaults, and the quota counts them.
    pod = learner.pods()[0]
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}
    assert learner.json("get", "resourcequota", "budget")["spec"]["hard"]["pods"] == "10"

    # ... and nothing outside it.
    denied = learner.run("auth", "can-i", "list", "pods", "-n", "seat-02")
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    for args, message in [
        (("get", "pods", "-n", "seat-02"),
         f'pods is forbidden: User "{user}" cannot list resource "pods" in API group "" in the namespace "seat-02"'),
        (("delete", "namespace", "seat-02"),
         f'namespaces "seat-02" is forbidden: User "{user}" cannot delete resource "namespaces" in API group "" '
         f'in the namespace "seat-02"'),
        (("get", "secrets", "-A"),
         f'secrets is forbidden: User "{user}" cannot list resource "secrets" in API group "" at the cluster scope'),
        (("delete", "resourcequota", "budget"),
         f'resourcequotas "budget" is forbidden: User "{user}" cannot delete resource "resourcequotas" in API '
         f'group "" in the namespace "seat-01"'),
    ]:
        refused = learner.run(*args)
        assert refused.returncode == 1 and refused.stderr.strip() == f"Error from server (Forbidden): {message}"

    # Tear-down: seat-01 leaves seat-02 whole (the shared roles stay for it); then nothing of either is left.
    deleted = tear_down_seat(practice.kubeconfig, tmp_path / "seat-01")
    assert "Namespace/seat-01" in deleted and not Path(first.kubeconfig).exists()
    assert root("get", "clusterrole", "kube-tutor:seat", "-o", "name").strip()
    tear_down_seat(practice.kubeconfig, tmp_path / "seat-02")
    try:
        wait_for(lambda: cluster_objects(root) == before, timeout=60)
    finally:
        assert cluster_objects(root) == before


def test_a_namespace_that_is_not_a_seat_is_never_taken(practice: PracticeBackend, tmp_path: Path) -> None:
    root = admin(practice)
    root("create", "namespace", "someones-work")
    try:
        with pytest.raises(BackendError, match="exists and is not a kube-tutor seat"):
            prepare_seat(practice.kubeconfig, "someones-work", tmp_path / "s", lifetime=3600)
        with pytest.raises(BackendError, match="cannot be a seat"):
            prepare_seat(practice.kubeconfig, "kube-system", tmp_path / "s", lifetime=3600)
        with pytest.raises(BackendError, match="at least 600 s"):
            prepare_seat(practice.kubeconfig, "seat-09", tmp_path / "s", lifetime=60)
        assert "managed-by" not in json.dumps(root.json("get", "namespace", "someones-work")["metadata"])
    finally:
        root.run("delete", "namespace", "someones-work", "--wait=false")
    assert MANAGED_BY == {"app.kubernetes.io/managed-by": "kube-tutor"}


def test_the_whole_course_verifies_with_a_seats_rights(practice: PracticeBackend, tmp_path: Path) -> None:
    """Every lesson passes `verify` played through a seat's kubeconfig (the existing backend with the seat's own
    credentials): the lessons need no more than a seat's rights, and their `{namespace}` is the seat's."""
    from tests.lesson.clusters import cli

    seat = prepare_seat(practice.kubeconfig, "seat-course", tmp_path / "seat", lifetime=24 * 3600)
    try:
        done = cli(tmp_path / "state", "--backend", "existing", "--kubeconfig", seat.kubeconfig,
                   "--namespace", "seat-course", "--own-credentials", "verify", "--all", "--lang", "en",
                   env={"KUBE_TUTOR_TIME_SCALE": "1"})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "namespace seat-course" in done.stdout
        assert "✗" not in done.stdout
    finally:
        cli(tmp_path / "state", "--backend", "existing", "cluster", "down")
        tear_down_seat(practice.kubeconfig, tmp_path / "seat")


def test_a_seat_that_rewrote_its_record_makes_tear_down_delete_nothing_of_anyone_else(
        practice: PracticeBackend, tmp_path: Path) -> None:
    """A workshop seat's sandbox can write its own directory, where its record (``seat.json``) lives; tear-down runs
    with the admin's kubeconfig. So tear-down trusts the labels on the cluster, not the record: it deletes what
    carries this seat's label (which the seat's account cannot put on anything outside its namespace), and of the
    files only the seat's own kubeconfig and record. The admin's kubectl keeps no discovery cache there either."""
    root = admin(practice)
    prepare_seat(practice.kubeconfig, "seat-31", tmp_path / "seat-31", lifetime=3600)
    prepare_seat(practice.kubeconfig, "seat-32", tmp_path / "seat-32", lifetime=3600)
    assert sorted(p.name for p in (tmp_path / "seat-31").iterdir()) == ["kubeconfig", "seat.json"]
    precious = tmp_path / "instructor-file"
    precious.write_text("keep me")
    record_file = tmp_path / "seat-31" / "seat.json"
    record = json.loads(record_file.read_text())
    record["kubeconfig"] = str(precious)
    record["created"] += [["Namespace", "", "kube-system"], ["Namespace", "", "seat-32"],
                          ["ClusterRoleBinding", "", "cluster-admin"], ["ClusterRoleBinding", "", "kube-tutor:seat:seat-32"],
                          ["RoleBinding", "kube-system", "kube-tutor:cluster-info:seat-32"]]
    record_file.write_text(json.dumps(record))
    try:
        deleted = tear_down_seat(practice.kubeconfig, tmp_path / "seat-31")
        assert "Namespace/seat-31" in deleted and "ClusterRoleBinding/kube-tutor:seat:seat-31" in deleted
        assert not {"Namespace/kube-system", "Namespace/seat-32", "ClusterRoleBinding/cluster-admin",
                    "ClusterRoleBinding/kube-tutor:seat:seat-32"} & set(deleted), deleted
        assert precious.read_text() == "keep me"
        assert not (tmp_path / "seat-31" / "kubeconfig").exists() and not record_file.exists()
        for kind, namespace, name in (("namespace", "", "kube-system"), ("namespace", "", "seat-32"),
                                      ("clusterrolebinding", "", "cluster-admin"),
                                      ("clusterrolebinding", "", "kube-tutor:seat:seat-32"),
                                      ("rolebinding", "kube-system", "kube-tutor:cluster-info:seat-32")):
            found = root.json("get", kind, name, *(["-n", namespace] if namespace else []))
            assert not found["metadata"].get("deletionTimestamp"), (kind, name)
        assert seat_kube(tmp_path / "seat-32")("get", "pods") is not None
    finally:
        tear_down_seat(practice.kubeconfig, tmp_path / "seat-32")


def test_the_room_left_for_seats_is_the_nodes_allocatable_less_the_control_planes_requests(
        practice: PracticeBackend, tmp_path: Path) -> None:
    """``workshop serve`` sizes the seats' default requests to what the nodes have left: the kind control plane asks
    for about 1 of the node's cores (etcd, the API server, the controller manager, the scheduler, CoreDNS, kindnet:
    their static pod manifests' ``requests``). A seat's own pods do not count (they are what is being sized)."""
    from fractions import Fraction

    from tutor.backends.seats import nodes_room
    from tutor.kube.qos import pod_requests
    from tutor.kube.quantity import parse_quantity

    root = admin(practice)
    node = root.json("get", "nodes")["items"][0]
    system = [pod_requests(pod) for pod in root.json("get", "pods", "-A")["items"]
              if not pod["metadata"]["namespace"].startswith("seat-")]
    asked = sum((r.get("cpu", Fraction(0)) for r in system), Fraction(0))
    assert asked >= Fraction(1, 2)  # the control plane's requests are there to be counted
    cpu, memory = nodes_room(practice.kubeconfig)
    assert cpu == parse_quantity(node["status"]["allocatable"]["cpu"]) - asked
    assert 0 < memory < (parse_quantity(node["status"]["allocatable"]["memory"]) or 0)
    prepare_seat(practice.kubeconfig, "seat-41", tmp_path / "seat-41", lifetime=3600)
    try:
        seat_kube(tmp_path / "seat-41")("run", "asks", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1")
        wait_for(lambda: bool(root.json("get", "pod", "asks", "-n", "seat-41")["spec"].get("nodeName")),
                 message="the seat's pod bound")
        assert nodes_room(practice.kubeconfig) == (cpu, memory)
    finally:
        tear_down_seat(practice.kubeconfig, tmp_path / "seat-41")

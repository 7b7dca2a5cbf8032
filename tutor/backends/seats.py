"""Provides learner seats on any cluster: a namespace, a ServiceAccount with the ``admin`` role in it and nothing
more, a resource budget, and a kubeconfig that carries only a token of that account.

What a seat is (the guarantees Educates gives each workshop session):

- the namespace ``<seat>``, labelled ``app.kubernetes.io/managed-by=kube-tutor`` and ``kube-tutor.io/seat=<seat>``;
- the ServiceAccount ``learner`` in it, bound by the RoleBinding ``learner`` to the ClusterRole ``admin`` (every
  cluster has it: full rights inside one namespace, none on the namespace itself, its quota or its bindings'
  escalation);
- the cluster-wide reads the lessons use and nothing else: ``get/list/watch nodes`` (``kubectl get nodes``)
  through the ClusterRole ``kube-tutor:seat`` and one ClusterRoleBinding per seat, and ``list services`` in
  ``kube-system`` (what ``kubectl cluster-info`` lists) through the Role ``kube-tutor:cluster-info`` there and one
  RoleBinding per seat;
- a ResourceQuota ``budget`` and a LimitRange ``defaults`` (containers without requests or limits get small ones),
  so one learner's ``scale --replicas=1000`` stalls at the budget instead of starving the others;
- a kubeconfig (0600) with the cluster's server and CA and a TokenRequest token of ``learner`` that expires after
  the lifetime the instructor chooses: never the admin's credentials.

Everything runs through the real kubectl with the admin's kubeconfig (any kubeconfig kubectl reads: client
certificates, tokens, exec plugins), so the same code prepares a seat on the practice cluster, kind or a real
cluster. :func:`tear_down_seat` deletes exactly what :func:`prepare_seat` made, from the record it wrote: shared
objects (the ClusterRole and the kube-system Role) only when kube-tutor made them and no other seat still uses them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from tutor import paths, shell
from tutor.backends.base import BackendError
from tutor.kube import qos, quantity
from tutor.kube.files import atomic_write, private_dir
from tutor.kube.podutil import is_pod_phase_terminal

MANAGED_BY = {"app.kubernetes.io/managed-by": "kube-tutor"}
SEAT_LABEL = "kube-tutor.io/seat"
ACCOUNT = "learner"
CLUSTER_ROLE = "kube-tutor:seat"
CLUSTER_INFO_ROLE = "kube-tutor:cluster-info"
CLUSTER_INFO_NAMESPACE = "kube-system"
DEFAULT_LIFETIME = 8 * 3600
"""Seconds a seat's token lasts by default: a workshop day."""
MIN_LIFETIME = 600
"""TokenRequest's shortest lifetime (``pkg/apis/authentication/validation``: at least 10 minutes)."""
log = logging.getLogger(__name__)
KUBECONFIG_FILE = "kubeconfig"
"""A seat's kubeconfig, in its directory beside its record."""
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
KUBECTL_TIMEOUT = 60.0


@dataclass(frozen=True)
class Budget:
    """A seat's ResourceQuota and its LimitRange's container defaults: sized for the Basics course (module 6 runs
    4 replicas, a rolling update surges one more, the broken v10 rollout adds up to 2; one NodePort Service)."""

    hard: Mapping[str, str] = field(default_factory=lambda: {
        "pods": "10", "count/deployments.apps": "4", "services": "4", "services.nodeports": "2",
        "requests.cpu": "2", "requests.memory": "2Gi", "limits.cpu": "4", "limits.memory": "4Gi"})
    default_request: Mapping[str, str] = field(default_factory=lambda: {"cpu": "50m", "memory": "64Mi"})
    default_limit: Mapping[str, str] = field(default_factory=lambda: {"cpu": "250m", "memory": "256Mi"})


def seat_pods(base: Budget | None = None) -> int:
    """The most pods a seat can hold on the nodes at once: its quota of pods. The quota counts a terminating pod
    until its grace period ends (``QuotaV1Pod``), as the scheduler counts it until it is gone; in module 6 the four
    v1 pods of a rollout take their 30 s to stop while the v2 ones start, so a seat's busiest moment is its quota,
    not the 7 pods that run."""
    return quantity.value((base or Budget()).hard["pods"])


def class_pods(seats: int, *, node_default: int = 110, base: Budget | None = None) -> int:
    """The room for pods a practice node needs for ``seats`` seats: the kubelet's default (``node_default``, what
    the cluster's own pods and a lone learner get) plus every seat's quota of pods, so a seat that fills its
    quota is never left Pending by seats before it (a 30-seat class at its busiest runs 150-300 pods)."""
    return node_default + max(0, seats) * seat_pods(base)


def class_budget(seats: int, free_cpu: Fraction, free_memory: Fraction, base: Budget | None = None) -> Budget:
    """``base`` with container default requests small enough that ``seats`` seats at their busiest (:func:`seat_pods`
    each) fit in 90 % of what the nodes have left (:func:`nodes_room`): the scheduler counts requests, so 30 seats
    of 50m pods on a 2-core practice node, whose control plane already asks for about 1 core, would leave pods
    Pending with ``Insufficient cpu`` until older ones have stopped. Never above ``base``'s defaults, never below
    1m and 4Mi."""
    base = base or Budget()
    pods = max(1, seats) * seat_pods(base)
    cpu = min(quantity.milli_value(base.default_request["cpu"]), int(free_cpu * 900 / pods))
    memory = min(quantity.value(base.default_request["memory"]), int(free_memory * 9 / 10 / pods))
    request = {"cpu": f"{max(1, cpu)}m", "memory": f"{max(4, memory // 2**20)}Mi"}
    return Budget(hard=base.hard, default_request=request, default_limit=base.default_limit)


def nodes_room(admin_kubeconfig: Path, *, context: str | None = None, kubectl: Path | None = None
               ) -> tuple[Fraction, Fraction]:
    """The CPU (cores) and memory (bytes) the cluster's nodes have left for seats: their ``status.allocatable``
    summed, less the requests (``PodRequests``, :func:`tutor.kube.qos.pod_requests`) of the pods bound to them that
    are not in a seat's namespace and not finished (the control plane, DNS, other people's work).

    Raises:
        BackendError: kubectl's one line (forbidden, unreachable).
    """
    with _admin(admin_kubeconfig, kubectl=kubectl, context=context) as admin:
        nodes = json.loads(admin.must("get", "nodes", "-o", "json")).get("items") or []
        pods = json.loads(admin.must("get", "pods", "-A", "-o", "json")).get("items") or []
        seats = {item.get("metadata", {}).get("name") for item in
                 json.loads(admin.must("get", "namespaces", "-l", SEAT_LABEL, "-o", "json")).get("items") or []}

    def total(items: Sequence[Mapping[str, Any]], name: str) -> Fraction:
        return sum((quantity.parse_quantity((n.get("status") or {}).get("allocatable", {}).get(name)) or Fraction(0)
                    for n in items), Fraction(0))

    others = [qos.pod_requests(pod) for pod in pods
              if (pod.get("spec") or {}).get("nodeName") and not is_pod_phase_terminal((pod.get("status") or {}).get("phase"))
              and (pod.get("metadata") or {}).get("namespace") not in seats]
    used_cpu = sum((requests.get("cpu", Fraction(0)) for requests in others), Fraction(0))
    used_memory = sum((requests.get("memory", Fraction(0)) for requests in others), Fraction(0))
    return max(Fraction(0), total(nodes, "cpu") - used_cpu), max(Fraction(0), total(nodes, "memory") - used_memory)


@dataclass
class Seat:
    """A prepared seat, as its record file (``seat.json`` beside its kubeconfig) keeps it."""

    name: str
    """The seat's name, which is also its namespace."""
    kubeconfig: str
    """The seat's kubeconfig (0600): the token of ``learner`` and the cluster's CA, nothing of the admin's."""
    expires: str
    """When the token ends (the TokenRequest's ``status.expirationTimestamp``)."""
    created: list[list[str]] = field(default_factory=list)
    """What prepare made, as ``[kind, namespace, name]`` (namespace ``""`` for cluster-scoped objects): what tear
    down may delete."""

    @property
    def namespace(self) -> str:
        return self.name


def record_path(directory: Path) -> Path:
    return directory / "seat.json"


class _Admin:
    """kubectl with the admin's kubeconfig (only read), an isolated cache and no kuberc."""

    def __init__(self, kubeconfig: Path, *, kubectl: Path | None, cache: Path, context: str | None) -> None:
        self.kubectl = kubectl
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(cache), "KUBERC": "off"}
        self.context = context

    def run(self, *args: str, input_text: str | None = None) -> shell.Result:
        try:
            program = self.kubectl or paths.kubectl()
        except FileNotFoundError as error:
            raise BackendError(str(error)) from None
        context = ["--context", self.context] if self.context else []
        try:
            return shell.run([program, *context, *args], env=self.env, timeout=KUBECTL_TIMEOUT,
                             input_text=input_text)
        except shell.ShellError as error:
            raise BackendError(f"kubectl: {error}") from None

    def must(self, *args: str, input_text: str | None = None) -> str:
        done = self.run(*args, input_text=input_text)
        if done.returncode != 0:
            raise BackendError(f"kubectl {' '.join(args[:3])}: {_last_line(done.stderr) or f'exit {done.returncode}'}")
        return done.stdout

    def exists(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        where = ["-n", namespace] if namespace else []
        done = self.run("get", kind, name, *where, "-o", "json", "--ignore-not-found")
        if done.returncode != 0:
            raise BackendError(f"kubectl get {kind} {name}: {_last_line(done.stderr) or f'exit {done.returncode}'}")
        text = done.stdout.strip()
        return json.loads(text) if text else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _metadata(name: str, namespace: str, seat: str | None) -> dict[str, Any]:
    labels = dict(MANAGED_BY)
    if seat is not None:
        labels[SEAT_LABEL] = seat
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return meta


def seat_objects(seat: str, budget: Budget) -> list[dict[str, Any]]:
    """Every object of a seat, in creation order (shared ones included), as ``kubectl create -f`` takes them."""
    rbac = "rbac.authorization.k8s.io/v1"
    subject = [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": seat}]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _metadata(seat, "", seat)},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(ACCOUNT, seat, seat)},
        {"apiVersion": rbac, "kind": "RoleBinding", "metadata": _metadata(ACCOUNT, seat, seat),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
         "subjects": subject},
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _metadata("budget", seat, seat),
         "spec": {"hard": dict(budget.hard)}},
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": _metadata("defaults", seat, seat),
         "spec": {"limits": [{"type": "Container", "defaultRequest": dict(budget.default_request),
                              "default": dict(budget.default_limit)}]}},
        {"apiVersion": rbac, "kind": "ClusterRole", "metadata": _metadata(CLUSTER_ROLE, "", None),
         "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": _metadata(f"{CLUSTER_ROLE}:{seat}", "", seat),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER_ROLE},
         "subjects": subject},
        {"apiVersion": rbac, "kind": "Role", "metadata": _metadata(CLUSTER_INFO_ROLE, CLUSTER_INFO_NAMESPACE, None),
         "rules": [{"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}]},
        {"apiVersion": rbac, "kind": "RoleBinding",
         "metadata": _metadata(f"{CLUSTER_INFO_ROLE}:{seat}", CLUSTER_INFO_NAMESPACE, seat),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": CLUSTER_INFO_ROLE},
         "subjects": subject},
    ]


def _key(obj: Mapping[str, Any]) -> list[str]:
    meta = obj["metadata"]
    return [str(obj["kind"]), str(meta.get("namespace", "")), str(meta["name"])]


def _kubeconfig_for(admin: _Admin, seat: str, token: str) -> dict[str, Any]:
    """The seat's kubeconfig: the admin context's cluster (server, CA as data) with only the seat's token.

    ``--flatten`` has kubectl put a CA file's bytes in ``certificate-authority-data``, reading a relative path from
    the kubeconfig's own directory as kubectl does (client-go ``tools/clientcmd/api/helpers.go`` ``FlattenConfig``:
    ``LocationOfOrigin``); the file branch below is for kubectls that leave it.
    """
    view = json.loads(admin.must("config", "view", "--raw", "--minify", "--flatten", "-o", "json"))
    try:
        cluster = dict(view["clusters"][0]["cluster"])
    except (KeyError, IndexError, TypeError):
        raise BackendError("the admin kubeconfig names no cluster for its context") from None
    ours: dict[str, Any] = {"server": cluster.get("server", "")}
    if "certificate-authority-data" in cluster:
        ours["certificate-authority-data"] = cluster["certificate-authority-data"]
    elif "certificate-authority" in cluster:
        try:
            ours["certificate-authority-data"] = base64.b64encode(
                Path(cluster["certificate-authority"]).read_bytes()).decode()
        except OSError as error:
            raise BackendError(f"cannot read the cluster's CA {cluster['certificate-authority']}: "
                               f"{error.strerror or error}") from None
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url"):
        if key in cluster:
            ours[key] = cluster[key]
    return {"apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": seat, "cluster": ours}],
            "users": [{"name": f"{seat}-{ACCOUNT}", "user": {"token": token}}],
            "contexts": [{"name": seat, "context": {"cluster": seat, "user": f"{seat}-{ACCOUNT}",
                                                    "namespace": seat}}],
            "current-context": seat, "preferences": {}}


def prepare_seat(admin_kubeconfig: Path, seat: str, directory: Path, *, lifetime: int = DEFAULT_LIFETIME,
                 budget: Budget | None = None, context: str | None = None,
                 kubectl: Path | None = None) -> Seat:
    """Make (or refresh) the seat ``seat`` with the admin's kubeconfig; write its kubeconfig and record into
    ``directory`` (0700).

    Preparing a seat that exists (made by kube-tutor) again creates what is missing and issues a new token.

    Args:
        admin_kubeconfig: a kubeconfig allowed to create namespaces, RBAC objects and quotas (only read).
        seat: the seat's name and namespace (a DNS label).
        directory: where the seat's kubeconfig and record go.
        lifetime: seconds the token lasts (at least :data:`MIN_LIFETIME`).
        budget: the seat's quota and container defaults.
        context: the admin kubeconfig's context (default: its current one).
        kubectl: the kubectl to run (default: the bundled one).

    Returns:
        The seat, as its record holds it.

    Raises:
        BackendError: one line: a bad name or lifetime, a namespace that is not a kube-tutor seat, or kubectl's
            own error (forbidden, unreachable).
    """
    if not _DNS_LABEL.fullmatch(seat) or seat in ("default", "kube-system", "kube-public", "kube-node-lease"):
        raise BackendError(f"{seat!r} cannot be a seat: use lower-case letters, digits and '-' (at most 63), "
                           f"not a namespace of Kubernetes itself, e.g. seat-01")
    if lifetime < MIN_LIFETIME:
        raise BackendError(f"a seat's token must last at least {MIN_LIFETIME} s (10 min); got {lifetime}")
    budget = budget or Budget()
    private_dir(directory)
    with _admin(admin_kubeconfig, kubectl=kubectl, context=context) as admin:
        return _prepare(admin, seat, directory, lifetime=lifetime, budget=budget)


@contextlib.contextmanager
def _admin(admin_kubeconfig: Path, *, kubectl: Path | None, context: str | None) -> Iterator[_Admin]:
    """The admin's kubectl with a discovery cache of its own for the time of one call. Never the seat's directory:
    a workshop seat can write there, and a discovery cache it wrote would steer the admin's next ``kubectl``."""
    with tempfile.TemporaryDirectory(prefix="kube-tutor-admin-") as cache:
        yield _Admin(admin_kubeconfig, kubectl=kubectl, cache=Path(cache), context=context)


def _prepare(admin: _Admin, seat: str, directory: Path, *, lifetime: int, budget: Budget) -> Seat:
    namespace = admin.exists("namespace", "", seat)
    if namespace is not None and (namespace.get("metadata", {}).get("labels") or {}).get(SEAT_LABEL) != seat:
        raise BackendError(f"namespace {seat!r} exists and is not a kube-tutor seat: pick another seat name")
    previous = load_seat(directory)
    created: list[list[str]] = list(previous.created) if previous is not None and previous.name == seat else []
    # One `kubectl create` of every object, in order (the namespace first): it creates what is missing, says
    # AlreadyExists for the rest and goes on, and names what it created (`-o name`): what tear-down may delete.
    objects = seat_objects(seat, budget)
    by_name = {f"{obj['kind'].lower()}/{obj['metadata']['name']}": _key(obj) for obj in objects}
    # A stream of documents, not a `kind: List`: kubectl validates a List against /openapi/v2 on the client, each
    # object on its own with the server's field validation.
    done = admin.run("create", "-f", "-", "-o", "name", input_text="".join(f"---\n{json.dumps(obj)}\n" for obj in objects))
    for line in done.stdout.splitlines():
        kind_group, _, name = line.strip().partition("/")
        key = by_name.get(f"{kind_group.split('.')[0]}/{name}")
        if key is not None and key not in created:
            created.append(key)
    _save(directory, Seat(seat, str(directory / KUBECONFIG_FILE), "", created))  # tear-down knows them at once
    failures = [line for line in done.stderr.splitlines() if line.strip() and "AlreadyExists" not in line]
    if done.returncode != 0 and failures:
        raise BackendError(f"kubectl create: {failures[0].strip()}")
    answer = json.loads(admin.must("create", "token", ACCOUNT, "-n", seat, f"--duration={lifetime}s", "-o", "json"))
    token = answer.get("status", {}).get("token", "")
    if not token:
        raise BackendError(f"the cluster issued no token for {seat}/{ACCOUNT}")
    config = _kubeconfig_for(admin, seat, token)
    kubeconfig = directory / KUBECONFIG_FILE
    atomic_write(kubeconfig, yaml.safe_dump(config, sort_keys=False).encode())
    result = Seat(seat, str(kubeconfig), str(answer.get("status", {}).get("expirationTimestamp", "")), created)
    _save(directory, result)
    return result


def _save(directory: Path, seat: Seat) -> None:
    atomic_write(record_path(directory), json.dumps(asdict(seat), indent=2).encode())


def load_seat(directory: Path) -> Seat | None:
    """The seat recorded in ``directory``, or None (no record, or one that cannot be read)."""
    try:
        data = json.loads(record_path(directory).read_text(encoding="utf-8"))
        return Seat(str(data["name"]), str(data["kubeconfig"]), str(data.get("expires", "")),
                    [list(map(str, key)) for key in data.get("created", [])])
    except (OSError, ValueError, KeyError, TypeError):
        return None


_SHARED = {("ClusterRole", CLUSTER_ROLE): ("clusterrolebindings", ""),
           ("Role", CLUSTER_INFO_ROLE): ("rolebindings", CLUSTER_INFO_NAMESPACE)}
"""Objects several seats share: deleted only when no binding of another seat still names them."""


def tear_down_seat(admin_kubeconfig: Path, directory: Path, *, context: str | None = None,
                   kubectl: Path | None = None) -> list[str]:
    """Delete what :func:`prepare_seat` made for the seat recorded in ``directory``, and its kubeconfig.

    The seat's bindings outside its namespace go first, then the namespace (its deletion takes the objects inside
    with it); a shared role goes only when kube-tutor made it (its ``managed-by`` label) and no other seat's
    binding still refers to it, whichever seat made it. Objects already gone are fine.

    Returns:
        What was deleted, as ``kind/namespace/name`` lines.

    Raises:
        BackendError: no seat is recorded there, or kubectl failed to delete something (one line).
    """
    seat = load_seat(directory)
    if seat is None:
        raise BackendError(f"no seat is recorded in {directory}")
    with _admin(admin_kubeconfig, kubectl=kubectl, context=context) as admin:
        deleted = _tear_down(admin, seat)
    # the seat's own files only, whatever its record names: a workshop seat can write its record
    for path in (directory / KUBECONFIG_FILE, record_path(directory)):
        path.unlink(missing_ok=True)
    return deleted


def _tear_down(admin: _Admin, seat: Seat) -> list[str]:
    deleted: list[str] = []
    # What lives in the seat's namespace goes with it; its cluster-wide and kube-system bindings first, the shared
    # roles last (once no binding of this seat names them).
    # The shared roles may have been made by another seat's prepare: whoever leaves last deletes them, if
    # kube-tutor made them (its label says so).
    others = [key for key in seat.created if key[1] != seat.name and key[0] != "Namespace"]
    shared = [[kind, namespace, name] for (kind, name), (_, namespace) in _SHARED.items()]
    order = ([key for key in others if (key[0], key[2]) not in _SHARED]
             + [key for key in seat.created if key[0] == "Namespace"] + shared)
    for kind, where, name in order:
        found = admin.exists(kind, where, name)
        labels = (found or {}).get("metadata", {}).get("labels") or {}
        if found is None or any(labels.get(k) != v for k, v in MANAGED_BY.items()):
            continue  # gone already, or not kube-tutor's
        if (kind, name) in _SHARED:
            if _still_used(admin, kind, name, seat.name):
                continue
        elif labels.get(SEAT_LABEL) != seat.name:
            # The record names an object of no seat, or of another one: a workshop seat can write its record, so
            # only what carries this seat's label (which its account cannot put on anything outside its
            # namespace) is deleted.
            log.warning("seat %s: not deleting %s %s%s: it is not this seat's", seat.name, kind,
                        f"{where}/" if where else "", name)
            continue
        args = ["delete", kind, name, "--ignore-not-found", "--wait=false"]
        done = admin.run(*args, *(["-n", where] if where else []))
        if done.returncode != 0:
            raise BackendError(f"cannot delete {kind} {name}: {_last_line(done.stderr) or f'exit {done.returncode}'}")
        deleted.append(f"{kind}/{where}/{name}" if where else f"{kind}/{name}")
    return deleted


def _still_used(admin: _Admin, kind: str, name: str, leaving: str) -> bool:
    """Whether a binding of a seat other than ``leaving`` refers to the shared ``kind``/``name``."""
    plural, namespace = _SHARED[(kind, name)]
    where = ["-n", namespace] if namespace else []
    listed = json.loads(admin.must("get", plural, *where, "-l", SEAT_LABEL, "-o", "json"))
    return any(item.get("roleRef", {}).get("name") == name
               and (item.get("metadata", {}).get("labels") or {}).get(SEAT_LABEL) != leaving
               for item in listed.get("items", []))


def seat_names(count: int, prefix: str = "seat-") -> Sequence[str]:
    """``seat-01`` ... ``seat-NN``: names that sort in order (two digits at least)."""
    width = max(2, len(str(count)))
    return [f"{prefix}{index:0{width}d}" for index in range(1, count + 1)]

"""Provides the kind backend: a one-node kind cluster named ``kube-tutor`` with the lesson's images preloaded.

Every kind command gets ``--kubeconfig <state>/kind/kubeconfig`` and every kubectl run gets :meth:`KindBackend.env`,
so the learner's ``~/.kube/config`` is never read or written. ``kind-config.yaml`` makes the API server pick
NodePorts only from :attr:`KindBackend.NODE_PORT` .. +:attr:`KindBackend.NODE_PORTS` and publishes each of them on
127.0.0.1, so ``curl localhost:$NODE_PORT`` works on Linux and on Docker Desktop alike, also for a Service that a
step creates with ``kubectl expose`` (which cannot name the node port). The lesson setup's NodePort Service is
patched to :attr:`KindBackend.NODE_PORT`, so that its port is always the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

import tutor
from tutor import paths, shell
from tutor.backends.base import BackendError, ClockState, ClusterStatus, OwnKubeconfig, Stopped, probe_docker
from tutor.kube.files import atomic_write
from tutor.text import Phrase

PRACTICE_WAY_OUT = "use the practice cluster: kube-tutor --backend practice"
DOWN_WAY_OUT = "`kube-tutor cluster down --backend kind` (or `kind delete cluster --name kube-tutor`)"
ENV_NODE_PORT = "KUBE_TUTOR_KIND_NODE_PORT"



def lesson_images() -> tuple[str, ...]:
    """The images the installed lessons pull (``images.pull``), each once, in lesson order.

    Loaded into the node before a lesson starts, so nothing is pulled from a registry during it; never a
    lesson's ``images.absent`` (the missing v10 tag is the point of the rolling-update lesson).
    """
    from tutor.lesson import installed_lessons

    lessons, _ = installed_lessons()
    return tuple(dict.fromkeys(image for lesson in lessons for image in lesson.images))

_OFFLINE_MARKERS = ("no such host", "dial tcp", "network is unreachable", "i/o timeout", "connection refused",
                    "tls handshake timeout", "temporary failure in name resolution", "no route to host",
                    "could not resolve host")
_TIMED_OUT_MARKERS = ("timed out waiting for", "waiting for the nodes to be ready")


def kind_config() -> Path:
    """kube-tutor's kind config: the packaged copy when installed, else the checkout's top-level file."""
    packaged = Path(tutor.__file__).parent / "kind-config.yaml"
    if packaged.exists():
        return packaged
    return Path(tutor.__file__).parent.parent / "kind-config.yaml"


def _last_line(*texts: str) -> str:
    """The last non-blank line of the outputs (stderr first in importance), or ``no output``."""
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def _error_line(*texts: str) -> str:
    """kind's ``ERROR: ...`` line if there is one, else the last non-blank line."""
    for text in texts:
        for line in text.splitlines():
            if line.strip().startswith("ERROR:"):
                return line.strip()
    return _last_line(*texts)


class KindBackend(OwnKubeconfig):
    """A kind cluster named ``kube-tutor``, created from ``kind-config.yaml`` with kube-tutor's own kubeconfig.

    Args:
        state: kube-tutor's state directory; the kubeconfig lives in ``<state>/kind``.
        config: the kind config file (default: :func:`kind_config`).
        node_port: the NodePort the config publishes on 127.0.0.1 (default: ``$KUBE_TUTOR_KIND_NODE_PORT``,
            else :attr:`NODE_PORT`); it must equal the config's ``containerPort``.
        images: the images to load into the node (default: :func:`lesson_images`).
    """

    name = "kind"
    namespace = "default"
    CLUSTER = "kube-tutor"
    NODE_PORT = 30080
    NODE_PORTS = 10
    """How many NodePorts, from :attr:`NODE_PORT` on, ``kind-config.yaml`` lets the API server allocate
    (``--service-node-port-range``) and publishes on 127.0.0.1."""
    WAIT = 120
    """Seconds given to ``kind create cluster --wait``."""
    CREATE_TIMEOUT = 900.0
    """Seconds before ``kind create cluster`` is stopped (the first run also pulls the ~400 MB node image)."""
    PULL_TIMEOUT = 600.0
    LOAD_TIMEOUT = 300.0
    QUICK_TIMEOUT = 30.0

    def __init__(self, state: Path, *, config: Path | None = None, node_port: int | None = None,
                 images: Sequence[str] | None = None) -> None:
        self.state = state
        self.images = tuple(images) if images is not None else lesson_images()
        self.directory = state / "kind"
        self.config = config if config is not None else kind_config()
        env_port = os.environ.get(ENV_NODE_PORT, "").strip()
        self.node_port = node_port if node_port is not None else int(env_port) if env_port else self.NODE_PORT
        self.create_timeout = self.CREATE_TIMEOUT

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def _images_marker(self) -> Path:
        return self.directory / "images-loaded.json"

    @property
    def _config_marker(self) -> Path:
        """The SHA-256 of the kind config the running cluster was created from."""
        return self.directory / "config.sha256"

    @property
    def node_ports(self) -> range:
        """The NodePorts published on 127.0.0.1 (the API server allocates only these)."""
        return range(self.node_port, self.node_port + self.NODE_PORTS)

    def _config_digest(self) -> str:
        try:
            return hashlib.sha256(self.config.read_bytes()).hexdigest()
        except OSError as error:
            raise BackendError(f"cannot read the kind config {self.config}: {error.strerror or error}") from error

    # ---- running commands -------------------------------------------------------------------------------
    def _run(self, argv: Sequence[str | os.PathLike[str]], timeout: float) -> shell.Result:
        """Run a command with the process environment plus :meth:`env` (never the learner's KUBECONFIG)."""
        return shell.run(argv, env={**os.environ, **self.env()}, timeout=timeout)

    def _kind(self) -> str | None:
        return shutil.which("kind")

    def _kubectl(self, *args: str, timeout: float = QUICK_TIMEOUT) -> shell.Result:
        try:
            kubectl = paths.kubectl()
        except FileNotFoundError as error:
            raise BackendError(str(error)) from error
        return self._run([kubectl, "--kubeconfig", self.kubeconfig, *args], timeout)

    def _clusters(self, kind: str) -> list[str]:
        """The names ``kind get clusters`` prints.

        Raises:
            BackendError: kind failed (usually because Docker does not answer).
        """
        try:
            done = self._run([kind, "get", "clusters"], self.QUICK_TIMEOUT)
        except shell.ShellError as error:
            raise BackendError(f"`kind get clusters` did not answer ({error}). Check that Docker runs, or "
                               f"{PRACTICE_WAY_OUT}") from error
        if done.returncode != 0:
            raise BackendError(f"`kind get clusters` failed: {_error_line(done.stderr, done.stdout)}. Check that "
                               f"Docker runs, or {PRACTICE_WAY_OUT}")
        return [line.strip() for line in done.stdout.splitlines() if line.strip()]

    def _healthy(self) -> bool:
        if not self.kubeconfig.exists():
            return False
        try:
            done = self._kubectl("get", "--raw", "/readyz", "--request-timeout=5s", timeout=15)
        except (shell.ShellError, BackendError):
            return False
        return done.returncode == 0

    def _server(self) -> str:
        try:
            config: Any = yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8"))
            return str(config["clusters"][0]["cluster"]["server"])
        except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
            return ""

    # ---- the Backend protocol ---------------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        kind = self._kind()
        if kind is None:
            return ClusterStatus(self.name, False, self.kubeconfig, detail="not running (kind is not installed)")
        try:
            clusters = self._clusters(kind)
        except BackendError as error:
            return ClusterStatus(self.name, False, self.kubeconfig, detail=str(error))
        if self.CLUSTER not in clusters:
            return ClusterStatus(self.name, False, self.kubeconfig,
                                 detail=f"not running (no kind cluster named {self.CLUSTER})")
        if self._healthy():
            return self._running()
        return ClusterStatus(self.name, False, self.kubeconfig,
                             detail=f"the kind cluster {self.CLUSTER} exists but does not answer; delete it with "
                                    f"{DOWN_WAY_OUT}")

    def up(self, on_status: Callable[[str], None] | None = None) -> ClusterStatus:
        """Create the kind cluster (or reuse a healthy one) and load the lesson's images into it.

        Raises:
            BackendError: with a one-line message that says what failed and how to recover.
        """
        def say(line: str) -> None:
            if on_status is not None:
                on_status(line)

        say(Phrase("kind.docker"))
        self._check_docker()
        say(Phrase("kind.installed"))
        kind = self._kind()
        if kind is None:
            raise BackendError("kind is not installed (no `kind` on PATH). Install it "
                               "(https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or "
                               f"{PRACTICE_WAY_OUT}")
        say(Phrase("kind.looking", name=self.CLUSTER))
        paths.make_state_private(self.state, self.directory)
        if self.CLUSTER in self._clusters(kind):
            if not self.kubeconfig.exists():
                self._export_kubeconfig(kind)
            if not self._healthy():
                raise BackendError(f"A kind cluster named {self.CLUSTER} exists but its API server does not "
                                   f"answer. Delete it with {DOWN_WAY_OUT}, then try again")
            if self._recorded_digest() != self._config_digest():
                raise BackendError(f"The kind cluster {self.CLUSTER} was not created from {self.config} (an older "
                                   f"kube-tutor, or kind itself, made it), so it may not publish the NodePorts "
                                   f"{self.node_ports[0]}-{self.node_ports[-1]} the lessons use. Delete it with "
                                   f"{DOWN_WAY_OUT}, then try again")
            say(Phrase("kind.reusing", name=self.CLUSTER))
        else:
            say(Phrase("kind.port", port=f"{self.node_ports[0]}-{self.node_ports[-1]}"))
            self._check_port()
            say(Phrase("kind.creating", name=self.CLUSTER))
            self._images_marker.unlink(missing_ok=True)
            digest = self._config_digest()
            self._create(kind)
            atomic_write(self._config_marker, f"{digest}\n".encode())
        self._load_images(kind, say)
        return self._running()

    def _running(self) -> ClusterStatus:
        return ClusterStatus(self.name, True, self.kubeconfig, self._server(),
                             detail=f"kind cluster {self.CLUSTER}, NodePort {self.node_port} on 127.0.0.1")

    def storage_failure(self) -> str:
        """Nothing to tell: etcd runs inside the kind node; kubectl's own errors say when it fails."""
        return ""

    def down(self) -> Stopped:
        """Delete the kind cluster kube-tutor made (``stopped`` False if there was none).

        Raises:
            BackendError: kind could not list or delete clusters.
        """
        kind = self._kind()
        if kind is None:
            return Stopped(False)
        existed = self.CLUSTER in self._clusters(kind)
        if existed:
            try:
                done = self._run([kind, "delete", "cluster", "--name", self.CLUSTER, "--kubeconfig", self.kubeconfig],
                                 self.LOAD_TIMEOUT)
            except shell.ShellError as error:
                raise BackendError(f"`kind delete cluster --name {self.CLUSTER}` did not finish ({error}). Check "
                                   "that Docker runs, then try again") from error
            if done.returncode != 0:
                raise BackendError(f"`kind delete cluster --name {self.CLUSTER}` failed: "
                                   f"{_error_line(done.stderr, done.stdout)}. Check that Docker runs, then try again")
        self.kubeconfig.unlink(missing_ok=True)
        self._images_marker.unlink(missing_ok=True)
        self._config_marker.unlink(missing_ok=True)
        return Stopped(existed)

    def clock(self) -> ClockState | None:
        """None: only the practice cluster has a clock that can be paused."""
        return None

    def set_clock_paused(self, paused: bool) -> ClockState:
        raise BackendError(Phrase("clock.practice_only", name=self.name))

    def after_setup(self) -> None:
        """Give the lesson's NodePort Service the nodePort that ``kind-config.yaml`` publishes on 127.0.0.1.

        The lesson's setup makes one NodePort Service (``kubectl expose ... --type=NodePort``); its nodePort is
        already one of the published :attr:`node_ports` (the API server allocates no other), and this pins it to
        the first, so that the setup's port is always the same. A Service that a step creates is not patched: its
        port, whichever the API server picked, is published too. The first NodePort Service (by name) whose first
        port is not :attr:`node_port` is patched to it, unless another Service already holds that port.

        Raises:
            BackendError: kubectl could not list or patch the Services.
        """
        try:
            listed = self._kubectl("get", "services", "--namespace", self.namespace, "-o", "json")
        except shell.ShellError as error:
            raise BackendError(f"could not list the lesson's Services: {error}") from error
        if listed.returncode != 0:
            raise BackendError(f"could not list the lesson's Services: {_last_line(listed.stderr, listed.stdout)}")
        try:
            items = json.loads(listed.stdout).get("items") or []
        except ValueError as error:
            raise BackendError(f"could not read the lesson's Services: {error}") from error
        node_port_services = sorted(
            (item for item in items if (item.get("spec") or {}).get("type") == "NodePort"
             and (item.get("spec") or {}).get("ports")),
            key=lambda item: item["metadata"]["name"])
        if any(item["spec"]["ports"][0].get("nodePort") == self.node_port for item in node_port_services):
            return
        if not node_port_services:
            return
        name = node_port_services[0]["metadata"]["name"]
        patch = json.dumps([{"op": "replace", "path": "/spec/ports/0/nodePort", "value": self.node_port}])
        try:
            done = self._kubectl("patch", "service", name, "--namespace", self.namespace, "--type=json", "-p", patch)
        except shell.ShellError as error:
            raise BackendError(f"could not give service/{name} nodePort {self.node_port}: {error}") from error
        if done.returncode != 0:
            raise BackendError(f"could not give service/{name} nodePort {self.node_port}: "
                               f"{_last_line(done.stderr, done.stdout)}")

    # ---- the phases of up() -----------------------------------------------------------------------------
    def _check_docker(self) -> None:
        docker = probe_docker(self.QUICK_TIMEOUT)
        if docker.client is None:
            raise BackendError(f"Docker is not installed (no `docker` on PATH). Install Docker, or {PRACTICE_WAY_OUT}")
        if not docker.running:
            raise BackendError(f"Docker is installed but its daemon is not running ({docker.detail}). Start Docker, "
                               f"or {PRACTICE_WAY_OUT}")

    def _recorded_digest(self) -> str:
        try:
            return self._config_marker.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _check_port(self) -> None:
        """Every published NodePort must be free on 127.0.0.1 (the first one in use is named)."""
        for port in self.node_ports:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if os.name != "nt":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    raise BackendError(
                        f"Port {port} on 127.0.0.1 is in use, and the kind cluster publishes the lessons' NodePorts "
                        f"{self.node_ports[0]}-{self.node_ports[-1]} there. Stop the program that uses it "
                        f"(`lsof -i :{port}` names it), or {PRACTICE_WAY_OUT}") from None

    def _export_kubeconfig(self, kind: str) -> None:
        try:
            done = self._run([kind, "export", "kubeconfig", "--name", self.CLUSTER, "--kubeconfig", self.kubeconfig],
                             self.QUICK_TIMEOUT)
        except shell.ShellError:
            return  # the health check that follows reports the cluster as not answering
        if done.returncode != 0:
            self.kubeconfig.unlink(missing_ok=True)

    def _create(self, kind: str) -> None:
        argv: list[str | os.PathLike[str]] = [kind, "create", "cluster", "--name", self.CLUSTER, "--config", self.config,
                "--kubeconfig", self.kubeconfig, "--wait", f"{self.WAIT}s"]
        timed_out = (f"The kind cluster {self.CLUSTER} did not become ready in {self.WAIT} s. See why with "
                     f"`kind export logs --name {self.CLUSTER}`, delete it with {DOWN_WAY_OUT} and try again, or "
                     f"{PRACTICE_WAY_OUT}")
        try:
            done = self._run(argv, self.create_timeout)
        except shell.ShellError as error:
            raise BackendError(timed_out) from error
        output = f"{done.stdout}\n{done.stderr}"
        if done.returncode != 0:
            raise BackendError(f"`kind create cluster` failed: {_error_line(done.stderr, done.stdout)}. Delete what "
                               f"is left with {DOWN_WAY_OUT} and try again, or {PRACTICE_WAY_OUT}")
        if any(marker in output.lower() for marker in _TIMED_OUT_MARKERS):
            raise BackendError(timed_out)  # kind only warns when --wait runs out, and exits 0

    def _load_images(self, kind: str, say: Callable[[str], None]) -> None:
        try:
            loaded = json.loads(self._images_marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = []
        if loaded == list(self.images):
            return
        docker = shutil.which("docker") or "docker"
        for image in self.images:
            try:
                present = self._run([docker, "image", "inspect", image], self.QUICK_TIMEOUT).returncode == 0
            except shell.ShellError:
                present = False
            if not present:
                say(Phrase("kind.pulling", image=image))
                self._pull(docker, image)
            say(Phrase("kind.loading", image=image))
            try:
                done = self._run([kind, "load", "docker-image", image, "--name", self.CLUSTER], self.LOAD_TIMEOUT)
            except shell.ShellError as error:
                raise BackendError(f"`kind load docker-image {image} --name {self.CLUSTER}` did not finish "
                                   f"({error}). Try again, or {PRACTICE_WAY_OUT}") from error
            if done.returncode != 0:
                raise BackendError(f"`kind load docker-image {image} --name {self.CLUSTER}` failed: "
                                   f"{_error_line(done.stderr, done.stdout)}. Try again, or {PRACTICE_WAY_OUT}")
        atomic_write(self._images_marker, json.dumps(list(self.images)).encode())

    def _pull(self, docker: str, image: str) -> None:
        try:
            done = self._run([docker, "pull", image], self.PULL_TIMEOUT)
        except shell.ShellError as error:
            raise BackendError(f"Could not pull {image}: no answer from the registry in {self.PULL_TIMEOUT:g} s. "
                               f"Check your network and try again, or {PRACTICE_WAY_OUT}") from error
        if done.returncode == 0:
            return
        output = f"{done.stdout}\n{done.stderr}".lower()
        if "toomanyrequests" in output or "rate limit" in output:
            raise BackendError(f"Could not pull {image}: Docker Hub's pull rate limit was reached (toomanyrequests). "
                               f"Log in with `docker login` or wait a few hours, then try again, or "
                               f"{PRACTICE_WAY_OUT}")
        if any(marker in output for marker in _OFFLINE_MARKERS):
            raise BackendError(f"Could not pull {image}: the registry cannot be reached (are you offline?). "
                               f"Connect to the network and try again, or {PRACTICE_WAY_OUT}")
        raise BackendError(f"Could not pull {image}: {_last_line(done.stderr, done.stdout)}. Try again, or "
                           f"{PRACTICE_WAY_OUT}")

"""Provides the script that records the protobuf request bodies the real kubectl sends, as test fixtures."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Run it with the project's interpreter (``.venv/bin/python tests/practice/data/protobuf/capture.py``)
# to refresh the ``*.bin`` fixtures, their ``*.json`` twins and ``manifest.json`` beside it. It starts
# a plain-HTTP fake API server on 127.0.0.1 that answers legacy discovery, answers GETs of a few
# objects kubectl looks up first (``kubectl expose``), records every request body and answers each
# POST with a minimal object of the expected kind. kubectl runs with a temporary kubeconfig, ``HOME``
# and ``KUBECACHEDIR`` and with ``KUBERC=off``, so nothing is read from or written to ``~/.kube``. Only bodies sent as
# ``application/vnd.kubernetes.protobuf`` are kept as fixtures; beside each, ``<name>.json`` holds what
# the same command prints with ``--dry-run=client -o json``, i.e. the same object as kubectl's own Go
# JSON encoding renders it, which decoding the body must reproduce. The manifest records, for every
# command, the method, path and content type of each write it made.

HERE = Path(__file__).resolve().parent
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _resource(name: str, singular: str, kind: str, namespaced: bool, short: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "singularName": singular,
        "namespaced": namespaced,
        "kind": kind,
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    }
    if short:
        entry["shortNames"] = short
    return entry


CORE_RESOURCES = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        _resource("namespaces", "namespace", "Namespace", False, ["ns"]),
        _resource("services", "service", "Service", True, ["svc"]),
        _resource("pods", "pod", "Pod", True, ["po"]),
        _resource("configmaps", "configmap", "ConfigMap", True, ["cm"]),
        _resource("secrets", "secret", "Secret", True, []),
    ],
}
APPS_RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "apps/v1",
    "resources": [
        _resource("deployments", "deployment", "Deployment", True, ["deploy"]),
        _resource("replicasets", "replicaset", "ReplicaSet", True, ["rs"]),
    ],
}
API_VERSIONS = {
    "kind": "APIVersions",
    "versions": ["v1"],
    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
}
API_GROUPS = {
    "kind": "APIGroupList",
    "apiVersion": "v1",
    "groups": [
        {
            "name": "apps",
            "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
        }
    ],
}
KIND_OF = {
    "namespaces": ("v1", "Namespace"),
    "services": ("v1", "Service"),
    "pods": ("v1", "Pod"),
    "configmaps": ("v1", "ConfigMap"),
    "secrets": ("v1", "Secret"),
    "deployments": ("apps/v1", "Deployment"),
    "replicasets": ("apps/v1", "ReplicaSet"),
}


def _existing_deployment(name: str, port: int | None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": "nginx:1.25"}
    if port is not None:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": "00000000-0000-0000-0000-000000000001",
            "resourceVersion": "7",
            "labels": {"app": name},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


EXISTING = {
    "/apis/apps/v1/namespaces/default/deployments/kubernetes-bootcamp": _existing_deployment(
        "kubernetes-bootcamp", 8080
    ),
    "/apis/apps/v1/namespaces/default/deployments/web": _existing_deployment("web", 80),
}


@dataclass
class Recorder:
    """The requests the fake server saw while one kubectl command ran."""

    writes: list[dict[str, Any]] = field(default_factory=list)
    reply_name: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    """Answers discovery and records writes; the recorder lives on the server object."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        return

    def _send_json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        self._send_json(
            404,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "the server could not find the requested resource",
                "reason": "NotFound",
                "code": 404,
            },
        )

    def do_GET(self) -> None:  # noqa: N802 - BaseHTTPRequestHandler's name
        path = self.path.split("?", 1)[0]
        static = {
            "/api": API_VERSIONS,
            "/apis": API_GROUPS,
            "/api/v1": CORE_RESOURCES,
            "/apis/apps/v1": APPS_RESOURCES,
        }
        if path in static:
            self._send_json(200, static[path])
        elif path in EXISTING:
            self._send_json(200, EXISTING[path])
        else:
            self._not_found()

    def _write(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        recorder: Recorder = self.server.recorder  # type: ignore[attr-defined]
        with recorder.lock:
            recorder.writes.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type", ""),
                    "body": body,
                }
            )
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        api_version, kind = KIND_OF.get(parts[-1], ("v1", "Status"))
        reply: dict[str, Any] = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {
                "name": recorder.reply_name,
                "uid": "00000000-0000-0000-0000-000000000002",
                "resourceVersion": "1",
            },
        }
        if kind not in ("Namespace", "Status"):
            reply["metadata"]["namespace"] = "default"
        self._send_json(201, reply)

    do_POST = _write  # noqa: N815 - BaseHTTPRequestHandler's name
    do_PUT = _write  # noqa: N815
    do_PATCH = _write  # noqa: N815


@dataclass(frozen=True)
class Capture:
    """One kubectl command whose write is recorded (as fixture ``<name>.bin`` when it is protobuf).

    ``protobuf`` is False for the commands kubectl 1.37 sends as JSON (``expose``, ``run``): they are
    kept in the manifest to document that, and fail the capture if they ever switch to protobuf
    without a fixture being reviewed.
    """

    name: str
    args: tuple[str, ...]
    reply_name: str
    protobuf: bool = True


CAPTURES = (
    Capture(
        "deployment-kubernetes-bootcamp",
        (
            "create",
            "deployment",
            "kubernetes-bootcamp",
            "--image=gcr.io/google-samples/kubernetes-bootcamp:v1",
            "--replicas=4",
        ),
        "kubernetes-bootcamp",
    ),
    Capture(
        "deployment-web",
        ("create", "deployment", "web", "--image=nginx:1.25", "--port=80", "--replicas=2"),
        "web",
    ),
    Capture(
        "deployment-multi",
        ("create", "deployment", "multi", "--image=nginx:1.25", "--image=busybox:1.36", "-n", "lesson-1"),
        "multi",
    ),
    Capture(
        "deployment-command",
        ("create", "deployment", "sleeper", "--image=busybox:1.36", "--", "sleep", "3600"),
        "sleeper",
    ),
    Capture(
        "deployment-zero", ("create", "deployment", "idle", "--image=nginx:1.25", "--replicas=0"), "idle"
    ),
    Capture("namespace-lesson-1", ("create", "namespace", "lesson-1"), "lesson-1"),
    Capture("service-nodeport-web", ("create", "service", "nodeport", "web", "--tcp=8080:80"), "web"),
    Capture(
        "service-nodeport-fixed",
        ("create", "service", "nodeport", "fixed", "--tcp=80:8080", "--node-port=30080"),
        "fixed",
    ),
    Capture(
        "service-clusterip-other", ("create", "service", "clusterip", "other", "--tcp=5678:8080"), "other"
    ),
    Capture(
        "service-clusterip-headless",
        ("create", "service", "clusterip", "headless", "--clusterip=None"),
        "headless",
    ),
    Capture(
        "service-loadbalancer-lb",
        ("create", "service", "loadbalancer", "lb", "--tcp=80:8080", "--tcp=443:8443"),
        "lb",
    ),
    Capture(
        "service-externalname-ext",
        ("create", "service", "externalname", "ext", "--external-name=example.com"),
        "ext",
    ),
    Capture(
        "expose-kubernetes-bootcamp",
        ("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080"),
        "kubernetes-bootcamp",
        protobuf=False,
    ),
    Capture(
        "expose-web",
        ("expose", "deployment", "web", "--port=80", "--target-port=80", "--name=web-svc"),
        "web-svc",
        protobuf=False,
    ),
    Capture(
        "configmap-settings",
        ("create", "configmap", "settings", "--from-literal=color=blue", "--from-literal=size=large"),
        "settings",
    ),
    Capture(
        "configmap-binary",
        ("create", "configmap", "blob", "--from-file=blob.bin={tmp}/blob.bin", "--from-literal=mode=raw"),
        "blob",
    ),
    Capture(
        "secret-docker-registry",
        (
            "create",
            "secret",
            "docker-registry",
            "regcred",
            "--docker-server=registry.example",
            "--docker-username=student",
            "--docker-password=hunter2",
        ),
        "regcred",
    ),
    Capture(
        "secret-generic-creds",
        (
            "create",
            "secret",
            "generic",
            "creds",
            "--from-literal=user=admin",
            "--from-literal=password=s3cret",
        ),
        "creds",
    ),
    Capture(
        "run-pod",
        (
            "run",
            "nginx",
            "--image=nginx:1.25",
            "--port=80",
            "--labels=tier=web",
            "--env=GREETING=hello",
            "--restart=Never",
        ),
        "nginx",
        protobuf=False,
    ),
    Capture(
        "run-pod-command",
        (
            "run",
            "shell",
            "--image=busybox:1.36",
            "--restart=Never",
            "--image-pull-policy=IfNotPresent",
            "--command",
            "--",
            "sh",
            "-c",
            "echo hi",
        ),
        "shell",
        protobuf=False,
    ),
)


def _kubectl() -> str:
    candidate = Path(sys.executable).parent / "kubectl"
    return str(candidate) if candidate.exists() else "kubectl"


def run_captures(out_dir: Path, kubectl: str) -> dict[str, Any]:
    """Run every capture against a fresh fake server and write the protobuf bodies into ``out_dir``.

    Args:
        out_dir: Where ``<name>.bin`` files and ``manifest.json`` are written.
        kubectl: The kubectl binary to run.

    Returns:
        The manifest: for each capture, its command line and the writes it made.
    """
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.recorder = recorder  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    manifest: dict[str, Any] = {"kubectl": "", "captures": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="kube-tutor-capture-") as tmp:
            home = Path(tmp) / "home"
            cache = Path(tmp) / "cache"
            home.mkdir()
            cache.mkdir()
            kubeconfig = Path(tmp) / "kubeconfig"
            kubeconfig.write_text(
                "apiVersion: v1\nkind: Config\n"
                f"clusters:\n- name: capture\n  cluster:\n    server: http://127.0.0.1:{port}\n"
                "users:\n- name: capture\n  user: {}\n"
                "contexts:\n- name: capture\n  context:\n    cluster: capture\n    user: capture\n"
                "    namespace: default\n"
                "current-context: capture\n"
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
            env.update(
                {
                    "HOME": str(home),
                    "KUBECONFIG": str(kubeconfig),
                    "KUBECACHEDIR": str(cache),
                    "KUBERC": "off",
                }
            )
            version = subprocess.run(
                [kubectl, "version", "--client", "-o", "json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            manifest["kubectl"] = json.loads(version.stdout)["clientVersion"]["gitVersion"]
            # Not valid UTF-8, so kubectl puts it in binaryData.
            (Path(tmp) / "blob.bin").write_bytes(bytes(range(256)))
            for capture in CAPTURES:
                run_args = [a.replace("{tmp}", tmp) for a in capture.args]
                with recorder.lock:
                    recorder.writes.clear()
                    recorder.reply_name = capture.reply_name
                done = subprocess.run(
                    [kubectl, *run_args], env=env, capture_output=True, text=True, timeout=60, check=False
                )
                with recorder.lock:
                    writes = list(recorder.writes)
                entry: dict[str, Any] = {
                    "args": list(capture.args),
                    "expect_protobuf": capture.protobuf,
                    "exit_code": done.returncode,
                    "stdout": done.stdout.strip(),
                    "stderr": done.stderr.strip(),
                    "writes": [],
                }
                for write in writes:
                    record = {k: write[k] for k in ("method", "path", "content_type")}
                    if write["content_type"].split(";", 1)[0].strip() == PROTOBUF:
                        fixture = f"{capture.name}.bin"
                        (out_dir / fixture).write_bytes(write["body"])
                        record["fixture"] = fixture
                    else:
                        record["body"] = write["body"].decode("utf-8", "replace")
                    entry["writes"].append(record)
                if capture.protobuf:
                    # The same object as kubectl's own Go JSON encoding prints it: what decoding the
                    # protobuf body must give back.
                    args = list(run_args)
                    at = args.index("--") if "--" in args else len(args)
                    args[at:at] = ["--dry-run=client", "-o", "json"]
                    printed = subprocess.run(
                        [kubectl, *args], env=env, capture_output=True, text=True, timeout=60, check=True
                    )
                    expected = f"{capture.name}.json"
                    (out_dir / expected).write_text(
                        json.dumps(json.loads(printed.stdout), indent=2, sort_keys=True) + "\n"
                    )
                    entry["expected_json"] = expected
                manifest["captures"][capture.name] = entry
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Capture the fixtures; exit non-zero if a command did not send the content type it is expected to."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--kubectl", default=_kubectl())
    args = parser.parse_args(argv)
    manifest = run_captures(args.out, args.kubectl)
    unexpected = [
        name
        for name, entry in manifest["captures"].items()
        if entry["exit_code"] != 0
        or not entry["writes"]
        or any(("fixture" in w) != entry["expect_protobuf"] for w in entry["writes"])
    ]
    for name in unexpected:
        sys.stderr.write(f"{name}: unexpected capture: {json.dumps(manifest['captures'][name])}\n")
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())

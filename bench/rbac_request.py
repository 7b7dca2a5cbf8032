#!/usr/bin/env python3
"""Measure what RBAC costs a request: the admin token (``system:masters``, never evaluated) against a
ServiceAccount token bound to ``admin`` by a RoleBinding (JWT verified, bindings walked).

Usage (from the repository root):

    .venv/bin/python bench/rbac_request.py [--runs N] [--requests N]

A fresh practice cluster (temporary state directory, time scale 1) in its own process; a namespace, a
ServiceAccount ``learner`` bound to ``admin`` there and a token from ``kubectl create token``. Two figures, each
interleaved between the two tokens: ``kubectl get pods`` (warm discovery cache, ``--runs`` each, median) and a
bare ``GET /api/v1/namespaces/NS/pods`` over one kept-alive HTTPS connection (``--requests`` each, median), which
isolates the server's part. Prints the medians and the ratios (ServiceAccount / admin). It asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tutor import paths  # noqa: E402
from tutor.backends.practice import PracticeBackend  # noqa: E402

NAMESPACE = "seat-01"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/rbac_request.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kt-rbac-bench-"))
    backend = PracticeBackend(work / "state", time_scale=1.0)
    try:
        backend.up()
        home = work / "home"
        home.mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECACHEDIR": str(home / "cache"),
               "KUBERC": "off", "KUBECONFIG": str(backend.kubeconfig)}

        def kubectl(config: Path, *command: str) -> str:
            done = subprocess.run([str(paths.kubectl()), *command], env={**env, "KUBECONFIG": str(config)},
                                  capture_output=True, text=True, check=True, timeout=60)
            return done.stdout

        admin_config = backend.kubeconfig
        kubectl(admin_config, "create", "namespace", NAMESPACE)
        kubectl(admin_config, "create", "serviceaccount", "learner", "-n", NAMESPACE)
        kubectl(admin_config, "create", "rolebinding", "learner", "--clusterrole=admin",
                f"--serviceaccount={NAMESPACE}:learner", "-n", NAMESPACE)
        token = kubectl(admin_config, "create", "token", "learner", "-n", NAMESPACE, "--duration=1h").strip()
        config = yaml.safe_load(admin_config.read_text())
        admin_token = config["users"][0]["user"]["token"]
        config["users"][0]["user"] = {"token": token}
        seat_config = work / "seat-kubeconfig"
        seat_config.write_text(yaml.safe_dump(config))
        kubectl(admin_config, "get", "pods", "-n", NAMESPACE)  # warm the discovery cache
        samples: dict[str, list[float]] = {"admin": [], "serviceaccount": []}
        for _ in range(args.runs):
            for name, path in (("admin", admin_config), ("serviceaccount", seat_config)):
                start = time.perf_counter()
                kubectl(path, "get", "pods", "-n", NAMESPACE)
                samples[name].append(time.perf_counter() - start)
        server = config["clusters"][0]["cluster"]["server"]
        host, _, port = server.removeprefix("https://").partition(":")
        context = ssl.create_default_context(cadata=_ca(config))
        connection = http.client.HTTPSConnection(host, int(port), context=context)
        raw: dict[str, list[float]] = {"admin": [], "serviceaccount": []}
        for _ in range(args.requests):
            for name, bearer in (("admin", admin_token), ("serviceaccount", token)):
                start = time.perf_counter()
                connection.request("GET", f"/api/v1/namespaces/{NAMESPACE}/pods",
                                   headers={"Authorization": f"Bearer {bearer}"})
                response = connection.getresponse()
                response.read()
                raw[name].append(time.perf_counter() - start)
                if response.status != 200:
                    raise SystemExit(f"{name}: HTTP {response.status}")
        connection.close()
        for label, data, unit, scale in (("kubectl get pods", samples, "ms", 1e3),
                                         ("GET .../pods (HTTPS, kept alive)", raw, "ms", 1e3)):
            admin = statistics.median(data["admin"]) * scale
            account = statistics.median(data["serviceaccount"]) * scale
            print(f"{label}: admin {admin:.2f} {unit}, ServiceAccount (RBAC) {account:.2f} {unit}, "
                  f"ratio {account / admin:.2f}x (median of {len(data['admin'])})")
    finally:
        backend.down()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _ca(config: dict[str, object]) -> str:
    import base64

    cluster = config["clusters"][0]["cluster"]  # type: ignore[index]
    if "certificate-authority-data" in cluster:
        return base64.b64decode(cluster["certificate-authority-data"]).decode()
    return Path(cluster["certificate-authority"]).read_text()


if __name__ == "__main__":
    sys.exit(main())

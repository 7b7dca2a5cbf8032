"""exec, attach and cp with the real kubectl 1.37 against the practice cluster's containers (WebSocket,
``v5.channel.k8s.io``)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

from tests.practice.conftest import Kube, wait_for
from tutor import paths

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"


def _one_pod(kube: Kube, *, service_first: bool = False) -> str:
    if service_first:
        kube("create", "service", "nodeport", "kubernetes-bootcamp", "--tcp=8080:8080")
    kube("create", "deployment", "kubernetes-bootcamp", f"--image={V1}")
    kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    return str(kube.pods()[0]["metadata"]["name"])


def test_exec_env_is_the_kubelets(kube: Kube) -> None:
    """``exec POD -- env``: HOSTNAME is the pod's name, the image's PATH and ENV, the ``kubernetes`` service's
    variables and those of the services that existed when the pod started (kubernetes
    ``pkg/kubelet/envvars/envvars.go`` ``FromServices``, ``pkg/kubelet/kubelet_pods.go`` ``getServiceEnvVarMap``)."""
    pod = _one_pod(kube, service_first=True)
    env = dict(line.split("=", 1) for line in kube("exec", pod, "--", "env").splitlines())
    assert env["HOSTNAME"] == pod
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert env["HOME"] == "/root"
    assert env["NODE_VERSION"] == "6.3.1"
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["KUBERNETES_PORT_443_TCP"] == "tcp://10.96.0.1:443"
    ip = kube.json("get", "service", "kubernetes-bootcamp")["spec"]["clusterIP"]
    assert env["KUBERNETES_BOOTCAMP_SERVICE_HOST"] == ip
    assert env["KUBERNETES_BOOTCAMP_PORT_8080_TCP"] == f"tcp://{ip}:8080"
    assert env["KUBERNETES_BOOTCAMP_PORT_8080_TCP_ADDR"] == ip
    assert kube("exec", pod, "--", "env").splitlines()[:2] == ["PATH=" + env["PATH"], f"HOSTNAME={pod}"]
    kube("create", "service", "clusterip", "later", "--tcp=80:8080")
    assert "LATER_SERVICE_HOST" not in kube("exec", pod, "--", "env")  # created after the pod started


def test_exec_curl_and_files_answer_as_that_pod(kube: Kube) -> None:
    """Inside the bootcamp image: ``server.js`` where its Dockerfile copies it (``COPY server.js .``, no WORKDIR),
    ``curl localhost:8080`` reaches that pod's own app, ``hostname`` is the pod's name, and the service account
    volume's files are mounted (``plugin/pkg/admission/serviceaccount/admission.go``)."""
    pod = _one_pod(kube)
    assert kube("exec", pod, "--", "curl", "-s", "localhost:8080") == \
        f"Hello Kubernetes bootcamp! | Running on: {pod} | v=1\n"
    assert "response.write(\"Hello Kubernetes bootcamp! | Running on: \");" in kube("exec", pod, "--", "cat", "server.js")
    assert kube("exec", pod, "--", "hostname").strip() == pod
    assert kube("exec", pod, "--", "ls", "var/run/secrets/kubernetes.io/serviceaccount").split() == \
        ["ca.crt", "namespace", "token"]
    assert kube("exec", pod, "--", "cat", "var/run/secrets/kubernetes.io/serviceaccount/namespace") == kube.namespace
    assert "node" in kube("exec", pod, "--", "ps")


def test_exec_exit_codes_and_unknown_programs(kube: Kube) -> None:
    """The error channel's Status: the kubelet's NonZeroExitCode (``pkg/kubelet/cri/streaming/remotecommand/
    exec.go``), which client-go (``tools/remotecommand/v4.go`` ``errorDecoderV4``) prints as ``command terminated
    with exit code N``; a program the image lacks is containerd's OCI error as an InternalError."""
    pod = _one_pod(kube)
    failed = kube.run("exec", pod, "--", "false")
    assert (failed.returncode, failed.stderr) == (1, "command terminated with exit code 1\n")
    assert kube.run("exec", pod, "--", "sh", "-c", "exit 7").returncode == 7
    missing = kube.run("exec", pod, "--", "nosuchprogram")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: Internal error occurred: error executing command in container: "
                                     "failed to exec in container: failed to start exec ")
    assert missing.stderr.endswith('exec: "nosuchprogram": executable file not found in $PATH: unknown\n')
    assert kube("exec", pod, "--", "sh", "-c", "nosuchprogram 2>&1; true").strip().endswith(
        "nosuchprogram: not found")


def test_exec_stdin_reaches_the_process(kube: Kube) -> None:
    """``exec -i``: stdin on channel 0, and its end as v5's close signal (client-go ``websocket.go``
    ``stream.Close``: ``[255, 0]``) so ``cat`` ends."""
    pod = _one_pod(kube)
    done = subprocess.run([str(paths.kubectl()), "exec", "-i", pod, "--", "wc", "-c"], env=kube.env, input="12345",
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "5")


def test_exec_validation(kube: Kube) -> None:
    """Before the upgrade: an unknown container is refused (kubectl's own check), and a container that is not
    running is the kubelet's ``container not found`` (``pkg/kubelet/kubelet_pods.go`` ``GetExec``)."""
    pod = _one_pod(kube)
    wrong = kube.run("exec", pod, "-c", "nope", "--", "ls")
    assert wrong.returncode == 1 and "container nope is not valid for pod" in wrong.stderr
    kube("run", "bad", "--image=jocatalin/kubernetes-bootcamp:v10")
    wait_for(lambda: kube.json("get", "pod", "bad")["status"].get("containerStatuses"), message="bad's status")
    waiting = kube.run("exec", "bad", "--", "ls")
    assert waiting.stderr == 'error: unable to upgrade connection: container not found ("bad")\n'


def _read_until(fd: int, token: bytes, timeout: float = 30.0) -> bytes:
    buffer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and token not in buffer:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
    assert token in buffer, buffer
    return buffer


def test_exec_tty_bash(kube: Kube) -> None:
    """``exec -ti POD -- bash`` through a terminal: the image's prompt, the terminal's size (resize channel 4),
    Ctrl+C interrupting the foreground job, bash's own ``command not found``, and the exit code."""
    pod = _one_pod(kube)
    pid, fd = pty.fork()
    if pid == 0:  # the child: kubectl on the terminal
        os.execve(str(paths.kubectl()), ["kubectl", "exec", "-ti", pod, "--", "bash"], kube.env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
        prompt = f"root@{pod}:/# ".encode()
        _read_until(fd, prompt)
        # Each command ends with a marker its echo does not contain (the prompt may be drawn again on a resize).
        os.write(fd, b"stty size; echo $TERM; cat server.js | head -1; echo do''ne1\r")
        out = _read_until(fd, b"done1")
        assert b"33 111" in out and b"xterm" in out and b"var http = require('http');" in out
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.kill(pid, __import__("signal").SIGWINCH)
        os.write(fd, b"sh -c 'echo st''arted; exec sleep 100'\r")
        _read_until(fd, b"started")  # the job runs (the typed line's echo spells it st''arted)
        os.write(fd, b"\x03")
        _read_until(fd, prompt)
        os.write(fd, b"stty size; nosuch; curl -s localhost:8080; echo do''ne2\r")
        out = _read_until(fd, b"done2")
        assert b"40 120" in out
        assert b"bash: nosuch: command not found" in out
        assert f"Running on: {pod} | v=1".encode() in out
        os.write(fd, b"exit 3\r")
        assert b"command terminated with exit code 3" in _read_until(fd, b"exit code 3")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 3
    finally:
        os.close(fd)


def test_cp_both_ways(kube: Kube, tmp_path: Path) -> None:
    """``kubectl cp`` is tar over exec (the image has tar): a file into the container and back out."""
    pod = _one_pod(kube)
    local = tmp_path / "note.txt"
    local.write_text("hello from the learner\n")
    kube("cp", str(local), f"{pod}:note.txt")
    assert kube("exec", pod, "--", "cat", "note.txt") == "hello from the learner\n"
    kube("cp", f"{pod}:server.js", str(tmp_path / "server.js"))
    assert (tmp_path / "server.js").read_text().startswith("var http = require('http');")


def test_attach_follows_the_apps_output(kube: Kube) -> None:
    """``kubectl attach`` to the bootcamp app: its output as it comes (each request's log line)."""
    pod = _one_pod(kube)
    attach = kube.popen("attach", pod)
    try:
        def attached() -> bool:
            kube("exec", pod, "--", "curl", "-s", "localhost:8080")
            assert attach.stdout is not None
            ready, _, _ = select.select([attach.stdout], [], [], 0.5)
            return bool(ready) and f"Running On: {pod} | Total Requests:" in attach.stdout.readline()
        wait_for(attached, message="a request's log line on attach")
    finally:
        attach.terminate()
        attach.wait(10)


def test_the_image_has_its_programs(kube: Kube) -> None:
    """The programs of the bootcamp image (``node:slim``, Debian) are on its PATH."""
    pod = _one_pod(kube)
    programs = ["bash", "ls", "cat", "env", "hostname", "ps", "curl", "tar", "echo", "true", "false", "sleep"]
    found = kube("exec", pod, "--", "sh", "-c", " ".join(f"command -v {p};" for p in programs)).split()
    assert [Path(p).name for p in found] == programs

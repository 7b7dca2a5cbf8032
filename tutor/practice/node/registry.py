"""Provides the practice image registry: which images exist, their digests, sizes, app versions and filesystems.

Each image says what a container of it holds (:class:`Filesystem`): its files (the bootcamp app's ``server.js``
at ``/``, where the image's Dockerfile copies it: ``FROM node:slim``, ``COPY server.js .``, ``CMD node server.js``,
no ``WORKDIR``), its ``PATH`` and environment (``node:slim``'s), the programs on that ``PATH`` and its default
command. :mod:`tutor.practice.node.containers` makes a container's directory of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tutor.practice.system import SYSTEM_IMAGES

BOOTCAMP_SERVER_JS = """var http = require('http');
var requests=0;
var podname= process.env.HOSTNAME;
var startTime;
var host;
var handleRequest = function(request, response) {
  response.setHeader('Content-Type', 'text/plain');
  response.writeHead(200);
  response.write("Hello Kubernetes bootcamp! | Running on: ");
  response.write(host);
  response.end(" | v=%d\\n");
  console.log("Running On:" ,host, "| Total Requests:", ++requests,"| App Uptime:", (new Date() - startTime)/1000 , "seconds", "| Log Time:",new Date());
}
var www = http.createServer(handleRequest);
www.listen(8080,function () {
    startTime = new Date();;
    host = process.env.HOSTNAME;
    console.log ("Kubernetes Bootcamp App Started At:",startTime, "| Running On: " ,host, "\\n" );
});
"""
"""The bootcamp app (``server.js`` of ``gcr.io/google-samples/kubernetes-bootcamp``, as copied in
yacovyit/kubernetes-course-samples ``docker/2/server.js``: its log lines are the ones the kubelet simulator
writes); ``%d`` is the app's version."""

IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Debian's ``PATH``, which ``node:slim`` keeps."""


@dataclass(frozen=True)
class Filesystem:
    """What a container of an image holds (apart from what the kubelet mounts)."""

    files: tuple[tuple[str, str], ...] = ()
    """(absolute path, text) of the image's own files."""
    env: tuple[tuple[str, str], ...] = (("PATH", IMAGE_PATH),)
    """The image's ``ENV`` (``PATH`` first, as ``docker inspect`` lists it)."""
    programs: tuple[str, ...] = ()
    """The programs on its ``PATH``."""
    cmd: tuple[str, ...] = ()
    """The image's ``CMD`` (no ``ENTRYPOINT``)."""
    home: str = "/root"
    workdir: str = "/"


_DEBIAN_PROGRAMS = ("bash", "sh", "ls", "cat", "env", "hostname", "ps", "curl", "echo", "true", "false", "sleep",
                    "tar", "grep", "head", "tail", "mkdir", "rm", "rmdir", "cp", "mv", "touch", "pwd", "sed", "wc",
                    "sort", "uname", "date", "id", "whoami", "find", "xargs", "clear", "printenv", "dirname",
                    "basename", "chmod", "ln", "readlink", "stat", "df", "du", "kill", "more", "test", "[", "tr",
                    "cut", "uniq", "tee", "seq", "expr", "yes", "nproc", "which", "stty", "node")


def _bootcamp(version: int) -> Filesystem:
    return Filesystem(files=(("/server.js", BOOTCAMP_SERVER_JS.replace("%d", str(version))),),
                      env=(("PATH", IMAGE_PATH), ("NPM_CONFIG_LOGLEVEL", "info"), ("NODE_VERSION", "6.3.1")),
                      programs=_DEBIAN_PROGRAMS, cmd=("/bin/sh", "-c", "node server.js"))


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    size: int
    app_version: int
    """What the bootcamp app answers as ``v=<N>``."""
    pull_seconds: float
    filesystem: Filesystem = field(default_factory=Filesystem)

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(f"{self.repository}:{self.tag}".encode()).hexdigest()


_IMAGES = {
    "gcr.io/google-samples/kubernetes-bootcamp:v1": Image("gcr.io/google-samples/kubernetes-bootcamp", "v1",
                                                          77_123_514, 1, 2.2, _bootcamp(1)),
    "docker.io/jocatalin/kubernetes-bootcamp:v2": Image("docker.io/jocatalin/kubernetes-bootcamp", "v2",
                                                        84_512_061, 2, 1.8, _bootcamp(2)),
}
_KNOWN_REPOSITORIES = {image.repository for image in _IMAGES.values()}

PRELOADED = ("gcr.io/google-samples/kubernetes-bootcamp:v1", *SYSTEM_IMAGES)
"""Images already on the node when the cluster starts (the previous module pulled v1; the node image has the
cluster's own)."""

APP_PORT = 8080


def normalize(image: str) -> str:
    """``jocatalin/kubernetes-bootcamp:v2`` -> ``docker.io/jocatalin/kubernetes-bootcamp:v2`` (docker's rules)."""
    name, digest = (image.split("@", 1) + [""])[:2] if "@" in image else (image, "")
    parts = name.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        if len(parts) == 1:
            parts = ["library", *parts]
        parts = ["docker.io", *parts]
    name = "/".join(parts)
    last = parts[-1]
    if ":" not in last and not digest:
        name += ":latest"
    return name + ("@" + digest if digest else "")


def lookup(image: str) -> Image | None:
    """The catalogue's image for a reference in any spelling docker accepts, or ``None`` (it fails to pull)."""
    return _IMAGES.get(normalize(image))


def available() -> tuple[str, ...]:
    """Every image the offline catalogue has, as normalized references; any other image fails to pull."""
    return tuple(_IMAGES)


def runs_app(image: Image, command: list[str] | None, args: list[str] | None) -> bool:
    """Whether a container of ``image`` with this ``command`` and ``args`` runs the image's own app (its
    default command, or ``node server.js`` spelt out): the simulated bootcamp server."""
    if not command and not args:
        return True
    argv = list(command or []) + list(args or [])
    return argv in (list(image.filesystem.cmd), ["node", "server.js"], ["node", "/server.js"])


def pull_error(image: str) -> str:
    """The containerd 2.x error a real node prints for an image this registry does not have.

    Upstream: containerd 2.x ``client/pull.go`` (``failed to resolve image: %w``) over the resolver's
    ``<ref>: not found`` (``core/remotes/docker/resolver.go``), wrapped by the CRI plugin's ``failed to pull and
    unpack image`` (``internal/cri/server/images/image_pull.go``).
    """
    ref = normalize(image)
    repository = ref.rsplit(":", 1)[0] if "@" not in ref else ref.split("@", 1)[0]
    if repository in _KNOWN_REPOSITORIES:
        return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
                f'failed to resolve image: {ref}: not found')
    host = repository.split("/", 1)[0]
    registry_host = "registry-1.docker.io" if host == "docker.io" else host
    path = repository.split("/", 1)[1]
    tag = ref.rsplit(":", 1)[1] if "@" not in ref else ref.split("@", 1)[1]
    return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to resolve '
            f'image: failed to do request: Head "https://{registry_host}/v2/{path}/manifests/{tag}": '
            f"dial tcp: lookup {registry_host}: no such host (the practice cluster is offline: only the "
            "bootcamp images exist)")

"""Provides the practice image registry: which images exist, their digests, sizes and app versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tutor.practice.system import SYSTEM_IMAGES


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    size: int
    app_version: int
    """What the bootcamp app answers as ``v=<N>``."""
    pull_seconds: float

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(f"{self.repository}:{self.tag}".encode()).hexdigest()


_IMAGES = {
    "gcr.io/google-samples/kubernetes-bootcamp:v1": Image("gcr.io/google-samples/kubernetes-bootcamp", "v1",
                                                          77_123_514, 1, 2.2),
    "docker.io/jocatalin/kubernetes-bootcamp:v2": Image("docker.io/jocatalin/kubernetes-bootcamp", "v2",
                                                        84_512_061, 2, 1.8),
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


def pull_error(image: str) -> str:
    """The containerd error a real node prints for an image this registry does not have."""
    ref = normalize(image)
    repository = ref.rsplit(":", 1)[0] if "@" not in ref else ref.split("@", 1)[0]
    if repository in _KNOWN_REPOSITORIES:
        return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
                f'failed to resolve reference "{ref}": {ref}: not found')
    host = repository.split("/", 1)[0]
    registry_host = "registry-1.docker.io" if host == "docker.io" else host
    path = repository.split("/", 1)[1]
    tag = ref.rsplit(":", 1)[1] if "@" not in ref else ref.split("@", 1)[1]
    return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to resolve '
            f'reference "{ref}": failed to do request: Head "https://{registry_host}/v2/{path}/manifests/{tag}": '
            f"dial tcp: lookup {registry_host}: no such host (the practice cluster is offline: only the "
            "bootcamp images exist)")

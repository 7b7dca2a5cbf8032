"""A fake ``docker`` client for the kind backend tests; run through the ``docker`` wrapper next to it.

Every call appends its arguments as a JSON line ``{"argv": ["docker", ...]}`` to ``$FAKE_LOG``. Behaviour:

- ``docker info``: prints a server version, or with ``FAKE_DOCKER_DAEMON=down`` fails like the real client.
- ``docker image inspect IMG``: succeeds only for images listed in ``$FAKE_DOCKER_IMAGES`` (comma separated).
- ``docker pull IMG``: succeeds, or fails with the real texts when ``FAKE_DOCKER_PULL`` is ``offline`` or
  ``ratelimit``.
- ``docker -v`` / ``docker version``: prints a client version (a daemon that is down does not stop it).
"""

from __future__ import annotations

import json
import os
import sys

DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
OFFLINE = ('Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup '
           "registry-1.docker.io: no such host")
RATE_LIMIT = ("Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase "
              "the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit")


def record(argv: list[str]) -> None:
    log = os.environ.get("FAKE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"argv": argv}) + "\n")


def fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def main(args: list[str]) -> int:
    record(["docker", *args])
    daemon_up = os.environ.get("FAKE_DOCKER_DAEMON", "up") != "down"
    if args[:1] in (["-v"], ["--version"]):
        print("Docker version 28.2.2, build e6534b4")
        return 0
    if args[:1] == ["info"]:
        if not daemon_up:
            return fail(DAEMON_DOWN)
        print("28.2.2")
        return 0
    if not daemon_up:
        return fail(DAEMON_DOWN)
    if args[:2] == ["image", "inspect"] and len(args) > 2:
        present = {name.strip() for name in os.environ.get("FAKE_DOCKER_IMAGES", "").split(",") if name.strip()}
        if args[2] in present:
            print(json.dumps([{"Id": "sha256:" + "0" * 64, "RepoTags": [args[2]]}], indent=4))
            return 0
        print("[]")
        return fail(f"Error response from daemon: No such image: {args[2]}")
    if args[:1] == ["pull"] and len(args) > 1:
        image = args[1]
        mode = os.environ.get("FAKE_DOCKER_PULL", "")
        if mode == "offline":
            return fail(OFFLINE)
        if mode == "ratelimit":
            return fail(RATE_LIMIT)
        tag = image.rsplit(":", 1)[-1]
        print(f"{tag}: Pulling from {image.split('/', 1)[-1].rsplit(':', 1)[0]}")
        print("Digest: sha256:" + "1" * 64)
        print(f"Status: Downloaded newer image for {image}")
        print(image)
        return 0
    return fail(f"fake docker: unsupported command: {' '.join(args)}", 2)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Provides what a lesson's images mean: the images its commands name, and pods that will never run.

A lesson declares the images it pulls and the ones it names on purpose although no registry has them
(``images.pull`` and ``images.absent``, docs/lesson-format.md). The loader uses :func:`command_images` and
:func:`code_lines` to check that every image a command names is declared; ``verify`` uses
:func:`pods_that_cannot_run` so that a pod which can never start is never part of a healthy state.

Image references are compared the way docker compares them (``nginx`` is ``docker.io/library/nginx:latest``),
with the practice cluster's port of docker's normalization.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tutor.lesson.model import Check, Text
from tutor.practice.node import registry

__all__ = ["PULL_FAILURES", "code_lines", "command_images", "images_settled", "pods_that_cannot_run"]

PULL_FAILURES = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
"""The waiting reasons of a container whose image the kubelet cannot get (upstream
``pkg/kubelet/images/types.go``: ErrImagePull, ErrImagePullBackOff, ErrInvalidImageName, ErrImageNeverPull).
The kubelet keeps retrying, but without the image the container never starts."""

# kubectl flags that take their value as the next argument: a ``KEY=VALUE`` after one of them is its value
# (``set image -l app=web``), not a container=image pair.
_VALUE_FLAGS = frozenset({"-l", "--selector", "-n", "--namespace", "-f", "--filename", "-o", "--output",
                          "-k", "--kustomize", "--context", "--cluster", "--user", "--kubeconfig",
                          "--field-manager", "--template", "-s", "--server"})
# ``image: nginx`` in a manifest (heredoc, YAML block) and ``"image": "nginx"`` in a JSON patch.
_MANIFEST_IMAGE = re.compile(r"""(?<![\w-])["']?image["']?\s*:\s*["']?([^\s"',}\]]+)""")
# Not a literal reference: a shell expansion or a placeholder (``$IMAGE``, ``<image>``, ``{{...}}``).
_NOT_LITERAL = re.compile(r"[$<>{}`]")
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", "((", "))"})


def _words(line: str) -> list[str]:
    """A shell line's words and operators (``;``, ``&&``, ``|``, ``(``...); plain splitting if quotes are open."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: a line of a multi-line command, or prose in a code block
        return line.split()


def _kubectl_images(args: Sequence[str]) -> list[str]:
    """The images one kubectl invocation sets: ``--image`` (create deployment, run, create job...) and the
    CONTAINER=IMAGE pairs of ``set image``.

    ``set image`` reads its arguments like upstream ``getResourcesAndImages``
    (staging/src/k8s.io/kubectl/pkg/cmd/set/set_image.go) with ``GetResourcesAndPairs`` and ``ParsePairs``
    (staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go): an argument with ``=`` not at its start is a pair,
    split at its first ``=``.
    """
    found: list[str] = []
    positional: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--image" and index + 1 < len(args):
            found.append(args[index + 1])
            index += 2
            continue
        if arg.startswith("--image="):
            found.append(arg.removeprefix("--image="))
        elif arg in _VALUE_FLAGS:
            index += 1  # skip the flag's value
        elif not arg.startswith("-"):
            positional.append(arg)
        index += 1
    if positional[:2] == ["set", "image"]:
        found += [arg.split("=", 1)[1] for arg in positional[2:] if "=" in arg and not arg.startswith("=")]
    return found


def command_images(command: str) -> list[tuple[int, str]]:
    """The images a shell command names, with the 0-based line of the command they are on.

    Found: kubectl's ``--image`` and ``set image`` pairs, and ``image:`` keys of manifests and patches written
    into the command. References that are not literal (``$IMAGE``, ``<image>``) are left out.
    """
    found: list[tuple[int, str]] = []
    for number, line in enumerate(command.splitlines()):
        if "image" not in line:
            continue  # every form names it (--image, set image, image:): most lines need no parsing
        words = _words(line)
        start: int | None = None
        for position in range(len(words) + 1):
            end = position == len(words) or words[position] in _SEPARATORS
            if end or words[position] == "kubectl" or words[position].endswith("/kubectl"):
                if start is not None:
                    found += [(number, image) for image in _kubectl_images(words[start:position])]
                start = position + 1 if not end else None
        found += [(number, match.group(1)) for match in _MANIFEST_IMAGE.finditer(line)]
    return [(number, image) for number, image in found if image and not _NOT_LITERAL.search(image)]


@functools.cache
def _markdown() -> Any:
    """The CommonMark parser (imported when a lesson is first read: ``kube-tutor cluster`` never needs it)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def code_lines(markdown: str) -> list[tuple[int, str]]:
    """Every line of the fenced code blocks of a Markdown text (a step's commands), with its 0-based line."""
    lines: list[tuple[int, str]] = []
    for token in _markdown().parse(markdown):
        if token.type == "fence" and token.map is not None:
            first = token.map[0] + 1  # the line after the opening fence
            lines += [(first + offset, line) for offset, line in enumerate(token.content.splitlines())]
    return lines


def _declared(images: Iterable[str]) -> set[str]:
    return {registry.normalize(image) for image in images}


def pods_that_cannot_run(pods: Iterable[Mapping[str, Any]], pull: Sequence[str], absent: Sequence[str]) -> list[str]:
    """Why pods will never run as the lesson means them to, one line each (empty: none).

    A container whose image the lesson does not declare (it would be missing on an offline node), and a
    container stuck in a :data:`PULL_FAILURES` state for an image the lesson does not declare as absent.

    Args:
        pods: the pods to look at (the active ones).
        pull: the images the lesson pulls (``images.pull``).
        absent: the images the lesson names although they do not exist (``images.absent``).
    """
    pulled, missing = _declared(pull), _declared(absent)
    problems: list[str] = []
    for pod in pods:
        name = (pod.get("metadata") or {}).get("name", "?")
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        reasons = {entry.get("name"): ((entry.get("state") or {}).get("waiting") or {}).get("reason")
                   for key in ("initContainerStatuses", "containerStatuses") for entry in status.get(key) or []}
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            image = container.get("image", "")
            reference = registry.normalize(image) if image else ""
            if reference in missing:
                continue
            if reference not in pulled:
                problems.append(f"pod {name} runs the image {image!r}, which the lesson does not declare "
                                "(add it to images.pull, or to images.absent if its failure to pull is the point)")
                continue
            reason = reasons.get(container.get("name"))
            if reason in PULL_FAILURES:
                problems.append(f"pod {name} can never start: its image {image!r} fails to pull ({reason}), "
                                "but the lesson declares it under images.pull")
    return problems


def _reasons(names: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{name}"' for name in sorted(names)) + "]"


# A container still getting its image: no status yet, or waiting as ContainerCreating / PodInitializing.
_GETTING = ('has(c.state.waiting) && (!has(c.state.waiting.reason) || c.state.waiting.reason in '
            '["ContainerCreating", "PodInitializing"])')
_FAILED = f"has(c.state.waiting) && has(c.state.waiting.reason) && c.state.waiting.reason in {_reasons(PULL_FAILURES)}"
# A pod is done with its images when it is not on a node (nothing is pulled for it), when an init container
# cannot get its image (the others wait for it forever), or when every container has a status past getting it.
_DONE = ("(!has(p.spec.nodeName)"
         f" || (has(p.status.initContainerStatuses) && p.status.initContainerStatuses.exists(c, {_FAILED}))"
         " || (has(p.status.containerStatuses) && p.status.containerStatuses.size() >= p.spec.containers.size()"
         f" && p.status.containerStatuses.all(c, !({_GETTING}))))")


@functools.cache
def images_settled() -> Check:
    """A check kube-tutor adds to a start state's ``ready``: every active pod is done getting its images (it
    pulled them, or failed to). Until then a pod that can never start looks like one about to."""
    import cel  # imported by tutor.lesson.loader first, which keeps the cel package's command-line tool out

    source = f"active_pods.all(p, {_DONE})"
    observed = f"active_pods.filter(p, !{_DONE}).map(p, p.metadata.name)"
    return Check(id="images-settled", cel=source,
                 text=Text(ja="どの Pod もイメージの取得を終えている（取得できたか、失敗したか）",
                           en="Every pod is done getting its images (pulled, or failed to)"),
                 missing=Text(ja="イメージを取得中の Pod：{observed}", en="Pods still getting their images: {observed}"),
                 observed=observed, probe=None, program=cel.compile(source), observed_program=cel.compile(observed))

"""Provides the kubectl guard: a ``kubectl`` first on the learner's PATH that keeps kubectl on kube-tutor's cluster.

The learner's console, the runtime of ``kube-tutor verify``/``reset``, the ``!`` shell and a terminal set up with
``eval "$(kube-tutor cluster env)"`` find the guard before the real kubectl (:func:`install` writes it,
``tutor.lesson.runtime.backend_env`` puts its directory first on PATH). It is a POSIX ``sh`` script that ``exec``\\ s
the real kubectl, so it costs about a millisecond (a Python shim would add 30-60 ms to every kubectl call), and it
sees the arguments and the environment after the shell has expanded them (``KUBECONFIG=... kubectl``,
``k=kubectl; $k ...``, ``/usr/bin/env kubectl ...``, ``xargs kubectl``). It:

- pins ``KUBECONFIG`` and ``KUBERC`` to kube-tutor's values whatever the caller set, with one line on stderr
  when they differed (:data:`PINNED_REASONS`);
- refuses the global flags that reach another cluster or identity (:data:`REFUSED_FLAGS`) and the
  ``kubectl config`` verbs that write a kubeconfig (:data:`CONFIG_WRITES`): one line naming what was refused
  and why, exit status 2, nothing run;
- otherwise runs the real kubectl with the arguments unchanged.

It reads the arguments as kubectl does (pflag and cobra, see :func:`refusal`): flags may stand anywhere before
``--``; ``--flag=value`` and ``--flag value``; a flag name's ``_`` reads as ``-`` (kubectl's
``WarnWordSepNormalizeFunc``); short flags group (``-ws URL`` is ``--watch --server URL``); the command is the first
word that is neither a flag nor the value of a global flag (``kubectl -n NS config use-context X``).

:func:`refusal` is the same rule in Python: ``tutor.shell.check_command`` applies it to the words of a typed
line, as a first pointer that refuses the whole line before any of it runs. The guard is the exact layer.

This is a guard against honest mistakes (a command copied from another tutorial), not a sandbox. It does not
stop the real kubectl run by its path (``$(which -a kubectl)``, the virtual environment's ``bin/kubectl``, a
``PATH`` that puts it first), a kubectl plugin that edits the kubeconfig itself, or any other program writing the
file. ``README.md`` says so to the learner.

Upstream: the global flags are those of ``kubectl options`` (kubectl 1.37), registered by
``staging/src/k8s.io/cli-runtime/pkg/genericclioptions/config_flags.go`` (``ConfigFlags.AddFlags``, with
``WithDeprecatedPasswordFlag``) and ``staging/src/k8s.io/kubectl/pkg/cmd/cmd.go`` (``--kuberc``, ``--warnings-as-errors``,
``--match-server-version``, klog's ``-v``/``--vmodule``/``--log-flush-frequency``, ``--profile``); the ``config``
verbs are those added in ``staging/src/k8s.io/kubectl/pkg/cmd/config/config.go`` (``use-context`` has the alias
``use``).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tutor import paths
from tutor.kube.files import atomic_write

REFUSED_FLAGS: Mapping[str, str] = {
    "--kubeconfig": "would make kubectl read another kubeconfig",
    "--context": "would point kubectl at another cluster",
    "--cluster": "would point kubectl at another cluster",
    "--server": "would send kubectl's requests to another API server",
    "-s": "would send kubectl's requests to another API server",
    "--token": "would make kubectl authenticate as another identity",
    "--user": "would make kubectl authenticate as another identity",
    "--username": "would make kubectl authenticate as another identity",
    "--password": "would make kubectl authenticate as another identity",
    "--client-certificate": "would make kubectl authenticate as another identity",
    "--client-key": "would make kubectl authenticate as another identity",
    "--as": "would make kubectl act as another identity",
    "--as-group": "would make kubectl act as another identity",
    "--as-uid": "would make kubectl act as another identity",
    "--as-user-extra": "would make kubectl act as another identity",
}
"""kubectl's global flags that reach another cluster or identity, each with the reason it is refused.

``--flag=value`` forms are refused too, and so is ``-s`` with its value attached (``-s=https://x``,
``-shttps://x``) or after grouped boolean short flags (``-ws``): pflag accepts all of them. Global flags that keep
the cluster and the identity stay allowed: ``-n``/``--namespace``, ``--request-timeout``, ``-v``, ``--cache-dir``,
``--certificate-authority``, ``--tls-server-name``, ``--insecure-skip-tls-verify`` (kubectl refuses it itself next to
the kubeconfig's CA), ``--proxy-url`` (the same server, reached through a proxy), ``--kuberc`` (kubectl refuses it
itself while ``KUBERC=off``), ``--disable-compression``, ``--match-server-version``, ``--warnings-as-errors``,
``--profile``, ``--profile-output``, ``--vmodule``, ``--log-flush-frequency``.
"""

CONFIG_WRITES = frozenset({
    "set-context", "use-context", "use", "set-cluster", "set-credentials", "set", "unset", "delete-context",
    "delete-cluster", "delete-user", "rename-context",
})
"""The ``kubectl config`` verbs that write a kubeconfig (``use`` is ``use-context``'s alias).

``view``, ``get-contexts``, ``get-clusters``, ``get-users`` and ``current-context`` only read it and stay allowed.
"""

PINNED_REASONS: Mapping[str, str] = {
    "KUBECONFIG": "the lesson's kubectl commands must keep using kube-tutor's own kubeconfig and practice cluster",
    "KUBERC": "kubectl must not load a kuberc, whose aliases and defaults would change what the lesson shows",
    "KUBECACHEDIR": "kubectl's discovery cache must stay kube-tutor's own, apart from your other clusters",
}
"""Why kube-tutor keeps each of these variables fixed (the console restores all three after every line)."""

GUARD_PINNED = ("KUBECONFIG", "KUBERC")
"""The variables the guard itself pins for kubectl: the ones that decide which cluster, identity and commands
kubectl uses. ``KUBECACHEDIR`` (like ``--cache-dir``) only moves kubectl's cache and is left as the caller set it."""

_VALUE_FLAGS = frozenset({
    "--namespace", "--request-timeout", "--v", "--vmodule", "--log-flush-frequency", "--cache-dir",
    "--certificate-authority", "--tls-server-name", "--proxy-url", "--kuberc", "--profile", "--profile-output",
})
"""The allowed global flags that take a value, which may be the next word (``-n NS``): that word is no command."""
_VALUE_SHORTHANDS = frozenset({"n", "v"})
BOOLEAN_SHORTHANDS = "AhiqRtw"
"""Short flags that take no value wherever kubectl defines them (``-A``, ``-h``, ``-i``, ``-q``, ``-R``, ``-t``,
``-w``): pflag reads the letter after them in the same word as another short flag (``-it``, ``-ws``). After any
other letter the rest of the word may be that flag's value (``-lsize=big``), so reading stops there."""

_EXIT_REFUSED = 2


def flag_refusal(flag: str) -> str:
    """The one-line refusal of a flag of :data:`REFUSED_FLAGS` (never echoing its value)."""
    return (f"kube-tutor: refused: `{flag}` {REFUSED_FLAGS[flag]}; the lesson's commands always use kube-tutor's "
            f"own kubeconfig. Run it without `{flag}`.")


def config_refusal(verb: str) -> str:
    """The one-line refusal of a ``kubectl config`` verb of :data:`CONFIG_WRITES`."""
    return (f"kube-tutor: refused: `kubectl config {verb}` would change kube-tutor's own kubeconfig, which the "
            f"lesson needs as it is; `kubectl config view`, `get-contexts` and `current-context` only read it, and "
            f"`-n NAMESPACE` picks a namespace for one command.")


def _normalized(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True)
class Word:
    """One word of kubectl's command line before ``--``, as pflag reads it (see :func:`scan`)."""

    kind: Literal["long", "short", "positional"]
    text: str
    """``long``: the flag's name with ``_`` read as ``-`` (``--as-group``); ``short``: the letters after ``-``
    (``it`` of ``-it``); ``positional``: the word (a command, a verb, a name)."""
    value: str | None = None
    """A long flag's ``=value``; None when it had none."""


def scan(arguments: Sequence[str]) -> Iterator[Word]:
    """kubectl's words up to ``--`` (the rest belongs to another program), read as pflag reads them: the value of
    a global flag that takes one (:data:`_VALUE_FLAGS`, ``-n``/``-v``) is skipped, not a positional word; a short
    group is read letter by letter while the letters take no value (``-ti``). The one scan behind the guard's
    :func:`refusal` and the console's refusal of programs that need a terminal (:mod:`tutor.shell`)."""
    value_next = False
    for word in arguments:
        if value_next:
            value_next = False
            continue
        if word == "--":
            return
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            name = _normalized(name)
            yield Word("long", name, value if equals else None)
            value_next = not equals and name in _VALUE_FLAGS
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            yield Word("short", letters)
            value_next = letters.lstrip(BOOLEAN_SHORTHANDS) in _VALUE_SHORTHANDS
        else:
            yield Word("positional", word)


def refusal(arguments: Sequence[str]) -> str | None:
    """Decide whether kubectl may run with these arguments (the words after ``kubectl``).

    The rule the guard script applies, read as pflag and cobra read kubectl's command line: everything after
    ``--`` belongs to another program (``kubectl exec pod -- curl -s ...``); a flag of :data:`REFUSED_FLAGS`
    anywhere before it is refused, ``--flag=value`` and ``--as_group`` (``_`` reads as ``-``) included; a short-flag
    word is read letter by letter while the letters take no value (``-ti``), and refused when it reaches ``s``;
    the first two words that are neither flags nor the value of a global flag are the command and its verb, and
    ``config`` with a verb of :data:`CONFIG_WRITES` is refused.

    Returns:
        None if kubectl may run, else the one-line refusal.
    """
    positional: list[str] = []
    for word in scan(arguments):
        if word.kind == "long" and word.text in REFUSED_FLAGS:
            return flag_refusal(word.text)
        if word.kind == "short" and word.text.lstrip(BOOLEAN_SHORTHANDS).startswith("s"):
            return flag_refusal("-s")
        if word.kind == "positional":
            positional.append(word.text)
            if len(positional) == 2 and positional[0] == "config" and word.text in CONFIG_WRITES:
                return config_refusal(word.text)
    return None


def _pin_lines(name: str, value: str) -> list[str]:
    quoted = shlex.quote(value)
    reason = shlex.quote(f": {PINNED_REASONS[name]}.")
    return [
        f'if [ -z "${{{name}+set}}" ]; then',
        f"  printf '%s%s\\n' 'kube-tutor: ignored unset {name}' {reason} >&2",
        f'elif [ "${name}" != {quoted} ]; then',
        f"  printf '%s%s%s\\n' 'kube-tutor: ignored {name}=' \"${name}\" {reason} >&2",
        "fi",
        f"{name}={quoted}; export {name}",
    ]


def script(kubectl: str | os.PathLike[str], pinned: Mapping[str, str]) -> str:
    """The guard's text: a POSIX ``sh`` script applying :func:`refusal` and then ``exec``\\ ing ``kubectl``.

    Args:
        kubectl: the real kubectl (an absolute path).
        pinned: the values the guard sets, e.g. ``{"KUBECONFIG": ..., "KUBERC": "off"}`` (names of
            :data:`PINNED_REASONS`).
    """
    def arm(patterns: Sequence[str], message: str) -> str:
        return f"      {'|'.join(patterns)}) refuse {shlex.quote(message)} ;;"

    long_flags = [flag for flag in REFUSED_FLAGS if flag.startswith("--")]
    before_verb, _, after_verb = config_refusal("\0").partition("\0")
    lines = [
        "#!/bin/sh",
        paths.KUBECTL_GUARD_MARKER.decode() + ": written by tutor/kubectl_guard.py; kube-tutor rewrites it.",
        "# It pins KUBECONFIG and KUBERC, refuses the kubectl flags that reach another cluster or identity and the",
        "# `kubectl config` verbs that write, then runs the real kubectl with the arguments unchanged.",
        "# A guard against honest mistakes, not a sandbox: the real kubectl run by its path is not guarded.",
        *[line for name, value in pinned.items() for line in _pin_lines(name, value)],
        "refuse() { printf '%s\\n' \"$1\" >&2; exit " + str(_EXIT_REFUSED) + "; }",
        "value_next=; count=0; command=",
        "for word do",
        '  if [ -n "$value_next" ]; then value_next=; continue; fi',
        "  case $word in",
        "    --) break ;;",
        "    --*)",
        "      name=${word%%=*}",
        "      while :; do case $name in *_*) name=${name%%_*}-${name#*_} ;; *) break ;; esac; done",
        "      case $name in",
        *[arm([flag], flag_refusal(flag)) for flag in long_flags],
        "      esac",
        "      case $word in *=*) ;; *) case $name in " + "|".join(sorted(_VALUE_FLAGS)) + ") value_next=1 ;; esac ;; esac",
        "      ;;",
        "    -?*)",
        "      letters=${word#-}",
        f"      while :; do case $letters in [{BOOLEAN_SHORTHANDS}]*) letters=${{letters#?}} ;; *) break ;; esac; done",
        "      case $letters in",
        arm(["s*"], flag_refusal("-s")),
        "      " + "|".join(sorted(_VALUE_SHORTHANDS)) + ") value_next=1 ;;",
        "      esac",
        "      ;;",
        "    *)",
        "      count=$((count + 1))",
        '      if [ "$count" = 1 ]; then command=$word',
        '      elif [ "$count" = 2 ] && [ "$command" = config ]; then',
        "        case $word in",
        f"        {'|'.join(sorted(CONFIG_WRITES))}) refuse {shlex.quote(before_verb)}\"$word\"{shlex.quote(after_verb)} ;;",
        "        esac",
        "      fi",
        "      ;;",
        "  esac",
        "done",
        f'exec {shlex.quote(os.fspath(kubectl))} "$@"',
    ]
    return "\n".join(lines) + "\n"


def install(kubeconfig: str | os.PathLike[str], kuberc: str = "off") -> Path:
    """Write the guard for one of kube-tutor's kubeconfigs (when its text changed) and return its directory.

    The guard lives in ``bin/`` beside the kubeconfig (:func:`tutor.paths.kubectl_guard`), private to the user
    (directories 0700, the script 0700), and ``exec``\\ s :func:`tutor.paths.kubectl`.

    Args:
        kubeconfig: kube-tutor's kubeconfig that kubectl must keep using.
        kuberc: the ``KUBERC`` value kubectl must keep (``off``: no kuberc).

    Raises:
        OSError: the directory cannot be written.
        FileNotFoundError: there is no real kubectl.
    """
    guard = paths.kubectl_guard(Path(kubeconfig))
    text = script(paths.kubectl(), {"KUBECONFIG": os.fspath(kubeconfig), "KUBERC": kuberc}).encode()
    try:
        current = guard.read_bytes()
    except OSError:
        current = None
    if current != text:
        missing = [directory for directory in (guard.parent, *guard.parent.parents) if not directory.exists()]
        for directory in reversed(missing):
            directory.mkdir(mode=0o700, exist_ok=True)
        atomic_write(guard, text, mode=0o700)
    return guard.parent

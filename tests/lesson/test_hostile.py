"""Hostile lessons end in one line, within a CPU and a memory limit (issue 9: "Hostile lessons (huge, deeply nested,
alias fan-out, long member chains, non-ASCII floods) end in a one-line error within 2 s and under 500 MB").

Each shape is linted by the real ``kube-tutor lint`` in a child process limited by the kernel to 500 MB of address
space and 2 s of CPU time (``RLIMIT_AS``, ``RLIMIT_CPU``: past either the child fails or dies, and the test fails on
its exit status), with a wall-clock deadline against a hang; its peak memory comes from ``wait4``. Wall-clock time
is a bench figure (bench/lesson_load.py), not asserted here: the machine is shared, and speed is never a timed
assertion in these tests.

The shapes are the ones that broke the loader before (a 750 KB ``cel`` string: 24 GB; a 40 KB chain of ``.x``
selections: SIGSEGV in the CEL parser, whose visitor recurses once per selection on the thread's C stack,
``cel/src/parser/parser.rs`` of cel-rust; a 9 KB alias fan-out: 8.9 s), and their relatives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lesson.test_lesson import BASE
from tutor import paths

MEMORY_LIMIT = 500 * 1024 * 1024
CPU_SECONDS = 2
DEADLINE_S = 60.0

CEL = "cel: size(pods) > 0"
"""The expression of :data:`BASE` that the CEL shapes replace (line 14, ``steps[0].checks[0].cel``)."""
HEAD, STEP = BASE.split("steps:\n")


def _cel(expression: str) -> str:
    """BASE with its check's expression replaced (single-quoted YAML)."""
    return BASE.replace(CEL, "cel: '" + expression.replace("'", "''") + "'")


def _steps(count: int, cel: str = "size(pods) > 0") -> str:
    """BASE with ``count`` steps, each with its own id and this expression."""
    return HEAD + "steps:\n" + "".join(
        STEP.replace("id: first", f"id: s{index}").replace(CEL, "cel: '" + cel.replace("'", "''") + "'")
        for index in range(count))


def _alias_fan_out() -> str:
    """A billion laughs in a step's text: nine levels of ten aliases each (~1 KB of YAML)."""
    levels = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 9))
    return BASE.replace("    text: {ja: 本文, en: Body}\n", "    text: {ja: 本文, en: Body}\n    x-anchors:\n"
                        + "".join("      " + line + "\n" for line in levels.splitlines())
                        + "    passed: {ja: *a8, en: *a8}\n")


def _steps_alias_fan_out() -> str:
    """One step anchored and listed again 2,000 times (each would be walked, compiled and parsed again)."""
    anchored = STEP.replace("  - id: first", "  - &s\n    id: first")
    return HEAD + "steps:\n" + anchored + "  - *s\n" * 2000


@dataclass(frozen=True)
class Shape:
    name: str
    build: Callable[[], str | bytes]
    line: int
    path: str
    message: str
    """The start of the one problem's message; ``{size}`` is the file's size in bytes."""


SHAPES = [
    # size
    Shape("huge-file", lambda: BASE + "# " + "x" * (32 * 1024 * 1024) + "\n", 1, "(file)",
          "the file is {size} bytes; a lesson file may have at most 524288 bytes (512 KiB)"),
    Shape("huge-cel-string", lambda: _cel("size(pods) > 0 && " * 25_000 + "true"), 14, "steps[0].checks[0].cel",
          "expression code point size exceeds limit: size: 450004, limit 10000"),
    Shape("huge-cel-file", lambda: _cel("size(pods) > 0 && " * 42_000 + "true"), 1, "(file)",
          "the file is {size} bytes; a lesson file may have at most 524288 bytes (512 KiB)"),
    Shape("cel-budget", lambda: _steps(5, "[" + ",".join(["1"] * 4_900) + "].size() > 0"), 44,
          "steps[3].checks[0].cel", "the lesson's CEL expressions are more than 32768 code points together"),
    Shape("node-flood", lambda: BASE + "extra: [" + ",".join(["a"] * 30_000) + "]\n", 18, "(file)",
          "the YAML has more than 20000 values (keys, values and list items)"),
    # nesting
    Shape("deep-yaml-block", lambda: "".join("  " * level + f"k{level}:\n" for level in range(40)), 32, "(file)",
          "the YAML is nested more than 32 levels deep"),
    Shape("deep-yaml-flow", lambda: "id: " + "[" * 5_000 + "]" * 5_000 + "\n", 1, "(file)", ""),
    Shape("member-chain-40kb", lambda: _cel("pods" + ".x" * 20_000 + " == 1"), 14, "steps[0].checks[0].cel",
          "expression code point size exceeds limit: size: 40009, limit 10000"),
    Shape("member-chain", lambda: _cel("pods" + ".x" * 4_000 + " == 1"), 14, "steps[0].checks[0].cel",
          "max recursion depth exceeded: the expression nests 4002 deep, more than 32"),
    Shape("call-chain", lambda: _cel("pods" + ".f()" * 2_000 + " == 1"), 14, "steps[0].checks[0].cel",
          "max recursion depth exceeded: the expression nests 2002 deep"),
    Shape("index-chain", lambda: _cel("pods" + "[0]" * 3_000 + " == 1"), 14, "steps[0].checks[0].cel",
          "max recursion depth exceeded"),
    Shape("arithmetic-chain", lambda: _cel("1" + " + 1" * 2_400 + " > 0"), 14, "steps[0].checks[0].cel",
          "max recursion depth exceeded: the expression nests 2402 deep"),
    Shape("nested-brackets", lambda: _cel("(" * 40 + "true" + ")" * 40), 14, "steps[0].checks[0].cel",
          "max recursion depth exceeded: the expression nests 41 deep"),
    Shape("nested-lists", lambda: _cel("[" * 3_000 + "]" * 3_000 + " == []"), 14, "steps[0].checks[0].cel",
          "max recursion depth exceeded"),
    Shape("nested-ternaries", lambda: _cel("true ? " * 600 + "true" + " : false" * 600), 14,
          "steps[0].checks[0].cel", "max recursion depth exceeded"),
    # aliases
    Shape("alias-fan-out", _alias_fan_out, 13, "steps[0].x-anchors.a1[0]",
          "YAML aliases ('*') are not supported; write out the value anchored ('&') on line 12"),
    Shape("steps-alias-fan-out", _steps_alias_fan_out, 19, "steps[1]",
          "YAML aliases ('*') are not supported; write out the value anchored ('&') on line 8"),
    Shape("recursive-alias", lambda: "id: &a [*a]\n", 1, "id[0]", "YAML aliases ('*') are not supported"),
    # non-ASCII floods
    Shape("non-ascii-text", lambda: BASE.replace("Body}", "Body" + "日本語のテキスト" * 40_000 + "}"), 1, "(file)",
          "the file is {size} bytes"),
    Shape("non-ascii-cel", lambda: _cel('"' + "日" * 20_000 + '" == ""'), 14, "steps[0].checks[0].cel",
          "expression code point size exceeds limit: size: 20008, limit 10000"),
    Shape("non-ascii-key", lambda: BASE.replace("id: tiny\n", "id: tiny\n" + "鍵" * 300 + ": 1\n"), 2,
          "鍵" * 300, "unknown key '" + "鍵" * 300 + "' in the lesson; allowed keys"),
    Shape("not-utf8", lambda: BASE.encode() + b"# \xff\xfe" * 100_000 + b"\n", 18, "(file)", "not UTF-8 text (byte 0xff)"),
    # a syntax error past column 65,535 made the CEL library panic (PyO3's PanicException is no Exception)
    Shape("unterminated-string", lambda: _cel('"' + "x" * 9_990), 14, "steps[0].checks[0].cel",
          "does not compile: Syntax error: token recognition error"),
]


_LAUNCHER = """
import os, resource, subprocess, sys, time
memory, cpu, out, err = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

def limit():
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

started = time.perf_counter()
with open(out, "wb") as stdout, open(err, "wb") as stderr:
    child = subprocess.Popen(sys.argv[5:], stdout=stdout, stderr=stderr, preexec_fn=limit)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime,
      time.perf_counter() - started)
"""
"""Runs a command under the limits and prints its exit status, peak RSS (KB), CPU and wall seconds. A process
started by the test itself would inherit the test's own peak RSS (Linux keeps the high-water mark of the memory
a process had before ``execve``), so the launcher, a small process, starts the command and reports on it."""


@dataclass(frozen=True)
class Run:
    status: int
    lines: list[str]
    stderr: str
    peak_bytes: int
    cpu_s: float
    wall_s: float


def lint_limited(file: Path) -> Run:
    """``kube-tutor lint FILE`` limited to :data:`MEMORY_LIMIT` and :data:`CPU_SECONDS`, with what it used."""
    out, err = file.with_suffix(".out"), file.with_suffix(".err")
    launcher = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(MEMORY_LIMIT), str(CPU_SECONDS), str(out),
                                 str(err), str(paths.bin_dir() / "kube-tutor"), "lint", str(file)],
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        report, _ = launcher.communicate(timeout=DEADLINE_S)  # against a hang only: the CPU limit bounds the work
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)  # the launcher's own session: it and the lint it started
        launcher.communicate()
        pytest.fail(f"kube-tutor lint {file.name} still ran after {DEADLINE_S:g} s")
    status, peak_kb, cpu, wall = report.split()
    return Run(int(status), out.read_text(encoding="utf-8").splitlines(), err.read_text(encoding="utf-8"),
               int(peak_kb) * 1024, float(cpu), float(wall))


@pytest.mark.parametrize("shape", SHAPES, ids=[shape.name for shape in SHAPES])
def test_a_hostile_lesson_is_one_line_within_the_limits(tmp_path: Path, shape: Shape) -> None:
    file = tmp_path / f"{shape.name}.yaml"
    content = shape.build()
    data = content if isinstance(content, bytes) else content.encode()
    file.write_bytes(data)
    run = lint_limited(file)
    assert (run.status, run.stderr) == (1, ""), f"status {run.status}: {run.stderr[-2000:]}"
    assert len(run.lines) == 1, run.lines[:5]
    prefix = f"{file}:{shape.line}: {shape.path}: "
    assert run.lines[0].startswith(prefix + shape.message.format(size=len(data))), run.lines[0][:400]
    assert run.peak_bytes < MEMORY_LIMIT


def test_the_limits_are_felt(tmp_path: Path) -> None:
    """The launcher's limits do bind: a child that wants more memory or CPU than allowed fails."""
    hungry = tmp_path / "hungry.py"
    hungry.write_text("import sys\nblock = bytearray(600 * 1024 * 1024)\nprint('allocated')\n", encoding="utf-8")
    out, err = tmp_path / "out", tmp_path / "err"
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(MEMORY_LIMIT), str(CPU_SECONDS), str(out), str(err),
                           sys.executable, str(hungry)], capture_output=True, text=True, timeout=DEADLINE_S, check=True)
    assert done.stdout.split()[0] == "1" and "MemoryError" in err.read_text(encoding="utf-8")
    busy = tmp_path / "busy.py"
    busy.write_text("while True:\n    pass\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, str(MEMORY_LIMIT), "1", str(out), str(err),
                           sys.executable, str(busy)], capture_output=True, text=True, timeout=DEADLINE_S, check=True)
    assert int(done.stdout.split()[0]) in (-signal.SIGXCPU, -signal.SIGKILL)  # the soft limit, or the hard one

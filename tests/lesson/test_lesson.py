"""Tests for tutor.lesson: the lesson model, the strict loader and ``kube-tutor lint``."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tutor
from tutor.lesson import (
    CEL_NAMES,
    Check,
    Lesson,
    LessonError,
    Problem,
    Setup,
    Step,
    Text,
    cellint,
    lesson_files,
    lint,
    lint_main,
    load_lesson,
    loader,
)
from tutor.lesson.checks import CommandRun, build_context
from tutor.lesson.model import CEL_OBJECT_TYPES, CEL_TYPES

MINIMAL = Path(__file__).parent.parent / "data" / "lessons" / "minimal.yaml"

# A small valid lesson; the variants below change one spot of it. Line numbers, for reference:
#  1 id   2 title   3 description   4 setup   5 setup.text   6 setup.commands   7 steps
#  8 steps[0].id   9 title   10 text   11 commands   12 checks   13 checks[0].id   14 cel   15 text
# 16 hint   17 solution
BASE = """\
id: tiny
title: {ja: 小さい, en: Tiny}
description: {ja: 説明, en: About}
setup:
  text: {ja: 始め, en: Start}
  commands: [kubectl get pods]
steps:
  - id: first
    title: {ja: 一, en: One}
    text: {ja: 本文, en: Body}
    commands: [kubectl get pods]
    checks:
      - id: some-pods
        cel: size(pods) > 0
        text: {ja: Pod がある, en: Pods exist}
    hint: {ja: ヒント, en: Hint}
    solution: [kubectl get pods]
"""

CHECK_BLOCK = """\
      - id: some-pods
        cel: size(pods) > 0
        text: {ja: Pod がある, en: Pods exist}
"""

STEP_BLOCK = BASE[BASE.index("  - id: first"):]

SUMMARY_ERROR = ("unknown key 'summary' in the lesson; allowed keys: id, title, description, setup, steps, images, "
                 "auto_advance")
STEP_KEYS = "id, title, text, commands, checks, hint, solution, expect, passed, timeout, say, pause"

# (case id, text to replace in BASE, replacement, line, path, message, whole: the message is exact)
VARIANTS = [
    ("unknown-top-level-key", "id: tiny\n", "id: tiny\nsummary: {ja: a, en: b}\n", 2, "summary",
     SUMMARY_ERROR, True),
    ("auto-advance-not-a-boolean", "id: tiny\n", "id: tiny\nauto_advance: yes\n", 2, "auto_advance",
     "expected true or false, got 'yes'", True),
    ("auto-advance-a-string", "id: tiny\n", "id: tiny\nauto_advance: 'false'\n", 2, "auto_advance",
     "expected true or false, got 'false'", True),
    ("unknown-setup-key", "  commands: [kubectl get pods]\nsteps:", "  commands: [kubectl get pods]\n  wait: 3\nsteps:",
     7, "setup.wait", "unknown key 'wait' in setup; allowed keys: text, commands, ready, timeout", True),
    ("unknown-check-key-with-suggestion", "Pods exist}\n", "Pods exist}\n        mising: {ja: a, en: b}\n", 16,
     "steps[0].checks[0].mising",
     "unknown key 'mising' in a check (did you mean 'missing'?); allowed keys: id, cel, text, missing, observed, probe",
     True),
    ("missing-required-step-key", "    hint: {ja: ヒント, en: Hint}\n", "", 8, "steps[0].hint",
     "required key 'hint' is missing from a step", True),
    ("missing-required-setup-key", "Start}\n  commands: [kubectl get pods]\n", "Start}\n", 5, "setup.commands",
     "required key 'commands' is missing from setup", True),
    ("missing-required-check-key", "        cel: size(pods) > 0\n", "", 13, "steps[0].checks[0].cel",
     "required key 'cel' is missing from a check", True),
    ("commands-is-a-string", "    commands: [kubectl get pods]", "    commands: kubectl get pods", 11,
     "steps[0].commands", "expected a list of strings, got a string", True),
    ("title-is-a-string", "title: {ja: 小さい, en: Tiny}", "title: Tiny", 2, "title",
     "expected a text (a map with ja and en), got a string", True),
    ("id-is-a-number", "id: tiny", "id: 42", 1, "id",
     "expected an id (a string), got an integer ('42'; put it in quotes to make it a string)", True),
    ("steps-is-a-map", "  - id: first\n", "  first:\n    id: first\n", 8, "steps",
     "expected a list of steps, got a map", True),
    ("command-read-as-a-map", "    solution: [kubectl get pods]", "    solution:\n      - echo a: b", 18,
     "steps[0].solution[0]",
     "expected a command (a string), got a map (YAML reads ': ' inside a command as a map; "
     "put the whole command in quotes)", True),
    ("text-missing-en", "title: {ja: 小さい, en: Tiny}", "title: {ja: 小さい}", 2, "title.en",
     "the English text is missing; a text needs both ja and en", True),
    ("text-whitespace-only", "hint: {ja: ヒント, en: Hint}", 'hint: {ja: "  ", en: Hint}', 16, "steps[0].hint.ja",
     "the Japanese text is empty", True),
    ("text-extra-language", "description: {ja: 説明, en: About}", "description: {ja: 説明, en: About, de: Über}",
     3, "description.de", "unknown language 'de'; a text has exactly ja and en", True),
    ("text-value-is-a-boolean", "title: {ja: 小さい, en: Tiny}", "title: {ja: 小さい, en: yes}", 2, "title.en",
     "expected the English text as a string, got a boolean ('yes'; put it in quotes to make it a string)", True),
    ("bad-step-id", "  - id: first", "  - id: First_Step", 8, "steps[0].id",
     "'First_Step' is not a valid id; use lowercase letters, digits and '-' (not first or last), like 'scale-up'",
     True),
    ("id-ends-with-dash", "id: tiny", "id: tiny-", 1, "id",
     "'tiny-' is not a valid id; use lowercase letters, digits and '-' (not first or last), like 'scale-up'", True),
    ("duplicate-step-id", STEP_BLOCK, STEP_BLOCK + STEP_BLOCK, 18, "steps[1].id",
     "duplicate step id 'first' (already used by steps[0] on line 8)", True),
    ("duplicate-check-id", CHECK_BLOCK, CHECK_BLOCK + CHECK_BLOCK, 16, "steps[0].checks[1].id",
     "duplicate check id 'some-pods' (already used by steps[0].checks[0] on line 13)", True),
    ("duplicate-mapping-key", "id: tiny\n", "id: tiny\nid: other\n", 2, "id",
     "duplicate key 'id' (first on line 1); YAML would keep only the last", True),
    ("steps-empty", STEP_BLOCK, "", 7, "steps", "expected a list of steps, got an empty value", True),
    ("steps-empty-list", "steps:\n" + STEP_BLOCK, "steps: []\n", 7, "steps",
     "is an empty list; give at least one step", True),
    ("step-without-checks", "    checks:\n" + CHECK_BLOCK, "    checks: []\n", 12, "steps[0].checks",
     "is an empty list; give at least one check", True),
    ("empty-commands-list", "    commands: [kubectl get pods]", "    commands: []", 11, "steps[0].commands",
     "is an empty list; give at least one command", True),
    ("empty-solution-list", "    solution: [kubectl get pods]", "    solution: []", 17, "steps[0].solution",
     "is an empty list; give at least one command", True),
    ("empty-command-string", "    solution: [kubectl get pods]", '    solution: [kubectl get pods, "  "]', 17,
     "steps[0].solution[1]", "the command is empty", True),
    ("expect-unknown", "    solution: [kubectl get pods]\n", "    solution: [kubectl get pods]\n    expect: fail\n",
     18, "steps[0].expect", "expected 'success' or 'failure', got 'fail'", True),
    ("timeout-boolean", "    solution: [kubectl get pods]\n", "    solution: [kubectl get pods]\n    timeout: true\n",
     18, "steps[0].timeout", "expected a positive number of seconds, got a boolean", True),
    ("timeout-zero", "Start}\n  commands: [kubectl get pods]\n", "Start}\n  commands: [kubectl get pods]\n  timeout: 0\n", 7,
     "setup.timeout", "expected a positive number of seconds, got 0", True),
    ("timeout-negative", "    solution: [kubectl get pods]\n", "    solution: [kubectl get pods]\n    timeout: -1.5\n",
     18, "steps[0].timeout", "expected a positive number of seconds, got -1.5", True),
    ("timeout-with-unit", "    solution: [kubectl get pods]\n", "    solution: [kubectl get pods]\n    timeout: 30s\n",
     18, "steps[0].timeout", "expected a positive number of seconds, got a string '30s'", True),
    ("cel-does-not-compile", "cel: size(pods) > 0", "cel: size(pods) >", 14, "steps[0].checks[0].cel",
     "does not compile: Syntax error: mismatched input '<EOF>'", False),
    ("observed-does-not-compile", "Pods exist}\n", "Pods exist}\n        observed: pods[\n", 16,
     "steps[0].checks[0].observed", "does not compile: Syntax error: ", False),
    ("cel-empty", "cel: size(pods) > 0", 'cel: ""', 14, "steps[0].checks[0].cel",
     "the expression is empty; write a CEL expression", True),
    ("cel-unknown-name", "cel: size(pods) > 0", "cel: size(podz) > 0", 14, "steps[0].checks[0].cel",
     "uses unknown name 'podz' (did you mean 'pods'?); an expression can use active_pods, ", False),
    ("cel-probe-without-probe", "cel: size(pods) > 0", "cel: probe.exit == 0", 14, "steps[0].checks[0].cel",
     "uses 'probe' but the check has no probe command", True),
    ("missing-unknown-placeholder", "Pods exist}\n",
     'Pods exist}\n        observed: string(size(pods))\n        missing: {ja: "{count} 個", en: "{observed} pods"}\n',
     17, "steps[0].checks[0].missing.ja", "unknown placeholder '{count}'; only {observed} and {namespace} are replaced", True),
    ("missing-observed-without-expression", "Pods exist}\n",
     'Pods exist}\n        missing: {ja: "{observed} 個", en: "none yet"}\n', 16, "steps[0].checks[0].missing.ja",
     "uses {observed} but the check has no 'observed' expression", True),
    # lint types each expression against the names a check sees (tutor/lesson/model.py CEL_TYPES), as
    # kube-apiserver compiles a ValidatingAdmissionPolicy's validations (its wording: "must evaluate to bool but
    # got dyn", k8s.io/apiserver/pkg/admission/plugin/cel/compile.go)
    ("cel-not-bool-dyn", "cel: size(pods) > 0", 'cel: deployment["web"]', 14, "steps[0].checks[0].cel",
     "must evaluate to bool but got dyn; compare the value (e.g. == true) or test it with has()", True),
    ("cel-not-bool-int", "cel: size(pods) > 0", "cel: size(pods)", 14, "steps[0].checks[0].cel",
     "must evaluate to bool but got int", True),
    ("cel-not-bool-list", "cel: size(pods) > 0", "cel: pods.filter(p, has(p.spec))", 14, "steps[0].checks[0].cel",
     "must evaluate to bool but got list(dyn)", True),
    ("cel-not-bool-branches", "cel: size(pods) > 0", "cel: \"size(pods) > 0 ? 'yes' : 'no'\"", 14,
     "steps[0].checks[0].cel", "must evaluate to bool but got string", True),
    ("cel-field-of-a-list", "cel: size(pods) > 0", "cel: pods.metadata.name == 'web'", 14, "steps[0].checks[0].cel",
     "type 'list(dyn)' does not support field selection", True),
    ("cel-undefined-probe-field", "cel: size(pods) > 0", "cel: probe.code == 0\n        probe: kubectl get pods", 14,
     "steps[0].checks[0].cel", "undefined field 'code' (of kube_tutor.Probe: exit, output)", True),
    # constant arguments are evaluated like upstream's literal validators (k8s.io/apiserver/pkg/cel/environment
    # /base.go: cel.ValidateTimestampLiterals, ValidateDurationLiterals, ValidateRegexLiterals; cel-go
    # cel/validator.go words them "invalid %s argument")
    ("cel-invalid-timestamp", "cel: size(pods) > 0", "cel: \"timestamp('x') < timestamp('2030-01-01T00:00:00Z')\"",
     14, "steps[0].checks[0].cel", "invalid timestamp argument 'x': premature end of input", True),
    ("cel-invalid-duration", "cel: size(pods) > 0", "cel: \"duration('1h') > duration('an hour')\"", 14,
     "steps[0].checks[0].cel", "invalid duration argument 'an hour': ", False),
    ("cel-invalid-regex", "cel: size(pods) > 0", "cel: \"history.exists(c, c.matches('('))\"", 14,
     "steps[0].checks[0].cel", "invalid matches argument '(': '(' not a valid regex (unclosed group)", True),
    ("cel-global-matches", "cel: size(pods) > 0", "cel: \"matches('(')\"", 14, "steps[0].checks[0].cel",
     "matches('(') always fails: Undefined variable or function: 'matches'", True),
    ("cel-constant-that-fails", "cel: size(pods) > 0", "cel: \"size(pods) == int('three')\"", 14,
     "steps[0].checks[0].cel", "int('three') always fails: string parse error: invalid digit found in string", True),
    ("observed-invalid-regex", "Pods exist}\n", "Pods exist}\n        observed: \"string(history.exists(c, c.matches('[')))\"\n", 16,
     "steps[0].checks[0].observed", "invalid matches argument '[': '[' not a valid regex (unclosed character class)",
     True),
    # limits, before the CEL compiler sees the expression (cel-go's parser limits, smaller: tutor/lesson/cellint.py)
    ("cel-too-long", "cel: size(pods) > 0", "cel: " + " || ".join(["size(pods) > 0"] * 600), 14,
     "steps[0].checks[0].cel", "expression code point size exceeds limit: size: 10796, limit 10000", True),
    ("cel-too-deep", "cel: size(pods) > 0", "cel: " + "(" * 32 + "true" + ")" * 32, 14, "steps[0].checks[0].cel",
     "max recursion depth exceeded: the expression nests 33 deep, more than 32 (brackets, conditionals, and the "
     "selections, indexes and operators of one chain)", True),
    ("cel-chain-too-long", "cel: size(pods) > 0", "cel: " + "pods" + "[0]" * 31 + " == 1", 14,
     "steps[0].checks[0].cel", "max recursion depth exceeded: the expression nests 33 deep", False),
    ("merge-key", "setup:\n", "setup:\n  <<: {}\n", 5, "setup",
     "YAML merge keys ('<<') are not supported; write the keys out", True),
    ("yaml-syntax-error", "title: {ja: 小さい, en: Tiny}", "title: {ja: 小さい, en: Tiny", 3, "(file)",
     "not valid YAML: ", False),
    # images: each pulled image is in the practice cluster's offline catalogue, each absent one is not in it,
    # and every image a command names is declared (tutor/practice/node/registry.py)
    ("images-pull-not-offline", "About}\n", "About}\nimages: {pull: [nginx]}\n", 4, "images.pull[0]",
     "'nginx' is not available offline: the practice cluster has no docker.io/library/nginx:latest (it has "
     "gcr.io/google-samples/kubernetes-bootcamp:v1, docker.io/jocatalin/kubernetes-bootcamp:v2); an image that "
     "must fail to pull goes under images.absent", True),
    ("images-absent-but-offline", "About}\n",
     "About}\nimages:\n  pull: [gcr.io/google-samples/kubernetes-bootcamp:v1]\n"
     "  absent: [jocatalin/kubernetes-bootcamp:v2]\n", 6, "images.absent[0]",
     "'jocatalin/kubernetes-bootcamp:v2' is declared absent, but the practice cluster has "
     "docker.io/jocatalin/kubernetes-bootcamp:v2: it would pull; put it under images.pull", True),
    ("images-declared-twice", "About}\n",
     "About}\nimages:\n  pull:\n    - jocatalin/kubernetes-bootcamp:v2\n"
     "    - docker.io/jocatalin/kubernetes-bootcamp:v2\n", 7, "images.pull[1]",
     "'docker.io/jocatalin/kubernetes-bootcamp:v2' is declared twice (already images.pull[0] on line 6)", True),
    ("images-without-pull", "About}\n", "About}\nimages: {absent: [jocatalin/kubernetes-bootcamp:v10]}\n", 4,
     "images.pull", "required key 'pull' is missing from images", True),
    ("images-unknown-key", "About}\n", "About}\nimages: {pull: [jocatalin/kubernetes-bootcamp:v2], preload: []}\n",
     4, "images.preload", "unknown key 'preload' in images; allowed keys: pull, absent", True),
    ("image-undeclared-in-solution", "    solution: [kubectl get pods]", "    solution: [kubectl run web --image nginx:1.27]",
     17, "steps[0].solution[0]", "uses the image 'nginx:1.27', which images does not declare; add it to images.pull "
     "(or to images.absent if its failure to pull is the point)", True),
    ("image-undeclared-in-setup", "  commands: [kubectl get pods]\nsteps:",
     "  commands: [kubectl get pods, 'kubectl set image deploy/web web=jocatalin/kubernetes-bootcamp:v10']\nsteps:",
     6, "setup.commands[1]", "uses the image 'jocatalin/kubernetes-bootcamp:v10', which images does not declare; ",
     False),
    ("image-undeclared-in-a-code-block-of-a-step-text", "    text: {ja: 本文, en: Body}\n",
     "    text:\n      ja: 本文\n      en: |\n        Run this:\n\n        ```\n"
     "        kubectl create deployment web --image=busybox\n        ```\n", 16, "steps[0].text.en",
     "uses the image 'busybox', which images does not declare; ", False),
]

# (case id, file content, line, path, message, whole)
WHOLE_FILES = [
    ("empty-file", b"", 1, "(file)",
     "the file is empty; a lesson is a map with id, title, description, setup and steps", True),
    ("only-comments", b"# nothing yet\n\n", 1, "(file)",
     "the file is empty; a lesson is a map with id, title, description, setup and steps", True),
    ("top-level-list", b"- id: tiny\n", 1, "(top level)",
     "expected a map with id, title, description, setup and steps at the top level, got a list", True),
    ("not-utf8", "id: tiny\ntitle: {ja: caf\xe9, en: cafe}\n".encode("latin-1"), 2, "(file)",
     "not UTF-8 text (byte 0xe9); save the file as UTF-8", True),
    ("two-documents", BASE.encode() + b"---\nid: other\n", 18, "(file)",
     "a lesson file holds one YAML document, but found a second one ('---')", True),
    ("control-character", b"id: tiny\ntitle: \x07\n", 2, "(file)",
     "not valid YAML: character #x0007 is not allowed (control characters are not allowed)", True),
    ("tab-indentation", b"id: tiny\n\ttitle: x\n", 2, "(file)", "not valid YAML: ", False),
    # bounded before anything expensive runs (tutor/lesson/loader.py: MAX_FILE_BYTES, MAX_YAML_DEPTH,
    # MAX_YAML_NODES; aliases refused); the hostile shapes themselves are in test_hostile.py
    ("too-large", BASE.encode() + b"#" * (512 * 1024), 1, "(file)",
     f"the file is {len(BASE.encode()) + 512 * 1024} bytes; a lesson file may have at most 524288 bytes (512 KiB)",
     True),
    ("nested-too-deeply", BASE.encode() + b"extra: " + b"[" * 40 + b"]" * 40 + b"\n", 18, "(file)",
     "the YAML is nested more than 32 levels deep; a lesson needs 7", True),
    ("too-many-nodes", BASE.encode() + b"extra: [" + b",".join([b"x"] * 20_000) + b"]\n", 18, "(file)",
     "the YAML has more than 20000 values (keys, values and list items); a lesson is much smaller", True),
    ("alias", BASE.replace("    hint: {ja: ヒント, en: Hint}", "    hint: &hint {ja: ヒント, en: Hint}\n    passed: *hint")
     .encode(), 17, "steps[0].passed",
     "YAML aliases ('*') are not supported; write out the value anchored ('&') on line 16", True),
]


def _matches(problem: Problem, line: int, path: str, message: str, whole: bool) -> bool:
    if (problem.line, problem.path) != (line, path):
        return False
    return problem.message == message if whole else message in problem.message


def _check_reported(file: str, line: int, path: str, message: str, whole: bool) -> None:
    """The file fails to load with that problem, and lint_main prints it and returns 1."""
    with pytest.raises(LessonError) as caught:
        load_lesson(file)
    problems = caught.value.problems
    assert any(_matches(p, line, path, message, whole) for p in problems), "\n".join(map(str, problems))
    assert all(p.file == Path(file) for p in problems)
    out = io.StringIO()
    assert lint_main([file], out) == 1
    printed = out.getvalue().splitlines()
    prefix = f"{file}:{line}: {path}: "
    if whole:
        assert prefix + message in printed
    else:
        assert any(row.startswith(prefix) and message in row for row in printed), printed
    assert printed == [str(p) for p in problems]
    assert "Traceback" not in out.getvalue()


@pytest.fixture
def lessons_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``lessons/`` folder in a temporary working directory, so files are named relatively."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "lessons"
    folder.mkdir()
    return folder


def _write(lessons_dir: Path, content: str | bytes, name: str = "broken.yaml") -> str:
    target = lessons_dir / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    return f"lessons/{name}"


# ---- the good lesson ------------------------------------------------------------------------------


def test_minimal_fixture_loads_into_the_dataclasses() -> None:
    lesson = load_lesson(MINIMAL)
    assert isinstance(lesson, Lesson)
    assert lesson.id == "minimal"
    assert lesson.path == MINIMAL
    assert lesson.title == Text(ja="最小のレッスン", en="A minimal lesson")
    assert lesson.description.get("en") == "Create one Deployment and scale it."
    assert lesson.images == ("gcr.io/google-samples/kubernetes-bootcamp:v1",)
    assert lesson.absent_images == ("gcr.io/google-samples/kubernetes-bootcamp:v0",)
    assert lesson.auto_advance is False  # the fixture turns it off

    assert isinstance(lesson.setup, Setup)
    assert lesson.setup.commands == ("kubectl delete deployment web --ignore-not-found",)
    assert lesson.setup.timeout == 30.0
    assert [check.id for check in lesson.setup.ready] == ["no-web"]

    assert [step.id for step in lesson.steps] == ["create", "scale-up"]
    create, scale = lesson.steps
    assert isinstance(create, Step)
    assert create.text.en == "Use `kubectl create deployment`.\n"
    assert create.commands == ("kubectl create deployment web --image=gcr.io/google-samples/kubernetes-bootcamp:v1",)
    assert create.solution == ("kubectl create deployment web --image=gcr.io/google-samples/kubernetes-bootcamp:v1",)
    assert create.hint == Text(ja="`create` です。", en="It is `create`.")
    assert (create.expect, create.passed, create.timeout) == ("success", None, 60.0)

    assert scale.commands == ("kubectl scale deployment web --replicas=3", "kubectl get pods")
    assert (scale.expect, scale.timeout) == ("failure", 2.5)
    assert scale.passed == Text(ja="予定どおりです。", en="As planned.")
    three, probed = scale.checks
    assert isinstance(three, Check)
    assert three.cel == "size(active_pods) == 3"
    assert three.observed == "string(size(active_pods))"
    assert three.missing == Text(ja="今は {observed} 個", en="{observed} pods so far")
    assert three.probe is None
    assert probed.probe == "kubectl get deployment web"
    assert (probed.missing, probed.observed, probed.observed_program) == (None, None, None)


def test_expressions_are_compiled_when_the_lesson_loads() -> None:
    lesson = load_lesson(str(MINIMAL))
    three, probed = lesson.step("scale-up").checks
    assert three.program.execute({"active_pods": [{}, {}, {}]}) is True
    assert three.program.execute({"active_pods": [{}]}) is False
    assert three.observed_program.execute({"active_pods": [{}]}) == "1"
    assert probed.program.execute({"probe": {"exit": 0, "output": ""}}) is True
    assert lesson.setup.ready[0].program.execute({"deployment": {}}) is True


def test_step_lookup_and_text_languages() -> None:
    lesson = load_lesson(MINIMAL)
    assert lesson.index("scale-up") == 1
    assert lesson.step("create") is lesson.steps[0]
    with pytest.raises(KeyError):
        lesson.step("nope")
    with pytest.raises(KeyError):
        lesson.index("nope")
    assert lesson.title.get("ja") == "最小のレッスン"
    with pytest.raises(KeyError):
        lesson.title.get("fr")


def test_loading_twice_gives_equal_lessons() -> None:
    assert load_lesson(MINIMAL) == load_lesson(MINIMAL)


def test_the_base_of_the_variants_is_valid(lessons_dir: Path) -> None:
    lesson = load_lesson(_write(lessons_dir, BASE, "tiny.yaml"))
    assert lesson.setup.ready == ()
    assert lesson.setup.timeout == 120.0
    assert lesson.steps[0].checks[0].missing is None


def test_lint_main_on_a_good_file_says_ok() -> None:
    out = io.StringIO()
    assert lint_main([str(MINIMAL)], out) == 0
    assert out.getvalue() == f"{MINIMAL}: ok (2 steps)\n"
    assert lint([MINIMAL]) == []


def test_lint_main_names_files_as_given(lessons_dir: Path) -> None:
    _write(lessons_dir, BASE, "tiny.yaml")
    out = io.StringIO()
    assert lint_main(["lessons/tiny.yaml"], out) == 0
    assert out.getvalue() == "lessons/tiny.yaml: ok (1 step)\n"


# ---- broken lessons -------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "line", "path", "message", "whole"),
                         [case[1:] for case in VARIANTS], ids=[case[0] for case in VARIANTS])
def test_broken_variant_is_reported(lessons_dir: Path, old: str, new: str, line: int, path: str, message: str,
                                    whole: bool) -> None:
    assert BASE.count(old) == 1
    file = _write(lessons_dir, BASE.replace(old, new))
    _check_reported(file, line, path, message, whole)
    assert len(lint([file])) == 1, "the variant has exactly one problem"


@pytest.mark.parametrize(("content", "line", "path", "message", "whole"),
                         [case[1:] for case in WHOLE_FILES], ids=[case[0] for case in WHOLE_FILES])
def test_broken_file_is_one_problem(lessons_dir: Path, content: bytes, line: int, path: str, message: str,
                                    whole: bool) -> None:
    file = _write(lessons_dir, content)
    _check_reported(file, line, path, message, whole)
    assert len(lint([file])) == 1


def test_cel_compile_error_is_one_line_with_its_position(lessons_dir: Path) -> None:
    file = _write(lessons_dir, BASE.replace("cel: size(pods) > 0", "cel: size(pods) >"))
    (problem,) = lint([file])
    assert "\n" not in problem.message
    assert problem.message.endswith("(at 1:13 of the expression)")


def test_a_declared_image_may_be_spelled_another_way(lessons_dir: Path) -> None:
    """``jocatalin/x:v2`` and ``docker.io/jocatalin/x:v2`` are one image (docker's normalization)."""
    declared = ("About}\nimages:\n  pull: [docker.io/jocatalin/kubernetes-bootcamp:v2]\n"
                "  absent: [jocatalin/kubernetes-bootcamp:v10]\n")
    used = ('    solution: ["kubectl set image deploy/web web=jocatalin/kubernetes-bootcamp:v2",'
            ' "kubectl set image deploy/web web=docker.io/jocatalin/kubernetes-bootcamp:v10"]')
    file = _write(lessons_dir, BASE.replace("About}\n", declared).replace("    solution: [kubectl get pods]", used))
    assert lint([file]) == []
    lesson = load_lesson(file)
    assert (lesson.images, lesson.absent_images) == (("docker.io/jocatalin/kubernetes-bootcamp:v2",),
                                                      ("jocatalin/kubernetes-bootcamp:v10",))


def test_a_lesson_without_images_uses_none(lessons_dir: Path) -> None:
    lesson = load_lesson(_write(lessons_dir, BASE, "tiny.yaml"))
    assert (lesson.images, lesson.absent_images) == ((), ())


def test_comprehension_variables_are_not_unknown_names(lessons_dir: Path) -> None:
    cel = 'cel: pods.all(p, p.status.phase == "Running") && deployments.exists(d, d.spec.replicas > 0)'
    file = _write(lessons_dir, BASE.replace("cel: size(pods) > 0", cel))
    assert lint([file]) == []


def test_missing_file_and_directory_are_problems(lessons_dir: Path) -> None:
    out = io.StringIO()
    assert lint_main(["lessons/nope.yaml", "lessons"], out) == 1
    assert out.getvalue().splitlines() == [
        "lessons/nope.yaml:1: (file): cannot read the file: no such file",
        "lessons:1: (file): cannot read the file: it is a directory",
    ]
    with pytest.raises(LessonError, match="no such file"):
        load_lesson("lessons/nope.yaml")


def test_all_problems_of_a_file_are_reported(lessons_dir: Path) -> None:
    broken = (BASE.replace("id: tiny", "id: Tiny")
              .replace("description: {ja: 説明, en: About}", "description: {ja: 説明}")
              .replace("    commands: [kubectl get pods]", "    commands: []")
              .replace("cel: size(pods) > 0", "cel: size(pods) >")
              .replace("    hint: {ja: ヒント, en: Hint}\n", "")
              + "extra: 1\n")
    file = _write(lessons_dir, broken)
    with pytest.raises(LessonError) as caught:
        load_lesson(file)
    found = [(p.line, p.path) for p in caught.value.problems]
    assert found == [
        (1, "id"),
        (3, "description.en"),
        (8, "steps[0].hint"),
        (11, "steps[0].commands"),
        (14, "steps[0].checks[0].cel"),
        (17, "extra"),
    ]
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    out = io.StringIO()
    assert lint_main([file], out) == 1
    assert len(out.getvalue().splitlines()) == 6


def test_lint_main_reports_every_file_and_fails_if_one_is_bad(lessons_dir: Path) -> None:
    bad = _write(lessons_dir, BASE.replace("id: tiny", "id: 42"))
    out = io.StringIO()
    assert lint_main([str(MINIMAL), bad], out) == 1
    assert out.getvalue().splitlines() == [
        f"{MINIMAL}: ok (2 steps)",
        f"{bad}:1: id: expected an id (a string), got an integer ('42'; put it in quotes to make it a string)",
    ]


def test_lint_main_without_files_fails() -> None:
    out = io.StringIO()
    assert lint_main([], out) == 1
    assert "no lesson files" in out.getvalue()


def test_problem_and_error_formatting() -> None:
    problem = Problem(Path("lessons/x.yaml"), 42, "steps[1].checks[0].cel", "does not compile: oops")
    assert str(problem) == "lessons/x.yaml:42: steps[1].checks[0].cel: does not compile: oops"
    error = LessonError([problem, Problem(Path("lessons/x.yaml"), 50, "id", "bad")])
    assert str(error) == "lessons/x.yaml:42: steps[1].checks[0].cel: does not compile: oops\nlessons/x.yaml:50: id: bad"
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems


def test_importing_the_lesson_module_does_not_import_textual() -> None:
    code = ("import sys, tutor.lesson; "
            "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(tutor.__file__).parent.parent)
    assert done.stdout.strip() == "False"


# ---- CEL: limits and types -------------------------------------------------------------------------

REAL_LESSONS = sorted([*lesson_files(Path(tutor.__file__).parent.parent / "lessons"),
                       *lesson_files(Path(__file__).parent.parent / "data" / "lessons")])

VALID_CHECKS = [
    'deployment["web"].spec.paused == true',
    '"web" in deployment && has(deployment["web"].status.readyReplicas)',
    'size(pods) > 0 ? pods[0].status.phase == "Running" : false',
    'vars.NODE_PORT == "30000" && vars["NODE_PORT"].startsWith("3")',
    'int(vars["N"]) == size(active_pods)',
    'history.exists(c, c.matches("^kubectl\\\\s+rollout"))',
    'timestamp("2030-01-01T00:00:00Z") > timestamp("2020-01-01T00:00:00Z") && duration("1h") > duration("30m")',
    'pods.all(p, p.metadata.name.startsWith("web-")) && events.exists_one(e, e.reason == "Failed")',
    'pods.map(p, p.metadata.name).exists(n, n == "web") && [1, 2, 3].exists(x, x == size(pods))',
    '-1 < size(pods) && b"abc" == b"abc" && r"\\d" != "" && 1u + 2u == 3u && 2.5 * 2.0 == 5.0',
    '{"a": true}["a"] && !("web" in service) || service["web"].spec.ports[0].nodePort > 30000',
    "(" * 31 + "true" + ")" * 31,
    " || ".join(["size(pods) > 0"] * 555),
]


@pytest.mark.parametrize("lesson", REAL_LESSONS, ids=[path.name for path in REAL_LESSONS])
def test_every_real_lesson_lints_clean_and_is_typed(lesson: Path) -> None:
    """lessons/ and tests/data/lessons/ stay clean, and the type checker parses every expression of them (an
    expression it cannot parse is never a problem, but then it is not typed either)."""
    assert lint([lesson]) == []
    for step in (load_lesson(lesson).setup, *load_lesson(lesson).steps):
        for check in step.ready if isinstance(step, Setup) else step.checks:
            for source in (check.cel, check.observed):
                if source is not None:
                    cellint._Parser(source, cellint._tokens(source)).parse()  # raises if it cannot
                    assert cellint.nesting(cellint._tokens(source)) <= cellint.MAX_NESTING


@pytest.mark.parametrize("cel", VALID_CHECKS, ids=range(len(VALID_CHECKS)))
def test_valid_checks_are_accepted(lessons_dir: Path, cel: str) -> None:
    file = _write(lessons_dir, BASE.replace("cel: size(pods) > 0", "cel: '" + cel.replace("'", "''") + "'"))
    assert lint([file]) == []


def test_observed_may_have_any_type(lessons_dir: Path) -> None:
    observed = 'Pods exist}\n        observed: deployment["web"]\n'
    assert lint([_write(lessons_dir, BASE.replace("Pods exist}\n", observed))]) == []


def test_the_cel_budget_counts_every_expression_of_the_lesson(lessons_dir: Path) -> None:
    """All expressions together are bounded (like kube-apiserver's RuntimeCELCostBudget beside its PerCallLimit,
    k8s.io/apiserver/pkg/apis/cel/config.go); the expression that goes over is the one problem."""
    long_check = " || ".join(["size(pods) > 0"] * 555)  # 9,986 code points
    steps = "".join(STEP_BLOCK.replace("id: first", f"id: s{index}").replace("cel: size(pods) > 0", f"cel: {long_check}")
                    for index in range(4))
    file = _write(lessons_dir, BASE.replace(STEP_BLOCK, steps))
    (problem,) = lint([file])
    assert (problem.line, problem.path) == (44, "steps[3].checks[0].cel")
    assert problem.message == ("the lesson's CEL expressions are more than 32768 code points together; this one and "
                               "the ones after it are not compiled")


def test_a_panic_of_the_cel_compiler_is_a_compile_error() -> None:
    """A syntax error past column 65,535 makes the Rust CEL library panic (PyO3's PanicException, a BaseException);
    the loader's length limit keeps such expressions from it, and the compiler wrapper turns a panic into
    ValueError all the same."""
    with pytest.raises(ValueError, match="the CEL compiler failed: "):
        cellint.compile_expression('"' + "x" * 70_000)


def test_the_declared_types_are_the_values_checks_see() -> None:
    """CEL_TYPES (what lint types expressions against) describes what build_context gives the expressions."""
    pod = {"metadata": {"name": "web-1"}, "status": {"phase": "Running"}}
    context = build_context({"pods": [pod], "deployments": [{"metadata": {"name": "web"}}]},
                            variables={"NODE_PORT": "30000"}, history=["kubectl get pods"],
                            commands=[CommandRun("kubectl get pods", 0, "No resources found\n")])
    assert set(context) == set(CEL_TYPES) == CEL_NAMES

    def conforms(value: Any, spelling: str) -> bool:
        declared = cellint.parse_type(spelling)
        if declared.name == "dyn":
            return True
        if declared.name == "list":
            return isinstance(value, list) and all(conforms(item, str(declared.params[0])) for item in value)
        if declared.name == "map":
            return isinstance(value, dict) and all(conforms(key, str(declared.params[0]))
                                                   and conforms(item, str(declared.params[1]))
                                                   for key, item in value.items())
        if declared.name in CEL_OBJECT_TYPES:
            fields = CEL_OBJECT_TYPES[declared.name]
            return isinstance(value, dict) and set(value) == set(fields) and all(
                conforms(value[name], fields[name]) for name in fields)
        return isinstance(value, {"string": str, "int": int, "bool": bool}[declared.name])

    for name, spelling in CEL_TYPES.items():
        assert conforms(context[name], spelling), name


def test_the_documented_limits_are_the_loaders() -> None:
    """docs/lesson-format.md, "Limits", states the numbers the loader and the CEL checks use."""
    doc = (Path(tutor.__file__).parent.parent / "docs" / "lesson-format.md").read_text(encoding="utf-8")
    table = doc.split("<!-- limits -->\n", 1)[1].split("<!-- /limits -->", 1)[0]
    rows = {row.split(" | ")[0].strip("| "): row.split(" | ")[1] for row in table.splitlines()[2:]}
    assert rows == {
        "the file": f"{loader.MAX_FILE_BYTES} bytes (512 KiB)",
        "YAML nesting": f"{loader.MAX_YAML_DEPTH} levels",
        "YAML values": f"{loader.MAX_YAML_NODES} (keys, values and list items)",
        "YAML aliases (`*name`)": "none",
        "one CEL expression": f"{cellint.MAX_CODE_POINTS} code points",
        "CEL nesting": f"{cellint.MAX_NESTING}",
        "all CEL of a lesson": f"{loader.MAX_CEL_CODE_POINTS} code points",
    }
    assert f"at most {loader.MAX_PROBLEMS} problems" not in doc and f"first {loader.MAX_PROBLEMS}" in doc


def test_a_file_lists_at_most_100_problems(lessons_dir: Path) -> None:
    keys = "".join(f"extra{index}: 1\n" for index in range(150))
    file = _write(lessons_dir, BASE + keys)
    problems = lint([file])
    assert len(problems) == 101
    assert problems[-1].path == "(file)" and problems[-1].message == "50 more problems from here on, not listed"
    assert problems[-1].line == problems[-2].line + 1

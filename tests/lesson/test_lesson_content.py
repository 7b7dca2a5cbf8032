"""The Kubernetes Basics lessons: every command of each kubernetes.io module is there, and the texts are complete
in ja and en."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import tutor
from tutor.lesson import find_lesson, lesson_files, load_lesson

ROOT = Path(__file__).parents[2]
LESSON = ROOT / "lessons" / "rolling-update.yaml"

# The seed lesson's commands, step by step (../shared/seeds/), with `curl host01:$NODE_PORT` adapted to
# where the NodePort answers here (localhost).
SEED = {
    "update": ["kubectl get deployments", "kubectl get pods", "kubectl describe pods",
               "kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2",
               "kubectl get pods"],
    "verify": ["kubectl describe services/kubernetes-bootcamp",
               "export NODE_PORT=$(kubectl get services/kubernetes-bootcamp -o go-template="
               "'{{(index .spec.ports 0).nodePort}}')",
               "echo NODE_PORT=$NODE_PORT", "curl localhost:$NODE_PORT",
               "kubectl rollout status deployments/kubernetes-bootcamp", "kubectl describe pods"],
    "break": ["kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v10",
              "kubectl get deployments", "kubectl describe pods"],
    "rollback": ["kubectl rollout undo deployments/kubernetes-bootcamp", "kubectl get pods", "kubectl describe pods"],
}


def test_every_seed_command_is_suggested_in_order() -> None:
    lesson = load_lesson(LESSON)
    assert [s.id for s in lesson.steps] == list(SEED)
    for step in lesson.steps:
        remaining = iter(step.commands)  # the seed's commands, in the seed's order (others may be added)
        assert all(command in remaining for command in SEED[step.id]), step.id
        for command in SEED[step.id]:
            assert command in step.text.en and command in step.text.ja, (step.id, command)


# The commands of the other Kubernetes Basics modules, by lesson id, then step id, in each module's order: the
# English pages content/en/docs/tutorials/kubernetes-basics/{create-cluster/cluster-intro.md (module 1's commands
# are those of its Katacoda scenario, without minikube's), deploy-app/deploy-intro.md, explore/explore-intro.md
# (with `kubectl logs "$POD_NAME"` of its earlier "View the container logs" section), expose/expose-intro.md,
# scale/scale-intro.md} of kubernetes/website. The module's `kubectl proxy` in a second terminal is
# `kubectl proxy &` here (the console keeps a background job until the lesson ends). `curl http://"$(minikube ip):$NODE_PORT"` is `curl http://localhost:$NODE_PORT` here (the
# NodePort answers on localhost); `kubectl exec -ti $POD_NAME -- curl ...` runs as written, in the real terminal.
NODE_PORT = ("export NODE_PORT=\"$(kubectl get services/kubernetes-bootcamp -o go-template="
             "'{{(index .spec.ports 0).nodePort}}')\"")
MODULES: dict[str, dict[str, list[str]]] = {
    "create-cluster": {
        "cluster-version": ["kubectl version"],
        "cluster-details": ["kubectl cluster-info", "kubectl get nodes"],
    },
    "deploy-your-app": {
        "deploy": ["kubectl version", "kubectl get nodes",
                   "kubectl create deployment kubernetes-bootcamp --image=gcr.io/google-samples/kubernetes-bootcamp:v1",
                   "kubectl get deployments"],
        "proxy": ["kubectl proxy &", "curl http://localhost:8001/version"],
        "pod-proxy": ["export POD_NAME=$(kubectl get pods -o go-template --template "
                      "'{{range .items}}{{.metadata.name}}{{\"\\n\"}}{{end}}')",
                      "echo Name of the Pod: $POD_NAME",
                      "curl http://localhost:8001/api/v1/namespaces/default/pods/$POD_NAME:8080/proxy/"],
    },
    "explore-your-app": {
        "pods": ["kubectl get pods", "kubectl describe pods"],
        "proxy": ["kubectl proxy &",
                  "export POD_NAME=\"$(kubectl get pods -o go-template --template "
                  "'{{range .items}}{{.metadata.name}}{{\"\\n\"}}{{end}}')\"",
                  "echo Name of the Pod: $POD_NAME",
                  "curl http://localhost:8001/api/v1/namespaces/default/pods/$POD_NAME:8080/proxy/"],
        "logs": ['kubectl logs "$POD_NAME"'],
        "exec-env": ['kubectl exec "$POD_NAME" -- env'],
        # The last three are typed in the container's shell that `exec -ti` opens.
        "exec-bash": ["kubectl exec -ti $POD_NAME -- bash", "cat server.js", "curl http://localhost:8080", "exit"],
    },
    "expose-your-app": {
        "expose": ["kubectl get pods", "kubectl get services",
                   'kubectl expose deployment/kubernetes-bootcamp --type="NodePort" --port 8080',
                   "kubectl describe services/kubernetes-bootcamp"],
        "node-port": [NODE_PORT, 'echo "NODE_PORT=$NODE_PORT"', "curl http://localhost:$NODE_PORT"],
        "labels": ["kubectl describe deployment", "kubectl get pods -l app=kubernetes-bootcamp",
                   "kubectl get services -l app=kubernetes-bootcamp",
                   "export POD_NAME=\"$(kubectl get pods -o go-template --template "
                   "'{{range .items}}{{.metadata.name}}{{\"\\n\"}}{{end}}')\"",
                   'echo "Name of the Pod: $POD_NAME"', 'kubectl label pods "$POD_NAME" version=v1',
                   'kubectl describe pods "$POD_NAME"', "kubectl get pods -l version=v1"],
        "delete-service": ["kubectl delete service -l app=kubernetes-bootcamp", "kubectl get services",
                           "curl http://localhost:$NODE_PORT", "kubectl exec -ti $POD_NAME -- curl http://localhost:8080"],
    },
    "scale-your-app": {
        "scale-up": ["kubectl get deployments", "kubectl get rs",
                     "kubectl scale deployments/kubernetes-bootcamp --replicas=4", "kubectl get deployments",
                     "kubectl get pods -o wide", "kubectl describe deployments/kubernetes-bootcamp"],
        "load-balancing": ["kubectl describe services/kubernetes-bootcamp", NODE_PORT, "echo NODE_PORT=$NODE_PORT",
                           "curl http://localhost:$NODE_PORT"],
        "scale-down": ["kubectl scale deployments/kubernetes-bootcamp --replicas=2", "kubectl get deployments",
                       "kubectl get pods -o wide"],
    },
}
# The module's own commands that this setting runs differently: each text names the original, and says why.
ORIGINALS: dict[str, list[str]] = {
    "create-cluster": ["minikube start"],
    "expose-your-app": ['curl http://"$(minikube ip):$NODE_PORT"'],
    "scale-your-app": ['curl http://"$(minikube ip):$NODE_PORT"', "LoadBalancer"],
}


@pytest.mark.parametrize("lesson_id", list(MODULES))
def test_every_module_command_is_suggested_in_order(lesson_id: str) -> None:
    lesson = load_lesson(find_lesson(lesson_id)).in_namespace("default")  # the namespace of kubernetes.io
    module = MODULES[lesson_id]
    assert [s.id for s in lesson.steps] == list(module)
    for step in lesson.steps:
        remaining = iter(step.commands)  # the module's commands, in the module's order (others may be added)
        assert all(command in remaining for command in module[step.id]), (step.id, step.commands)
        for command in module[step.id]:  # a line of a code block in both languages, as the learner copies it
            assert command in code_lines(step.text.en) and command in code_lines(step.text.ja), (step.id, command)


@pytest.mark.parametrize("lesson_id", list(ORIGINALS))
def test_the_original_commands_are_named_where_they_are_translated(lesson_id: str) -> None:
    lesson = load_lesson(find_lesson(lesson_id)).in_namespace("default")  # the namespace of kubernetes.io
    for original in ORIGINALS[lesson_id]:
        assert any(original in step.text.en for step in lesson.steps), original
        assert any(original in step.text.ja for step in lesson.steps), original


# The modules run `kubectl proxy` in a second terminal: the lessons run it in the console's background, and say so.
SECOND_TERMINAL = {"en": "second terminal", "ja": "2 つ目のターミナル"}


@pytest.mark.parametrize("lesson_id", ["deploy-your-app", "explore-your-app"])
def test_the_proxy_runs_in_the_background_instead_of_a_second_terminal(lesson_id: str) -> None:
    step = load_lesson(find_lesson(lesson_id)).step("proxy")
    for lang, words in SECOND_TERMINAL.items():
        text = step.text.get(lang)
        assert words in text and "kubectl proxy &" in code_lines(text), lang
    assert step.solution[0] == "kubectl proxy &"


def test_the_container_shell_is_checked_from_its_transcript() -> None:
    """The interactive step suggests the module's `exec -ti ... bash`; its solution (verify has no terminal) feeds the
    same lines to bash through `exec -i`, and its checks read the recorded output of an `exec ... bash` line."""
    step = load_lesson(find_lesson("explore-your-app")).step("exec-bash")
    assert step.commands[0] == "kubectl exec -ti $POD_NAME -- bash"
    (solution,) = step.solution
    assert "kubectl exec -i " in solution and solution.endswith("-- bash") and "-t" not in solution.split("|")[-1]
    assert all(f"'{line}" in solution for line in ("cat server.js", "curl", "exit"))
    assert all("commands.exists" in check.cel and "bash" in check.cel for check in step.checks)


def code_lines(markdown: str) -> set[str]:
    return {line.strip() for block in markdown.split("```")[1::2] for line in block.splitlines()}


def texts(node: object, path: str = "") -> dict[str, dict[str, str]]:
    """Every {ja, en} map in the raw YAML, by path."""
    found: dict[str, dict[str, str]] = {}
    if isinstance(node, dict):
        if set(node) & {"ja", "en"}:
            found[path] = node
        for key, value in node.items():
            found.update(texts(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.update(texts(value, f"{path}[{index}]"))
    return found


# Every lesson the checkout ships, and the second lesson the tests install next to them.
ALL = [*lesson_files(ROOT / "lessons"), ROOT / "tests" / "data" / "lessons" / "scale-your-app.yaml"]
JAPANESE = "\u3040-\u30ff\u4e00-\u9fff"
# ASCII punctuation touching Japanese: a Japanese reader expects 、。（）： and so on.
ASCII_PUNCTUATION = re.compile(rf"[{JAPANESE}] ?[,.!?:;()]|[()] ?[{JAPANESE}]")


def test_the_seed_lesson_says_everything_in_both_languages() -> None:
    assert len(texts(yaml.safe_load(LESSON.read_text(encoding="utf-8")))) > 40


@pytest.mark.parametrize("file", ALL, ids=[str(file.relative_to(ROOT)) for file in ALL])
def test_japanese_and_english_are_complete(file: Path) -> None:
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    found = texts(raw)
    assert found
    for path, text in found.items():
        assert set(text) == {"ja", "en"}, path
        assert text["ja"].strip() and text["en"].strip(), path
        # The Japanese text is Japanese, the English text is not.
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text["ja"]), path
        assert not any("\u3040" <= ch <= "\u30ff" for ch in text["en"]), path
        # Both mention the same commands.
        if "`kubectl" in text["en"]:
            assert text["en"].count("```") == text["ja"].count("```"), path


@pytest.mark.parametrize("file", ALL, ids=[str(file.relative_to(ROOT)) for file in ALL])
def test_japanese_is_written_with_japanese_punctuation(file: Path) -> None:
    for path, text in texts(yaml.safe_load(file.read_text(encoding="utf-8"))).items():
        prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", text["ja"], flags=re.DOTALL))  # code stays as is
        assert not ASCII_PUNCTUATION.search(prose), (path, ASCII_PUNCTUATION.findall(prose))


def test_the_failure_step_says_the_failure_is_intended() -> None:
    step = load_lesson(LESSON).step("break")
    assert step.expect == "failure"
    assert "on purpose" in step.text.en and "わざと" in step.text.ja
    assert step.passed is not None and "intended" in step.passed.en and "狙いどおり" in step.passed.ja


def test_installed_lessons_are_found() -> None:
    assert find_lesson(None) == LESSON
    assert find_lesson("rolling-update") == LESSON


STDLIB = set(sys.stdlib_module_names)
DISTRIBUTIONS = {"aiohttp": "aiohttp", "budoux": "budoux", "cryptography": "cryptography", "jsonpatch": "jsonpatch", "yaml": "pyyaml",
                 "cel": "common-expression-language", "markdown_it": "markdown-it-py", "textual": "textual", "sh": "sh", "rich": "rich",
                 "textual_plotext": "textual-plotext", "textual_serve": "textual-serve"}


def test_every_imported_package_is_declared() -> None:
    declared = {d.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip().lower()
                for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    imported: set[str] = set()
    for path in Path(tutor.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in STDLIB and m != "tutor"}
    unknown = third_party - set(DISTRIBUTIONS)
    assert not unknown, f"map these imports to their distribution: {unknown}"
    missing = {DISTRIBUTIONS[m] for m in third_party} - declared
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_step_has_hint_and_solution(lang: str) -> None:
    for step in load_lesson(LESSON).steps:
        assert step.hint.get(lang) and step.solution and step.checks


@pytest.mark.parametrize("file", lesson_files(ROOT / "lessons"), ids=lambda path: path.stem)
def test_a_lesson_in_a_seat_namespace_names_that_namespace_everywhere(file: Path) -> None:
    """``{namespace}`` (docs/lesson-format.md) becomes the backend's namespace in every text and command: the
    practice cluster and kind read kubernetes.io's ``default``, a workshop seat its own namespace."""
    lesson = load_lesson(file)
    for namespace in ("default", "seat-07"):
        shown = repr(lesson.in_namespace(namespace))
        assert "{namespace}" not in shown
    if "{namespace}" in repr(lesson):
        assert "/namespaces/seat-07/" in repr(lesson.in_namespace("seat-07"))
        assert "/namespaces/seat-07/" not in repr(lesson.in_namespace("default"))

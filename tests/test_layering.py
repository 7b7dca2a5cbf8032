"""Layering rules: the core never imports textual, only tutor.shell spawns, practice knows no lessons."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import tutor

PACKAGE = Path(tutor.__file__).parent
CORE = ["tutor.cli", "tutor.paths", "tutor.shell", "tutor.backends.practice", "tutor.practice.cluster",
        "tutor.practice.server", "tutor.lesson", "tutor.checks", "tutor.runtime", "tutor.cluster_watch",
        "tutor.verify", "tutor.progress", "tutor.podstatus"]
SPAWNING = {"subprocess", "multiprocessing", "pty", "sh", "pexpect"}
SPAWNING_CALLS = {("os", "system"), ("os", "popen"), ("os", "fork"), ("os", "execv"), ("os", "execvp"),
                  ("os", "spawnv"), ("os", "posix_spawn"), ("asyncio", "create_subprocess_exec"),
                  ("asyncio", "create_subprocess_shell")}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_modules_do_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_only_tutor_shell_spawns_processes() -> None:
    offenders = []
    for path in modules():
        if path == PACKAGE / "shell.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in imported_names(path):
            if name.split(".")[0] in SPAWNING:
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in SPAWNING_CALLS:
                    offenders.append(f"{path.relative_to(PACKAGE)} calls {node.value.id}.{node.attr}")
    assert offenders == []


def test_the_practice_cluster_knows_nothing_of_lessons_or_the_rest_of_tutor() -> None:
    offenders = []
    for path in sorted((PACKAGE / "practice").rglob("*.py")):
        for name in imported_names(path):
            if name.startswith("tutor.") and not name.startswith("tutor.practice"):
                offenders.append(f"{path.name} imports {name}")
        text = path.read_text(encoding="utf-8").lower()
        assert "lesson" not in text, f"{path.name} mentions lessons"
    assert offenders == []

"""Layering rules, derived from the package tree (no hand-kept module lists).

- Only ``tutor.tui`` imports textual (directly, or through a module it imports at load time).
- Only ``tutor.shell`` starts processes.
- ``tutor.practice`` imports nothing of ``tutor`` but itself and the leaf ``tutor.kube``, which in turn imports
  nothing but the standard library; neither knows of lessons.
- No import cycle among kube-tutor's modules, counting imports under ``if TYPE_CHECKING:`` and imports inside
  functions too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import tutor

PACKAGE = Path(tutor.__file__).parent
UI = "tutor.tui"
SPAWNING = {"subprocess", "multiprocessing", "pty", "sh", "pexpect"}
SPAWNING_CALLS = {("os", "system"), ("os", "popen"), ("os", "fork"), ("os", "forkpty"), ("os", "execv"),
                  ("os", "execve"), ("os", "execvp"), ("os", "execvpe"), ("os", "spawnv"), ("os", "spawnve"),
                  ("os", "posix_spawn"), ("os", "posix_spawnp"), ("asyncio", "create_subprocess_exec"),
                  ("asyncio", "create_subprocess_shell")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@cache
def imports(module: str) -> tuple[tuple[str, bool], ...]:
    """Every import of a module as (imported module, at load time?); ``from a import b`` names ``a.b`` if a module.

    Imports inside functions are not at load time; imports under ``if TYPE_CHECKING:`` are (for cycles).
    """
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, at_load: bool) -> None:
        for child in ast.iter_child_nodes(node):
            child_at_load = at_load and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                found.extend((alias.name, at_load) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1]
                                    + ([base] if base else []))
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    found.append((candidate if candidate in MODULES else base, at_load))
            visit(child, child_at_load)

    visit(tree, True)
    return tuple(found)


def internal(module: str, *, load_time_only: bool) -> set[str]:
    return {name for name, at_load in imports(module)
            if name in MODULES and (at_load or not load_time_only) and name != module}


def test_the_tree_is_read() -> None:
    assert {"tutor.cli", "tutor.shell", "tutor.tui.app", "tutor.practice.cluster", "tutor.kube",
            "tutor.lesson.checks", "tutor.backends.practice"} <= set(MODULES)


@pytest.mark.parametrize("module", [m for m in MODULES if not inside(m, UI)])
def test_only_the_ui_package_imports_textual(module: str) -> None:
    """No core module imports textual, itself or through what it imports when it is loaded."""
    seen, todo, offenders = set(), [module], []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if inside(current, UI):
            offenders.append(f"{module} loads {current}")
            continue
        offenders += [f"{current} imports {name}" for name, _ in imports(current) if inside(name, "textual")]
        todo.extend(internal(current, load_time_only=True))
    assert offenders == []


def test_the_cli_loads_without_textual() -> None:
    """At run time too: ``kube-tutor lint|verify|doctor`` never pay for textual's import."""
    code = ("import sys, tutor.cli, tutor.lesson.verify, tutor.doctor, tutor.practice.cluster; "
            "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_only_tutor_shell_starts_processes() -> None:
    offenders = []
    for module, path in MODULES.items():
        if module == "tutor.shell":
            continue
        offenders += [f"{module} imports {name}" for name, _ in imports(module) if name.split(".")[0] in SPAWNING]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in SPAWNING_CALLS:
                    offenders.append(f"{module} calls {node.value.id}.{node.attr}")
    assert offenders == []


def test_the_practice_cluster_imports_only_itself_and_the_leaf_package() -> None:
    offenders = [f"{module} imports {name}" for module in MODULES if inside(module, "tutor.practice")
                 for name, _ in imports(module)
                 if inside(name, "tutor") and not (inside(name, "tutor.practice") or inside(name, "tutor.kube"))]
    assert offenders == []


def test_the_leaf_package_imports_only_the_standard_library() -> None:
    offenders = [f"{module} imports {name}" for module in MODULES if inside(module, "tutor.kube")
                 for name, _ in imports(module)
                 if not inside(name, "tutor.kube") and name.split(".")[0] not in sys.stdlib_module_names
                 and name != "__future__"]
    assert offenders == []


@pytest.mark.parametrize("package", ["tutor.practice", "tutor.kube"])
def test_the_practice_cluster_and_the_leaf_package_know_nothing_of_lessons(package: str) -> None:
    mentions = [module for module, path in MODULES.items()
                if inside(module, package) and "lesson" in path.read_text(encoding="utf-8").lower()]
    assert mentions == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over every import (load time, TYPE_CHECKING, inside functions)."""
    graph = {module: internal(module, load_time_only=False) for module in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph):
        if module not in index:
            connect(module)
    assert cycles == [], "\n".join(" <-> ".join(cycle) for cycle in cycles)

"""Provides the strict YAML lesson loader and ``kube-tutor lint``.

A lesson file (see ``docs/lesson-format.md``) is composed into a YAML node tree with the safe
loader and walked by hand, so every problem names the line of the offending key or value. All
problems of a file are collected before :class:`LessonError` is raised; none of them is a Python
traceback. Every CEL expression is compiled when the lesson loads, and every image a command names must be
declared under ``images`` (pulled images in the practice cluster's offline catalogue, absent ones missing from it).

Loading is bounded before anything expensive runs, so a hostile or broken file ends in one line, quickly and in
little memory (docs/lesson-format.md, "Limits"): the file's size (:data:`MAX_FILE_BYTES`, read no further), the
YAML's nesting and node count (:data:`MAX_YAML_DEPTH`, :data:`MAX_YAML_NODES`, counted while PyYAML composes),
no aliases (a shared node would be walked, compiled and parsed once per reference), and each CEL expression's
size and nesting before the CEL compiler sees it, and all of them together (:mod:`tutor.lesson.cellint`,
:data:`MAX_CEL_CODE_POINTS`). Lint then types each expression against the names a check sees.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TextIO, TypeVar

import yaml

from tutor.lesson import cellint
from tutor.lesson.images import code_lines, command_images
from tutor.lesson.model import (
    CEL_NAMES,
    CEL_OBJECT_TYPES,
    CEL_TYPES,
    DEFAULT_SETUP_TIMEOUT,
    DEFAULT_STEP_TIMEOUT,
    LANGUAGES,
    NAMESPACE_PLACEHOLDER,
    Check,
    Lesson,
    LessonError,
    Pause,
    Problem,
    Setup,
    Step,
    Text,
)
from tutor.practice.node import registry

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_T = TypeVar("_T")

MAX_FILE_BYTES = 512 * 1024
"""The largest lesson file: 512 KiB, ~19 times the seed lesson (27 KB, four steps with bilingual texts), room
for a lesson of 50 such steps. A file is read no further, so a huge file costs nothing. The bound is what keeps
the per-byte work within a second: finding the images of commands and code blocks (shell words, CommonMark)
costs up to ~1.2 µs a byte. (kube-apiserver bounds a request the same way, at 3 MiB:
k8s.io/apiserver/pkg/cel/limits.go ``MaxRequestSizeBytes``.)"""

MAX_YAML_DEPTH = 32
"""The deepest YAML nesting: a lesson's deepest value (``steps[0].checks[0].missing.en``) is 7 levels down."""

MAX_YAML_NODES = 20_000
"""The most YAML nodes (keys, values, items) in a file: ~40 times the seed lesson's 484. Counted while PyYAML
composes, which costs ~3 µs a node; walking costs ~10 µs more."""

MAX_CEL_CODE_POINTS = 32_768
"""The most code points of CEL in one lesson, all ``cel`` and ``observed`` expressions together (the seed lesson
has ~4,000; compiling costs up to ~10 µs a code point, so ~0.3 s at most), as Kubernetes budgets all the CEL of
one object beside each expression (k8s.io/apiserver/pkg/apis/cel/config.go: ``RuntimeCELCostBudget`` beside
``PerCallLimit``). Each expression is limited too: :data:`tutor.lesson.cellint.MAX_CODE_POINTS`,
:data:`tutor.lesson.cellint.MAX_NESTING`."""

MAX_PROBLEMS = 100
"""The most problems listed for one file; the rest are counted in one more line."""

_CEL_DECLARED = {name: cellint.parse_type(spelling) for name, spelling in CEL_TYPES.items()}
_CEL_OBJECTS = {name: {field: cellint.parse_type(spelling) for field, spelling in fields.items()}
                for name, fields in CEL_OBJECT_TYPES.items()}


class _TooLarge(yaml.YAMLError):
    """The YAML is nested too deeply or has too many nodes; raised while composing, before the rest is read."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _LimitedLoader(_Loader):  # type: ignore[misc,valid-type]
    """The safe loader, counting nodes and nesting as it composes (the C composer calls these two hooks for every
    node it builds, aliases excepted: PyYAML's ``_yaml.pyx`` ``_compose_node``, like ``composer.py``)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def descend_resolver(self, current_node: yaml.Node | None, current_index: object) -> None:
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_YAML_DEPTH or self.nodes > MAX_YAML_NODES:
            where = current_index if isinstance(current_index, yaml.Node) else current_node
            line = where.start_mark.line + 1 if where is not None else 1
            if self.depth > MAX_YAML_DEPTH:
                raise _TooLarge(line, f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep; a lesson "
                                      "needs 7")
            raise _TooLarge(line, f"the YAML has more than {MAX_YAML_NODES} values (keys, values and list items); "
                                  "a lesson is much smaller")
        # the resolver's own descend_resolver does nothing: no path resolvers are registered

    def ascend_resolver(self) -> None:
        self.depth -= 1

_ID_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_PLACEHOLDER_RE = re.compile(r"\{\s*([A-Za-z_][\w.-]*)\s*\}")
_CEL_ERROR_RE = re.compile(r"ERROR: <input>:(\d+):(\d+): ([^\n]*)")
_CEL_OTHER_ERROR_RE = re.compile(r'OtherError\(.*\bmsg: "([^"]*)"')
# Names bound by comprehension macros (``pods.all(p, ...)``); CEL reports them as variables.
_CEL_BINDER_RE = re.compile(
    r"\.\s*(?:all|exists|exists_one|existsOne|map|filter|transformList|transformMap|transformMapEntry)"
    r"\s*\(\s*([A-Za-z_]\w*)\s*,(?:\s*([A-Za-z_]\w*)\s*,)?")

FILE_PATH = "(file)"
"""The path named by problems that concern the whole file (unreadable, not YAML, empty)."""

TOP_PATH = "(top level)"
"""The path named by problems with the top-level map itself."""

_LANGUAGE_NAMES = {"ja": "Japanese", "en": "English"}
_TAG = "tag:yaml.org,2002:"


# ---------------------------------------------------------------------------------------------
# Reading the node tree


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _label(path: str) -> str:
    return path or TOP_PATH


def _describe(node: yaml.Node) -> str:
    """Say what a node is, for ``expected X, got Y`` messages."""
    if isinstance(node, yaml.MappingNode):
        return "a map"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kinds = {
        _TAG + "str": "a string",
        _TAG + "int": "an integer",
        _TAG + "float": "a number",
        _TAG + "bool": "a boolean",
        _TAG + "null": "an empty value",
        _TAG + "timestamp": "a date",
        _TAG + "binary": "binary data",
    }
    return kinds.get(node.tag, f"a value tagged {node.tag!r}")


def _is_str(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "str"


def _quote_hint(node: yaml.Node) -> str:
    """Advice for a scalar YAML did not read as a string."""
    if isinstance(node, yaml.ScalarNode) and node.tag in {_TAG + t for t in ("int", "float", "bool", "timestamp")}:
        return f" ({_short(node.value)}; put it in quotes to make it a string)"
    return ""


def _cut(value: str, limit: int = 40) -> str:
    """A value for a message, cut short if long."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _short(value: str) -> str:
    """A string value for a message: quoted, and cut short if long."""
    return repr(_cut(value))


def _fmt_list(names: Sequence[str]) -> str:
    return ", ".join(names)


def _close(word: str, choices: Sequence[str]) -> str:
    if len(word) > 64:
        return ""  # no key is that long; difflib's cost grows with the word
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""


class _Fields:
    """Reads the values of a map's keys (each with its reader), remembering whether all of them were good."""

    def __init__(self, values: dict[str, yaml.Node], path: str, required: Sequence[str]) -> None:
        self.values = values
        self.path = path
        self.ok = all(key in values for key in required)
        """False once a required key is missing or a value is bad (each already reported)."""

    def __call__(self, key: str, reader: Callable[[yaml.Node, str], Any]) -> Any:
        """The value of a key, or ``None`` when the key is absent or its value bad."""
        if key not in self.values:
            return None
        value = reader(self.values[key], _join(self.path, key))
        if value is None:
            self.ok = False
        return value


class _Reader:
    """Walks a composed lesson node tree, collecting problems and building the dataclasses."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()
        self.cel_budget = MAX_CEL_CODE_POINTS
        """Code points of CEL the lesson may still have (:data:`MAX_CEL_CODE_POINTS`)."""

    # -- reporting -----------------------------------------------------------------------------

    def report(self, where: yaml.Node | int, path: str, message: str) -> None:
        line = where if isinstance(where, int) else where.start_mark.line + 1
        self.problems.append(Problem(self.file, line, _label(path), message))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        """Build the Python value of a scalar with the safe constructor."""
        return self._constructor.construct_object(node, deep=True)

    # -- maps ------------------------------------------------------------------------------------

    def mapping(
        self,
        node: yaml.Node,
        path: str,
        what: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
        *,
        expected: str | None = None,
    ) -> dict[str, yaml.Node] | None:
        """Check a map's keys; return key -> value node for the allowed keys, or ``None``.

        Reports a value that is not a map, keys that are not strings, duplicate keys, unknown keys
        (naming the allowed ones) and missing required keys.
        """
        allowed = [*required, *optional]
        if not isinstance(node, yaml.MappingNode):
            wanted = expected or f"{what} (a map with {_fmt_list(allowed)})"
            self.report(node, path, f"expected {wanted}, got {_describe(node)}")
            return None
        values: dict[str, yaml.Node] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _TAG + "merge":
                self.report(key_node, path, "YAML merge keys ('<<') are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.report(key_node, path, f"keys must be plain strings, got {_describe(key_node)} as a key")
                continue
            key = key_node.value
            key_path = _join(path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.report(key_node, key_path,
                            f"duplicate key {key!r} (first on line {seen[key]}); YAML would keep only the last")
                continue
            seen[key] = line
            if key_node.tag != _TAG + "str" or key not in allowed:
                self.report(key_node, key_path,
                            f"unknown key {key!r} in {what}{_close(key, allowed)}; allowed keys: "
                            f"{_fmt_list(allowed)}")
                continue
            values[key] = value_node
        for key in required:
            if key not in values and key not in seen:
                self.report(node, _join(path, key), f"required key {key!r} is missing from {what}")
        return values

    # -- scalars ---------------------------------------------------------------------------------

    def string(self, node: yaml.Node, path: str, what: str, *, empty: str) -> str | None:
        """A non-empty string value; reports a wrong type, or ``empty`` for an empty string."""
        if not _is_str(node):
            hint = _quote_hint(node)
            if isinstance(node, yaml.MappingNode) and "command" in what:
                hint = " (YAML reads ': ' inside a command as a map; put the whole command in quotes)"
            self.report(node, path, f"expected {what}, got {_describe(node)}{hint}")
            return None
        value = node.value
        if not value.strip():
            self.report(node, path, empty)
            return None
        return value

    def ident(self, node: yaml.Node, path: str) -> str | None:
        """An id: lowercase letters, digits and '-', not starting or ending with '-'."""
        value = self.string(node, path, "an id (a string)", empty="the id is empty")
        if value is None:
            return None
        if not _ID_RE.fullmatch(value):
            self.report(node, path,
                        f"{_short(value)} is not a valid id; use lowercase letters, digits and '-' "
                        "(not first or last), like 'scale-up'")
            return None
        return value

    def boolean(self, node: yaml.Node, path: str) -> bool | None:
        """``true`` or ``false`` (YAML 1.1 also reads ``yes``/``no``/``on``/``off`` as booleans: refused here, as
        everywhere else a lesson must say what it means)."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "bool" and node.value in ("true", "false"):
            return node.value == "true"
        got = _short(node.value) if isinstance(node, yaml.ScalarNode) else _describe(node)
        self.report(node, path, f"expected true or false, got {got}")
        return None

    def timeout(self, node: yaml.Node | None, path: str, default: float) -> float | None:
        """A positive, finite number of seconds (booleans are not numbers)."""
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and node.tag in (_TAG + "int", _TAG + "float"):
            try:
                seconds = float(self._scalar(node))
            except (OverflowError, ValueError, yaml.YAMLError):  # e.g. "!!int abc", a huge integer
                seconds = math.nan
            if math.isfinite(seconds) and seconds > 0:
                return seconds
            self.report(node, path, f"expected a positive number of seconds, got {_cut(node.value)}")
            return None
        got = _describe(node)
        if _is_str(node):
            got += f" {_short(node.value)}"
        self.report(node, path, f"expected a positive number of seconds, got {got}")
        return None

    # -- texts and lists -------------------------------------------------------------------------

    def text(self, node: yaml.Node, path: str) -> Text | None:
        """A text map with exactly ``ja`` and ``en``, each a non-empty string."""
        if not isinstance(node, yaml.MappingNode):
            self.report(node, path, f"expected a text (a map with ja and en), got {_describe(node)}")
            return None
        values: dict[str, yaml.Node] = {}
        seen: dict[str, int] = {}
        ok = True
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.report(key_node, path, f"keys must be language codes, got {_describe(key_node)} as a key")
                ok = False
                continue
            key_path = _join(path, key)
            if key in seen:
                self.report(key_node, key_path,
                            f"duplicate key {key!r} (first on line {seen[key]}); YAML would keep only the last")
                ok = False
                continue
            seen[key] = key_node.start_mark.line + 1
            if key not in LANGUAGES:
                self.report(key_node, key_path,
                            f"unknown language {key!r}{_close(key, LANGUAGES)}; a text has exactly ja and en")
                ok = False
                continue
            values[key] = value_node
        strings: dict[str, str] = {}
        for lang in LANGUAGES:
            if lang not in values:
                if lang not in seen:
                    self.report(node, _join(path, lang),
                                f"the {_LANGUAGE_NAMES[lang]} text is missing; a text needs both ja and en")
                ok = False
                continue
            name = _LANGUAGE_NAMES[lang]
            value = self.string(values[lang], _join(path, lang), f"the {name} text as a string",
                                empty=f"the {name} text is empty")
            if value is None:
                ok = False
            else:
                strings[lang] = value
        return Text(ja=strings["ja"], en=strings["en"]) if ok else None

    def string_list(self, node: yaml.Node, path: str, noun: str) -> tuple[str, ...] | None:
        """A non-empty list of non-empty strings (commands)."""
        if not isinstance(node, yaml.SequenceNode):
            self.report(node, path, f"expected a list of strings, got {_describe(node)}")
            return None
        if not node.value:
            self.report(node, path, f"is an empty list; give at least one {noun}")
            return None
        items = [self.string(item, f"{path}[{index}]", f"a {noun} (a string)", empty=f"the {noun} is empty")
                 for index, item in enumerate(node.value)]
        if any(item is None for item in items):
            return None
        return tuple(item for item in items if item is not None)

    def items(self, node: yaml.Node, path: str, noun: str, *, required: bool) -> list[yaml.Node] | None:
        """The items of a list of maps (steps, checks)."""
        if not isinstance(node, yaml.SequenceNode):
            self.report(node, path, f"expected a list of {noun}s, got {_describe(node)}")
            return None
        if required and not node.value:
            self.report(node, path, f"is an empty list; give at least one {noun}")
            return None
        return list(node.value)

    def unique_ids(self, entries: Sequence[tuple[yaml.Node, str, str | None]], noun: str) -> bool:
        """Report ids used twice; ``entries`` are (id node, item path, id)."""
        first: dict[str, tuple[str, int]] = {}
        ok = True
        for node, item_path, value in entries:
            if value is None:
                continue
            line = node.start_mark.line + 1
            if value in first:
                other_path, other_line = first[value]
                self.report(node, _join(item_path, "id"),
                            f"duplicate {noun} id {value!r} (already used by {other_path} on line {other_line})")
                ok = False
            else:
                first[value] = (item_path, line)
        return ok

    # -- CEL ---------------------------------------------------------------------------------------

    def expression(self, node: yaml.Node, path: str, *, has_probe: bool, boolean: bool) -> tuple[str, Any] | None:
        """A CEL expression within the limits, that compiles, uses only the names a check can see and types
        (``boolean``: to ``bool``, as a check's ``cel`` must)."""
        source = self.string(node, path, "a CEL expression (a string)",
                             empty="the expression is empty; write a CEL expression")
        if source is None or self.cel_budget < 0:
            return None  # over the lesson's CEL budget: reported once, at the expression that went over it
        limit = cellint.limit_problem(source)
        if limit is not None:
            self.report(node, path, limit)
            return None
        self.cel_budget -= len(source)
        if self.cel_budget < 0:
            self.report(node, path, f"the lesson's CEL expressions are more than {MAX_CEL_CODE_POINTS} code points "
                                    "together; this one and the ones after it are not compiled")
            return None
        try:
            program = cellint.compile_expression(source)
        except ValueError as error:
            self.report(node, path, f"does not compile: {_cel_message(str(error))}")
            return None
        bound: set[str] = set()
        for match in _CEL_BINDER_RE.finditer(source):
            bound.update(name for name in match.groups() if name)
        ok = True
        for name in program.variables():
            if name in bound:
                continue
            if name == "probe" and not has_probe:
                self.report(node, path, "uses 'probe' but the check has no probe command")
                ok = False
            elif name not in CEL_NAMES:
                self.report(node, path,
                            f"uses unknown name {name!r}{_close(name, sorted(CEL_NAMES))}; an expression can "
                            f"use {_fmt_list(sorted(CEL_NAMES))}")
                ok = False
        if ok:
            for problem in cellint.type_problems(source, _CEL_DECLARED, _CEL_OBJECTS, boolean=boolean):
                self.report(node, path, problem)
                ok = False
        return (source, program) if ok else None

    # -- the schema --------------------------------------------------------------------------------

    def check(self, node: yaml.Node, path: str) -> Check | None:
        values = self.mapping(node, path, "a check", ("id", "cel", "text"), ("missing", "observed", "probe"))
        if values is None:
            return None
        has_probe = "probe" in values
        has_observed = "observed" in values
        read = _Fields(values, path, ("id", "cel", "text"))
        check_id = read("id", self.ident)
        text = read("text", self.text)
        probe = read("probe", lambda n, p: self.string(n, p, "a shell command (a string)",
                                                       empty="the probe command is empty"))
        compiled = read("cel", lambda n, p: self.expression(n, p, has_probe=has_probe, boolean=True))
        observed = read("observed", lambda n, p: self.expression(n, p, has_probe=has_probe, boolean=False))
        missing = read("missing", self.text)
        if missing is not None and not self.placeholders(values["missing"], _join(path, "missing"),
                                                         has_observed=has_observed):
            read.ok = False
        if not read.ok:
            return None
        observed_source, observed_program = observed if observed is not None else (None, None)
        return Check(id=check_id, cel=compiled[0], text=text, missing=missing, observed=observed_source,
                     probe=probe, program=compiled[1], observed_program=observed_program)

    def placeholders(self, node: yaml.Node, path: str, *, has_observed: bool) -> bool:
        """Check the ``{...}`` placeholders of a valid ``missing`` text map."""
        ok = True
        for key_node, value_node in node.value:
            lang_path = _join(path, key_node.value)
            for match in _PLACEHOLDER_RE.finditer(value_node.value):
                if match.group(0) == NAMESPACE_PLACEHOLDER:
                    continue
                if match.group(0) != "{observed}":
                    self.report(value_node, lang_path, f"unknown placeholder {match.group(0)!r}; only {{observed}} "
                                                       f"and {NAMESPACE_PLACEHOLDER} are replaced")
                    ok = False
                elif not has_observed:
                    self.report(value_node, lang_path,
                                "uses {observed} but the check has no 'observed' expression")
                    ok = False
        return ok

    def checks(self, node: yaml.Node, path: str, *, required: bool) -> tuple[Check, ...] | None:
        items = self.items(node, path, "check", required=required)
        if items is None:
            return None
        built = [self.check(item, f"{path}[{index}]") for index, item in enumerate(items)]
        ok = self.unique_ids([_id_entry(item, f"{path}[{index}]") for index, item in enumerate(items)], "check")
        if not ok or any(check is None for check in built):
            return None
        return tuple(check for check in built if check is not None)

    def setup(self, node: yaml.Node, path: str) -> Setup | None:
        values = self.mapping(node, path, "setup", ("text", "commands"), ("ready", "timeout"))
        if values is None:
            return None
        text = self.text(values["text"], _join(path, "text")) if "text" in values else None
        commands = (self.string_list(values["commands"], _join(path, "commands"), "command")
                    if "commands" in values else None)
        ready = self.checks(values["ready"], _join(path, "ready"), required=False) if "ready" in values else ()
        timeout = self.timeout(values.get("timeout"), _join(path, "timeout"), DEFAULT_SETUP_TIMEOUT)
        if text is None or commands is None or ready is None or timeout is None:
            return None
        return Setup(text=text, commands=commands, ready=ready, timeout=timeout)

    def step(self, node: yaml.Node, path: str) -> Step | None:
        values = self.mapping(node, path, "a step", ("id", "title", "text", "commands", "checks", "hint", "solution"),
                              ("expect", "passed", "timeout", "say", "pause"))
        if values is None:
            return None
        read = _Fields(values, path, ("id", "title", "text", "commands", "checks", "hint", "solution"))
        step_id = read("id", self.ident)
        title = read("title", self.text)
        text = read("text", self.text)
        commands = read("commands", lambda n, p: self.string_list(n, p, "command"))
        checks = read("checks", lambda n, p: self.checks(n, p, required=True))
        hint = read("hint", self.text)
        solution = read("solution", lambda n, p: self.string_list(n, p, "command"))
        expect = "success"
        if "expect" in values:
            expect = read("expect", self.expect)
        passed = read("passed", self.text) if "passed" in values else None
        timeout = self.timeout(values.get("timeout"), _join(path, "timeout"), DEFAULT_STEP_TIMEOUT)
        say = read("say", self.text) if "say" in values else None
        pause: tuple[bool, tuple[Pause, ...]] | None = (True, ())
        if "pause" in values:
            pause = self.pause(values["pause"], _join(path, "pause"), (*(commands or ()), *(solution or ())))
        if not read.ok or timeout is None or pause is None:
            return None
        return Step(id=step_id, title=title, text=text, commands=commands, checks=checks, hint=hint,
                    solution=solution, expect=expect, passed=passed, timeout=timeout, say=say, pause=pause[0],
                    pauses=pause[1])

    def pause(self, node: yaml.Node, path: str, lines: Sequence[str]) -> tuple[bool, tuple[Pause, ...]] | None:
        """A step's ``pause``: ``true``/``false`` (whether a demo's autopilot stops at the step's beginning), or a
        list of narration points ``{after: COMMAND, say: TEXT}`` (it stops at the beginning and after each of them).

        Args:
            lines: the step's commands and solution lines: ``after`` must be one of them, as written.
        """
        if isinstance(node, yaml.ScalarNode):
            flag = self.boolean(node, path)
            return None if flag is None else (flag, ())
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            got = "an empty list" if isinstance(node, yaml.SequenceNode) else _describe(node)
            self.report(node, path, f"expected true, false or a list of narration points ({{after, say}}), got {got}")
            return None
        points: list[Pause] = []
        ok = True
        for index, item in enumerate(node.value):
            item_path = f"{path}[{index}]"
            values = self.mapping(item, item_path, "a narration point", ("after",), ("say",))
            if values is None or "after" not in values:
                ok = False
                continue
            after = self.string(values["after"], _join(item_path, "after"), "a command of the step (a string)",
                                empty="the command is empty")
            if after is not None and after not in lines:
                self.report(values["after"], _join(item_path, "after"),
                            f"{_short(after)} is not one of the step's commands or solution lines; write it as they do")
                after = None
            say = self.text(values["say"], _join(item_path, "say")) if "say" in values else None
            if after is None or ("say" in values and say is None):
                ok = False
                continue
            points.append(Pause(after=after, say=say))
        return (True, tuple(points)) if ok else None

    def expect(self, node: yaml.Node, path: str) -> str | None:
        if _is_str(node) and node.value in ("success", "failure"):
            return node.value
        got = _short(node.value) if _is_str(node) else _describe(node)
        self.report(node, path, f"expected 'success' or 'failure', got {got}")
        return None

    def lesson(self, node: yaml.Node, path: Path) -> Lesson | None:
        values = self.mapping(node, "", "the lesson", ("id", "title", "description", "setup", "steps"),
                              ("images", "auto_advance"),
                              expected="a map with id, title, description, setup and steps at the top level")
        if values is None:
            return None
        lesson_id = self.ident(values["id"], "id") if "id" in values else None
        title = self.text(values["title"], "title") if "title" in values else None
        description = self.text(values["description"], "description") if "description" in values else None
        declared = self.images(values["images"], "images") if "images" in values else ((), ())
        setup = self.setup(values["setup"], "setup") if "setup" in values else None
        auto_advance = self.boolean(values["auto_advance"], "auto_advance") if "auto_advance" in values else True
        steps: tuple[Step, ...] | None = None
        if "steps" in values:
            items = self.items(values["steps"], "steps", "step", required=True)
            if items is not None:
                built = [self.step(item, f"steps[{index}]") for index, item in enumerate(items)]
                unique = self.unique_ids([_id_entry(item, f"steps[{index}]") for index, item in enumerate(items)],
                                         "step")
                if unique and all(step is not None for step in built):
                    steps = tuple(step for step in built if step is not None)
        if declared is not None:
            self.images_used(node, [*declared[0], *declared[1]])
        if (lesson_id is None or title is None or description is None or declared is None or setup is None
                or steps is None or auto_advance is None):
            return None
        return Lesson(id=lesson_id, title=title, description=description, setup=setup, steps=steps, path=path,
                      images=declared[0], absent_images=declared[1], auto_advance=auto_advance)

    # -- images ------------------------------------------------------------------------------------

    def images(self, node: yaml.Node, path: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """``images``: the images pulled (each in the practice cluster's catalogue) and the ones absent on purpose
        (each really missing from it), none declared twice."""
        values = self.mapping(node, path, "images", ("pull",), ("absent",))
        if values is None:
            return None
        lists: dict[str, tuple[str, ...]] = {}
        ok = "pull" in values
        for key in ("pull", "absent"):
            if key not in values:
                continue
            key_path = _join(path, key)
            found = self.string_list(values[key], key_path, "image")
            if found is None:
                ok = False
                continue
            lists[key] = found
            for index, (item, image) in enumerate(zip(values[key].value, found, strict=True)):
                item_path = f"{key_path}[{index}]"
                known = registry.lookup(image) is not None
                if key == "pull" and not known:
                    self.report(item, item_path,
                                f"{image!r} is not available offline: the practice cluster has no "
                                f"{registry.normalize(image)} (it has {_fmt_list(registry.available())}); "
                                "an image that must fail to pull goes under images.absent")
                    ok = False
                elif key == "absent" and known:
                    self.report(item, item_path,
                                f"{image!r} is declared absent, but the practice cluster has "
                                f"{registry.normalize(image)}: it would pull; put it under images.pull")
                    ok = False
        seen: dict[str, tuple[str, int]] = {}
        for key, found in lists.items():
            for index, (item, image) in enumerate(zip(values[key].value, found, strict=True)):
                item_path = f"{_join(path, key)}[{index}]"
                reference = registry.normalize(image)
                if reference in seen:
                    other_path, other_line = seen[reference]
                    self.report(item, item_path,
                                f"{image!r} is declared twice (already {other_path} on line {other_line})")
                    ok = False
                else:
                    seen[reference] = (item_path, item.start_mark.line + 1)
        if not ok:
            return None
        return lists["pull"], lists.get("absent", ())

    def images_used(self, root: yaml.Node, declared: Sequence[str]) -> None:
        """Report every image a command names that ``images`` does not declare: in the setup commands, the
        steps' commands and solutions, and the code blocks of the steps' texts."""
        known = {registry.normalize(image) for image in declared}
        reported: set[tuple[int, str]] = set()
        for path, node, markdown in _command_nodes(root):
            if "image" not in node.value:
                continue  # no image named: skip the Markdown parse
            if markdown:
                uses = [(number, image) for number, line in code_lines(node.value)
                        for _, image in command_images(line)]
            else:
                uses = command_images(node.value)
            for number, image in uses:
                line = _value_line(node, number)
                if registry.normalize(image) in known or (line, image) in reported:
                    continue
                reported.add((line, image))
                self.report(line, path, f"uses the image {image!r}, which images does not declare; add it to "
                                        "images.pull (or to images.absent if its failure to pull is the point)")


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value of a key of a map node, or ``None`` (not a map, or no such key)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if _is_str(key_node) and key_node.value == key:
                return value_node
    return None


def _strings(node: yaml.Node | None) -> list[tuple[int, yaml.ScalarNode]]:
    """The string items of a list node, with their index."""
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [(index, item) for index, item in enumerate(node.value) if _is_str(item)]


def _command_nodes(root: yaml.Node) -> list[tuple[str, yaml.ScalarNode, bool]]:
    """Every string that holds commands, as (path, node, is Markdown), wherever the tree has the expected shape."""
    found: list[tuple[str, yaml.ScalarNode, bool]] = [
        (f"setup.commands[{index}]", item, False) for index, item in _strings(_child(_child(root, "setup"), "commands"))]
    steps = _child(root, "steps")
    for number, step in enumerate(steps.value if isinstance(steps, yaml.SequenceNode) else []):
        for key in ("commands", "solution"):
            found += [(f"steps[{number}].{key}[{index}]", item, False) for index, item in _strings(_child(step, key))]
        for lang in LANGUAGES:
            text = _child(_child(step, "text"), lang)
            if text is not None and _is_str(text):
                assert isinstance(text, yaml.ScalarNode)
                found.append((f"steps[{number}].text.{lang}", text, True))
    return found


def _value_line(node: yaml.ScalarNode, number: int) -> int:
    """The file line of a string's line ``number`` (0-based): exact in a literal block (``|``), else the
    line where the string starts."""
    if node.style == "|":
        return node.start_mark.line + 2 + number
    return node.start_mark.line + 1


def _id_entry(item: yaml.Node, item_path: str) -> tuple[yaml.Node, str, str | None]:
    """The (id node, item path, id) of a list item, for duplicate detection."""
    if isinstance(item, yaml.MappingNode):
        for key_node, value_node in item.value:
            if _is_str(key_node) and key_node.value == "id" and _is_str(value_node):
                return (value_node, item_path, value_node.value)
    return (item, item_path, None)


def _cel_message(raw: str) -> str:
    """The first error of a CEL compiler message, on one line, with its position."""
    errors = _CEL_ERROR_RE.findall(raw)
    if not errors:
        return " ".join(raw.split())[:300]
    # The parser's "Incomplete `IndexContext`!" notes say less than the syntax error after them.
    line, column, message = next((error for error in errors if not error[2].startswith("Incomplete `")), errors[0])
    other = _CEL_OTHER_ERROR_RE.search(message)
    if other is not None:
        message = f"Syntax error: {other.group(1)}"
    return f"{message.strip()} (at {line}:{column} of the expression)"


# ---------------------------------------------------------------------------------------------
# Files


def _yaml_problem(file: Path, text: str, error: yaml.YAMLError) -> Problem:
    """One problem for a YAML syntax error, at the line the parser names."""
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        return Problem(file, line, FILE_PATH,
                       f"not valid YAML: character #x{code:04x} is not allowed ({error.reason})")
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    if isinstance(error, yaml.composer.ComposerError) and problem == "but found another document":
        return Problem(file, line, FILE_PATH, "a lesson file holds one YAML document, but found a second one ('---')")
    message = problem or " ".join(str(error).split())
    context_mark = getattr(error, "context_mark", None)
    if context:
        where = ""
        if context_mark is not None and context_mark.line + 1 != line:
            where = f" on line {context_mark.line + 1}"
        message = f"{message} ({context}{where})"
    return Problem(file, line, FILE_PATH, f"not valid YAML: {message}")


def _read_bytes(file: Path) -> tuple[bytes | None, list[Problem]]:
    """The bytes of a lesson file, read no further than :data:`MAX_FILE_BYTES`, or the problem reading it."""
    try:
        info = file.stat()
        if stat.S_ISDIR(info.st_mode):
            return None, [Problem(file, 1, FILE_PATH, "cannot read the file: it is a directory")]
        if not stat.S_ISREG(info.st_mode):  # a device or a pipe could be endless (or block)
            return None, [Problem(file, 1, FILE_PATH, "cannot read the file: it is not a regular file")]
        with file.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            data = b"" if size > MAX_FILE_BYTES else stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None, [Problem(file, 1, FILE_PATH, "cannot read the file: no such file")]
    except IsADirectoryError:
        return None, [Problem(file, 1, FILE_PATH, "cannot read the file: it is a directory")]
    except OSError as error:
        return None, [Problem(file, 1, FILE_PATH, f"cannot read the file: {error.strerror or error}")]
    if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
        got = f"{size} bytes" if size > MAX_FILE_BYTES else f"more than {MAX_FILE_BYTES} bytes"
        return None, [Problem(file, 1, FILE_PATH, f"the file is {got}; a lesson file may have at most "
                                                  f"{MAX_FILE_BYTES} bytes ({MAX_FILE_BYTES // 1024} KiB)")]
    return data, []


def _compose(file: Path) -> tuple[yaml.Node | None, list[Problem]]:
    """A lesson file's YAML node tree, within the limits, or the one problem that stops reading it."""
    data, problems = _read_bytes(file)
    if data is None:
        return None, problems
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return None, [Problem(file, line, FILE_PATH,
                              f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8")]
    try:
        root = yaml.compose(text, Loader=_LimitedLoader)
    except _TooLarge as error:
        return None, [Problem(file, error.line, FILE_PATH, error.message)]
    except yaml.YAMLError as error:
        return None, [_yaml_problem(file, text, error)]
    except RecursionError:
        return None, [Problem(file, 1, FILE_PATH, "not valid YAML: nested too deeply")]
    if root is None:
        return None, [Problem(file, 1, FILE_PATH,
                              "the file is empty; a lesson is a map with id, title, description, setup and steps")]
    alias = _alias_problem(file, root)
    if alias is not None:
        return None, [alias]
    return root, []


def _alias_problem(file: Path, root: yaml.Node) -> Problem | None:
    """One problem for the first YAML alias (``*name``) of a tree: PyYAML composes an alias as a second reference
    to the anchored node, which every later walk would visit (compile, parse) again, once per reference."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return _alias_at(file, root)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for pair in node.value:
                stack.extend(pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _alias_at(file: Path, root: yaml.Node) -> Problem:
    """The problem of the first alias of a tree that has one, with its path and (about) its line."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", 1)]
    while stack:
        node, path, line = stack.pop()
        if id(node) in seen:
            return Problem(file, line, _label(path),
                           f"YAML aliases ('*') are not supported; write out the value anchored ('&') on line "
                           f"{node.start_mark.line + 1}")
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, _join(path, name), key.start_mark.line + 1))
                stack.append((key, path, key.start_mark.line + 1))
        elif isinstance(node, yaml.SequenceNode):
            for index in reversed(range(len(node.value))):
                before = node.value[index - 1].end_mark.line + 1 if index else node.start_mark.line + 1
                stack.append((node.value[index], f"{path}[{index}]", before))
    raise AssertionError("the tree has no alias")


def _build(file: Path, root: yaml.Node) -> tuple[Lesson | None, list[Problem]]:
    """The lesson of a composed file (``None`` if broken) and its problems, sorted by line (at most
    :data:`MAX_PROBLEMS`, and one line counting the rest)."""
    reader = _Reader(file)
    lesson = reader.lesson(root, file)
    problems = sorted(reader.problems, key=lambda problem: problem.line)
    if len(problems) > MAX_PROBLEMS:
        rest = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS],
                    Problem(file, problems[MAX_PROBLEMS].line, FILE_PATH,
                            f"{rest} more problem{'' if rest == 1 else 's'} from here on, not listed")]
    return (lesson if not problems else None), problems


def _read(file: Path) -> tuple[Lesson | None, list[Problem]]:
    """Load a lesson file; return the lesson (``None`` if broken) and its problems, sorted by line."""
    root, problems = _compose(file)
    if root is None:
        return None, problems
    return _build(file, root)


def load_lesson(path: str | Path) -> Lesson:
    """Load and validate one lesson file.

    Args:
        path: the YAML file; problems name it as given (e.g. ``lessons/rolling-update.yaml``).

    Returns:
        The lesson, with every CEL expression compiled.

    Raises:
        LessonError: the file cannot be read or is not a valid lesson; ``problems`` lists every
            problem found, each with the line of the offending key or value.
    """
    file = Path(path)
    lesson, problems = _read(file)
    if problems or lesson is None:
        raise LessonError(problems)
    return lesson


def _safely(file: Path, work: Callable[[], tuple[_T | None, list[Problem]]]) -> tuple[_T | None, list[Problem]]:
    """``work()``, turning an unexpected failure into a problem instead of a traceback."""
    try:
        return work()
    except Exception as error:  # lint must never raise: a loader bug is still reported, as a problem
        return None, [Problem(file, 1, FILE_PATH, f"internal error while checking the file: "
                              f"{type(error).__name__}: {error}")]


def _root_id(root: yaml.Node | None) -> tuple[str, int] | None:
    """The ``id`` of a composed lesson and its line, or ``None``."""
    node = _child(root, "id")
    if node is None or not _is_str(node):
        return None
    return node.value, node.start_mark.line + 1


def read_id(file: Path) -> tuple[str, int] | None:
    """A lesson file's ``id`` and its line, read without loading the lesson; ``None`` if it has no readable id."""
    root, _ = _safely(file, partial(_compose, file))
    return _root_id(root)


def _duplicates(ids: Sequence[tuple[Path, tuple[str, int] | None]]) -> list[Problem]:
    """One problem for each file whose lesson id an earlier file already has."""
    first: dict[str, Path] = {}
    problems: list[Problem] = []
    for file, found in ids:
        if found is None:
            continue
        lesson_id, line = found
        if lesson_id in first:
            problems.append(Problem(file, line, "id", f"duplicate lesson id {lesson_id!r}: {first[lesson_id]} has "
                                                      "it too; kube-tutor finds a lesson by its id"))
        else:
            first[lesson_id] = file
    return problems


def duplicate_ids(files: Sequence[Path]) -> list[Problem]:
    """One problem for each file whose lesson id an earlier file already has (kube-tutor finds lessons by id)."""
    return _duplicates([(file, read_id(file)) for file in files])


def lint(paths: Sequence[str | Path]) -> list[Problem]:
    """Check lesson files, each on its own and their ids together (no two files may share one).

    Args:
        paths: the lesson files.

    Returns:
        Every problem of every file, file by file; empty when all files are good lessons.
    """
    return [problem for _, _, problems in _results(paths) for problem in problems]


def _results(paths: Sequence[str | Path]) -> list[tuple[Path, Lesson | None, list[Problem]]]:
    """Each distinct file with its lesson (``None`` if it has problems) and its problems, in the order given;
    each file is read once. A file whose id an earlier file has is a problem (when it has no other)."""
    files = _distinct(paths)
    composed = [(file, *_safely(file, partial(_compose, file))) for file in files]
    duplicates: dict[Path, list[Problem]] = {}
    for problem in _duplicates([(file, _root_id(root)) for file, root, _ in composed]):
        duplicates.setdefault(problem.file, []).append(problem)
    results: list[tuple[Path, Lesson | None, list[Problem]]] = []
    for file, root, problems in composed:
        lesson = None
        if root is not None:
            lesson, problems = _safely(file, partial(_build, file, root))
        problems = problems or duplicates.get(file, [])
        results.append((file, None if problems else lesson, problems))
    return results


def _distinct(paths: Sequence[str | Path]) -> list[Path]:
    """The files, each once (the same file named twice is not two lessons with one id)."""
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        file = Path(path)
        key = file.resolve()
        if key not in seen:
            seen.add(key)
            files.append(file)
    return files


def lint_main(paths: Sequence[str | Path], out: TextIO = sys.stdout) -> int:
    """Run ``kube-tutor lint``: print one line per problem, or ``FILE: ok (N steps)`` for a good file.

    Args:
        paths: the lesson files, as the user named them.
        out: where to print.

    Returns:
        0 if every file is a good lesson and no two share an id, else 1 (also when no file is given).
    """
    if not paths:
        print("kube-tutor lint: no lesson files given", file=out)
        return 1
    status = 0
    for file, lesson, problems in _results(paths):
        if problems or lesson is None:
            status = 1
            for problem in problems:
                print(problem, file=out)
        else:
            count = len(lesson.steps)
            print(f"{file}: ok ({count} step{'' if count == 1 else 's'})", file=out)
    return status

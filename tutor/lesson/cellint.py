"""Provides the static checks of a check's CEL expressions: limits before the CEL compiler, types after it.

The CEL library (the ``common-expression-language`` package) is the Rust ``cel`` crate behind PyO3: it compiles
and evaluates, with dynamic types only; it offers no type checker and no syntax tree to Python. Its parser is
an ANTLR grammar walked by a recursive visitor (``cel/src/parser/parser.rs`` of cel-rust): ``visit_Select``,
``visit_MemberCall``, ``visit_Index``, ``visit_calc`` and ``visit_relation`` each recurse into their operand on
the calling thread's C stack, and its ``RecursionListener`` counts only the ``expr`` rule (brackets and
ternaries, ``max_recursion_depth`` 96). So a 40 KB chain of ``.x`` selections overflows the stack (SIGSEGV), and
a long expression costs about 10 µs and 2.5 KB per character (a 750 KB expression took 24 GB). Two checks
surround the compiler:

- :func:`limit_problem`, before it: the expression's size in code points and its nesting, estimated in one
  pass over its tokens (no recursion, no parse). The limits are cel-go's parser limits, which Kubernetes keeps
  for admission and validation expressions (``parser/parser.go`` of cel-go: ``expressionSizeCodePointLimit``
  100,000 and ``maxRecursionDepth`` 250, worded "expression code point size exceeds limit: size: %d, limit %d"
  and "max recursion depth exceeded"), made smaller for this parser: :data:`MAX_CODE_POINTS` and
  :data:`MAX_NESTING`.
- :func:`type_problems`, after it: the expression is parsed again here (the grammar of cel-go's
  ``parser/gen/CEL.g4``) and typed against the declared names (:data:`tutor.lesson.model.CEL_TYPES`), as
  Kubernetes compiles a ValidatingAdmissionPolicy's validations
  (k8s.io/apiserver/pkg/admission/plugin/cel/compile.go): a check must evaluate to ``bool`` ("must evaluate to
  bool but got dyn"); a field selection on a list or a scalar, or of an undeclared field, can never work. And,
  like the literal validators Kubernetes enables since 1.29 (k8s.io/apiserver/pkg/cel/environment/base.go:
  ``cel.ValidateDurationLiterals``, ``ValidateTimestampLiterals``, ``ValidateRegexLiterals``; cel-go's
  ``cel/validator.go`` words them "invalid %s argument"), every constant argument of ``timestamp``,
  ``duration`` and ``matches``, and every other constant sub-expression with a call or an operator, is
  evaluated here with the CEL library itself: one that fails always fails.

The typing is deliberately small and sound for what lessons write: an unknown type is ``dyn`` and ``dyn`` is
never an error except as the result of a check.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

if "cel" not in sys.modules:
    # The cel package imports its command-line tool on import (typer, rich, prompt_toolkit: ~100 ms of a
    # cold start); only the evaluator is needed, so that submodule is stubbed before the first import.
    import types

    sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
import cel  # noqa: E402

__all__ = ["MAX_CODE_POINTS", "MAX_NESTING", "CelType", "activation", "compile_expression", "evaluation_failure",
           "identifiers", "is_panic", "limit_problem", "parse_type", "type_problems"]

MAX_CODE_POINTS = 10_000
"""The longest CEL expression, in code points (cel-go and so Kubernetes: 100,000). The longest check of the seed
lesson has 372; this parser needs ~100 ms and ~40 MB for 10,000 code points of its costliest shape (a list
literal), ~1 s and ~270 MB for cel-go's 100,000."""

MAX_NESTING = 32
"""The deepest CEL expression (cel-go and so Kubernetes: ``maxRecursionDepth`` 250), as :func:`nesting` counts:
each bracket and ternary, and each selection, index and arithmetic or comparison operator of a chain. The seed
lesson's deepest expression counts 17. cel-go's 250 is safe on Go's growable stacks; this parser recurses on the
thread's fixed stack, ~6 KB a bracket (a 512 KiB thread stack overflows at ~90 nested brackets, the 8 MiB main
stack at ~10,000 chained selections), so 32 stays within ~200 KB on any thread."""

_TOKEN_RE = re.compile(r"""
    (?P<skip>[ \t\n\f\r]+|//[^\n]*)
  | (?P<ident>(?![bBrR]{1,2}['"])[A-Za-z_][A-Za-z0-9_]*|`[^`\n]*`)
  | (?P<punct>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:,\[\](){}]|\.(?![0-9]))
  | (?P<string>[bB]?[rR](?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'[^'\n\r]*'|"[^"\n\r]*")
             | [bB]?(?:'''(?:\\[\s\S]|[^\\])*?'''|\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"
                      |'(?:\\.|[^'\\\n\r])*'|"(?:\\.|[^"\\\n\r])*"))
  | (?P<unterminated>[bB]?[rR]?(?:'|")[^\n]*)
  | (?P<double>[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<uint>(?:0[xX][0-9a-fA-F]+|[0-9]+)[uU])
  | (?P<int>0[xX][0-9a-fA-F]+|[0-9]+)
  | (?P<other>[\s\S])
""", re.VERBOSE)

_NESTING = {
    **dict.fromkeys("([{", "open"), **dict.fromkeys(")]}", "close"),
    # the left-recursive rules of the grammar: each selection and operator of a chain is one level deeper
    **dict.fromkeys((".", "+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "in"), "chain"),
    # the ends of a chain: the parser balances && and || into a tree; the others separate items
    "&&": "logic", "||": "logic", ",": "end", ":": "end",
    "?": "ternary",
}
"""What each token does to :func:`nesting`'s count."""


_Token = tuple[str, str, int, int]
"""A token: its kind (a group of :data:`_TOKEN_RE`), its text, where it starts and ends (plain tuples: cheaper)."""


@lru_cache(maxsize=16)
def _tokens(source: str) -> tuple[_Token, ...]:
    """The tokens of an expression, without blanks and comments (any text tokenizes)."""
    return tuple([(match.lastgroup or "other", match.group(), match.start(), match.end())
                  for match in _TOKEN_RE.finditer(source) if match.lastgroup != "skip"])


@lru_cache(maxsize=1024)
def identifiers(source: str) -> frozenset[str]:
    """Every identifier an expression spells (outside string literals and comments): a superset of the variables
    it reads, since a field's name or a macro's own variable is spelled alike. What :func:`activation` need hold
    for it."""
    return frozenset(token[1] for token in _tokens(source) if token[0] == "ident" and not token[1].startswith("`"))


def activation(variables: Mapping[str, Any]) -> Any:
    """A ``cel.Context`` holding ``variables``, to evaluate several programs with: the library converts the Python
    values to CEL values once, on the first evaluation, and reuses them (a dict is converted anew by every
    ``execute``: ~8 ms for a lesson's snapshot of ten pods and eighty events, against ~0.2 ms for the deployment a
    check reads)."""
    context = cel.Context()
    context.update(dict(variables))
    return context


def nesting(tokens: Sequence[_Token]) -> int:
    """How deep the CEL parser recurses on these tokens, estimated from above in one pass.

    Each bracket opens a level one deeper than the point it opens at; within a level, each ``?`` adds one, each
    selection, index or arithmetic or comparison operator adds one to the current chain (which ``&&``, ``||``,
    ``,`` and ``:`` end), and n ``&&`` or ``||`` add the depth of a balanced tree of n + 1 terms. (A token's text
    decides: no other kind of token spells an operator.)
    """
    deepest = 1
    outer: list[tuple[int, int, int, int]] = []
    base, ternaries, chain, logic = 1, 0, 0, 0
    for token in tokens:
        action = _NESTING.get(token[1])
        if action is None:
            continue
        if action == "chain":
            chain += 1
        elif action == "logic":
            logic += 1
            chain = 0
        elif action == "end":
            chain = 0
            continue
        elif action == "open":
            if token[1] == "[":
                chain += 1  # an index (a list literal counts alike)
            outer.append((base, ternaries, chain, logic))
            base, ternaries, chain, logic = base + ternaries + chain + logic.bit_length() + 1, 0, 0, 0
        elif action == "close":
            if outer:
                base, ternaries, chain, logic = outer.pop()
            continue
        else:
            ternaries += 1
            chain = 0
        depth = base + ternaries + chain + logic.bit_length()
        if depth > deepest:
            deepest = depth
    return deepest


def limit_problem(source: str) -> str | None:
    """Why the CEL compiler must not see an expression (too long, nested too deeply), or ``None``."""
    if len(source) > MAX_CODE_POINTS:
        return f"expression code point size exceeds limit: size: {len(source)}, limit {MAX_CODE_POINTS}"
    depth = nesting(_tokens(source))
    if depth > MAX_NESTING:
        return (f"max recursion depth exceeded: the expression nests {depth} deep, more than {MAX_NESTING} "
                "(brackets, conditionals, and the selections, indexes and operators of one chain)")
    return None


def is_panic(error: BaseException) -> bool:
    """Whether an exception is a Rust panic inside the CEL library (PyO3's ``PanicException``, a BaseException)."""
    return type(error).__name__ == "PanicException"


def compile_expression(source: str) -> Any:
    """The CEL library's compiled program of an expression (``cel.compile``).

    Raises:
        ValueError: the expression does not compile, or the compiler panicked (a Rust panic is PyO3's
            ``PanicException``, which is no ``Exception``: e.g. a syntax error past column 65,535).
    """
    try:
        return cel.compile(source)
    except ValueError:
        raise
    except BaseException as error:
        if is_panic(error):
            raise ValueError(f"the CEL compiler failed: {error}") from None
        raise


# ---------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True)
class CelType:
    """A CEL type: a name and its type parameters (``list(dyn)``, ``map(string, dyn)``)."""

    name: str
    params: tuple[CelType, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({', '.join(map(str, self.params))})" if self.params else self.name


DYN = CelType("dyn")
BOOL = CelType("bool")
INT = CelType("int")
UINT = CelType("uint")
DOUBLE = CelType("double")
STRING = CelType("string")
BYTES = CelType("bytes")
NULL = CelType("null_type")
TIMESTAMP = CelType("timestamp")
DURATION = CelType("duration")
TYPE = CelType("type")
_NUMBERS = frozenset({INT, UINT, DOUBLE})
_SCALARS = frozenset({BOOL, INT, UINT, DOUBLE, STRING, BYTES, NULL, TIMESTAMP, DURATION, TYPE})


def list_of(element: CelType) -> CelType:
    """``list(element)``."""
    return CelType("list", (element,))


def map_of(key: CelType, value: CelType) -> CelType:
    """``map(key, value)``."""
    return CelType("map", (key, value))


def parse_type(spelling: str) -> CelType:
    """A type from its CEL spelling: ``int``, ``list(dyn)``, ``map(string, list(string))``, ``kube_tutor.Probe``.

    Raises:
        ValueError: not a type spelling.
    """
    tokens = re.findall(r"[\w.]+|[(),]", spelling)
    position = 0

    def one() -> CelType:
        nonlocal position
        if position >= len(tokens) or not re.fullmatch(r"[\w.]+", tokens[position]):
            raise ValueError(f"not a CEL type: {spelling!r}")
        name = tokens[position]
        position += 1
        params: list[CelType] = []
        if position < len(tokens) and tokens[position] == "(":
            position += 1
            params.append(one())
            while position < len(tokens) and tokens[position] == ",":
                position += 1
                params.append(one())
            if position >= len(tokens) or tokens[position] != ")":
                raise ValueError(f"not a CEL type: {spelling!r}")
            position += 1
        return CelType(name, tuple(params))

    found = one()
    if position != len(tokens):
        raise ValueError(f"not a CEL type: {spelling!r}")
    return found


# ---------------------------------------------------------------------------------------------
# Parsing (for the types: only expressions the CEL compiler accepted get here)


class _Unsupported(Exception):
    """The expression uses syntax this parser does not know: it is not typed (never a lint problem)."""


class _Node:
    """A node of the syntax tree."""

    __slots__ = ("args", "binders", "constant", "end", "kind", "name", "start", "target")

    def __init__(self, kind: str, name: str, args: list[_Node], start: int, end: int, *,
                 target: bool = False) -> None:
        self.kind = kind
        """literal, ident, select, index, call, list, map, struct, unary, binary or ternary."""
        self.name = name
        """The literal's type, the identifier, the field, the function, the operator."""
        self.args = args
        self.start = start
        self.end = end
        self.target = target
        """A call with a receiver (``x.f(y)``): it is ``args[0]``."""
        self.binders: tuple[str, ...] = ()
        """The variables a comprehension macro binds (``p`` in ``pods.all(p, ...)``)."""
        constant: bool = kind != "ident" and kind != "struct"
        for arg in args:
            constant = constant and arg.constant
        self.constant: bool = constant
        """No variable and no comprehension in it."""


_MACROS = frozenset({"all", "exists", "exists_one", "existsOne", "map", "filter"})
_NUMBER_LITERALS = frozenset({"int", "uint", "double"})
_PRECEDENCE = {"||": 1, "&&": 2, **dict.fromkeys(("<", "<=", ">", ">=", "==", "!=", "in"), 3),
               "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}
_RELATIONS = frozenset(op for op, precedence in _PRECEDENCE.items() if precedence == 3)


class _Parser:
    """Recursive descent over the tokens, iterative along chains (the nesting limit bounds the recursion).

    A token's text decides: a string's text keeps its quotes and no other kind of token can spell an operator.
    """

    def __init__(self, source: str, tokens: Sequence[_Token]) -> None:
        self.source = source
        self.tokens: list[_Token] = [*tokens, ("end", "", len(source), len(source))]
        self.position = 0
        self.literals: list[_Node] = []
        """The calls whose constant argument upstream's literal validators check, innermost first."""

    def next_text(self) -> str:
        return self.tokens[self.position][1]

    def take(self, text: str | None = None) -> _Token:
        token = self.tokens[self.position]
        if token[0] == "end" or (text is not None and token[1] != text):
            raise _Unsupported(f"expected {text!r}")
        self.position += 1
        return token

    def parse(self) -> _Node:
        node = self.expr()
        if self.tokens[self.position][0] != "end":
            raise _Unsupported("trailing tokens")
        return node

    def expr(self) -> _Node:
        condition = self.binary(1)
        if self.next_text() != "?":
            return condition
        self.position += 1
        then = self.binary(1)
        self.take(":")
        otherwise = self.expr()
        return _Node("ternary", "?:", [condition, then, otherwise], condition.start, otherwise.end)

    def binary(self, lowest: int) -> _Node:
        """Operators binding at least as tightly as ``lowest``, left-associative (precedence climbing)."""
        left = self.unary()
        while True:
            operator = self.tokens[self.position][1]
            precedence = _PRECEDENCE.get(operator, 0)
            if precedence < lowest:
                return left
            self.position += 1
            right = self.binary(precedence + 1)
            left = _Node("binary", operator, [left, right], left.start, right.end)

    def unary(self) -> _Node:
        _, op, start, _ = self.tokens[self.position]
        if op not in ("!", "-"):
            return self.member()
        ops = 0
        while self.next_text() == op:
            self.position += 1
            ops += 1
        operand = self.member()
        if ops == 1 and op == "-" and operand.kind == "literal" and operand.name in _NUMBER_LITERALS:
            return _Node("literal", operand.name, [], start, operand.end)  # a negative number
        if ops % 2 == 0:
            return operand
        return _Node("unary", op, [operand], start, operand.end)

    def member(self) -> _Node:
        node = self.primary()
        while True:
            text = self.next_text()
            if text == ".":
                self.position += 1
                kind, name, _, name_end = self.take()
                if kind != "ident":
                    raise _Unsupported("expected a field name")
                after = self.next_text()
                if after == "(":
                    args, end = self.arguments()
                    node = self.call(name, [node, *args], node.start, end, target=True)
                elif after == "{" and _qualified(node):
                    node = self.message(_Node("select", name, [node], node.start, name_end))
                else:
                    node = _Node("select", name.strip("`"), [node], node.start, name_end)
            elif text == "[":
                self.position += 1
                index = self.expr()
                end = self.take("]")[3]
                node = _Node("index", "[]", [node, index], node.start, end)
            elif text == "{" and node.kind == "ident":
                node = self.message(node)
            else:
                return node

    def items(self, close: str, pairs: bool = False) -> tuple[list[_Node], int]:
        """The expressions up to ``close`` (``key: value`` pairs if ``pairs``), separated by commas."""
        found: list[_Node] = []
        while self.next_text() != close:
            found.append(self.expr())
            if pairs:
                self.take(":")
                found.append(self.expr())
            if self.next_text() != close:
                self.take(",")
        return found, self.take(close)[3]

    def arguments(self) -> tuple[list[_Node], int]:
        self.take("(")
        return self.items(")")

    def call(self, name: str, args: list[_Node], start: int, end: int, *, target: bool) -> _Node:
        node = _Node("call", name, args, start, end, target=target)
        rest = args[1:] if target else args
        if target and name in _MACROS and len(rest) >= 2 and rest[0].kind == "ident":
            count = 2 if name in ("all", "exists", "exists_one", "existsOne") and len(rest) == 3 \
                and rest[1].kind == "ident" else 1
            node.binders = tuple(arg.name for arg in rest[:count])
            node.constant = False
        elif len(rest) == 1 and rest[0].constant and (
                (target and name == "matches") or (not target and name in _LITERAL_VALIDATED)):
            self.literals.append(node)
        return node

    def message(self, type_name: _Node) -> _Node:
        self.take("{")
        values: list[_Node] = []
        while self.next_text() != "}":
            self.take()  # the field name
            self.take(":")
            values.append(self.expr())
            if self.next_text() != "}":
                self.take(",")
        end = self.take("}")[3]
        return _Node("struct", self.source[type_name.start:type_name.end], values, type_name.start, end)

    def primary(self) -> _Node:
        kind, text, start, end = self.take()
        if kind == "string":
            literal = "bytes" if text[0] in "bB" else "string"
            return _Node("literal", literal, [], start, end)
        if kind in _NUMBER_LITERALS:
            return _Node("literal", kind, [], start, end)
        if kind == "ident":
            if text in ("true", "false"):
                return _Node("literal", "bool", [], start, end)
            if text == "null":
                return _Node("literal", "null_type", [], start, end)
            if self.next_text() == "(":
                args, end = self.arguments()
                return self.call(text, args, start, end, target=False)
            return _Node("ident", text, [], start, end)
        if text == "(":
            inner = self.expr()
            inner.start, inner.end = start, self.take(")")[3]  # the source of the node keeps its brackets
            return inner
        if text == "[":
            elements, end = self.items("]")
            return _Node("list", "[]", elements, start, end)
        if text == "{":
            entries, end = self.items("}", pairs=True)
            return _Node("map", "{}", entries, start, end)
        if text == ".":
            _, name, _, end = self.take()
            return _Node("ident", "." + name, [], start, end)
        raise _Unsupported(f"unexpected {text!r}")


def _qualified(node: _Node) -> bool:
    return node.kind == "ident" or (node.kind == "select" and _qualified(node.args[0]))


# ---------------------------------------------------------------------------------------------
# Typing


_CONVERSIONS = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bytes": BYTES, "bool": BOOL,
                "timestamp": TIMESTAMP, "duration": DURATION, "type": TYPE, "dyn": DYN}
_RETURNS = {
    "size": INT, "has": BOOL, "contains": BOOL, "startsWith": BOOL, "endsWith": BOOL, "matches": BOOL,
    "all": BOOL, "exists": BOOL, "exists_one": BOOL, "existsOne": BOOL,
    **{name: INT for name in ("getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate",
                              "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds")},
}
_OPERATIONS = frozenset({"call", "binary", "unary", "index", "select", "ternary"})
_MAX_EVALUATED = 1000
"""The longest constant sub-expression evaluated at lint (a longer one's parts are): evaluating costs what
compiling did."""
_LITERAL_VALIDATED = frozenset({"timestamp", "duration"})
"""Functions whose constant argument is checked as upstream's literal validators do (cel-go cel/validator.go),
besides ``matches``."""


def _element(collection: CelType) -> CelType:
    """The type a comprehension variable over a collection has (a list's elements, a map's keys)."""
    if collection.name in ("list", "map") and collection.params:
        return collection.params[0]
    return DYN


def _common(types: list[CelType]) -> CelType:
    """The one type of a list literal's elements or a conditional's branches, else ``dyn``."""
    return types[0] if types and all(t == types[0] for t in types) else DYN


@dataclass
class _Typer:
    source: str
    objects: Mapping[str, Mapping[str, CelType]]
    evaluate: Callable[[str], str | None]
    problems: list[str] = field(default_factory=list)

    def type(self, node: _Node, names: Mapping[str, CelType]) -> CelType:
        kind = node.kind
        if kind == "literal":
            return CelType(node.name)
        if kind == "ident":
            return names.get(node.name, DYN)
        if kind == "select":
            return self.select(node, self.type(node.args[0], names))
        if kind == "index":
            target = self.type(node.args[0], names)
            self.type(node.args[1], names)
            if target.name == "list" and target.params:
                return target.params[0]
            if target.name == "map" and len(target.params) == 2:
                return target.params[1]
            return DYN
        if kind == "list":
            return list_of(_common([self.type(item, names) for item in node.args]))
        if kind == "map":
            types = [self.type(item, names) for item in node.args]
            return map_of(_common(types[0::2]), _common(types[1::2]))
        if kind == "struct":
            for value in node.args:
                self.type(value, names)
            return DYN
        if kind == "unary":
            operand = self.type(node.args[0], names)
            return BOOL if node.name == "!" else operand if operand in _NUMBERS else DYN
        if kind == "binary":
            return self.binary(node, *(self.type(arg, names) for arg in node.args))
        if kind == "ternary":
            self.type(node.args[0], names)
            return _common([self.type(node.args[1], names), self.type(node.args[2], names)])
        return self.call(node, names)

    def select(self, node: _Node, operand: CelType) -> CelType:
        if operand.name == "map" and len(operand.params) == 2:
            return operand.params[1]
        fields = self.objects.get(operand.name)
        if fields is not None:
            if node.name in fields:
                return fields[node.name]
            self.problems.append(f"undefined field {node.name!r} (of {operand}: {', '.join(sorted(fields))})")
            return DYN
        if operand.name == "list" or operand in _SCALARS:
            self.problems.append(f"type '{operand}' does not support field selection")
        return DYN

    @staticmethod
    def binary(node: _Node, left: CelType, right: CelType) -> CelType:
        op = node.name
        if op in ("&&", "||") or op in _RELATIONS:
            return BOOL
        if op == "+":
            if left == right and (left in _NUMBERS or left in (STRING, BYTES, DURATION)):
                return left
            if left.name == "list" and right.name == "list":
                return left if left == right else list_of(DYN)
            if {left, right} == {TIMESTAMP, DURATION}:
                return TIMESTAMP
            return DYN
        if op == "-":
            if left == right and (left in _NUMBERS or left == DURATION):
                return left
            if left == TIMESTAMP:
                return DURATION if right == TIMESTAMP else TIMESTAMP if right == DURATION else DYN
            return DYN
        return left if left == right and left in _NUMBERS else DYN

    def call(self, node: _Node, names: Mapping[str, CelType]) -> CelType:
        name, args = node.name, node.args
        if node.binders:
            collection = self.type(args[0], names)
            inner = dict(names)
            inner[node.binders[0]] = _element(collection) if len(node.binders) == 1 else DYN
            for binder in node.binders[1:]:
                inner[binder] = DYN
            bodies = [self.type(arg, inner) for arg in args[1 + len(node.binders):]]
            if name == "map":
                return list_of(bodies[-1] if bodies else DYN)
            if name == "filter":
                return list_of(_element(collection))
            return BOOL
        for arg in args:
            self.type(arg, names)
        if name in _RETURNS:
            return _RETURNS[name]
        if not node.target and name in _CONVERSIONS:
            return _CONVERSIONS[name]
        return DYN

    # -- constants ---------------------------------------------------------------------------------

    def literals(self, calls: list[_Node]) -> None:
        """Check each constant argument of ``timestamp``, ``duration`` and ``matches`` as upstream's literal
        validators do (the first that fails is the problem)."""
        for call in calls:
            argument = call.args[-1]
            text = self.text(argument)
            failure = self.evaluate(f"''.matches({text})" if call.target else f"{call.name}({text})")
            if failure is not None:
                self.problems.append(f"invalid {call.name} argument {_shorten(text)}: {failure}")
                return

    def failing(self, node: _Node) -> None:
        """Report the first maximal constant sub-expression with a call or an operator that fails to evaluate."""
        if self.problems:
            return
        if node.constant and node.kind in _OPERATIONS and node.end - node.start <= _MAX_EVALUATED:
            failure = self.evaluate(self.text(node))
            if failure is not None:
                self.problems.append(f"{_shorten(self.text(node))} always fails: {failure}")
            return
        for arg in node.args:
            self.failing(arg)

    def text(self, node: _Node) -> str:
        return self.source[node.start:node.end]


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_FUNCTION_ERROR_RE = re.compile(r"^(?:Function '[^']*' error: )?(.*?)(?:\. Check [^\n]*)?$", re.DOTALL)
"""The CEL library's error: the detail, without the function's name before it or the advice after it."""


def evaluation_failure(source: str) -> str | None:
    """Why a constant expression fails to evaluate (one line), or ``None`` if it evaluates."""
    try:
        cel.evaluate(source, {})
    except BaseException as error:  # the CEL runtime raises several types; a Rust panic is a BaseException
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return _one_line(str(error))
    return None


def _one_line(message: str) -> str:
    """A CEL library error on one line: the detail of a function error, the ``error:`` line of a regex error."""
    found = _FUNCTION_ERROR_RE.match(message.strip())
    detail = found.group(1) if found else message
    lines = [line.strip() for line in detail.splitlines() if line.strip()]
    reason = next((line for line in lines if line.startswith("error: ")), None)
    if reason is not None:
        return f"{lines[0].rstrip(':')} ({reason.removeprefix('error: ')})"
    return " ".join(lines)


def type_problems(source: str, names: Mapping[str, CelType], objects: Mapping[str, Mapping[str, CelType]], *,
                  boolean: bool, evaluate: Callable[[str], str | None] = evaluation_failure) -> list[str]:
    """What can never work in a compiled expression: a non-``bool`` check, a selection that cannot exist, a
    constant part that fails.

    Args:
        source: the expression (it compiled, and :func:`limit_problem` passed it).
        names: the declared names and their types.
        objects: the fields of the declared object types.
        boolean: the expression is a check's ``cel``, which must evaluate to ``bool``.
        evaluate: why a constant expression fails, or ``None`` (the CEL library by default).

    Returns:
        One-line messages, the first problem only (empty when none, or when the expression uses syntax this
        checker does not parse).
    """
    parser = _Parser(source, _tokens(source))
    try:
        tree = parser.parse()
    except (_Unsupported, RecursionError):
        return []
    typer = _Typer(source, objects, evaluate)
    try:
        result = typer.type(tree, names)
        if not typer.problems:
            typer.literals(parser.literals)
        if not typer.problems:
            typer.failing(tree)
    except RecursionError:
        return []
    if typer.problems:
        return typer.problems[:1]
    if boolean and result != BOOL:
        hint = "; compare the value (e.g. == true) or test it with has()" if result == DYN else ""
        return [f"must evaluate to bool but got {result}{hint}"]
    return []

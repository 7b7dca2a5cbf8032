"""Provides label and field selectors, parsed, printed and matched as the Kubernetes API server does.

Ported from ``k8s.io/apimachinery/pkg/labels/selector.go`` (the ``labelSelector`` query parameter
and ``metav1.LabelSelector``), ``k8s.io/apimachinery/pkg/fields/selector.go`` (the
``fieldSelector`` query parameter), the field label conversion functions of
``pkg/apis/core/v1/conversion.go`` and the ``ToSelectableFields`` functions of
``pkg/registry/core/*/strategy.go``. Error messages keep upstream's wording, so that kubectl prints
``Error from server (BadRequest): Unable to find ... that match label selector ...: <message>``
exactly as against a real cluster (kubectl adds the prefix itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tutor.kube.strconv import NumError, parse_int, quote
from tutor.practice.apiserver.errors import BadRequest

# ---------------------------------------------------------------------------------------------
# Go formatting helpers


def _go_string_slice(values: list[str] | None) -> str:
    """Go's ``%#v`` of a ``[]string`` (``[]string(nil)``, ``[]string{"a", "b"}``)."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(quote(v) for v in values) + "}"


def _aggregate(messages: list[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: one message as is, several as ``[a, b]``, deduplicated."""
    seen: list[str] = []
    for message in messages:
        if message not in seen:
            seen.append(message)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


def _invalid(path: str, bad_value: str, detail: str) -> str:
    """``field.Invalid(path, value, detail).Error()`` with a pre-formatted bad value."""
    return f"{path}: Invalid value: {bad_value}: {detail}"


# ---------------------------------------------------------------------------------------------
# Label key / value validation (k8s.io/apimachinery/pkg/api/validate/content)

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT)
_LABEL_KEY_MAX = 63
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_LABEL_VALUE_MAX = 63
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1123_SUBDOMAIN_MAX = 253


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``content.RegexError`` (note upstream's double space before ``or``)."""
    if not examples:
        return msg + " (regex used for validation is '" + fmt + "')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += "'" + example + "', "
    return msg + "regex used for validation is '" + fmt + "')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} bytes"


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    if len(value.encode()) > _DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len_error(_DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def label_key_errors(key: str) -> list[str]:
    """Return the problems of a label key as ``content.IsLabelKey`` words them (empty when valid).

    Args:
        key: A label key such as ``app`` or ``app.kubernetes.io/name``.

    Returns:
        The error strings; an empty list when the key is valid.
    """
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _dns1123_subdomain_errors(prefix))
    else:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_ERR, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name.encode()) > _LABEL_KEY_MAX:
        errs.append("name part " + _max_len_error(_LABEL_KEY_MAX))
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_LABEL_KEY_ERR, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_value_errors(value: str) -> list[str]:
    """Return the problems of a label value as ``content.IsLabelValue`` words them (empty when valid).

    Args:
        value: A label value; the empty string is valid.

    Returns:
        The error strings; an empty list when the value is valid.
    """
    errs = []
    if len(value.encode()) > _LABEL_VALUE_MAX:
        errs.append(_max_len_error(_LABEL_VALUE_MAX))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def _key_error(key: str, path: str) -> str | None:
    errs = label_key_errors(key)
    return _invalid(path, quote(key), "; ".join(errs)) if errs else None


# ---------------------------------------------------------------------------------------------
# Label selectors

# selection.Operator values
_IN, _NOT_IN, _EQUALS, _DOUBLE_EQUALS, _NOT_EQUALS = "in", "notin", "=", "==", "!="
_EXISTS, _DOES_NOT_EXIST, _GT, _LT = "exists", "!", "gt", "lt"
_BINARY_OPERATORS = (_IN, _NOT_IN, _EQUALS, _DOUBLE_EQUALS, _NOT_EQUALS, _GT, _LT)


def _parse_int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``; ``None`` when it fails."""
    try:
        return parse_int(text, 64)
    except NumError:
        return None


class _SelectorError(Exception):
    """An upstream-worded parse error; becomes a ``BadRequest``."""


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: ``key``, ``operator`` (``selection.Operator``) and values.

    ``operator`` is one of ``in``, ``notin``, ``=``, ``==``, ``!=``, ``exists``, ``!``
    (does-not-exist), ``gt`` and ``lt``, as in ``k8s.io/apimachinery/pkg/selection``.
    """

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        """Return whether ``labels`` satisfy this requirement (``Requirement.Matches``)."""
        present = self.key in labels
        value = _label_text(labels.get(self.key)) if present else ""
        if self.operator in (_IN, _EQUALS, _DOUBLE_EQUALS):
            return present and value in self.values
        if self.operator in (_NOT_IN, _NOT_EQUALS):
            return not present or value not in self.values
        if self.operator == _EXISTS:
            return present
        if self.operator == _DOES_NOT_EXIST:
            return not present
        if self.operator in (_GT, _LT):
            if not present or len(self.values) != 1:
                return False
            have, want = _parse_int64(value), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if self.operator == _GT else have < want
        return False

    def __str__(self) -> str:
        """``Requirement.String()``: ``k=v``, ``k!=v``, ``k in (a,b)``, ``k notin (a)``, ``k``, ``!k``."""
        if self.operator == _EXISTS:
            return self.key
        if self.operator == _DOES_NOT_EXIST:
            return "!" + self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if self.operator in (_IN, _NOT_IN):
            return f"{self.key} {self.operator} ({values})"
        symbol = {_GT: ">", _LT: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{values}"


def _label_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _new_requirement(key: str, operator: str, values: list[str] | None, *, key_path: str = "key") -> Requirement:
    """``labels.NewRequirement`` with a nil field path; raises ``_SelectorError`` with its aggregate."""
    errs = []
    if (err := _key_error(key, key_path)) is not None:
        errs.append(err)
    vals = values or []
    if operator in (_IN, _NOT_IN):
        if not vals:
            errs.append(_invalid("values", _go_string_slice(values),
                                 "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (_EQUALS, _DOUBLE_EQUALS, _NOT_EQUALS):
        if len(vals) != 1:
            errs.append(_invalid("values", _go_string_slice(values),
                                 "exact-match compatibility requires one single value"))
    elif operator in (_EXISTS, _DOES_NOT_EXIST):
        if vals:
            errs.append(_invalid("values", _go_string_slice(values),
                                 "values set must be empty for exists and does not exist"))
    elif operator in (_GT, _LT):
        if len(vals) != 1:
            errs.append(_invalid("values", _go_string_slice(values),
                                 "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, val in enumerate(vals):
            if _parse_int64(val) is None:
                errs.append(_invalid(f"values[{i}]", quote(val),
                                     "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(quote(op) for op in (*_BINARY_OPERATORS, _EXISTS, _DOES_NOT_EXIST))
        errs.append(f"operator: Unsupported value: {quote(operator)}: supported values: {supported}")
    for i, val in enumerate(vals):
        value_errs = label_value_errors(val)
        if value_errs:
            errs.append(_invalid(f"values[{i}][{key}]", quote(val), "; ".join(value_errs)))
    if errs:
        raise _SelectorError(_aggregate(errs))
    return Requirement(key, operator, tuple(vals))


# Lexer tokens (labels.Token)
_ERROR, _EOS, _CLOSED_PAR, _COMMA, _DOES_NOT_EXIST_TOKEN = "error", "eos", ")", ",", "!"
_DOUBLE_EQUALS_TOKEN, _EQUALS_TOKEN, _GT_TOKEN, _IDENTIFIER = "==", "=", ">", "identifier"
_IN_TOKEN, _LT_TOKEN, _NOT_EQUALS_TOKEN, _NOT_IN_TOKEN, _OPEN_PAR = "in", "<", "!=", "notin", "("
_STRING_TO_TOKEN = {
    ")": _CLOSED_PAR, ",": _COMMA, "!": _DOES_NOT_EXIST_TOKEN, "==": _DOUBLE_EQUALS_TOKEN,
    "=": _EQUALS_TOKEN, ">": _GT_TOKEN, "in": _IN_TOKEN, "<": _LT_TOKEN, "!=": _NOT_EQUALS_TOKEN,
    "notin": _NOT_IN_TOKEN, "(": _OPEN_PAR,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokenize a selector like ``labels.Lexer`` (runs until the end-of-string token)."""
    items: list[tuple[str, str]] = []
    pos = 0
    end = text.find("\0")  # Go's lexer reads a NUL byte as "no more input"; simplified to a hard end
    if end >= 0:
        text = text[:end]
    n = len(text)
    while True:
        while pos < n and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            items.append((_EOS, ""))
            return items
        if text[pos] in _SPECIAL:
            last: tuple[str, str] | None = None
            buffer = ""
            while pos < n and text[pos] in _SPECIAL:
                buffer += text[pos]
                if buffer in _STRING_TO_TOKEN:
                    last = (_STRING_TO_TOKEN[buffer], buffer)
                    pos += 1
                elif last is not None:
                    break
                else:
                    pos += 1
            items.append(last if last is not None else (_ERROR, f"error expected: keyword found '{buffer}'"))
        else:
            start = pos
            while pos < n and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
                pos += 1
            literal = text[start:pos]
            token = _STRING_TO_TOKEN.get(literal)
            items.append((token, literal) if token is not None else (_IDENTIFIER, literal))


class _Parser:
    """``labels.Parser``: a recursive-descent parser over the scanned tokens."""

    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def _item(self, index: int, values: bool) -> tuple[str, str]:
        token, literal = self.items[min(index, len(self.items) - 1)]
        if values and token in (_IN_TOKEN, _NOT_IN_TOKEN):
            token = _IDENTIFIER
        return token, literal

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        return self._item(self.position, values)

    def consume(self, values: bool = True) -> tuple[str, str]:
        self.position += 1
        return self._item(self.position - 1, values)

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self.lookahead()
            if token in (_IDENTIFIER, _DOES_NOT_EXIST_TOKEN):
                try:
                    requirements.append(self.parse_requirement())
                except _SelectorError as err:
                    raise _SelectorError(f"unable to parse requirement: {err}") from None
                token, literal = self.consume()
                if token == _EOS:
                    return requirements
                if token == _COMMA:
                    token2, literal2 = self.lookahead()
                    if token2 not in (_IDENTIFIER, _DOES_NOT_EXIST_TOKEN):
                        raise _SelectorError(f"found '{literal2}', expected: identifier after ','")
                else:
                    raise _SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            elif token == _EOS:
                return requirements
            else:
                raise _SelectorError(f"found '{literal}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in (_EXISTS, _DOES_NOT_EXIST):
            return _new_requirement(key, operator, [])
        operator = self.parse_operator()
        if operator in (_IN, _NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        return _new_requirement(key, operator, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        operator = ""
        token, literal = self.consume()
        if token == _DOES_NOT_EXIST_TOKEN:
            operator = _DOES_NOT_EXIST
            token, literal = self.consume()
        if token != _IDENTIFIER:
            raise _SelectorError(f"found '{literal}', expected: identifier")
        if (err := _key_error(literal, "<nil>")) is not None:
            raise _SelectorError(err)
        if self.lookahead()[0] in (_EOS, _COMMA) and operator != _DOES_NOT_EXIST:
            operator = _EXISTS
        return literal, operator

    def parse_operator(self) -> str:
        token, literal = self.consume(values=False)
        operator = {
            _IN_TOKEN: _IN, _EQUALS_TOKEN: _EQUALS, _DOUBLE_EQUALS_TOKEN: _DOUBLE_EQUALS, _GT_TOKEN: _GT,
            _LT_TOKEN: _LT, _NOT_IN_TOKEN: _NOT_IN, _NOT_EQUALS_TOKEN: _NOT_EQUALS,
        }.get(token)
        if operator is None:
            raise _SelectorError(f"found '{literal}', expected: {', '.join(_BINARY_OPERATORS)}")
        return operator

    def parse_values(self) -> set[str]:
        token, literal = self.consume()
        if token != _OPEN_PAR:
            raise _SelectorError(f"found '{literal}' expected: '('")
        token, literal = self.lookahead()
        if token in (_IDENTIFIER, _COMMA):
            values = self.parse_identifiers_list()
            if self.consume()[0] != _CLOSED_PAR:
                raise _SelectorError(f"found '{literal}', expected: ')'")
            return values
        if token == _CLOSED_PAR:
            self.consume()
            return {""}
        raise _SelectorError(f"found '{literal}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            token, literal = self.consume()
            if token == _IDENTIFIER:
                values.add(literal)
                token2, literal2 = self.lookahead()
                if token2 == _COMMA:
                    continue
                if token2 == _CLOSED_PAR:
                    return values
                raise _SelectorError(f"found '{literal2}', expected: ',' or ')'")
            if token == _COMMA:
                if not values:
                    values.add("")
                token2, _ = self.lookahead()
                if token2 == _CLOSED_PAR:
                    values.add("")
                    return values
                if token2 == _COMMA:
                    values.add("")
            else:
                raise _SelectorError(f"found '{literal}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_EOS, _COMMA):
            return {""}
        token, literal = self.consume()
        if token == _IDENTIFIER:
            return {literal}
        raise _SelectorError(f"found '{literal}', expected: identifier")


_SELECTOR_OPERATORS = {"In": _IN, "NotIn": _NOT_IN, "Exists": _EXISTS, "DoesNotExist": _DOES_NOT_EXIST}


class LabelSelector:
    """A parsed label selector: an AND of requirements kept sorted by key (``labels.Selector``)."""

    __slots__ = ("_requirements",)

    def __init__(self, requirements: Iterable[Requirement] = ()) -> None:
        # sort.Sort(ByKey) is an insertion sort for the short lists selectors are; a stable sort agrees.
        self._requirements: tuple[Requirement, ...] = tuple(sorted(requirements, key=lambda r: r.key))

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse the query-string form (``labels.Parse``), as the ``labelSelector`` parameter.

        Args:
            text: E.g. ``app=x,tier!=db,env in (a,b),!legacy,release,x notin (y)``; ``==`` works too.
                The empty string selects everything.

        Returns:
            The selector, requirements sorted by key.

        Raises:
            BadRequest: The text does not parse; the message is upstream's, e.g.
                ``unable to parse requirement: found '', expected: ',', ')' or identifier``.
        """
        try:
            return cls(_Parser(text).parse())
        except _SelectorError as err:
            raise BadRequest(str(err)) from None

    @classmethod
    def from_dict(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """Convert a ``metav1.LabelSelector`` (``matchLabels`` and ``matchExpressions``).

        ``None`` and an empty selector select everything. (Upstream's ``LabelSelectorAsSelector``
        turns ``nil`` into a selector matching *nothing*; API validation never lets a Deployment or
        ReplicaSet have a nil selector, so the practice cluster treats a missing one as empty.)

        Args:
            selector: The selector object, e.g. ``{"matchLabels": {"app": "web"}}``, or ``None``.

        Returns:
            The selector.

        Raises:
            BadRequest: An operator other than In/NotIn/Exists/DoesNotExist, or an invalid key,
                value or value count, worded as upstream.
        """
        if selector is None:
            return cls()
        if not isinstance(selector, Mapping):
            raise BadRequest(f"expected a label selector object, got {type(selector).__name__}")
        requirements: list[Requirement] = []
        try:
            match_labels = selector.get("matchLabels") or {}
            for key in sorted(match_labels):
                requirements.append(_new_requirement(key, _EQUALS, [_label_text(match_labels[key])]))
            for expr in selector.get("matchExpressions") or []:
                expr = expr if isinstance(expr, Mapping) else {}
                operator = expr.get("operator") or ""
                if operator not in _SELECTOR_OPERATORS:
                    raise _SelectorError(f"{quote(str(operator))} is not a valid label selector operator")
                raw_values = expr.get("values")
                values = [_label_text(v) for v in raw_values] if raw_values else None
                requirements.append(_new_requirement(str(expr.get("key") or ""),
                                                     _SELECTOR_OPERATORS[operator], values))
        except _SelectorError as err:
            raise BadRequest(str(err)) from None
        return cls(requirements)

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        """The requirements, sorted by key."""
        return self._requirements

    def matches(self, labels: Mapping[str, Any] | None) -> bool:
        """Return whether every requirement holds for ``labels``.

        Args:
            labels: An object's ``metadata.labels``; ``None`` means no labels.

        Returns:
            True when all requirements match (always for an empty selector).
        """
        labels = labels or {}
        return all(r.matches(labels) for r in self._requirements)

    def empty(self) -> bool:
        """Return whether the selector does not restrict anything."""
        return not self._requirements

    def requires_exact_match(self, key: str) -> str | None:
        """Return the single value ``key`` must have (``RequiresExactMatch``), if the selector pins one."""
        for r in self._requirements:
            if r.key == key:
                if r.operator in (_EQUALS, _DOUBLE_EQUALS, _IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        """The canonical form (``Selector.String()``): requirements sorted by key, joined by ``,``."""
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        return f"LabelSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelSelector) and self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash(self._requirements)


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """Print a ``metav1.LabelSelector`` as ``LabelSelectorAsSelector(selector).String()`` does.

    Args:
        selector: The selector object, or ``None``.

    Returns:
        Requirements sorted by key and joined with ``,`` (``app=x``, ``env in (a,b)``, ``tier notin (c)``,
        ``k``, ``!k``); ``""`` for a nil or empty selector.

    Raises:
        BadRequest: The selector is invalid, worded as :meth:`LabelSelector.from_dict` words it.
    """
    return str(LabelSelector.from_dict(selector))


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """Print a ``metav1.LabelSelector`` as ``metav1.FormatLabelSelector`` does (kubectl's SELECTOR column).

    Args:
        selector: The selector object, or ``None``.

    Returns:
        The canonical string; ``<none>`` when it is nil or empty, ``<error>`` when it is invalid.
    """
    try:
        text = label_selector_string(selector)
    except BadRequest:
        return "<error>"
    return text or "<none>"


# ---------------------------------------------------------------------------------------------
# Field selectors

_DEFAULT_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
# Kinds with a field label conversion function (pkg/apis/core/v1/conversion.go); an unsupported
# field gets "field label not supported: <field>". Every other kind goes through
# runtime.DefaultMetaV1FieldSelectorConversion and gets `"<field>" is not a known field selector: ...`.
_REGISTERED_FIELDS: dict[str, frozenset[str]] = {
    "Pod": frozenset({
        "metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
        "status.nominatedNodeName",
    }),
    "Node": frozenset({"metadata.name", "spec.unschedulable"}),
    "ReplicationController": frozenset({"metadata.name", "metadata.namespace", "status.replicas"}),
    "Event": frozenset({
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
        "reason", "reportingComponent", "source", "type", "metadata.namespace", "metadata.name",
    }),
    "Namespace": frozenset({"status.phase", "metadata.name"}),
    "Secret": frozenset({"type", "metadata.namespace", "metadata.name"}),
    "Service": frozenset({"metadata.namespace", "metadata.name", "spec.clusterIP", "spec.type"}),
}
# Deliberate additions over upstream, for the practice cluster:
# - metadata.namespace for every kind (upstream's Node and Namespace functions reject it; on a
#   cluster-scoped object it is always "");
# - status.replicas for ReplicaSet: documented, and ReplicaSet storage computes it, but apps/v1
#   registers no conversion function, so a real server answers
#   `"status.replicas" is not a known field selector` (kubernetes/kubernetes#135136).
_EXTRA_FIELDS: dict[str, frozenset[str]] = {
    "Node": frozenset({"metadata.namespace"}),
    "Namespace": frozenset({"metadata.namespace"}),
    "ReplicaSet": frozenset({"status.replicas"}),
}
_FIELD_ALIASES = {("Pod", "spec.host"): "spec.nodeName"}  # old v1 clients


def supported_fields(kind: str) -> frozenset[str]:
    """Return the field labels a field selector may use for ``kind``.

    Args:
        kind: The object kind, e.g. ``Pod``.

    Returns:
        The supported field paths (``metadata.name`` and ``metadata.namespace`` for every kind).
    """
    return _REGISTERED_FIELDS.get(kind, _DEFAULT_FIELDS) | _DEFAULT_FIELDS | _EXTRA_FIELDS.get(kind, frozenset())


def _convert_field_label(kind: str, label: str) -> str:
    """The scheme's field label conversion: returns the internal label or raises ``_SelectorError``."""
    alias = _FIELD_ALIASES.get((kind, label))
    if alias is not None:
        return alias
    if label in supported_fields(kind):
        return label
    if kind in _REGISTERED_FIELDS:
        raise _SelectorError(f"field label not supported: {label}")
    raise _SelectorError(
        f'{quote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def _split_terms(text: str) -> list[str]:
    """``fields.splitTerms``: split on commas not escaped by a backslash."""
    if not text:
        return []
    terms, start, in_slash = [], 0, False
    for i, ch in enumerate(text):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


_TERM_OPERATORS = ("!=", "==", "=")


def _split_term(term: str) -> tuple[str, str, str] | None:
    """``fields.splitTerm``: the first occurrence of ``!=``, ``==`` or ``=`` splits the term."""
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def _unescape_value(text: str) -> str:
    """``fields.UnescapeValue``: ``\\\\``, ``\\,`` and ``\\=`` are the only escapes."""
    if not any(ch in text for ch in "\\,="):
        return text
    out, in_slash = [], False
    for ch in text:
        if in_slash:
            if ch not in "\\,=":
                raise _SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            # Go prints the rune with %v, i.e. as its code point.
            raise _SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise _SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _escape_value(text: str) -> str:
    """``fields.EscapeValue``."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


@dataclass(frozen=True)
class FieldTerm:
    """One term of a field selector: ``field`` ``=``/``!=`` ``value``."""

    field: str
    value: str
    negated: bool = False

    def __str__(self) -> str:
        return f"{self.field}{'!=' if self.negated else '='}{_escape_value(self.value)}"


def _text(value: Any) -> str:
    """A field value as Go formats it into a ``fields.Set``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _get(obj: Mapping[str, Any], path: str) -> Any:
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def selectable_fields(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """Return the field set a field selector is matched against (the registries' ``ToSelectableFields``).

    Args:
        kind: The object kind, e.g. ``Pod``.
        obj: The object as a JSON-like dict.

    Returns:
        ``{field: value}``; fields missing from the object are ``""``.
    """
    fields = {"metadata.name": _text(_get(obj, "metadata.name")),
              "metadata.namespace": _text(_get(obj, "metadata.namespace"))}
    if kind == "Pod":
        for path in ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                     "status.phase", "status.nominatedNodeName"):
            fields[path] = _text(_get(obj, path))
        fields["spec.hostNetwork"] = _text(bool(_get(obj, "spec.hostNetwork")))
        pod_ips = _get(obj, "status.podIPs")
        if isinstance(pod_ips, list) and pod_ips and isinstance(pod_ips[0], Mapping):
            fields["status.podIP"] = _text(pod_ips[0].get("ip"))
        else:
            fields["status.podIP"] = _text(_get(obj, "status.podIP"))
    elif kind == "Event":
        for path in ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                     "involvedObject.fieldPath", "reason", "reportingComponent", "type"):
            fields[path] = _text(_get(obj, path))
        fields["source"] = _text(_get(obj, "source.component")) or fields["reportingComponent"]
    elif kind in ("ReplicaSet", "ReplicationController"):
        fields["status.replicas"] = _text(_get(obj, "status.replicas") or 0)
    elif kind == "Namespace":
        fields["status.phase"] = _text(_get(obj, "status.phase"))
    elif kind == "Node":
        fields["spec.unschedulable"] = _text(bool(_get(obj, "spec.unschedulable")))
    elif kind == "Service":
        fields["spec.clusterIP"] = _text(_get(obj, "spec.clusterIP"))
        fields["spec.type"] = _text(_get(obj, "spec.type"))
    elif kind == "Secret":
        fields["type"] = _text(_get(obj, "type"))
    return fields


class FieldSelector:
    """A parsed field selector for one kind: an AND of ``=``/``!=`` terms, sorted (``fields.Selector``)."""

    __slots__ = ("_kind", "_terms")

    def __init__(self, terms: Iterable[FieldTerm] = (), *, kind: str) -> None:
        self._kind = kind
        self._terms: tuple[FieldTerm, ...] = tuple(terms)

    @classmethod
    def parse(cls, text: str, *, kind: str) -> FieldSelector:
        """Parse the ``fieldSelector`` parameter and check its fields against ``kind``.

        Args:
            text: E.g. ``metadata.name=x,status.phase!=Running``; ``==`` works as ``=``. Values may
                escape ``\\``, ``,`` and ``=`` with a backslash. The empty string selects everything.
            kind: The kind listed, e.g. ``Pod``; decides which fields are supported.

        Returns:
            The selector, terms sorted as upstream sorts them.

        Raises:
            BadRequest: A term without an operator (``invalid selector: 'x'; can't understand 'x'``),
                a bad escape, or an unsupported field (``field label not supported: spec.foo``).
        """
        try:
            terms: list[FieldTerm] = []
            for part in sorted(_split_terms(text)):
                if part == "":
                    continue
                split = _split_term(part)
                if split is None:
                    raise _SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
                lhs, op, rhs = split
                terms.append(FieldTerm(lhs, _unescape_value(rhs), op == "!="))
            converted = []
            for term in terms:
                converted.append(FieldTerm(_convert_field_label(kind, term.field), term.value, term.negated))
        except _SelectorError as err:
            raise BadRequest(str(err)) from None
        return cls(converted, kind=kind)

    @property
    def kind(self) -> str:
        """The kind the selector was parsed for."""
        return self._kind

    @property
    def terms(self) -> tuple[FieldTerm, ...]:
        """The terms, in upstream's (sorted) order."""
        return self._terms

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Return whether ``obj`` satisfies every term.

        Args:
            obj: An object of the selector's kind, as a JSON-like dict.

        Returns:
            True when every term matches (always for an empty selector).
        """
        if not self._terms:
            return True
        fields = selectable_fields(self._kind, obj)
        for term in self._terms:
            if (fields.get(term.field, "") == term.value) == term.negated:
                return False
        return True

    def empty(self) -> bool:
        """Return whether the selector does not restrict anything."""
        return not self._terms

    def requires_exact_match(self, field: str) -> str | None:
        """Return the value an ``=`` term pins ``field`` to (``RequiresExactMatch``), if any."""
        for term in self._terms:
            if term.field == field and not term.negated:
                return term.value
        return None

    def __str__(self) -> str:
        """``Selector.String()``: the terms joined by ``,``, values escaped."""
        return ",".join(str(t) for t in self._terms)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r}, kind={self._kind!r})"

"""Tests label and field selectors (tutor.practice.apiserver.selectors)."""

from __future__ import annotations

from typing import Any

import pytest

from tutor.practice.apiserver.errors import BadRequest
from tutor.practice.apiserver.selectors import (
    FieldSelector,
    LabelSelector,
    format_label_selector,
    label_key_errors,
    label_value_errors,
    supported_fields,
)

NAME_PART_ERROR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_ERROR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
PREFIX_ERROR = (
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)

# ---------------------------------------------------------------------------------------------
# Label selectors: parsing and the canonical string

CANONICAL: list[tuple[str, str]] = [
    ("", ""),
    ("   ", ""),
    ("app=x", "app=x"),
    ("app==x", "app==x"),
    ("tier!=db", "tier!=db"),
    ("env in (b,a)", "env in (a,b)"),
    ("env in (a, b, a)", "env in (a,b)"),
    ("x notin (y)", "x notin (y)"),
    ("!legacy", "!legacy"),
    ("release", "release"),
    ("k>1", "k>1"),
    ("k<10", "k<10"),
    ("app=", "app="),
    ("a in ()", "a in ()"),
    ("a in (,b)", "a in (,b)"),
    (" app = x , tier != db ", "app=x,tier!=db"),
    ("z=1,a=2,m", "a=2,m,z=1"),
    ("app=x,tier!=db,env in (a,b),!legacy,release, x notin (y)",
     "app=x,env in (a,b),!legacy,release,tier!=db,x notin (y)"),
    ("in in (in,notin)", "in in (in,notin)"),
    ("app.kubernetes.io/name=web", "app.kubernetes.io/name=web"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_label_selector_canonical_string(text: str, canonical: str) -> None:
    selector = LabelSelector.parse(text)
    assert str(selector) == canonical
    assert str(LabelSelector.parse(canonical)) == canonical  # the canonical form parses back
    assert selector.empty() == (canonical == "")


@pytest.mark.parametrize(("first", "second"), [
    ("a=1,b=2", "b=2,a=1"),
    ("env in (a,b),!x,y", "y,!x,env in (b,a)"),
])
def test_label_selector_terms_in_any_order(first: str, second: str) -> None:
    assert LabelSelector.parse(first) == LabelSelector.parse(second)


LABELS = {"app": "web", "tier": "frontend", "env": "prod", "count": "5"}

MATCHES: list[tuple[str, dict | None, bool]] = [
    ("", LABELS, True),
    ("", None, True),
    ("app=web", LABELS, True),
    ("app==web", LABELS, True),
    ("app=api", LABELS, False),
    ("missing=x", LABELS, False),
    ("app!=api", LABELS, True),
    ("app!=web", LABELS, False),
    ("missing!=x", LABELS, True),
    ("env in (prod,staging)", LABELS, True),
    ("env in (dev)", LABELS, False),
    ("missing in (x)", LABELS, False),
    ("env notin (dev)", LABELS, True),
    ("env notin (prod)", LABELS, False),
    ("missing notin (x)", LABELS, True),
    ("app", LABELS, True),
    ("missing", LABELS, False),
    ("!missing", LABELS, True),
    ("!app", LABELS, False),
    ("count>4", LABELS, True),
    ("count>5", LABELS, False),
    ("count<6", LABELS, True),
    ("app>1", LABELS, False),
    ("missing<1", LABELS, False),
    ("app=web,tier=frontend", LABELS, True),
    ("app=web,tier=backend", LABELS, False),
    ("app=", {"app": ""}, True),
    ("app=", {}, False),
    ("app in ()", {"app": ""}, True),
    ("app", None, False),
    ("!app", None, True),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCHES)
def test_label_selector_matches(text: str, labels: dict | None, expected: bool) -> None:
    assert LabelSelector.parse(text).matches(labels) is expected


LABEL_PARSE_ERRORS: list[tuple[str, str]] = [
    ("app in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("app in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
    ("app in a", "unable to parse requirement: found 'a' expected: '('"),
    ("app in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("app in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
    ("=x", "found '=', expected: !, identifier, or 'end of string'"),
    (",", "found ',', expected: !, identifier, or 'end of string'"),
    ("a,", "found '', expected: identifier after ','"),
    ("a,,b", "found ',', expected: identifier after ','"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("!=x", "found '!=', expected: !, identifier, or 'end of string'"),
    ("app:x", f'unable to parse requirement: <nil>: Invalid value: "app:x": {NAME_PART_ERROR}'),
    ("app.kubernetes_io/name=x",
     f'unable to parse requirement: <nil>: Invalid value: "app.kubernetes_io/name": {PREFIX_ERROR}'),
    ("/a", 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'),
    ("a/", f'unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; {NAME_PART_ERROR}'),
    ("a" * 64, f'unable to parse requirement: <nil>: Invalid value: "{"a" * 64}": name part must be no more than '
               "63 bytes"),
    ("a/b/c", 'unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key must consist of '
              "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
              "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
              "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
              "(e.g. 'example.com/MyName')"),
    ("a=b/c", f'unable to parse requirement: values[0][a]: Invalid value: "b/c": {LABEL_VALUE_ERROR}'),
    ("a in (x/y,b)", f'unable to parse requirement: values[1][a]: Invalid value: "x/y": {LABEL_VALUE_ERROR}'),
    ("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, "
            "the value must be an integer"),
    ("a=" + "b" * 64, f'unable to parse requirement: values[0][a]: Invalid value: "{"b" * 64}": '
                      "must be no more than 63 bytes"),
]


@pytest.mark.parametrize(("text", "message"), LABEL_PARSE_ERRORS)
def test_label_selector_parse_errors(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        LabelSelector.parse(text)
    assert info.value.message == message
    assert info.value.status()["code"] == 400


@pytest.mark.parametrize("text", [
    "\0", "a=\0", "((((", ")))", "!!!", "a in (((", "a notin", "a=b,", "é=1", "a=é", "a in (b,,)", "a\tb\nc",
    "a<", "a>>1", "a=>1", "a!", "\\", "a=b\\", "=", "in", "notin (a)",
])
def test_label_selector_only_bad_request_escapes(text: str) -> None:
    try:
        LabelSelector.parse(text)
    except BadRequest:
        pass


# ---------------------------------------------------------------------------------------------
# metav1.LabelSelector

FROM_DICT: list[tuple[dict | None, str, dict, bool]] = [
    (None, "", {"any": "thing"}, True),
    ({}, "", {}, True),
    ({"matchLabels": {}, "matchExpressions": []}, "", {}, True),
    ({"matchLabels": {"app": "web"}}, "app=web", {"app": "web"}, True),
    ({"matchLabels": {"tier": "a", "app": "web"}}, "app=web,tier=a", {"app": "web"}, False),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
     "env in (dev,prod)", {"env": "dev"}, True),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]},
     "env notin (prod)", {}, True),
    ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, "env", {"env": ""}, True),
    ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, "!env", {"env": ""}, False),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "Exists"}]},
     "app=web,app", {"app": "web"}, True),
]


@pytest.mark.parametrize(("selector", "canonical", "labels", "expected"), FROM_DICT)
def test_label_selector_from_dict(selector: dict | None, canonical: str, labels: dict, expected: bool) -> None:
    parsed = LabelSelector.from_dict(selector)
    assert str(parsed) == canonical
    assert parsed.matches(labels) is expected
    assert parsed.empty() == (canonical == "")


FROM_DICT_ERRORS: list[tuple[Any, str]] = [
    ({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]},
     '"Equals" is not a valid label selector operator'),  # apimachinery pkg/apis/meta/v1/helpers.go
    ({"matchExpressions": [{"key": "a", "operator": "In"}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]},
     'values: Invalid value: []string{"b"}: values set must be empty for exists and does not exist'),
    ({"matchLabels": {"a b": "c"}}, f'key: Invalid value: "a b": {NAME_PART_ERROR}'),
    ({"matchLabels": {"a": "b c"}}, f'values[0][a]: Invalid value: "b c": {LABEL_VALUE_ERROR}'),
    ({"matchLabels": {"a b": "c d"}},
     f'[key: Invalid value: "a b": {NAME_PART_ERROR}, values[0][a b]: Invalid value: "c d": {LABEL_VALUE_ERROR}]'),
    ("app=web", "expected a label selector object, got str"),
]


@pytest.mark.parametrize(("selector", "message"), FROM_DICT_ERRORS)
def test_label_selector_from_dict_errors(selector: Any, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        LabelSelector.from_dict(selector)
    assert info.value.message == message


@pytest.mark.parametrize(("selector", "text"), [
    (None, "<none>"),
    ({}, "<none>"),
    ({"matchLabels": {"app": "kubernetes-bootcamp"}}, "app=kubernetes-bootcamp"),
    ({"matchLabels": {"app": "x"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "a"]},
                                                        {"key": "legacy", "operator": "DoesNotExist"}]},
     "app=x,env in (a,b),!legacy"),
    ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, "<error>"),
])
def test_format_label_selector(selector: dict | None, text: str) -> None:
    assert format_label_selector(selector) == text


def test_requires_exact_match() -> None:
    selector = LabelSelector.parse("app=web,env in (prod),tier in (a,b),x!=y")
    assert selector.requires_exact_match("app") == "web"
    assert selector.requires_exact_match("env") == "prod"
    assert selector.requires_exact_match("tier") is None
    assert selector.requires_exact_match("x") is None
    assert selector.requires_exact_match("missing") is None


@pytest.mark.parametrize(("key", "valid"), [
    ("app", True), ("app.kubernetes.io/name", True), ("A_b-c.d", True), ("a" * 63, True),
    ("", False), ("-a", False), ("a_", False), ("a" * 64, False), ("Example.com/a", False), ("a/b/c", False),
])
def test_label_key_validation(key: str, valid: bool) -> None:
    assert (label_key_errors(key) == []) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ("", True), ("web", True), ("v1.2_3-x", True), ("-a", False), ("a b", False), ("a" * 64, False),
])
def test_label_value_validation(value: str, valid: bool) -> None:
    assert (label_value_errors(value) == []) is valid


# ---------------------------------------------------------------------------------------------
# Field selectors

POD = {
    "kind": "Pod",
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "node-1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
             "serviceAccountName": "default"},
    "status": {"phase": "Running", "podIP": "10.0.0.7", "podIPs": [{"ip": "10.0.0.7"}]},
}
EVENT = {
    "kind": "Event",
    "metadata": {"name": "web-1.17a", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "u-1", "apiVersion": "v1",
                       "resourceVersion": "42", "fieldPath": "spec.containers{web}"},
    "reason": "Pulled", "type": "Normal", "source": {"component": "kubelet"}, "reportingComponent": "kubelet",
}
EVENT_NO_SOURCE = {**EVENT, "source": {}, "reportingComponent": "deployment-controller"}
NODE = {"kind": "Node", "metadata": {"name": "node-1"}, "spec": {"unschedulable": True}}
NAMESPACE = {"kind": "Namespace", "metadata": {"name": "default"}, "status": {"phase": "Active"}}
SERVICE = {"kind": "Service", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"clusterIP": "10.96.0.10", "type": "NodePort"}}
REPLICASET = {"kind": "ReplicaSet", "metadata": {"name": "web-abc", "namespace": "default"},
              "status": {"replicas": 3}}
DEPLOYMENT = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}

FIELD_MATCHES: list[tuple[str, str, dict, bool]] = [
    ("Pod", "", POD, True),
    ("Pod", "metadata.name=web-1", POD, True),
    ("Pod", "metadata.name==web-1", POD, True),
    ("Pod", "metadata.name!=web-1", POD, False),
    ("Pod", "metadata.namespace=default", POD, True),
    ("Pod", "spec.nodeName=node-1", POD, True),
    ("Pod", "spec.nodeName=", POD, False),
    ("Pod", "spec.nodeName=", {"metadata": {"name": "p"}, "spec": {}}, True),
    ("Pod", "spec.host=node-1", POD, True),
    ("Pod", "spec.restartPolicy=Always", POD, True),
    ("Pod", "spec.schedulerName=default-scheduler", POD, True),
    ("Pod", "spec.serviceAccountName=default", POD, True),
    ("Pod", "spec.hostNetwork=false", POD, True),
    ("Pod", "spec.hostNetwork=true", {**POD, "spec": {"hostNetwork": True}}, True),
    ("Pod", "status.phase=Running", POD, True),
    ("Pod", "status.phase!=Running", POD, False),
    ("Pod", "status.phase!=Pending,status.phase!=Succeeded", POD, True),
    ("Pod", "status.podIP=10.0.0.7", POD, True),
    ("Pod", "status.podIP=10.0.0.7", {**POD, "status": {"podIP": "10.0.0.7"}}, True),
    ("Pod", "status.podIPs=10.0.0.7", POD, False),  # accepted, but never in the selectable field set
    ("Pod", "status.nominatedNodeName=", POD, True),
    ("Pod", "metadata.name=web-1,status.phase=Running,spec.nodeName=node-1", POD, True),
    ("Pod", "spec.nodeName=node-1,metadata.name=other", POD, False),
    ("Event", "involvedObject.kind=Pod,involvedObject.name=web-1", EVENT, True),
    ("Event", "involvedObject.namespace=default,involvedObject.uid=u-1", EVENT, True),
    ("Event", "involvedObject.apiVersion=v1,involvedObject.resourceVersion=42", EVENT, True),
    ("Event", "involvedObject.fieldPath=spec.containers{web}", EVENT, True),
    ("Event", "reason=Pulled,type=Normal", EVENT, True),
    ("Event", "type!=Normal", EVENT, False),
    ("Event", "source=kubelet,reportingComponent=kubelet", EVENT, True),
    ("Event", "source=deployment-controller", EVENT_NO_SOURCE, True),
    ("Event", "metadata.name=web-1.17a,metadata.namespace=default", EVENT, True),
    ("Node", "spec.unschedulable=true", NODE, True),
    ("Node", "spec.unschedulable=false", {"metadata": {"name": "n"}, "spec": {}}, True),
    ("Node", "metadata.name=node-1", NODE, True),
    ("Node", "metadata.namespace=", NODE, True),
    ("Namespace", "status.phase=Active", NAMESPACE, True),
    ("Namespace", "status.phase=Terminating", NAMESPACE, False),
    ("Service", "spec.type=NodePort,spec.clusterIP=10.96.0.10", SERVICE, True),
    ("Service", "spec.type=ClusterIP", SERVICE, False),
    ("ReplicaSet", "status.replicas=3", REPLICASET, True),
    ("ReplicaSet", "status.replicas=0", {"metadata": {"name": "x"}, "status": {}}, True),
    ("ReplicaSet", "status.replicas!=0", REPLICASET, True),
    ("Deployment", "metadata.namespace=prod,metadata.name=web", DEPLOYMENT, True),
    ("Deployment", "metadata.namespace!=prod", DEPLOYMENT, False),
    ("Pod", "metadata.name=a\\,b", {"metadata": {"name": "a,b"}}, True),
    ("Pod", "metadata.name=a\\=b\\\\c", {"metadata": {"name": "a=b\\c"}}, True),
]


@pytest.mark.parametrize(("kind", "text", "obj", "expected"), FIELD_MATCHES)
def test_field_selector_matches(kind: str, text: str, obj: dict, expected: bool) -> None:
    assert FieldSelector.parse(text, kind=kind).matches(obj) is expected


@pytest.mark.parametrize(("kind", "text", "canonical"), [
    ("Pod", "", ""),
    ("Pod", ",", ""),
    ("Pod", "metadata.name==x", "metadata.name=x"),
    ("Pod", "status.phase!=Running,metadata.name=x", "metadata.name=x,status.phase!=Running"),
    ("Pod", "spec.host=n", "spec.nodeName=n"),
    ("Pod", "metadata.name=a\\,b", "metadata.name=a\\,b"),
    ("Event", "type=Warning,involvedObject.name=web,reason=BackOff",
     "involvedObject.name=web,reason=BackOff,type=Warning"),
])
def test_field_selector_canonical_string(kind: str, text: str, canonical: str) -> None:
    selector = FieldSelector.parse(text, kind=kind)
    assert str(selector) == canonical
    assert selector.empty() == (canonical == "")


def test_field_selector_terms_in_any_order() -> None:
    first = FieldSelector.parse("status.phase=Running,spec.nodeName=n1,metadata.name=a", kind="Pod")
    second = FieldSelector.parse("metadata.name=a,status.phase=Running,spec.nodeName=n1", kind="Pod")
    assert first.terms == second.terms
    assert [t.field for t in first.terms] == ["metadata.name", "spec.nodeName", "status.phase"]


def test_field_selector_requires_exact_match() -> None:
    selector = FieldSelector.parse("metadata.name=web,status.phase!=Failed", kind="Pod")
    assert selector.requires_exact_match("metadata.name") == "web"
    assert selector.requires_exact_match("status.phase") is None


FIELD_ERRORS: list[tuple[str, str, str]] = [
    ("Pod", "foo", "invalid selector: 'foo'; can't understand 'foo'"),
    ("Pod", "metadata.name=x,bar", "invalid selector: 'metadata.name=x,bar'; can't understand 'bar'"),
    ("Pod", "spec.foo=x", "field label not supported: spec.foo"),
    ("Pod", "=x", "field label not supported: "),
    ("Pod", "metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    ("Pod", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"),
    ("Pod", "metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
    ("Pod", "metadata.name in (a)", "invalid selector: 'metadata.name in (a)'; can't understand 'metadata.name in (a)'"),
    ("Pod", "metadata.name = x", "field label not supported: metadata.name "),
    ("Node", "spec.nodeName=x", "field label not supported: spec.nodeName"),
    ("Namespace", "metadata.labels=x", "field label not supported: metadata.labels"),
    ("Event", "involvedObject.foo=x", "field label not supported: involvedObject.foo"),
    ("Service", "spec.ports=80", "field label not supported: spec.ports"),
    ("Deployment", "spec.replicas=1",
     '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("ReplicaSet", "status.readyReplicas=1",
     '"status.readyReplicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("Pod", "zzz=1,aaa=2", "field label not supported: aaa"),  # terms are checked in sorted order
]


@pytest.mark.parametrize(("kind", "text", "message"), FIELD_ERRORS)
def test_field_selector_errors(kind: str, text: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        FieldSelector.parse(text, kind=kind)
    assert info.value.message == message
    assert info.value.status()["code"] == 400


def test_supported_fields() -> None:
    assert supported_fields("Deployment") == {"metadata.name", "metadata.namespace"}
    assert "status.podIP" in supported_fields("Pod")
    assert "status.replicas" in supported_fields("ReplicaSet")
    assert "spec.unschedulable" in supported_fields("Node")


@pytest.mark.parametrize("obj", [{}, {"metadata": None}, {"metadata": {"name": 5}}, {"status": "weird"}])
def test_field_selector_tolerates_sparse_objects(obj: dict) -> None:
    for kind in ("Pod", "Event", "Node", "Namespace", "Service", "ReplicaSet", "Deployment"):
        FieldSelector.parse("metadata.name=x", kind=kind).matches(obj)

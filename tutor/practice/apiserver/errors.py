"""Provides the API errors of the practice cluster, rendered as Kubernetes ``Status`` objects."""

from __future__ import annotations

from typing import Any

from tutor.kube.strconv import quote

_DETAIL_KEYS = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
"""``metav1.StatusDetails``' JSON fields in the Go struct's order; each ``omitempty``."""


class ApiError(Exception):
    """An error the API server answers with a ``Status`` object (status ``Failure``).

    ``details`` is ``metav1.Status.Details``, a pointer: None omits it; a dict (even empty, which is
    ``"details": {}``) writes it, with its empty fields omitted as ``omitempty`` does. Which constructor
    sets it follows kubernetes/apimachinery ``pkg/api/errors/errors.go``: kubectl reads it (``kubectl debug``
    dereferences ``Details`` of a 404 without a check).
    """

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """Return the ``Status`` object kubectl prints as ``Error from server (<reason>): <message>``.

        The keys are in the order Go's encoder writes ``metav1.Status``: kind, apiVersion, metadata, status,
        message, reason, details, code.
        """
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
        }
        if self.message:
            body["message"] = self.message
        if self.reason:  # StatusReasonUnknown is "" and omitted
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = {key: self.details[key] for key in _DETAIL_KEYS if self.details.get(key)}
        body["code"] = self.code
        return body


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Unauthorized(ApiError):
    code = 401
    reason = "Unauthorized"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Gone(ApiError):
    code = 410
    reason = "Expired"


class RequestEntityTooLarge(ApiError):
    """``NewRequestEntityTooLargeError``: 413, ``Request entity too large: <message>``.

    Upstream: kubernetes/apimachinery ``pkg/api/errors/errors.go``.
    """

    code = 413
    reason = "RequestEntityTooLarge"

    def __init__(self, message: str) -> None:
        super().__init__(f"Request entity too large: {message}")


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class Timeout(ApiError):
    """``NewTimeoutError``: 504, ``Timeout: <message>``.

    Upstream: kubernetes/apimachinery ``pkg/api/errors/errors.go``.
    """

    code = 504
    reason = "Timeout"

    def __init__(self, message: str, retry_after_seconds: int = 0) -> None:
        super().__init__(f"Timeout: {message}", details={"retryAfterSeconds": retry_after_seconds})


class Invalid(ApiError):
    code = 422
    reason = "Invalid"


def resource_ref(plural: str, group: str) -> str:
    """Return ``deployments.apps`` or ``pods`` as the real server words resources in messages."""
    return f"{plural}.{group}" if group else plural


def _details(plural: str, group: str, name: str) -> dict[str, Any]:
    """``StatusDetails`` of an error about one object (upstream's ``Kind`` holds the resource)."""
    return {"name": name, "group": group, "kind": plural}


def not_found(plural: str, group: str, name: str) -> NotFound:
    """``NewNotFound``: ``deployments.apps "nope" not found``."""
    return NotFound(f'{resource_ref(plural, group)} "{name}" not found', details=_details(plural, group, name))


def already_exists(plural: str, group: str, name: str) -> AlreadyExists:
    """``NewAlreadyExists``: ``services "x" already exists``."""
    return AlreadyExists(f'{resource_ref(plural, group)} "{name}" already exists',
                         details=_details(plural, group, name))


def conflict(plural: str, group: str, name: str) -> Conflict:
    """``NewConflict``: the optimistic-concurrency failure of an update with a stale resourceVersion."""
    return Conflict(
        f'Operation cannot be fulfilled on {resource_ref(plural, group)} "{name}": '
        "the object has been modified; please apply your changes to the latest version and try again",
        details=_details(plural, group, name),
    )


def forbidden(plural: str, group: str, name: str, reason: str) -> Forbidden:
    """``NewForbidden``: ``namespaces "x" is forbidden: <reason>`` (``pods is forbidden: ...`` without a name)."""
    ref = resource_ref(plural, group)
    message = f'{ref} "{name}" is forbidden: {reason}' if name else f"{ref} is forbidden: {reason}"
    return Forbidden(message, details=_details(plural, group, name))


def internal_error(reason: str) -> ApiError:
    """``NewInternalError``: 500 ``Internal error occurred: <reason>``, the reason also the one cause."""
    return ApiError(f"Internal error occurred: {reason}", details={"causes": [{"message": reason}]})


_GENERIC: dict[int, tuple[type[ApiError], str]] = {
    404: (NotFound, "the server could not find the requested resource"),
    405: (MethodNotAllowed, "the server does not allow this method on the requested resource"),
}


def generic(code: int) -> ApiError:
    """``NewGenericServerResponse(code, "", GroupResource{}, "", ...)``: what the API server's go-restful
    container answers for a path or method no route serves (kubernetes/apiserver ``pkg/server/handler.go``
    ``serviceErrorHandler``), with its fixed message and an empty ``"details": {}``."""
    cls, message = _GENERIC[code]
    return cls(message, details={})


def method_not_supported(plural: str, group: str, action: str) -> MethodNotAllowed:
    """``NewMethodNotSupported``: ``<action> is not supported on resources of kind "<resource>"``."""
    return MethodNotAllowed(f'{action} is not supported on resources of kind "{resource_ref(plural, group)}"',
                            details={"group": group, "kind": plural})


_CAUSE_TYPES = (("Not found", "FieldValueNotFound"), ("Required value", "FieldValueRequired"),
                ("Duplicate value", "FieldValueDuplicate"), ("Invalid value", "FieldValueInvalid"),
                ("Unsupported value", "FieldValueNotSupported"), ("Forbidden", "FieldValueForbidden"),
                ("Too long", "FieldValueTooLong"), ("Too many", "FieldValueTooMany"),
                ("Too short", "FieldValueTooShort"), ("Too few", "FieldValueTooFew"),
                ("Internal error", "InternalError"))
"""``field.ErrorType``'s ``String()`` and its value (kubernetes/apimachinery ``pkg/util/validation/field/errors.go``):
a cause's ``reason`` is its error's type (``NewInvalid``: ``metav1.CauseType(err.Type)``)."""


def cause_type(message: str) -> str:
    """The ``reason`` of a cause whose message (``ErrorBody``) is ``message``."""
    return next((kind for prefix, kind in _CAUSE_TYPES if message.startswith(prefix)), "FieldValueInvalid")


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> Invalid:
    """``The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0``.

    Args:
        causes: (field, message) pairs; ``message`` is the full text after ``field: ``.
    """
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    return Invalid(
        f'{kind}.{group} "{name}" is invalid: {text}' if group else f'{kind} "{name}" is invalid: {text}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": cause_type(m), "message": m, **({"field": f} if f else {})} for f, m in causes],
        },
    )


class UnknownError(ApiError):
    """What the server answers for an error that is not an API status (``ErrorToAPIStatus``): 500 and
    ``StatusReasonUnknown`` (no reason)."""

    code = 500
    reason = ""


def summarize_data(data: bytes, max_length: int = 30) -> str:
    """``summarizeData``: the start of a body a decode error quotes, as text (``{...``) or else hex.

    Upstream: kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go``.
    """
    if not data:
        return "<empty>"
    more = " ..." if len(data) > max_length else ""
    if data[:1] == b"{":
        return data[:max_length].decode("utf-8", errors="replace") + more
    return data[:max_length].hex() + more


def transform_decode_error(reason: str, into_kind: str, body: bytes, kind: str = "", version: str = "") -> BadRequest:
    """``transformDecodeError``: how create and update word a body that does not decode.

    Upstream: kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go``.

    Args:
        reason: The decoder's error, e.g. ``couldn't get version/kind; json parse error: ...``.
        into_kind: The kind the endpoint takes (``ConfigMap`` for ``.../configmaps``).
        body: The request body.
        kind: The kind the decoder found (or defaulted), when it got that far.
        version: Its version (``v1``).

    Returns:
        ``<kind> in version "<version>" cannot be handled as a <into_kind>: <reason>`` when the kind is
        known, else ``the object provided is unrecognized (must be of type <into_kind>): <reason>
        (<summary of the body>)``.
    """
    if kind:
        return BadRequest(f"{kind} in version {quote(version)} cannot be handled as a {into_kind}: {reason}")
    return BadRequest(
        f"the object provided is unrecognized (must be of type {into_kind}): {reason} ({summarize_data(body)})"
    )

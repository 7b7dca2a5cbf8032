"""Provides authentication: the admin token and ServiceAccount tokens (TokenRequest, signed JWTs).

Ports of kubernetes/kubernetes:

- ``pkg/serviceaccount/jwt.go``: a token is a compact JWS over the claims, signed with the cluster's own key
  (ES256 with a P-256 key, one of the algorithms ``jwt.go`` signs with), its header's ``kid`` the base64url
  SHA-256 of the public key's DER (``keyIDFromPublicKey``).
- ``pkg/serviceaccount/claims.go``: ``Claims``: ``iss``, ``sub`` (``system:serviceaccount:NS:NAME``), ``aud``,
  ``exp``, ``iat``, ``nbf``, ``jti`` and ``kubernetes.io`` {``namespace``, ``serviceaccount`` {``name``, ``uid``}};
  ``Validate``: expiry and not-before with go-jose's one minute of leeway (``jwt.DefaultLeeway``), the account
  still existing, not being deleted, with the token's uid.
- ``pkg/registry/core/serviceaccount/storage/token.go`` and ``pkg/apis/authentication/validation``:
  ``expirationSeconds`` defaults to 3600 (``pkg/apis/authentication/v1/defaults.go``), at least 10 minutes and
  at most 2^32 seconds; ``audiences`` default to the API server's (kind: its issuer).
- kubernetes/apiserver ``pkg/authentication/serviceaccount/util.go``: the user ``system:serviceaccount:NS:NAME``
  in ``system:serviceaccounts`` and ``system:serviceaccounts:NS`` (plus ``system:authenticated``, added by the
  authenticator union), extra ``authentication.kubernetes.io/credential-id: JTI=<jti>``.

Lifetimes are delays, so the practice clock scales them (:class:`~tutor.practice.clock.Clock`): at time scale 20 a
10-minute token lasts 30 real seconds; ``exp`` is the real instant it ends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from tutor.kube.files import atomic_write
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, Store
from tutor.practice.clock import Clock

ISSUER = "https://kubernetes.default.svc.cluster.local"
"""kind's ``--service-account-issuer``; with no ``--api-audiences`` the API server's audiences are ``[ISSUER]``."""
API_AUDIENCES = (ISSUER,)
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 10 * 60
MAX_EXPIRATION_SECONDS = 1 << 32
LEEWAY_SECONDS = 60
"""go-jose ``jwt.DefaultLeeway``: exp and nbf are checked with one minute of slack."""
ADMIN_USER = "kubernetes-admin"
SYSTEM_MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


@dataclass(frozen=True)
class UserInfo:
    """``user.Info``: name, uid, groups, extra."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)

    def user_info(self) -> dict[str, Any]:
        """``authenticationv1.UserInfo`` as a SelfSubjectReview's status holds it (empty fields omitted)."""
        out: dict[str, Any] = {"username": self.name}
        if self.uid:
            out["uid"] = self.uid
        if self.groups:
            out["groups"] = list(self.groups)
        if self.extra:
            out["extra"] = self.extra
        return out


ADMIN = UserInfo(ADMIN_USER, groups=(SYSTEM_MASTERS, AUTHENTICATED))


def service_account_user(namespace: str, name: str, uid: str, jti: str = "") -> UserInfo:
    """``serviceaccount.UserInfo``: the user a token of the account authenticates as."""
    extra = {CREDENTIAL_ID: [f"JTI={jti}"]} if jti else {}
    return UserInfo(f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}", uid,
                    ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED), extra)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ensure_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The cluster's service-account signing key (``sa.key`` as kubeadm keeps it), made once, 0600."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key
    key = ec.generate_private_key(ec.SECP256R1())
    atomic_write(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    return key


class TokenIssuer:
    """Signs and checks the cluster's ServiceAccount tokens."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, clock: Clock) -> None:
        self.key = key
        self.clock = clock
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _b64(hashlib.sha256(der).digest())

    def issue(self, namespace: str, name: str, uid: str, audiences: list[str],
              seconds: int) -> tuple[str, datetime]:
        """A token for the account and the instant it expires (the lifetime scaled by the practice clock)."""
        now = self.clock.now().replace(microsecond=0)
        expires = now + timedelta(seconds=max(1, round(self.clock.real(seconds))))
        claims = {
            "aud": audiences, "exp": int(expires.timestamp()), "iat": int(now.timestamp()), "iss": ISSUER,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
            "nbf": int(now.timestamp()), "sub": f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}",
        }
        head = _b64(json.dumps({"alg": "ES256", "kid": self.kid}, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        r, s = decode_dss_signature(self.key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{head}.{body}.{_b64(signature)}", expires

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this cluster signed that is valid now (signature, issuer, audience, times);
        None for anything else (another issuer's token, a forged or an expired one)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_unb64(parts[0]))
            signature = _unb64(parts[2])
            if not isinstance(header, dict) or header.get("alg") != "ES256" or len(signature) != 64:
                return None
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            self.key.public_key().verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error, InvalidSignature, UnicodeDecodeError):
            return None
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            return None
        audiences = claims.get("aud")
        if isinstance(audiences, str):
            audiences = [audiences]
        if not isinstance(audiences, list) or not set(API_AUDIENCES) & {a for a in audiences if isinstance(a, str)}:
            return None
        now = self.clock.now().timestamp()
        leeway = self.clock.real(LEEWAY_SECONDS)
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int) or now > exp + leeway:
            return None  # "service account token has expired"
        if isinstance(nbf, int) and now + leeway < nbf:
            return None
        return claims


class Authenticator:
    """The union of the admin token and ServiceAccount tokens: ``authenticate(header)`` is the user of an
    ``Authorization`` header, or None (401)."""

    def __init__(self, admin_token: str, issuer: TokenIssuer, store: Store) -> None:
        self.admin_token = admin_token.encode()
        self.issuer = issuer
        self.store = store

    def authenticate(self, token: str | None) -> UserInfo | None:
        if token is None:
            return None
        presented = token.encode("utf-8", "surrogateescape")  # any bytes a client sent
        if hmac.compare_digest(presented, self.admin_token):
            return ADMIN
        claims = self.issuer.verify(token)
        if claims is None:
            return None
        ref = claims.get("kubernetes.io")
        account = ref.get("serviceaccount") if isinstance(ref, dict) else None
        if not isinstance(ref, dict) or not isinstance(account, dict):
            return None
        namespace, name, uid = ref.get("namespace"), account.get("name"), account.get("uid")
        if not isinstance(namespace, str) or not isinstance(name, str) or not isinstance(uid, str):
            return None
        stored = self.store.get("serviceaccounts", namespace, name)
        # claims.go Validate: "service account ... has been deleted", "... UID (...) does not match claim (...)".
        if stored is None or stored["metadata"].get("deletionTimestamp") or stored["metadata"].get("uid") != uid:
            return None
        jti = claims.get("jti")
        return service_account_user(namespace, name, uid, jti if isinstance(jti, str) else "")


def token_request(issuer: TokenIssuer, account: Obj, body: Obj) -> Obj:
    """``TokenREST.Create``: validate and default a TokenRequest for ``account``; answer it with a token.

    Raises:
        errors.Invalid: ``expirationSeconds`` under 10 minutes or over 2^32 seconds.
    """
    meta = account["metadata"]
    given = body.get("spec")
    spec: Obj = given if isinstance(given, dict) else {}
    seconds = spec.get("expirationSeconds")
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds == 0:
        seconds = DEFAULT_EXPIRATION_SECONDS
    name = meta["name"]
    if seconds < MIN_EXPIRATION_SECONDS:
        raise errors.invalid("TokenRequest", "authentication.k8s.io", name, [
            ("spec.expirationSeconds", f"Invalid value: {seconds}: may not specify a duration less than 10 minutes")])
    if seconds > MAX_EXPIRATION_SECONDS:
        raise errors.invalid("TokenRequest", "authentication.k8s.io", name, [
            ("spec.expirationSeconds", f"Invalid value: {seconds}: may not specify a duration larger than 2^32 "
                                       "seconds")])
    audiences = [a for a in spec.get("audiences") or [] if isinstance(a, str)] or list(API_AUDIENCES)
    token, expires = issuer.issue(meta["namespace"], name, meta.get("uid", ""), audiences, seconds)
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": meta["namespace"], "creationTimestamp": None},
            "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": None},
            "status": {"token": token, "expirationTimestamp": issuer.clock.timestamp(expires)}}

"""Signing tokens (Ed25519). Access tokens open the API; refresh tokens only buy new access tokens."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from throughline_platform.auth import ALGORITHM, AUDIENCE, ISSUER
from throughline_platform.problems import Forbidden, ProblemError, Unauthorized


class LinkExpired(ProblemError):
    status, type_slug, title = 410, "link-expired", "Link expired"


class TokenIssuer:
    def __init__(self, private_key_pem: str, access_ttl: timedelta, refresh_ttl: timedelta) -> None:
        key = load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("GATEWAY_JWT_PRIVATE_KEY must be an Ed25519 private key in PEM")
        self._key = key
        self.public_key_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def access_token(self, *, user_id: str, email: str, role: str, kind: str = "user",
                     ttl: timedelta | None = None) -> str:
        return self._sign({"sub": user_id, "email": email, "role": role, "kind": kind, "typ": "access"},
                          ttl or self.access_ttl)

    def refresh_token(self, *, user_id: str, jti: str | None = None) -> str:
        claims = {"sub": user_id, "typ": "refresh", "role": "viewer"}
        if jti is not None:
            claims["jti"] = jti
        return self._sign(claims, self.refresh_ttl)

    def read_refresh_claims(self, token: str) -> dict[str, Any]:
        """The claims of a validly signed, unexpired refresh token (sub, jti, exp...)."""
        try:
            claims = jwt.decode(token, self.public_key_pem, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "sub", "typ", "jti"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The refresh token has expired; log in again.", type_slug="token-expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"The refresh token is invalid ({exc}).", type_slug="token-invalid") from None
        if claims["typ"] != "refresh":
            raise Unauthorized("That is not a refresh token.", type_slug="token-invalid")
        return dict(claims)

    def set_password_token(self, *, user_id: str, fingerprint: str, ttl: timedelta) -> str:
        """A link token that lets its bearer set the user's password once: it names the password hash it replaces
        (`pwf`), so it stops working as soon as the password changes, by this link or any other way. Its `typ` is
        not "access": no service accepts it as a token."""
        return self._sign({"sub": user_id, "typ": "set_password", "role": "viewer", "pwf": fingerprint}, ttl)

    def read_set_password_claims(self, token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, self.public_key_pem, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "sub", "typ", "pwf"]})
        except jwt.ExpiredSignatureError:
            raise LinkExpired("This link has expired; ask an admin for a new one.") from None
        except jwt.InvalidTokenError:
            raise Forbidden("This link is not valid.", type_slug="link-invalid") from None
        if claims["typ"] != "set_password":
            raise Forbidden("This link is not valid.", type_slug="link-invalid")
        return dict(claims)

    def _sign(self, claims: dict[str, str], ttl: timedelta) -> str:
        now = datetime.now(UTC)
        # `iat` to the microsecond (a JWT NumericDate may have a fraction): the gateway refuses a user's tokens
        # issued at or before their sessions were ended (gateway/sessions.py), and a token issued a moment after
        # that, in the same second, must not look older than it is.
        payload = {"jti": uuid.uuid4().hex, **claims, "iss": ISSUER, "aud": AUDIENCE, "iat": now.timestamp(),
                   "nbf": now, "exp": now + ttl}
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)


def generate_private_key_pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


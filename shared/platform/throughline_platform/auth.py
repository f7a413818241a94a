"""Verifying the gateway's access tokens inside every service (services never trust a bare header).

The gateway signs with its Ed25519 private key; services hold only the public key, so a compromised
service cannot mint tokens.
"""

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Request

from throughline_platform.problems import Unauthorized
from throughline_platform.roles import ROLES

ALGORITHM = "EdDSA"
ISSUER = "throughline-gateway"
AUDIENCE = "throughline-api"


@dataclass(frozen=True)
class Principal:
    user_id: str
    email: str
    role: str
    token: str
    kind: str = "user"  # or "api_key" for machine clients


class TokenVerifier:
    """Checks an access token's signature and claims. A verified token is remembered until it expires, so the
    Ed25519 check runs once per token rather than once per request (a client sends the same token for up to
    15 minutes); the key is the whole token string, signature included, so only that exact token hits."""

    def __init__(self, public_key_pem: str, cache_size: int = 10_000) -> None:
        self._key = public_key_pem
        self._cache_size = cache_size
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (principal, exp as a Unix time)

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() < cached[1]:
                return cached[0]
            del self._verified[token]  # expired: the full check below says so
        principal, expires = self._verify_signed(token)
        if len(self._verified) >= self._cache_size:
            # Oldest first (dicts keep insertion order): a simple bound, no per-hit bookkeeping.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires)
        return principal

    def _verify_signed(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "sub", "role"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired.", type_slug="token-expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"The access token is invalid ({exc}).", type_slug="token-invalid") from None
        if claims.get("typ", "access") != "access":
            raise Unauthorized("Only access tokens open the API.", type_slug="token-invalid")
        role = claims["role"]
        if role not in ROLES:
            raise Unauthorized("The access token names an unknown role.", type_slug="token-invalid")
        principal = Principal(user_id=str(claims["sub"]), email=str(claims.get("email", "")), role=role,
                              token=token, kind=str(claims.get("kind", "user")))
        return principal, float(claims["exp"])


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer token is required.")
    return token.strip()


def principal_dependency(get_verifier: Callable[[Request], TokenVerifier]
                         ) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def current_principal(request: Request) -> Principal:
        return get_verifier(request).verify(bearer_token(request))

    return current_principal

"""Who is calling: a bearer access token or an `X-API-Key`; then the caller's rate limit.

An API key is turned into a short-lived access token minted for the key's principal (kind "api_key"), so the
services behind the gateway still verify a signed token and never trust a bare header. A user's access token issued
before their sessions were ended (disabled, role changed, password reset or changed) is refused here, on every call
(gateway/sessions.py). Admin actions go further (`current_standing`): the caller's row is read again.
"""

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.credentials.tokens import TokenIssuer
from gateway.db import ApiKey, User
from gateway.ratelimit import RateLimited, TokenBuckets
from gateway.sessions import SessionRevocations
from throughline_platform.auth import Principal, TokenVerifier, bearer_token
from throughline_platform.problems import Unauthorized

API_KEY_HEADER = "x-api-key"
KEY_TOKEN_TTL = timedelta(minutes=5)
KEY_CACHE_SECONDS = 5.0


def hash_api_key(raw: str) -> str:
    # Keys carry 256 random bits, so a fast hash is as good as a slow one and keeps lookups cheap.
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class _CachedKey:
    principal: Principal
    token_expires: datetime
    checked_at: float


class ApiKeyAuthenticator:
    """Looks keys up by hash (cached for a few seconds) and mints their access tokens."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], issuer: TokenIssuer) -> None:
        self._sessions = session_factory
        self._issuer = issuer
        self._cache: dict[str, _CachedKey] = {}

    def forget(self, key_id: uuid.UUID) -> None:
        """Drop a revoked key from this process's cache at once."""
        for digest, cached in list(self._cache.items()):
            if cached.principal.user_id == str(key_id):
                del self._cache[digest]

    async def authenticate(self, raw: str) -> Principal:
        digest = hash_api_key(raw.strip())
        now = datetime.now(UTC)
        cached = self._cache.get(digest)
        if (cached is not None and time.monotonic() - cached.checked_at < KEY_CACHE_SECONDS
                and cached.token_expires - now > timedelta(seconds=60)):
            return cached.principal
        async with self._sessions() as session:
            key = (await session.execute(
                select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))).scalars().first()
        if key is None:
            self._cache.pop(digest, None)
            raise Unauthorized("The API key is unknown or revoked.", type_slug="api-key-invalid")
        token = self._issuer.access_token(user_id=str(key.id), email="", role=key.role, kind="api_key",
                                          ttl=KEY_TOKEN_TTL)
        principal = Principal(user_id=str(key.id), email="", role=key.role, token=token, kind="api_key")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = _CachedKey(principal, now + KEY_TOKEN_TTL, time.monotonic())
        return principal


def rate_limit_key(principal: Principal) -> str:
    return f"{'key' if principal.kind == 'api_key' else 'user'}:{principal.user_id}"


async def current_caller(request: Request) -> Principal:
    state = request.app.state
    raw_key = request.headers.get(API_KEY_HEADER)
    if raw_key:
        authenticator: ApiKeyAuthenticator = state.api_keys
        principal = await authenticator.authenticate(raw_key)
        buckets: TokenBuckets = state.key_buckets
    else:
        verifier: TokenVerifier = state.verifier
        principal = verifier.verify(bearer_token(request))
        refuse_if_revoked(state.revocations, principal)
        buckets = state.user_buckets
    if buckets.enabled:
        decision = buckets.take(rate_limit_key(principal))
        request.state.response_headers = decision.headers()
        if not decision.allowed:
            raise RateLimited(f"Rate limit of {decision.limit} requests per minute reached; retry in "
                              f"{decision.retry_after} s.")
    request.state.principal = principal
    return principal


def refuse_if_revoked(revocations: SessionRevocations, principal: Principal) -> None:
    if revocations.is_revoked(principal):
        raise Unauthorized("This session has ended (the account was changed); log in again.",
                           type_slug="token-revoked")


async def current_standing(request: Request, principal: Principal) -> str:
    """The caller's role as the gateway's database says it now, not as the token said it: for admin actions, where
    a few seconds of a stale claim would be too long. 401 when the user is gone or disabled, or the key revoked."""
    session_factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    try:
        principal_id = uuid.UUID(principal.user_id)
    except ValueError:
        raise Unauthorized("The token names no known account.", type_slug="account-disabled") from None
    async with session_factory() as session:
        if principal.kind == "api_key":
            key = await session.get(ApiKey, principal_id)
            if key is None or key.revoked_at is not None:
                raise Unauthorized("The API key is unknown or revoked.", type_slug="api-key-invalid")
            return key.role
        user = await session.get(User, principal_id)
    if user is None or not user.active:
        raise Unauthorized("This account no longer exists or is disabled.", type_slug="account-disabled")
    return user.role


Caller = Annotated[Principal, Depends(current_caller)]

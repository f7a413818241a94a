"""Who is calling: a bearer access token or an `X-API-Key`; then the caller's rate limit.

An API key is turned into a short-lived access token minted for the key's principal (kind "api_key"), so the
services behind the gateway still verify a signed token and never trust a bare header.
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
from gateway.db import ApiKey
from gateway.ratelimit import RateLimited, TokenBuckets
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
        buckets = state.user_buckets
    if buckets.enabled:
        decision = buckets.take(rate_limit_key(principal))
        request.state.response_headers = decision.headers()
        if not decision.allowed:
            raise RateLimited(f"Rate limit of {decision.limit} requests per minute reached; retry in "
                              f"{decision.retry_after} s.")
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(current_caller)]

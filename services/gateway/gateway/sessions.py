"""Ending a user's sessions at once: their access tokens too, not only their refresh tokens.

Access tokens are stateless (the services check the signature and nothing else) and live 15 minutes. When an admin
disables a user, changes their role or resets their password, or a user changes their own password, the user's row
gets `sessions_revoked_at = now`, and the gateway refuses every access token of that user issued at or before that
moment (401 `token-revoked`), on its own endpoints, on every proxied request and on the live stream.

Each gateway process keeps the recent revocations in memory: the process that made the change knows at once
(`note`), the others read the users revoked within the last token lifetime every `REFRESH_SECONDS` (one small
indexed query; older revocations cannot matter, no token issued before them is still valid). The check on a request
is one dict lookup for the caller's id; only a caller who is in that dict (rare) has their token's `iat` read.
Tokens carry `iat` to the millisecond (gateway/credentials/tokens.py), so a token issued just after a revocation is
not mistaken for one issued before it.
"""

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db import User
from throughline_platform.auth import Principal

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 2.0


def issued_at(token: str) -> float:
    """The `iat` of a token whose signature has already been verified (its payload read directly: a tenth of
    the time of a full decode, for the users on the revocation list, on each of their requests)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims.get("iat", 0))


class SessionRevocations:
    """user id -> the last moment their sessions were ended (Unix time), for the revocations that can still matter."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], token_lifetime: timedelta,
                 refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._sessions = session_factory
        self._keep = token_lifetime.total_seconds() + 60  # a little slack for clocks
        self._refresh_seconds = refresh_seconds
        self._revoked: dict[str, float] = {}
        self._listeners: list[Callable[[], None]] = []

    def is_revoked(self, principal: Principal) -> bool:
        """Was this user token issued at or before its user's sessions were last ended?"""
        revoked_at = self._revoked.get(principal.user_id)
        return revoked_at is not None and principal.kind == "user" and issued_at(principal.token) <= revoked_at

    def revoked_at(self, user_id: str) -> float | None:
        return self._revoked.get(user_id)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever revocations were added (the live stream ends the streams they concern)."""
        self._listeners.append(listener)

    def note(self, user_id: uuid.UUID | str, at: datetime) -> None:
        """A revocation this process just committed: in force here at once, before the next refresh."""
        key = str(user_id)
        self._revoked[key] = max(at.timestamp(), self._revoked.get(key, 0.0))
        self._changed()

    async def refresh(self) -> None:
        since = datetime.now(UTC) - timedelta(seconds=self._keep)
        async with self._sessions() as session:
            rows = (await session.execute(select(User.id, User.sessions_revoked_at)
                                          .where(User.sessions_revoked_at > since))).all()
        fresh = {str(user_id): at.timestamp() for user_id, at in rows if at is not None}
        cutoff = time.time() - self._keep
        # Keep what this process noted itself meanwhile (its read may have started before that commit).
        kept = {k: v for k, v in self._revoked.items() if v > cutoff and v > fresh.get(k, 0.0)}
        added = any(v > self._revoked.get(k, 0.0) for k, v in fresh.items())
        self._revoked = {**fresh, **kept}
        if added:
            self._changed()

    async def run(self) -> None:
        """Refresh every few seconds until cancelled (the gateway's lifespan runs it)."""
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # the database may be briefly away: keep what we know, try again
                log.warning("session_revocations_refresh_failed", error=repr(exc))
            await asyncio.sleep(self._refresh_seconds)

    def _changed(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # one listener's bug must not stop the others (nor the refresh loop)
                log.exception("session_revocation_listener_failed")

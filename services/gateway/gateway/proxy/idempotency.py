"""`Idempotency-Key` on POST: (principal, key) -> (request hash, status, body) in the gateway's database.

The first request claims the key (INSERT ... ON CONFLICT DO NOTHING); a repeat with the same request gets the
stored response, one with a different request gets 422, one arriving while the first is still running gets 409.
Responses that say nothing final about the request (5xx, 401, 403, 408, 409, 425, 429, upstream failures)
release the key instead of being stored, so the client may retry with the same key.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db import IdempotencyRecord
from throughline_platform.problems import Conflict, Unprocessable

KEEP_FOR = timedelta(hours=24)
# An in-flight claim older than this belongs to a request that died with its gateway: it may be taken over.
ABANDONED_AFTER = timedelta(minutes=5)
NOT_STORED = frozenset({401, 403, 408, 409, 425, 429})


@dataclass
class StoredResponse:
    status: int
    content_type: str | None
    body: bytes


def request_hash(method: str, target: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), target.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise Unprocessable("Idempotency-Key must be 1 to 200 printable characters.",
                            type_slug="idempotency-key-invalid")
    return key


def should_store(status: int) -> bool:
    return status < 500 and status not in NOT_STORED


class IdempotencyStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def begin(self, principal: str, key: str, hashed: str) -> StoredResponse | None:
        """Claim the key (None: go ahead and send) or return the stored response; 409/422 as described."""
        now = datetime.now(UTC)
        async with self._sessions() as session:
            claimed = await session.execute(
                insert(IdempotencyRecord).values(principal=principal, key=key, request_hash=hashed, created_at=now)
                .on_conflict_do_nothing().returning(IdempotencyRecord.key))
            if claimed.first() is not None:
                await session.commit()
                return None
            record = (await session.execute(
                select(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                IdempotencyRecord.key == key).with_for_update())).scalars().first()
            if record is None:  # released between our insert and select: claim it again
                await session.rollback()
                return await self.begin(principal, key, hashed)
            expired = record.created_at < now - KEEP_FOR
            abandoned = record.status is None and record.created_at < now - ABANDONED_AFTER
            if expired or abandoned:
                await session.execute(
                    update(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                    IdempotencyRecord.key == key)
                    .values(request_hash=hashed, status=None, content_type=None, body=None, created_at=now,
                            completed_at=None))
                await session.commit()
                return None
            same_request, status = record.request_hash == hashed, record.status
            stored = StoredResponse(status or 0, record.content_type, record.body or b"")
            await session.rollback()
        if not same_request:
            raise Unprocessable("This Idempotency-Key was already used for a different request.",
                                type_slug="idempotency-key-reused")
        if status is None:
            raise Conflict("A request with this Idempotency-Key is still in progress; retry later.",
                           type_slug="idempotency-in-flight")
        return stored

    async def complete(self, principal: str, key: str, response: StoredResponse) -> None:
        async with self._sessions() as session:
            await session.execute(
                update(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                IdempotencyRecord.key == key)
                .values(status=response.status, content_type=response.content_type, body=response.body,
                        completed_at=datetime.now(UTC)))
            await session.commit()

    async def release(self, principal: str, key: str) -> None:
        async with self._sessions() as session:
            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.principal == principal,
                                                IdempotencyRecord.key == key,
                                                IdempotencyRecord.status.is_(None)))
            await session.commit()

    async def purge_expired(self) -> int:
        async with self._sessions() as session:
            result = await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.created_at < datetime.now(UTC) - KEEP_FOR))
            await session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

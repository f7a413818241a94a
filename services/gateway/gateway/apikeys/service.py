"""API keys for machine clients: `tl_<prefix>_<secret>`, 256 random bits, stored as a SHA-256 only."""

import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apikeys.repository import ApiKeyRepository
from gateway.apikeys.schemas import ApiKeyIn
from gateway.db import ApiKey, utcnow
from gateway.security import hash_api_key
from throughline_platform.problems import NotFound


def new_raw_key() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return f"tl_{prefix}_{secrets.token_urlsafe(32)}", f"tl_{prefix}"


async def create_key(session: AsyncSession, data: ApiKeyIn, created_by: str) -> tuple[ApiKey, str]:
    raw, prefix = new_raw_key()
    try:
        creator: uuid.UUID | None = uuid.UUID(created_by)
    except ValueError:
        creator = None
    key = ApiKey(name=data.name, role=data.role, prefix=prefix, key_hash=hash_api_key(raw), created_by=creator)
    await ApiKeyRepository(session).add(key)
    await session.commit()
    return key, raw


async def get_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    key = await ApiKeyRepository(session).get(key_id)
    if key is None:
        raise NotFound(f"API key {key_id} does not exist.")
    return key


async def revoke_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    """Idempotent: revoking a revoked key keeps its first revocation time."""
    key = await get_key(session, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.commit()
    return key

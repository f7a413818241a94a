import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import ApiKey
from throughline_platform.paging import page_with_total


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    async def add(self, key: ApiKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def search(self, *, revoked: bool | None, limit: int, offset: int) -> tuple[list[ApiKey], int]:
        query = select(ApiKey)
        if revoked is not None:
            query = query.where(ApiKey.revoked_at.is_not(None) if revoked else ApiKey.revoked_at.is_(None))
        return await page_with_total(self.session, query, ApiKey.created_at, ApiKey.id, limit=limit, offset=offset)

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import ApiKey


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
        total = int((await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
        rows = await self.session.execute(query.order_by(ApiKey.created_at, ApiKey.id).limit(limit).offset(offset))
        return list(rows.scalars()), total

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.cost_centers.models import CostCenter
from throughline_platform.paging import page_with_total


class CostCenterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, center: CostCenter) -> None:
        self.session.add(center)

    async def get(self, center_id: uuid.UUID) -> CostCenter | None:
        return await self.session.get(CostCenter, center_id)

    async def by_code(self, code: str) -> CostCenter | None:
        query = select(CostCenter).where(func.lower(CostCenter.code) == code.lower())
        return (await self.session.execute(query)).scalars().first()

    async def search(self, *, active: bool | None, q: str | None, limit: int,
                     offset: int) -> tuple[list[CostCenter], int]:
        query = select(CostCenter)
        if active is not None:
            query = query.where(CostCenter.active == active)
        if q:
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(CostCenter.name.ilike(pattern) | CostCenter.code.ilike(pattern))
        return await page_with_total(self.session, query, CostCenter.code, CostCenter.id, limit=limit, offset=offset)

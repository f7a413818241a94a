import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp.taxes.models import TaxCategory, TaxRate
from throughline_platform.paging import page_with_total


class TaxRateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, rate: TaxRate) -> None:
        self.session.add(rate)

    async def get(self, rate_id: uuid.UUID) -> TaxRate | None:
        return await self.session.get(TaxRate, rate_id)

    async def by_name(self, name: str) -> TaxRate | None:
        query = select(TaxRate).where(func.lower(TaxRate.name) == name.lower())
        return (await self.session.execute(query)).scalars().first()

    async def default(self) -> TaxRate | None:
        return (await self.session.execute(select(TaxRate).where(TaxRate.is_default))).scalars().first()

    async def first_active(self, category: TaxCategory) -> TaxRate | None:
        query = (select(TaxRate).where(TaxRate.category == category, TaxRate.active)
                 .order_by(TaxRate.created_at, TaxRate.id))
        return (await self.session.execute(query)).scalars().first()

    async def has_taxed_rate(self) -> bool:
        """Whether any rate above 0 % exists (active or not): the country's standard rate was added before."""
        query = select(TaxRate.id).where(TaxRate.category.in_((TaxCategory.STANDARD, TaxCategory.REDUCED)))
        return (await self.session.execute(query.limit(1))).first() is not None

    async def clear_default(self) -> None:
        await self.session.execute(update(TaxRate).where(TaxRate.is_default).values(is_default=False))

    async def search(self, active: bool | None, limit: int, offset: int) -> tuple[list[TaxRate], int]:
        query = select(TaxRate)
        if active is not None:
            query = query.where(TaxRate.active == active)
        return await page_with_total(self.session, query, TaxRate.category, TaxRate.percent.desc(), TaxRate.name,
                                     TaxRate.id, limit=limit, offset=offset)

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.deals.models import Deal, DealStageChange

SORTABLE = {
    "created_at": Deal.created_at, "amount": Deal.amount, "expected_close_date": Deal.expected_close_date,
    "title": Deal.title, "updated_at": Deal.updated_at,
}


class DealRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, deal: Deal) -> None:
        self.session.add(deal)

    def add_stage_change(self, change: DealStageChange) -> None:
        self.session.add(change)

    async def get(self, deal_id: uuid.UUID, *, for_update: bool = False) -> Deal | None:
        if for_update:
            return (await self.session.execute(
                select(Deal).where(Deal.id == deal_id).with_for_update())).scalars().first()
        return await self.session.get(Deal, deal_id)

    async def search(self, *, status: str | None, stage_id: uuid.UUID | None, owner_id: str | None,
                     company_id: uuid.UUID | None, close_from: date | None, close_to: date | None,
                     sort: str, descending: bool, limit: int, offset: int, contact_id: uuid.UUID | None = None,
                     pipeline_id: uuid.UUID | None = None, idle_days: int | None = None,
                     now: datetime | None = None) -> tuple[list[Deal], int]:
        query = select(Deal)
        if contact_id:
            query = query.where(Deal.contact_id == contact_id)
        if pipeline_id:
            query = query.where(Deal.pipeline_id == pipeline_id)
        if idle_days is not None and now is not None:
            # Matches the partial index ix_deals_open_activity.
            last = func.coalesce(Deal.last_activity_at, Deal.created_at)
            query = query.where(Deal.status == "open", last <= now - timedelta(days=idle_days))
        if status:
            query = query.where(Deal.status == status)
        if stage_id:
            query = query.where(Deal.stage_id == stage_id)
        if owner_id:
            query = query.where(Deal.owner_id == owner_id)
        if company_id:
            query = query.where(Deal.company_id == company_id)
        if close_from:
            query = query.where(Deal.expected_close_date >= close_from)
        if close_to:
            query = query.where(Deal.expected_close_date <= close_to)
        column = SORTABLE[sort]
        order = column.desc().nulls_last() if descending else column.asc().nulls_last()
        total = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await self.session.execute(query.order_by(order, Deal.id).limit(limit).offset(offset))
        return list(rows.scalars()), total

    async def stage_history(self, deal_id: uuid.UUID) -> list[DealStageChange]:
        return list((await self.session.execute(
            select(DealStageChange).where(DealStageChange.deal_id == deal_id).order_by(DealStageChange.changed_at)
        )).scalars())

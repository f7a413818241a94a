import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.activities.models import Activity
from throughline_platform.paging import page_with_total


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, activity: Activity) -> None:
        self.session.add(activity)

    async def get(self, activity_id: uuid.UUID) -> Activity | None:
        return await self.session.get(Activity, activity_id)

    async def count_for_lead(self, lead_id: uuid.UUID) -> int:
        return int((await self.session.execute(
            select(func.count()).select_from(Activity).where(Activity.lead_id == lead_id))).scalar_one())

    async def search(self, *, company_id: uuid.UUID | None, contact_id: uuid.UUID | None, deal_id: uuid.UUID | None,
                     lead_id: uuid.UUID | None, kind: str | None, limit: int,
                     offset: int) -> tuple[list[Activity], int]:
        query = select(Activity)
        if company_id:
            query = query.where(Activity.company_id == company_id)
        if contact_id:
            query = query.where(Activity.contact_id == contact_id)
        if deal_id:
            query = query.where(Activity.deal_id == deal_id)
        if lead_id:
            query = query.where(Activity.lead_id == lead_id)
        if kind:
            query = query.where(Activity.kind == kind)
        return await page_with_total(self.session, query, Activity.occurred_at.desc(), Activity.id, limit=limit,
                                     offset=offset)

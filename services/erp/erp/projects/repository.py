import uuid
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, Uuid, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from erp.billing.models import BillingSchedule, ScheduleItem
from erp.projects.models import Project
from throughline_messaging.bulk import insert_rows_together


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, project: Project) -> None:
        self.session.add(project)

    def add_schedule(self, schedule: BillingSchedule) -> None:
        self.session.add(schedule)

    async def get(self, project_id: uuid.UUID, *, for_update: bool = False) -> Project | None:
        return await self.session.get(Project, project_id, with_for_update=for_update)

    async def by_deal(self, deal_id: uuid.UUID) -> Project | None:
        return (await self.session.execute(select(Project).where(Project.deal_id == deal_id))).scalars().first()

    async def deals_with_projects(self, deal_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these deals already have a project."""
        rows = await self.session.execute(_deals_with_projects(), {"deal_ids": deal_ids})
        return {deal_id for deal_id in rows.scalars() if deal_id is not None}

    async def insert_many(self, projects: list[dict[str, Any]], schedules: list[dict[str, Any]],
                          items: list[dict[str, Any]]) -> None:
        """Projects with their schedules and schedule items, as rows (every column given): ONE statement for
        the three tables (two data-modifying CTEs and an INSERT), whatever the number of rows; without items
        (only time-and-materials deals), for the two others. The schedules' and items' foreign keys are checked
        when that statement ends, when all the rows exist."""
        await insert_rows_together(self.session, [(cast(Table, Project.__table__), projects),
                                                  (cast(Table, BillingSchedule.__table__), schedules),
                                                  (cast(Table, ScheduleItem.__table__), items)])

    async def schedule_of(self, project_id: uuid.UUID) -> BillingSchedule | None:
        return (await self.session.execute(
            select(BillingSchedule).where(BillingSchedule.project_id == project_id))).scalars().first()

    async def search(self, *, deal_id: uuid.UUID | None, client_id: uuid.UUID | None, status: str | None,
                     limit: int, offset: int, cost_center_id: uuid.UUID | None = None
                     ) -> tuple[list[Project], int]:
        query = select(Project)
        if cost_center_id:
            query = query.where(Project.cost_center_id == cost_center_id)
        if deal_id:
            query = query.where(Project.deal_id == deal_id)
        if client_id:
            query = query.where(Project.client_id == client_id)
        if status:
            query = query.where(Project.status == status)
        total = (await self.session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await self.session.execute(query.order_by(Project.created_at.desc(), Project.id)
                                          .limit(limit).offset(offset))
        return list(rows.scalars()), total


@cache
def _deals_with_projects() -> Select[uuid.UUID | None]:
    """`= ANY(one array)`, not an expanding IN: one SQL text (one prepared statement) whatever the number of
    deals. Built once, like the bulk statements (`throughline_messaging.bulk`)."""
    return select(Project.deal_id).where(Project.deal_id == any_(bindparam("deal_ids", type_=ARRAY(Uuid()))))

import uuid

from sqlalchemy import ColumnElement, column, exists, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from erp.projects.models import BudgetLine, Project
from throughline_platform.paging import page_with_total

# The time entries' and bookings' tables (erp.time_entries and erp.planning own them), named rather than imported:
# both depend on projects, not the other way round. A member sees the projects they have logged time on or are booked
# on (decision 113).
_TIME_ENTRIES = table("time_entries", column("project_id"), column("person_id"))
_BOOKINGS = table("bookings", column("project_id"), column("person_id"))


def _worked_on_by(person_id: str) -> ColumnElement[bool]:
    return or_(exists().where(_TIME_ENTRIES.c.project_id == Project.id, _TIME_ENTRIES.c.person_id == person_id),
               exists().where(_BOOKINGS.c.project_id == Project.id, _BOOKINGS.c.person_id == person_id))


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, project: Project) -> None:
        self.session.add(project)

    async def get(self, project_id: uuid.UUID, *, for_update: bool = False) -> Project | None:
        return await self.session.get(Project, project_id, with_for_update=for_update)

    def add_budget_lines(self, lines: list[BudgetLine]) -> None:
        self.session.add_all(lines)

    async def budget_lines(self, project_id: uuid.UUID) -> list[BudgetLine]:
        return list((await self.session.execute(
            select(BudgetLine).where(BudgetLine.project_id == project_id).order_by(BudgetLine.position))).scalars())

    async def worked_on(self, project_id: uuid.UUID, person_id: str) -> bool:
        return bool((await self.session.execute(
            select(Project.id).where(Project.id == project_id, _worked_on_by(person_id)))).first())

    async def by_deal(self, deal_id: uuid.UUID) -> Project | None:
        return (await self.session.execute(select(Project).where(Project.deal_id == deal_id))).scalars().first()

    async def search(self, *, deal_id: uuid.UUID | None, client_id: uuid.UUID | None, status: str | None,
                     limit: int, offset: int, cost_center_id: uuid.UUID | None = None,
                     worked_on_by: str | None = None) -> tuple[list[Project], int]:
        query = select(Project)
        if worked_on_by is not None:
            query = query.where(_worked_on_by(worked_on_by))
        if cost_center_id:
            query = query.where(Project.cost_center_id == cost_center_id)
        if deal_id:
            query = query.where(Project.deal_id == deal_id)
        if client_id:
            query = query.where(Project.client_id == client_id)
        if status:
            query = query.where(Project.status == status)
        return await page_with_total(self.session, query, Project.created_at.desc(), Project.id,
                                     limit=limit, offset=offset)

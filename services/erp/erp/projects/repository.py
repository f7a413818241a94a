import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.projects.models import BudgetLine, Project
from throughline_platform.paging import page_with_total


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

    async def by_deal(self, deal_id: uuid.UUID) -> Project | None:
        return (await self.session.execute(select(Project).where(Project.deal_id == deal_id))).scalars().first()

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
        return await page_with_total(self.session, query, Project.created_at.desc(), Project.id,
                                     limit=limit, offset=offset)

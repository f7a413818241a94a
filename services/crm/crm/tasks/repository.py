import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.tasks.models import Task, TaskStatus
from throughline_platform.paging import page_with_total


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, task: Task) -> None:
        self.session.add(task)

    async def get(self, task_id: uuid.UUID, *, for_update: bool = False) -> Task | None:
        if for_update:
            return (await self.session.execute(
                select(Task).where(Task.id == task_id).with_for_update())).scalars().first()
        return await self.session.get(Task, task_id)

    async def search(self, *, assignee_id: str | None, status: str | None, company_id: uuid.UUID | None,
                     contact_id: uuid.UUID | None, deal_id: uuid.UUID | None, lead_id: uuid.UUID | None,
                     due_from: datetime | None, due_to: datetime | None, limit: int,
                     offset: int) -> tuple[list[Task], int]:
        query = select(Task)
        for column, value in ((Task.assignee_id, assignee_id), (Task.status, status), (Task.company_id, company_id),
                              (Task.contact_id, contact_id), (Task.deal_id, deal_id), (Task.lead_id, lead_id)):
            if value is not None:
                query = query.where(column == value)
        if due_from is not None:
            query = query.where(Task.due_at >= due_from)
        if due_to is not None:
            query = query.where(Task.due_at < due_to)
        return await page_with_total(self.session, query, Task.due_at, Task.id, limit=limit, offset=offset)

    async def open_due_between(self, assignee_id: str, start: datetime | None, end: datetime,
                               limit: int) -> list[Task]:
        query = select(Task).where(Task.assignee_id == assignee_id, Task.status == TaskStatus.OPEN, Task.due_at < end)
        if start is not None:
            query = query.where(Task.due_at >= start)
        return list((await self.session.execute(query.order_by(Task.due_at, Task.id).limit(limit))).scalars())

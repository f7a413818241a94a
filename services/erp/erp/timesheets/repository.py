import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.projects.api import Project
from erp.timesheets.models import RunningTimer


class TimesheetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def timer(self, person_id: str, *, for_update: bool = False) -> RunningTimer | None:
        query = select(RunningTimer).where(RunningTimer.person_id == person_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalars().first()

    async def start_timer(self, timer: RunningTimer) -> bool:
        """Insert the timer unless the person has one running (the key): whether it was started."""
        inserted = await self.session.execute(
            insert(RunningTimer).values(person_id=timer.person_id, project_id=timer.project_id,
                                        billable=timer.billable, note=timer.note, started_at=timer.started_at)
            .on_conflict_do_nothing(index_elements=["person_id"]).returning(RunningTimer.person_id))
        return inserted.first() is not None

    async def delete_timer(self, timer: RunningTimer) -> None:
        await self.session.delete(timer)

    async def project_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Project.id, Project.name).where(Project.id.in_(ids)))
        return {project_id: name for project_id, name in rows.tuples()}

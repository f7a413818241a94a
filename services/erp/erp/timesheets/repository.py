import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.timesheets.models import RunningTimer

# What the week's answer needs besides its entries, in one round trip: the week's row (its status; no row: never
# submitted), the person's running timer and the names of the projects in the grid (JSON text: id -> name).
_WEEK_AROUND = text("""
SELECT w.status, w.comment, w.submitted_at, w.decided_by, w.decided_at,
       t.project_id AS timer_project_id, t.billable AS timer_billable, t.note AS timer_note,
       t.started_at AS timer_started_at,
       (SELECT CAST(json_object_agg(p.id, p.name) AS text) FROM projects p
         WHERE p.id = ANY(CAST(:projects AS uuid[]))) AS names
FROM (VALUES (1)) AS one (x)
LEFT JOIN timesheet_weeks w ON w.person_id = :person_id AND w.week_start = :monday
LEFT JOIN running_timers t ON t.person_id = :person_id
""")


@dataclass(frozen=True)
class WeekState:
    status: str
    comment: str | None
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class WeekAround:
    """The week's row (None: never submitted), the running timer and the grid's project names."""

    state: WeekState | None
    timer: RunningTimer | None
    names: dict[uuid.UUID, str]


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

    async def around(self, person_id: str, monday: date, projects: set[uuid.UUID]) -> WeekAround:
        """Everything of the week's answer but its entries, in one statement (the timer is a detached copy)."""
        row = (await self.session.execute(_WEEK_AROUND, {"person_id": person_id, "monday": monday,
                                                         "projects": sorted(projects)})).one()
        state = WeekState(row.status, row.comment, row.submitted_at, row.decided_by,
                          row.decided_at) if row.status is not None else None
        timer = RunningTimer(person_id=person_id, project_id=row.timer_project_id, billable=row.timer_billable,
                             note=row.timer_note, started_at=row.timer_started_at) \
            if row.timer_project_id is not None else None
        names = {uuid.UUID(key): name for key, name in json.loads(row.names).items()} if row.names else {}
        return WeekAround(state, timer, names)

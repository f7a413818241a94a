"""The billing tables' reads and writes: schedules, their items, billing runs; and what a billing run selects to
bill, each with the row locks that make it bill everything exactly once."""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, Date, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.billing.models import BillingRun, BillingSchedule, BillingType, ScheduleItem, ScheduleItemStatus
from erp.clients.api import Client
from erp.projects.api import Project, ProjectStatus
from erp.time_entries.api import TimeEntry, TimeEntryStatus
from throughline_platform.paging import page_with_total


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: BillingRun | BillingSchedule) -> None:
        self.session.add(row)

    async def run(self, run_id: uuid.UUID) -> BillingRun | None:
        return await self.session.get(BillingRun, run_id)

    async def runs(self, limit: int, offset: int) -> tuple[list[BillingRun], int]:
        return await page_with_total(self.session, select(BillingRun), BillingRun.created_at.desc(), BillingRun.id,
                                     limit=limit, offset=offset)

    async def schedule_of(self, project_id: uuid.UUID) -> BillingSchedule | None:
        return (await self.session.execute(
            select(BillingSchedule).where(BillingSchedule.project_id == project_id))).scalars().first()

    async def item(self, item_id: uuid.UUID, *, for_update: bool = False) -> ScheduleItem | None:
        if not for_update:
            return await self.session.get(ScheduleItem, item_id)
        query = select(ScheduleItem).where(ScheduleItem.id == item_id).with_for_update()
        return (await self.session.execute(query)).scalars().first()

    async def due_items(self, as_of: date, project_id: uuid.UUID | None
                        ) -> list[tuple[ScheduleItem, BillingSchedule, Project, Client]]:
        """Pending items due by `as_of` (or reached by then) of projects not cancelled, each locked; an item a
        concurrent run holds is skipped (that run bills it)."""
        due = (
            select(ScheduleItem, BillingSchedule, Project, Client)
            .join(BillingSchedule, ScheduleItem.schedule_id == BillingSchedule.id)
            .join(Project, BillingSchedule.project_id == Project.id)
            .join(Client, Project.client_id == Client.id)
            .where(ScheduleItem.status == ScheduleItemStatus.PENDING, Project.status != ProjectStatus.CANCELLED,
                   or_(ScheduleItem.due_date <= as_of,
                       cast(func.timezone("UTC", ScheduleItem.reached_at), Date) <= as_of))
            .order_by(ScheduleItem.due_date, ScheduleItem.position, ScheduleItem.id)
            .with_for_update(of=ScheduleItem, skip_locked=True)
        )
        if project_id is not None:
            due = due.where(Project.id == project_id)
        return [(item, schedule, project, client)
                for item, schedule, project, client in (await self.session.execute(due)).all()]

    async def time_and_materials_to_bill(self, as_of: date, project_id: uuid.UUID | None
                                         ) -> list[tuple[BillingSchedule, Project, Client]]:
        """Time-and-materials schedules of projects not cancelled that have unbilled time up to `as_of`, each
        locked: one biller per project at a time, so the cap arithmetic sees every earlier bill."""
        schedules = (
            select(BillingSchedule, Project, Client)
            .join(Project, BillingSchedule.project_id == Project.id)
            .join(Client, Project.client_id == Client.id)
            .where(BillingSchedule.billing_type == BillingType.TIME_AND_MATERIALS,
                   Project.status != ProjectStatus.CANCELLED, BillingSchedule.hourly_rate.is_not(None))
            .where(select(TimeEntry.id).where(*_unbilled(as_of), TimeEntry.project_id == Project.id).exists())
            .order_by(Project.created_at, Project.id)
            .with_for_update(of=BillingSchedule, skip_locked=True)
        )
        if project_id is not None:
            schedules = schedules.where(Project.id == project_id)
        return [(schedule, project, client)
                for schedule, project, client in (await self.session.execute(schedules)).all()]

    async def unbilled_time(self, project_id: uuid.UUID, as_of: date) -> list[TimeEntry]:
        """The project's approved billable time up to `as_of` not billed yet, in the order it is billed, locked."""
        query = (
            select(TimeEntry).where(*_unbilled(as_of), TimeEntry.project_id == project_id)
            .order_by(TimeEntry.work_date, TimeEntry.created_at, TimeEntry.id)
            .with_for_update(skip_locked=True))
        return list((await self.session.execute(query)).scalars())


def _unbilled(as_of: date) -> tuple[ColumnElement[bool], ...]:
    return (TimeEntry.invoice_id.is_(None), TimeEntry.billable.is_(True),
            TimeEntry.status == TimeEntryStatus.APPROVED, TimeEntry.beyond_cap.is_(False),
            TimeEntry.work_date <= as_of)

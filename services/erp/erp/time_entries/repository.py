import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp.time_entries.models import TimeEntry


class TimeEntryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: TimeEntry) -> None:
        self.session.add(entry)

    async def get(self, entry_id: uuid.UUID) -> TimeEntry | None:
        return await self.session.get(TimeEntry, entry_id)

    async def locked(self, entry_id: uuid.UUID) -> TimeEntry | None:
        return (await self.session.execute(select(TimeEntry).where(TimeEntry.id == entry_id).with_for_update()
                                           .execution_options(populate_existing=True))).scalars().first()

    async def delete(self, entry: TimeEntry) -> None:
        await self.session.delete(entry)

    async def lock_day(self, person_id: str, work_date: date) -> None:
        """Serialises writers of the same person and day until the transaction ends (an advisory lock)."""
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                   {"key": f"time:{person_id}:{work_date.isoformat()}"})

    async def hours_on(self, person_id: str, work_date: date, excluding: uuid.UUID | None = None) -> Decimal:
        query = select(func.coalesce(func.sum(TimeEntry.hours), 0)).where(
            TimeEntry.person_id == person_id, TimeEntry.work_date == work_date)
        if excluding is not None:
            query = query.where(TimeEntry.id != excluding)
        return Decimal((await self.session.execute(query)).scalar_one())

    async def search(self, *, project_id: uuid.UUID | None, person_id: str | None, date_from: date | None,
                     date_to: date | None, billable: bool | None, status: str | None, invoiced: bool | None,
                     invoice_id: uuid.UUID | None, limit: int, offset: int) -> tuple[list[TimeEntry], int, Decimal]:
        """A page of the matching entries (newest work first), how many match and their hours in all."""
        conditions: list[ColumnElement[bool]] = []
        if project_id:
            conditions.append(TimeEntry.project_id == project_id)
        if person_id:
            conditions.append(TimeEntry.person_id == person_id)
        if date_from:
            conditions.append(TimeEntry.work_date >= date_from)
        if date_to:
            conditions.append(TimeEntry.work_date <= date_to)
        if billable is not None:
            conditions.append(TimeEntry.billable.is_(billable))
        if status:
            conditions.append(TimeEntry.status == status)
        if invoiced is not None:
            conditions.append(TimeEntry.invoice_id.is_not(None) if invoiced else TimeEntry.invoice_id.is_(None))
        if invoice_id:
            conditions.append(TimeEntry.invoice_id == invoice_id)
        total, hours = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(TimeEntry.hours), 0)).where(*conditions))).one()
        rows = await self.session.execute(select(TimeEntry).where(*conditions)
                                          .order_by(TimeEntry.work_date.desc(), TimeEntry.created_at.desc(),
                                                    TimeEntry.id)
                                          .limit(limit).offset(offset))
        return list(rows.scalars()), total, Decimal(hours)

    async def unbill(self, invoice_id: uuid.UUID) -> None:
        """The entries billed on an invoice are unbilled again."""
        await self.session.execute(update(TimeEntry).where(TimeEntry.invoice_id == invoice_id)
                                   .values(invoice_id=None, invoice_line_id=None))

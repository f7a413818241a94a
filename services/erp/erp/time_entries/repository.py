import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp.projects.api import Project
from erp.time_entries.models import TimeEntry, TimesheetWeek


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

    async def lock_week(self, person_id: str, week_start: date, *, exclusive: bool) -> None:
        """Entry writers hold a person's week shared, its submission and decision exclusively, until the
        transaction ends: an entry cannot slip into a week while it is being submitted or approved (the week has
        no row to lock before its first submission, hence an advisory lock)."""
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await self.session.execute(text(f"SELECT {function}(hashtext(:key))"),
                                   {"key": f"week:{person_id}:{week_start.isoformat()}"})

    async def week(self, person_id: str, week_start: date) -> TimesheetWeek | None:
        return (await self.session.execute(select(TimesheetWeek).where(
            TimesheetWeek.person_id == person_id, TimesheetWeek.week_start == week_start)
            .execution_options(populate_existing=True))).scalars().first()

    def add_week(self, week: TimesheetWeek) -> None:
        self.session.add(week)

    async def weeks(self, status: str, limit: int) -> list[TimesheetWeek]:
        rows = await self.session.execute(select(TimesheetWeek).where(TimesheetWeek.status == status)
                                          .order_by(TimesheetWeek.submitted_at, TimesheetWeek.id).limit(limit))
        return list(rows.scalars())

    async def hours_of_weeks(self, weeks: list[TimesheetWeek]) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
        """Each week's hours and billable hours, in one query."""
        if not weeks:
            return {}
        keys = text("SELECT w.id, coalesce(sum(t.hours), 0), coalesce(sum(t.hours) FILTER (WHERE t.billable), 0) "
                    "FROM timesheet_weeks w LEFT JOIN time_entries t ON t.person_id = w.person_id "
                    "AND t.work_date BETWEEN w.week_start AND w.week_start + 6 "
                    "WHERE w.id = ANY(:ids) GROUP BY w.id")
        rows = await self.session.execute(keys, {"ids": [w.id for w in weeks]})
        return {row[0]: (Decimal(row[1]), Decimal(row[2])) for row in rows}

    async def in_week(self, person_id: str, week_start: date, *, for_update: bool = False) -> list[TimeEntry]:
        """The person's entries of the week (Monday `week_start` to Sunday), in the order they were logged."""
        query = (select(TimeEntry).where(TimeEntry.person_id == person_id,
                                         TimeEntry.work_date.between(week_start, week_start + timedelta(days=6)))
                 .order_by(TimeEntry.work_date, TimeEntry.created_at, TimeEntry.id))
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return list((await self.session.execute(query)).scalars())

    async def lock_days(self, person_id: str, days: list[date]) -> None:
        """`lock_day` for several days in one statement, in day order (so two writers cannot deadlock)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k"),
            {"keys": sorted(f"time:{person_id}:{day.isoformat()}" for day in days)})

    async def day_totals(self, person_id: str, first: date, last: date) -> dict[date, Decimal]:
        rows = await self.session.execute(
            select(TimeEntry.work_date, func.sum(TimeEntry.hours))
            .where(TimeEntry.person_id == person_id, TimeEntry.work_date.between(first, last))
            .group_by(TimeEntry.work_date))
        return {day: Decimal(hours) for day, hours in rows.tuples()}

    async def project_statuses(self, project_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not project_ids:
            return {}
        rows = await self.session.execute(select(Project.id, Project.status).where(Project.id.in_(project_ids)))
        return {project_id: status for project_id, status in rows.tuples()}

    async def corrected(self, entry_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of the entries have corrections."""
        if not entry_ids:
            return set()
        rows = await self.session.execute(select(TimeEntry.corrects_id).where(TimeEntry.corrects_id.in_(entry_ids))
                                          .distinct())
        return {entry_id for entry_id in rows.scalars() if entry_id is not None}

    async def corrected_hours(self, entry_id: uuid.UUID) -> Decimal:
        """An entry's hours with its corrections'."""
        return Decimal((await self.session.execute(
            select(func.coalesce(func.sum(TimeEntry.hours), 0))
            .where((TimeEntry.id == entry_id) | (TimeEntry.corrects_id == entry_id)))).scalar_one())

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

"""Time entries: at most 24 hours per person and day; frozen once billed."""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text

from erp.db import utcnow
from erp.projects.models import Project
from erp.time_entries.models import TimeEntry
from erp.time_entries.schemas import TimeEntryIn, TimeEntryPatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

DAY_LIMIT = Decimal(24)


async def _check_day(uow: UnitOfWork, person_id: str, work_date: date, hours: Decimal,
                     excluding: uuid.UUID | None = None) -> None:
    # Serialises writers of the same person and day, so two requests cannot together pass 24 hours.
    await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                              {"key": f"time:{person_id}:{work_date.isoformat()}"})
    query = select(func.coalesce(func.sum(TimeEntry.hours), 0)).where(
        TimeEntry.person_id == person_id, TimeEntry.work_date == work_date)
    if excluding is not None:
        query = query.where(TimeEntry.id != excluding)
    booked = Decimal((await uow.session.execute(query)).scalar_one())
    if booked + hours > DAY_LIMIT:
        raise Unprocessable(f"{person_id} already has {booked} h on {work_date}; {hours} h more would pass 24 h.",
                            type_slug="day-over-24-hours")


async def create(uow: UnitOfWork, body: TimeEntryIn, principal: Principal) -> TimeEntry:
    project = await uow.session.get(Project, body.project_id)
    if project is None:
        raise Unprocessable(f"Project {body.project_id} does not exist.")
    if project.status in ("completed", "cancelled"):
        raise Conflict(f"Project {project.id} is {project.status}: it takes no more time.")
    person_id = body.person_id or principal.user_id
    await _check_day(uow, person_id, body.work_date, body.hours)
    entry = TimeEntry(id=uuid.uuid4(), person_id=person_id, project_id=project.id, work_date=body.work_date,
                      hours=body.hours, billable=body.billable, description=body.description, status="open",
                      beyond_cap=False, created_by=principal.user_id)
    uow.session.add(entry)
    await uow.commit()
    return entry


async def locked(uow: UnitOfWork, entry_id: uuid.UUID) -> TimeEntry:
    entry = (await uow.session.execute(select(TimeEntry).where(TimeEntry.id == entry_id).with_for_update()
                                       .execution_options(populate_existing=True))).scalars().first()
    if entry is None:
        raise NotFound(f"Time entry {entry_id} does not exist.")
    return entry


def _not_billed(entry: TimeEntry, action: str) -> None:
    if entry.invoice_id is not None:
        raise Conflict(f"Time entry {entry.id} is billed on invoice {entry.invoice_id}: it cannot be {action}.")


async def update(uow: UnitOfWork, entry_id: uuid.UUID, body: TimeEntryPatch) -> TimeEntry:
    entry = await locked(uow, entry_id)
    _not_billed(entry, "changed")
    changes = body.model_dump(exclude_unset=True)
    for field in ("work_date", "hours", "billable"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    if "work_date" in changes or "hours" in changes:
        await _check_day(uow, entry.person_id, changes.get("work_date", entry.work_date),
                         changes.get("hours", entry.hours), excluding=entry.id)
    for field, value in changes.items():
        setattr(entry, field, value)
    if entry.status == "approved" and changes:
        entry.status, entry.approved_by, entry.approved_at = "open", None, None  # changed time needs a new look
    await uow.commit()
    return entry


async def approve(uow: UnitOfWork, entry_id: uuid.UUID, principal: Principal) -> TimeEntry:
    entry = await locked(uow, entry_id)
    if entry.status != "approved":
        entry.status, entry.approved_by, entry.approved_at = "approved", principal.user_id, utcnow()
        await uow.commit()
    return entry


async def delete(uow: UnitOfWork, entry_id: uuid.UUID) -> None:
    entry = await locked(uow, entry_id)
    _not_billed(entry, "deleted")
    await uow.session.delete(entry)
    await uow.commit()

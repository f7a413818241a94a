"""Time entries: at most 24 hours per person and day; frozen once billed."""

import uuid
from datetime import date
from decimal import Decimal

from erp.budgets.api import check_thresholds
from erp.db import utcnow
from erp.invoices.api import Invoice
from erp.projects.api import ProjectRepository, ProjectStatus
from erp.time_entries.models import TimeEntry, TimeEntryStatus
from erp.time_entries.repository import TimeEntryRepository
from erp.time_entries.schemas import TimeEntryIn, TimeEntryPatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, Forbidden, NotFound, Unprocessable

DAY_LIMIT = Decimal(24)
CLOSED = (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)  # projects that take no more time


async def _check_day(entries: TimeEntryRepository, person_id: str, work_date: date, hours: Decimal,
                     excluding: uuid.UUID | None = None) -> None:
    # Serialises writers of the same person and day, so two requests cannot together pass 24 hours.
    await entries.lock_day(person_id, work_date)
    booked = await entries.hours_on(person_id, work_date, excluding)
    if booked + hours > DAY_LIMIT:
        raise Unprocessable(f"{person_id} already has {booked} h on {work_date}; {hours} h more would pass 24 h.",
                            type_slug="day-over-24-hours")


async def get(uow: UnitOfWork, entry_id: uuid.UUID) -> TimeEntry:
    entry = await TimeEntryRepository(uow.session).get(entry_id)
    if entry is None:
        raise NotFound(f"Time entry {entry_id} does not exist.")
    return entry


async def create(uow: UnitOfWork, body: TimeEntryIn, principal: Principal) -> TimeEntry:
    project = await ProjectRepository(uow.session).get(body.project_id)
    if project is None:
        raise Unprocessable(f"Project {body.project_id} does not exist.")
    if project.status in CLOSED:
        raise Conflict(f"Project {project.id} is {project.status}: it takes no more time.")
    person_id = body.person_id or principal.user_id
    entries = TimeEntryRepository(uow.session)
    await _check_day(entries, person_id, body.work_date, body.hours)
    entry = TimeEntry(id=uuid.uuid4(), person_id=person_id, project_id=project.id, work_date=body.work_date,
                      hours=body.hours, billable=body.billable, description=body.description,
                      status=TimeEntryStatus.OPEN, beyond_cap=False, created_by=principal.user_id)
    entries.add(entry)
    await check_thresholds(uow, [project.id])
    await uow.commit()
    return entry


async def _locked(entries: TimeEntryRepository, entry_id: uuid.UUID) -> TimeEntry:
    entry = await entries.locked(entry_id)
    if entry is None:
        raise NotFound(f"Time entry {entry_id} does not exist.")
    return entry


def _not_billed(entry: TimeEntry, action: str) -> None:
    if entry.invoice_id is not None:
        raise Conflict(f"Time entry {entry.id} is billed on invoice {entry.invoice_id}: it cannot be {action}.")


async def update(uow: UnitOfWork, entry_id: uuid.UUID, body: TimeEntryPatch) -> TimeEntry:
    entries = TimeEntryRepository(uow.session)
    entry = await _locked(entries, entry_id)
    _not_billed(entry, "changed")
    changes = body.model_dump(exclude_unset=True)
    for field in ("work_date", "hours", "billable"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    if "work_date" in changes or "hours" in changes:
        await _check_day(entries, entry.person_id, changes.get("work_date", entry.work_date),
                         changes.get("hours", entry.hours), excluding=entry.id)
    for field, value in changes.items():
        setattr(entry, field, value)
    if entry.status == TimeEntryStatus.APPROVED and changes:
        # Changed time needs a new look.
        entry.status, entry.approved_by, entry.approved_at = TimeEntryStatus.OPEN, None, None
    await check_thresholds(uow, [entry.project_id])
    await uow.commit()
    return entry


async def approve(uow: UnitOfWork, entry_id: uuid.UUID, principal: Principal) -> TimeEntry:
    """Approve an entry. Nobody approves their own time, admins included: approved billable time is billed to the
    client, and (as for expenses) the person who gains from it is not the one who vouches for it."""
    entry = await _locked(TimeEntryRepository(uow.session), entry_id)
    if entry.person_id == principal.user_id:
        raise Forbidden("Nobody may approve their own time.", type_slug="own-time")
    if entry.status != TimeEntryStatus.APPROVED:
        entry.status, entry.approved_by, entry.approved_at = TimeEntryStatus.APPROVED, principal.user_id, utcnow()
        await uow.commit()
    return entry


async def delete(uow: UnitOfWork, entry_id: uuid.UUID) -> None:
    entries = TimeEntryRepository(uow.session)
    entry = await _locked(entries, entry_id)
    _not_billed(entry, "deleted")
    await entries.delete(entry)
    await uow.commit()


async def release_time_entries(uow: UnitOfWork, invoice: Invoice) -> None:
    """Billed work given back (registered with `erp.invoices.api.BILLED_WORK`): the time a voided invoice or
    deleted draft billed is unbilled again, for the next billing run."""
    await TimeEntryRepository(uow.session).unbill(invoice.id)

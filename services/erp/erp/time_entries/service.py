"""Time entries: at most 24 hours per person and day; frozen once billed; nothing written in a submitted or approved
week; always of a person the ERP knows and who is active (erp.people). One's own time needs erp.time_entries.log;
another person's erp.time_entries.write as well (project managers, finance, admins: decision 114).

The building blocks (`add_entry`, `change_entry`, `remove_entry`) flush and never commit: the endpoints here
commit one entry, the weekly timesheet (erp.timesheets) commits a whole week of them in one transaction."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from erp.budgets.api import check_thresholds
from erp.clock import today
from erp.db import utcnow
from erp.invoices.api import Invoice
from erp.people.api import require_active_person
from erp.policy import POLICY, Action
from erp.projects.api import ProjectRepository, ProjectStatus
from erp.time_entries.models import LOCKED_WEEKS, TimeEntry, TimeEntryStatus
from erp.time_entries.repository import TimeEntryRepository
from erp.time_entries.schemas import CorrectionIn, TimeEntryIn, TimeEntryPatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, Forbidden, NotFound, Unprocessable

DAY_LIMIT = Decimal(24)
CLOSED = (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)  # projects that take no more time


def week_start(day: date) -> date:
    """The Monday of the (ISO) week `day` is in."""
    return day - timedelta(days=day.weekday())


def check_may_log_for(principal: Principal, person_id: str) -> None:
    """One's own time needs erp.time.own (the endpoint checked it); anyone else's needs erp.time_entries.write."""
    if person_id != principal.user_id and not POLICY.allows(principal.role, Action.TIME_ENTRIES_WRITE):
        raise Forbidden(f"Only your own time: {person_id}'s needs one of the roles that may do "
                        f"{Action.TIME_ENTRIES_WRITE}.", type_slug="others-time", action=Action.TIME_ENTRIES_WRITE)


async def check_week_open(entries: TimeEntryRepository, person_id: str, work_date: date) -> None:
    """409 when the person's week of `work_date` is submitted or approved. Holds the week (shared) until the
    transaction ends, so a submission or approval waits for this write and sees it."""
    monday = week_start(work_date)
    await entries.lock_week(person_id, monday, exclusive=False)
    week = await entries.week(person_id, monday)
    if week is not None and week.status in LOCKED_WEEKS:
        raise Conflict(f"{person_id}'s week of {monday} is {week.status}: no time is added, changed or deleted in "
                       "it (log a correction in an open week).", type_slug="week-locked", week_status=week.status)


async def _check_day(entries: TimeEntryRepository, person_id: str, work_date: date, hours: Decimal,
                     excluding: uuid.UUID | None = None) -> None:
    # Serialises writers of the same person and day, so two requests cannot together pass 24 hours.
    await entries.lock_day(person_id, work_date)
    booked = await entries.hours_on(person_id, work_date, excluding)
    if booked + hours > DAY_LIMIT:
        raise Unprocessable(f"{person_id} already has {booked} h on {work_date}; {hours} h more would pass 24 h.",
                            type_slug="day-over-24-hours")


def _check_open(project_id: uuid.UUID, status: str | None) -> None:
    if status is None:
        raise Unprocessable(f"Project {project_id} does not exist.", type_slug="unknown-project")
    if status in CLOSED:
        raise Conflict(f"Project {project_id} is {status}: it takes no more time.", type_slug="project-archived")


async def open_project(uow: UnitOfWork, project_id: uuid.UUID) -> None:
    """The project time is logged on: it exists (422) and takes time (409 when completed or cancelled)."""
    project = await ProjectRepository(uow.session).get(project_id)
    _check_open(project_id, project.status if project else None)


async def open_projects(uow: UnitOfWork, project_ids: set[uuid.UUID]) -> None:
    """`open_project` for several, in one query."""
    statuses = await TimeEntryRepository(uow.session).project_statuses(project_ids)
    for project_id in sorted(project_ids):
        _check_open(project_id, statuses.get(project_id))


def reads_everyones(principal: Principal) -> bool:
    """Whether the caller reads every time entry (erp.read), or only their own (a member)."""
    return POLICY.allows(principal.role, Action.READ)


async def get(uow: UnitOfWork, entry_id: uuid.UUID, principal: Principal) -> TimeEntry:
    entry = await TimeEntryRepository(uow.session).get(entry_id)
    if entry is None:
        raise NotFound(f"Time entry {entry_id} does not exist.")
    if entry.person_id != principal.user_id and not reads_everyones(principal):
        raise Forbidden("A member reads their own time entries only.", type_slug="others-time")
    return entry


@dataclass(frozen=True)
class NewEntry:
    project_id: uuid.UUID
    person_id: str
    work_date: date
    hours: Decimal
    billable: bool
    description: str | None
    corrects_id: uuid.UUID | None = None


async def add_entry(uow: UnitOfWork, new: NewEntry, principal: Principal) -> TimeEntry:
    """Write one entry (flushed, not committed) after every rule: who, the week's lock, the project, the day."""
    check_may_log_for(principal, new.person_id)
    await require_active_person(uow.session, new.person_id)
    await open_project(uow, new.project_id)
    entries = TimeEntryRepository(uow.session)
    await check_week_open(entries, new.person_id, new.work_date)
    await _check_day(entries, new.person_id, new.work_date, new.hours)
    entry = TimeEntry(id=uuid.uuid4(), person_id=new.person_id, project_id=new.project_id, work_date=new.work_date,
                      hours=new.hours, billable=new.billable, description=new.description,
                      status=TimeEntryStatus.OPEN, beyond_cap=False, created_by=principal.user_id,
                      corrects_id=new.corrects_id)
    entries.add(entry)
    await uow.session.flush()
    return entry


async def create(uow: UnitOfWork, body: TimeEntryIn, principal: Principal) -> TimeEntry:
    entry = await add_entry(uow, NewEntry(body.project_id, body.person_id or principal.user_id, body.work_date,
                                          body.hours, body.billable, body.description), principal)
    await check_thresholds(uow, [entry.project_id])  # the hours burn the budget when logged (decision 130)
    await uow.commit()
    return entry


async def _locked(entries: TimeEntryRepository, entry_id: uuid.UUID) -> TimeEntry:
    entry = await entries.locked(entry_id)
    if entry is None:
        raise NotFound(f"Time entry {entry_id} does not exist.")
    return entry


def _not_billed(entry: TimeEntry, action: str) -> None:
    if entry.invoice_id is not None:
        raise Conflict(f"Time entry {entry.id} is billed on invoice {entry.invoice_id}: it cannot be {action} "
                       f"(log a correction: POST /api/erp/time-entries/{entry.id}/corrections).",
                       type_slug="entry-billed")


async def change_entry(uow: UnitOfWork, entry: TimeEntry, changes: dict[str, object],
                       principal: Principal) -> TimeEntry:
    """Apply `changes` (fields of TimeEntryPatch) to a locked entry, flushed: an approved entry needs approving
    again."""
    check_may_log_for(principal, entry.person_id)
    _not_billed(entry, "changed")
    for field in ("work_date", "hours", "billable"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    entries = TimeEntryRepository(uow.session)
    await check_week_open(entries, entry.person_id, entry.work_date)
    work_date = changes.get("work_date", entry.work_date)
    assert isinstance(work_date, date)
    if work_date != entry.work_date:
        await check_week_open(entries, entry.person_id, work_date)
    if "work_date" in changes or "hours" in changes:
        hours = changes.get("hours", entry.hours)
        assert isinstance(hours, Decimal)
        await _check_day(entries, entry.person_id, work_date, hours, excluding=entry.id)
    for field, value in changes.items():
        setattr(entry, field, value)
    if entry.status == TimeEntryStatus.APPROVED and changes:
        # Changed time needs a new look.
        entry.status, entry.approved_by, entry.approved_at = TimeEntryStatus.OPEN, None, None
    await uow.session.flush()
    return entry


async def update(uow: UnitOfWork, entry_id: uuid.UUID, body: TimeEntryPatch, principal: Principal) -> TimeEntry:
    entry = await _locked(TimeEntryRepository(uow.session), entry_id)
    await change_entry(uow, entry, body.model_dump(exclude_unset=True), principal)
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


def _not_corrected(entry: TimeEntry, corrected: set[uuid.UUID]) -> None:
    # An entry that others correct stays: its corrections would lose their meaning.
    if entry.id in corrected:
        raise Conflict(f"Time entry {entry.id} has corrections: it stays.", type_slug="entry-corrected")


async def delete(uow: UnitOfWork, entry_id: uuid.UUID, principal: Principal) -> None:
    entries = TimeEntryRepository(uow.session)
    entry = await _locked(entries, entry_id)
    check_may_log_for(principal, entry.person_id)
    _not_billed(entry, "deleted")
    await check_week_open(entries, entry.person_id, entry.work_date)
    _not_corrected(entry, await entries.corrected([entry.id]))
    await entries.delete(entry)
    await uow.commit()


@dataclass(frozen=True)
class CellChange:
    entry: TimeEntry  # locked by the caller
    hours: Decimal
    description: str | None


async def rewrite_week(uow: UnitOfWork, person_id: str, monday: date, *, remove: list[TimeEntry],
                       change: list[CellChange], add: list[NewEntry], principal: Principal) -> list[TimeEntry]:
    """Many writes in one person's week (the weekly timesheet's save), flushed, under the rules of one write with
    a fixed number of queries however many cells change: who, the week's lock, billed and corrected entries, the
    projects, and each day's 24 hours (checked on the result). Gives the new entries, so that its caller can
    answer with the week without reading it again. The budgets' thresholds are checked for the projects
    whose hours rose (decision 200): a cell lowered, deleted or with only its note changed burns nothing more."""
    check_may_log_for(principal, person_id)
    if add or change:
        await require_active_person(uow.session, person_id)
    entries = TimeEntryRepository(uow.session)
    await check_week_open(entries, person_id, monday)
    for entry in remove:
        _not_billed(entry, "deleted")
    for cell in change:
        _not_billed(cell.entry, "changed")
    corrected = await entries.corrected([entry.id for entry in remove])
    for entry in remove:
        _not_corrected(entry, corrected)
    await open_projects(uow, {new.project_id for new in add})
    sunday = monday + timedelta(days=6)
    await entries.lock_days(person_id, [monday + timedelta(days=n) for n in range(7)])
    burning = {new.project_id for new in add} | {cell.entry.project_id for cell in change
                                                 if cell.hours > cell.entry.hours}
    for entry in remove:
        await entries.delete(entry)
    for cell in change:
        cell.entry.hours, cell.entry.description = cell.hours, cell.description
        if cell.entry.status == TimeEntryStatus.APPROVED:  # changed time needs a new look
            cell.entry.status, cell.entry.approved_by, cell.entry.approved_at = TimeEntryStatus.OPEN, None, None
    added = [TimeEntry(id=uuid.uuid4(), person_id=person_id, project_id=new.project_id, work_date=new.work_date,
                       hours=new.hours, billable=new.billable, description=new.description, status=TimeEntryStatus.OPEN,
                       beyond_cap=False, created_by=principal.user_id) for new in add]
    for entry in added:
        entries.add(entry)
    await uow.session.flush()
    over = {day: hours for day, hours in (await entries.day_totals(person_id, monday, sunday)).items()
            if hours > DAY_LIMIT}
    if over:
        day = min(over)
        raise Unprocessable(f"{person_id} would have {over[day]} h on {day}: a day has at most 24 h.",
                            type_slug="day-over-24-hours")
    await check_thresholds(uow, burning)
    return added


async def correct(uow: UnitOfWork, entry_id: uuid.UUID, body: CorrectionIn, principal: Principal) -> TimeEntry:
    """A correction of an entry: a new entry of the same person, project and billability with `hours` more (or,
    negative, fewer), linked to the original, open until approved and then billed like any time. The original is
    never touched, so what an issued invoice billed stays as it was billed."""
    entries = TimeEntryRepository(uow.session)
    original = await _locked(entries, entry_id)  # serialises corrections of one entry for the check below
    if original.corrects_id is not None:
        raise Unprocessable(f"Time entry {entry_id} is itself a correction: correct {original.corrects_id}.",
                            type_slug="correction-of-correction")
    net = await entries.corrected_hours(original.id)
    if net + body.hours < 0:
        raise Unprocessable(f"Time entry {entry_id} stands at {net} h with its corrections: {body.hours} h would "
                            "take off more than was logged.", type_slug="correction-below-zero")
    entry = await add_entry(uow, NewEntry(original.project_id, original.person_id, body.work_date or today(),
                                          body.hours, original.billable,
                                          body.description or original.description, corrects_id=original.id),
                            principal)
    await check_thresholds(uow, [entry.project_id])
    await uow.commit()
    return entry


async def release_time_entries(uow: UnitOfWork, invoice: Invoice) -> None:
    """Billed work given back (registered with `erp.invoices.api.BILLED_WORK`): the time a voided or fully
    credited invoice, or a deleted draft, billed is unbilled again (still approved) for the next billing run."""
    await TimeEntryRepository(uow.session).unbill(invoice.id)

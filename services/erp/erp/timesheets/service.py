"""The weekly timesheet: a person's week as a grid (project and billability x day), saved whole in one
transaction; copying last week; the running timer; submitting the week and its approval or return.

A cell is the sum of the entries of its project, billability and day (entries logged through the API may be
several). Saving leaves a cell whose hours and note did not change alone, so a week with billed time can still
be saved as long as the billed cells stay as they are."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from erp.budgets.api import check_thresholds
from erp.db import utcnow
from erp.policy import POLICY, Action
from erp.time_entries.api import (
    CLOSED,
    LOCKED_WEEKS,
    CellChange,
    NewEntry,
    TimeEntry,
    TimeEntryRepository,
    TimeEntryStatus,
    TimesheetWeek,
    WeekStatus,
    add_entry,
    check_may_log_for,
    open_project,
    rewrite_week,
)
from erp.timesheets.models import RunningTimer
from erp.timesheets.repository import TimesheetRepository, WeekAround
from erp.timesheets.schemas import (
    CellOut,
    RowOut,
    TimerIn,
    TimerOut,
    WeekIn,
    WeekList,
    WeekOut,
    WeekSummary,
    week_name,
)
from throughline_events.erp import TimeWeekApprovedV1, TimeWeekSubmittedV1
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, Forbidden, NotFound, Unprocessable

ZERO_HOURS = Decimal("0.00")
HUNDREDTH = Decimal("0.01")
CellKey = tuple[uuid.UUID, bool, date]  # project, billable, day


def check_may_see(principal: Principal, person_id: str) -> None:
    """One's own week; anyone's for those who log others' time or approve weeks."""
    if person_id != principal.user_id and not (POLICY.allows(principal.role, Action.TIME_ENTRIES_WRITE)
                                               or POLICY.allows(principal.role, Action.TIMESHEETS_APPROVE)):
        raise Forbidden(f"Only your own timesheet: {person_id}'s is for project managers.", type_slug="others-time")


def _days(monday: date) -> list[date]:
    return [monday + timedelta(days=n) for n in range(7)]


def _cell_note(entries: list[TimeEntry]) -> str | None:
    notes = [e.description for e in entries if e.description]
    return "; ".join(notes) if notes else None


def _by_cell(entries: list[TimeEntry]) -> dict[CellKey, list[TimeEntry]]:
    cells: dict[CellKey, list[TimeEntry]] = {}
    for entry in entries:
        cells.setdefault((entry.project_id, entry.billable, entry.work_date), []).append(entry)
    return cells


async def week(uow: UnitOfWork, person_id: str, monday: date, principal: Principal) -> WeekOut:
    check_may_see(principal, person_id)
    entries = await TimeEntryRepository(uow.session).in_week(person_id, monday)
    return await _answer(uow, person_id, monday, entries)


async def _answer(uow: UnitOfWork, person_id: str, monday: date, entries: list[TimeEntry]) -> WeekOut:
    """The week as the API shows it, from its entries (in the order they were logged) and one more statement for
    the week's status, the timer and the project names."""
    around = await TimesheetRepository(uow.session).around(person_id, monday, {e.project_id for e in entries})
    return week_out(person_id, monday, entries, around)


def week_out(person_id: str, monday: date, entries: list[TimeEntry], around: WeekAround) -> WeekOut:
    cells = _by_cell(entries)
    names, state = around.names, around.state
    days = _days(monday)
    rows: list[RowOut] = []
    for project_id, billable in dict.fromkeys((project, billable) for project, billable, _ in cells):
        row_cells = []
        for day in days:
            in_cell = cells.get((project_id, billable, day), [])
            row_cells.append(CellOut(work_date=day, hours=sum((e.hours for e in in_cell), ZERO_HOURS),
                                     note=_cell_note(in_cell), entry_ids=[e.id for e in in_cell],
                                     billed=any(e.invoice_id is not None for e in in_cell)))
        rows.append(RowOut(project_id=project_id, project_name=names.get(project_id, str(project_id)),
                           billable=billable, cells=row_cells, total=sum((c.hours for c in row_cells), ZERO_HOURS)))
    rows.sort(key=lambda r: (r.project_name.lower(), not r.billable))
    status = state.status if state else WeekStatus.OPEN
    return WeekOut(
        person_id=person_id, week=week_name(monday), week_start=monday, days=days, status=status,
        locked=status in LOCKED_WEEKS, comment=state.comment if state else None,
        submitted_at=state.submitted_at if state else None, decided_by=state.decided_by if state else None,
        decided_at=state.decided_at if state else None, rows=rows,
        day_totals=[sum((c.hours for r in rows for c in r.cells if c.work_date == day), ZERO_HOURS) for day in days],
        total=sum((e.hours for e in entries), ZERO_HOURS),
        billable_total=sum((e.hours for e in entries if e.billable), ZERO_HOURS),
        timer=TimerOut.model_validate(around.timer) if around.timer else None)


@dataclass(frozen=True)
class WantedCell:
    hours: Decimal
    note: str | None


async def save(uow: UnitOfWork, person_id: str, monday: date, body: WeekIn, principal: Principal) -> WeekOut:
    """The week becomes `body`, in one transaction: each changed cell's first entry is changed, the others
    deleted; a new cell is a new entry; a cell left out loses its entries. Any refusal (a billed cell changed, a
    locked week, a closed project, a day over 24 h) writes nothing."""
    check_may_log_for(principal, person_id)
    days = set(_days(monday))
    wanted: dict[CellKey, WantedCell] = {}
    for r, row in enumerate(body.rows):
        for c, cell in enumerate(row.cells):
            if cell.work_date not in days:
                raise Unprocessable(f"rows.{r}.cells.{c}.work_date: {cell.work_date} is not in the week of {monday}.",
                                    errors=[{"field": f"rows.{r}.cells.{c}.work_date", "type": "outside_week",
                                             "message": "not in this week"}])
            key = (row.project_id, row.billable, cell.work_date)
            if key in wanted:
                kind = "billable" if row.billable else "not billable"
                raise Unprocessable(f"rows.{r}: project {row.project_id} ({kind}) has {cell.work_date} twice.",
                                    type_slug="row-twice")
            wanted[key] = WantedCell(cell.hours, cell.note)
    logged = await TimeEntryRepository(uow.session).in_week(person_id, monday, for_update=True)
    existing = _by_cell(logged)
    remove: list[TimeEntry] = []
    change: list[CellChange] = []
    add: list[NewEntry] = []
    for key in existing.keys() | wanted.keys():
        have, want = existing.get(key, []), wanted.get(key)
        if want is None:
            remove += have
            continue
        unchanged = bool(have) and (sum((e.hours for e in have), ZERO_HOURS), _cell_note(have)) == (want.hours,
                                                                                                      want.note)
        if unchanged:
            continue
        if want.hours <= 0:
            raise Unprocessable(f"{key[2]}: a cell's hours are above zero (take hours off billed or locked time with "
                                "a correction).", type_slug="hours-not-positive")
        if not have:
            project_id, billable, day = key
            add.append(NewEntry(project_id, person_id, day, want.hours, billable, want.note))
        else:
            change.append(CellChange(have[0], want.hours, want.note))
            remove += have[1:]
    if remove or change or add:
        added = await rewrite_week(uow, person_id, monday, remove=remove, change=change, add=add,
                                   principal=principal)
        # The week after the save, without reading it again: the locked entries as changed, less the removed, and
        # the new ones (each alone in its cell, so their place in the logged order does not show). Nobody else
        # writes in the week before the commit: its days and its entries are locked.
        removed = {entry.id for entry in remove}
        logged = [entry for entry in logged if entry.id not in removed] + added
        answer = await _answer(uow, person_id, monday, logged)
        await uow.commit()
        return answer
    return await _answer(uow, person_id, monday, logged)


async def copy_last_week(uow: UnitOfWork, person_id: str, monday: date, principal: Principal) -> WeekOut:
    """Last week's entries (hours, notes, billability) again, each on the same weekday of this week, which must
    have none yet (409: copying onto logged time would count it twice). Corrections, and time on projects that
    closed since, are left out."""
    check_may_log_for(principal, person_id)
    entries = TimeEntryRepository(uow.session)
    if await entries.in_week(person_id, monday):
        raise Conflict(f"The week of {monday} has time already: copying last week onto it would count it twice.",
                       type_slug="week-not-empty")
    last = [e for e in await entries.in_week(person_id, monday - timedelta(days=7)) if e.corrects_id is None]
    statuses = await entries.project_statuses({e.project_id for e in last})
    copies = [NewEntry(e.project_id, person_id, e.work_date + timedelta(days=7), e.hours, e.billable, e.description)
              for e in last if statuses.get(e.project_id) not in CLOSED]
    if not copies:
        raise Conflict(f"{person_id} logged no time to copy in the week of {monday - timedelta(days=7)}.",
                       type_slug="nothing-to-copy")
    await rewrite_week(uow, person_id, monday, remove=[], change=[], add=copies, principal=principal)
    await uow.commit()
    return await week(uow, person_id, monday, principal)


async def _week_for_decision(uow: UnitOfWork, person_id: str, monday: date) -> tuple[TimeEntryRepository,
                                                                                      TimesheetWeek | None]:
    entries = TimeEntryRepository(uow.session)
    await entries.lock_week(person_id, monday, exclusive=True)  # waits for the week's entry writers to finish
    return entries, await entries.week(person_id, monday)


async def _hours(entries: TimeEntryRepository, state: TimesheetWeek) -> tuple[Decimal, Decimal]:
    return (await entries.hours_of_weeks([state]))[state.id]


async def submit(uow: UnitOfWork, person_id: str, monday: date, principal: Principal) -> WeekOut:
    check_may_log_for(principal, person_id)
    entries, state = await _week_for_decision(uow, person_id, monday)
    if state is not None and state.status in LOCKED_WEEKS:
        raise Conflict(f"{person_id}'s week of {monday} is already {state.status}.", type_slug="week-locked",
                       week_status=state.status)
    if state is None:
        state = TimesheetWeek(id=uuid.uuid4(), person_id=person_id, week_start=monday)
        entries.add_week(state)
    now = utcnow()
    state.status, state.submitted_at, state.submitted_by = WeekStatus.SUBMITTED, now, principal.user_id
    state.decided_at = state.decided_by = None
    await uow.session.flush()
    hours, billable = await _hours(entries, state)
    state.record(TimeWeekSubmittedV1(week_id=state.id, person_id=person_id, week=week_name(monday),
                                     week_start=monday, hours=hours, billable_hours=billable,
                                     submitted_by=principal.user_id, submitted_at=now))
    await uow.commit()
    return await week(uow, person_id, monday, principal)


async def _submitted(uow: UnitOfWork, person_id: str, monday: date, principal: Principal,
                     action: str) -> tuple[TimeEntryRepository, TimesheetWeek]:
    if person_id == principal.user_id:
        raise Forbidden(f"Nobody may {action} their own week.", type_slug="own-week")
    entries, state = await _week_for_decision(uow, person_id, monday)
    if state is None or state.status != WeekStatus.SUBMITTED:
        status = state.status if state else WeekStatus.OPEN
        raise Conflict(f"{person_id}'s week of {monday} is {status}: only a submitted week is approved or returned.",
                       type_slug="week-not-submitted", week_status=status)
    return entries, state


async def approve(uow: UnitOfWork, person_id: str, monday: date, principal: Principal) -> WeekOut:
    """Approve a submitted week: each of its entries is approved (billable ones go to the next billing run) and
    the week is locked for good."""
    entries, state = await _submitted(uow, person_id, monday, principal, "approve")
    now = utcnow()
    for entry in await entries.in_week(person_id, monday, for_update=True):
        if entry.status != TimeEntryStatus.APPROVED:
            entry.status, entry.approved_by, entry.approved_at = TimeEntryStatus.APPROVED, principal.user_id, now
    state.status, state.decided_at, state.decided_by, state.comment = WeekStatus.APPROVED, now, principal.user_id, None
    hours, billable = await _hours(entries, state)
    state.record(TimeWeekApprovedV1(week_id=state.id, person_id=person_id, week=week_name(monday),
                                    week_start=monday, hours=hours, billable_hours=billable,
                                    approved_by=principal.user_id, approved_at=now))
    await uow.commit()
    return await week(uow, person_id, monday, principal)


async def return_week(uow: UnitOfWork, person_id: str, monday: date, comment: str,
                      principal: Principal) -> WeekOut:
    """Send a submitted week back with what to fix: it is open again for its person."""
    _, state = await _submitted(uow, person_id, monday, principal, "return")
    state.status, state.decided_at, state.decided_by = WeekStatus.RETURNED, utcnow(), principal.user_id
    state.comment = comment
    await uow.commit()
    return await week(uow, person_id, monday, principal)


async def submitted_weeks(uow: UnitOfWork, limit: int, principal: Principal) -> WeekList:
    """The approvers' list (a read, so the endpoint asks erp.read; who sees it is the approvers')."""
    POLICY.check(principal, Action.TIMESHEETS_APPROVE)
    entries = TimeEntryRepository(uow.session)
    weeks = await entries.weeks(WeekStatus.SUBMITTED, limit)
    hours = await entries.hours_of_weeks(weeks)
    return WeekList(items=[WeekSummary(id=w.id, person_id=w.person_id, week=week_name(w.week_start),
                                       week_start=w.week_start, status=w.status, submitted_at=w.submitted_at,
                                       hours=hours[w.id][0], billable_hours=hours[w.id][1]) for w in weeks])


async def timer(uow: UnitOfWork, person_id: str, principal: Principal) -> RunningTimer | None:
    check_may_see(principal, person_id)
    return await TimesheetRepository(uow.session).timer(person_id)


async def start_timer(uow: UnitOfWork, person_id: str, body: TimerIn, principal: Principal) -> RunningTimer:
    check_may_log_for(principal, person_id)
    await open_project(uow, body.project_id)
    sheets = TimesheetRepository(uow.session)
    started = RunningTimer(person_id=person_id, project_id=body.project_id, billable=body.billable, note=body.note,
                           started_at=utcnow())
    if not await sheets.start_timer(started):
        raise Conflict(f"{person_id} has a timer running already: stop it first.", type_slug="timer-running")
    await uow.commit()
    return started


def elapsed_hours(started_at: datetime, now: datetime) -> Decimal:
    """The hours a timer ran, to the hundredth (half up), at least 0.01 and at most 24."""
    hours = Decimal((now - started_at).total_seconds()) / 3600
    return min(max(hours.quantize(HUNDREDTH, rounding=ROUND_HALF_UP), HUNDREDTH), Decimal(24))


async def stop_timer(uow: UnitOfWork, person_id: str, principal: Principal) -> TimeEntry:
    """Stop the person's timer and book the time it ran as an entry on the day it started (the company's day,
    UTC), under every rule of an entry (a locked week or a full day refuses it, and the timer keeps running)."""
    check_may_log_for(principal, person_id)
    sheets = TimesheetRepository(uow.session)
    running = await sheets.timer(person_id, for_update=True)
    if running is None:
        raise NotFound(f"{person_id} has no timer running.")
    hours = elapsed_hours(running.started_at, datetime.now(UTC))
    entry = await add_entry(uow, NewEntry(running.project_id, person_id, running.started_at.astimezone(UTC).date(),
                                          hours, running.billable, running.note), principal)
    await check_thresholds(uow, [entry.project_id])
    await sheets.delete_timer(running)
    await uow.commit()
    return entry


async def discard_timer(uow: UnitOfWork, person_id: str, principal: Principal) -> None:
    check_may_log_for(principal, person_id)
    sheets = TimesheetRepository(uow.session)
    running = await sheets.timer(person_id, for_update=True)
    if running is None:
        raise NotFound(f"{person_id} has no timer running.")
    await sheets.delete_timer(running)
    await uow.commit()

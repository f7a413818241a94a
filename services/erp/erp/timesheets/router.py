from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from erp.policy import Reader, TimeLogger, TimesheetApprover, WorkReader
from erp.time_entries.api import TimeEntryOut
from erp.timesheets import service
from erp.timesheets.schemas import ReturnIn, TimerIn, TimerOut, WeekIn, WeekList, WeekOut, parse_week
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses
from throughline_platform.problems import Unprocessable

router = APIRouter(prefix="/api/erp/timesheets", tags=["timesheets"],
                   responses=problem_responses(403, _403="Not your own timesheet, and your role may not reach "
                                                         "others'"))

PersonId = Annotated[str, Path(min_length=1, max_length=64, description="The person (a user id)")]
Week = Annotated[str, Path(description="ISO week, like 2026-W49", examples=["2026-W49"])]


def _monday(week: str) -> date:
    try:
        return parse_week(week)
    except ValueError as bad:
        raise Unprocessable(str(bad), errors=[{"field": "week", "message": str(bad), "type": "iso_week"}]) from None


@router.get("", response_model=WeekList,
            summary="The weeks waiting for approval, oldest submission first (for erp.timesheets.approve)")
async def list_submitted_weeks(uow: ReadUoW, principal: Reader,
                               limit: Annotated[int, Query(ge=1, le=500)] = 200) -> WeekList:
    return await service.submitted_weeks(uow, limit, principal)


@router.get("/{person_id}/timer", response_model=TimerOut | None, summary="The person's running timer (null: none)")
async def get_timer(person_id: PersonId, uow: ReadUoW, principal: WorkReader) -> TimerOut | None:
    running = await service.timer(uow, person_id, principal)
    return TimerOut.model_validate(running) if running else None


@router.post("/{person_id}/timer", status_code=201, response_model=TimerOut, summary="Start the person's timer",
             responses=problem_responses(409, _409="A timer is running already, or the project is closed"))
async def start_timer(person_id: PersonId, body: TimerIn, uow: UoW, principal: TimeLogger) -> TimerOut:
    return TimerOut.model_validate(await service.start_timer(uow, person_id, body, principal))


@router.post("/{person_id}/timer/stop", status_code=201, response_model=TimeEntryOut,
             summary="Stop the timer: the time it ran becomes an entry",
             responses=problem_responses(404, 409, 422, _404="No timer is running",
                                         _409="The week is locked", _422="The day would pass 24 hours"))
async def stop_timer(person_id: PersonId, uow: UoW, principal: TimeLogger) -> TimeEntryOut:
    return TimeEntryOut.model_validate(await service.stop_timer(uow, person_id, principal))


@router.delete("/{person_id}/timer", status_code=204, summary="Discard the running timer without booking",
               responses=problem_responses(404, _404="No timer is running"))
async def discard_timer(person_id: PersonId, uow: UoW, principal: TimeLogger) -> Response:
    await service.discard_timer(uow, person_id, principal)
    return Response(status_code=204)


@router.get("/{person_id}/{week}", response_model=WeekOut,
            summary="A person's week: project x day grid with notes and billability, totals, status and timer")
async def get_week(person_id: PersonId, week: Week, uow: ReadUoW, principal: WorkReader) -> WeekOut:
    return await service.week(uow, person_id, _monday(week), principal)


@router.put("/{person_id}/{week}", response_model=WeekOut,
            summary="Save the whole week in one transaction (cells left out are deleted)",
            responses=problem_responses(409, 422, _409="The week is submitted or approved, a billed cell changed, "
                                                       "or a project is closed"))
async def save_week(person_id: PersonId, week: Week, body: WeekIn, uow: UoW, principal: TimeLogger) -> WeekOut:
    return await service.save(uow, person_id, _monday(week), body, principal)


@router.post("/{person_id}/{week}/copy-last-week", response_model=WeekOut,
             summary="Copy last week's entries onto this (empty) week",
             responses=problem_responses(409, _409="The week has time already, or last week had none"))
async def copy_last_week(person_id: PersonId, week: Week, uow: UoW, principal: TimeLogger) -> WeekOut:
    return await service.copy_last_week(uow, person_id, _monday(week), principal)


@router.post("/{person_id}/{week}/submit", response_model=WeekOut,
             summary="Submit the week for approval (time.week_submitted); it is locked until decided",
             responses=problem_responses(409, _409="The week is submitted or approved already"))
async def submit_week(person_id: PersonId, week: Week, uow: UoW, principal: TimeLogger) -> WeekOut:
    return await service.submit(uow, person_id, _monday(week), principal)


@router.post("/{person_id}/{week}/approve", response_model=WeekOut,
             summary="Approve a submitted week (time.week_approved): its entries are approved, the week locked",
             responses=problem_responses(409, _409="The week is not submitted"))
async def approve_week(person_id: PersonId, week: Week, uow: UoW, principal: TimesheetApprover) -> WeekOut:
    return await service.approve(uow, person_id, _monday(week), principal)


@router.post("/{person_id}/{week}/return", response_model=WeekOut,
             summary="Return a submitted week with a comment: it is open again",
             responses=problem_responses(409, _409="The week is not submitted"))
async def return_week(person_id: PersonId, week: Week, body: ReturnIn, uow: UoW,
                      principal: TimesheetApprover) -> WeekOut:
    return await service.return_week(uow, person_id, _monday(week), body.comment, principal)

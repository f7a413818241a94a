import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from erp.policy import TimeEntryWriter, TimeLogger, WorkReader
from erp.time_entries import service
from erp.time_entries.models import TimeEntryStatus
from erp.time_entries.repository import TimeEntryRepository
from erp.time_entries.schemas import CorrectionIn, TimeEntryIn, TimeEntryOut, TimeEntryPage, TimeEntryPatch
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses
from throughline_platform.problems import Forbidden

router = APIRouter(prefix="/api/erp/time-entries", tags=["time entries"])


@router.get("", response_model=TimeEntryPage,
            summary="Time entries, filterable; `total_hours` sums all matches (a member's own only)")
async def list_time_entries(uow: ReadUoW, principal: WorkReader, project_id: uuid.UUID | None = None,
                            person_id: Annotated[str | None, Query(max_length=64)] = None,
                            date_from: BusinessDate | None = None, date_to: BusinessDate | None = None,
                            billable: bool | None = None, status: TimeEntryStatus | None = None,
                            invoiced: bool | None = None, invoice_id: uuid.UUID | None = None,
                            limit: Annotated[int, Query(ge=1, le=500)] = 100,
                            offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> TimeEntryPage:
    if not service.reads_everyones(principal):
        if person_id not in (None, principal.user_id):
            raise Forbidden("A member reads their own time entries only.", type_slug="others-time")
        person_id = principal.user_id
    items, total, hours = await TimeEntryRepository(uow.session).search(
        project_id=project_id, person_id=person_id, date_from=date_from, date_to=date_to, billable=billable,
        status=status, invoiced=invoiced, invoice_id=invoice_id, limit=limit, offset=offset)
    return TimeEntryPage(items=[TimeEntryOut.model_validate(t) for t in items], total=total, limit=limit,
                         offset=offset, total_hours=hours)


@router.post("", status_code=201, response_model=TimeEntryOut,
             summary="Book time on a project: one's own (no `person_id`), or another person's (project_manager, "
                     "finance)",
             responses=problem_responses(403, 409, 422, _409="The project is completed or cancelled, or the week is "
                                                             "submitted or approved",
                                         _422="Unknown or inactive person, or more than 24 h that day"))
async def create_time_entry(body: TimeEntryIn, uow: UoW, principal: TimeLogger) -> TimeEntryOut:
    return TimeEntryOut.model_validate(await service.create(uow, body, principal))


@router.get("/{entry_id}", response_model=TimeEntryOut, summary="One time entry")
async def get_time_entry(entry_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> TimeEntryOut:
    return TimeEntryOut.model_validate(await service.get(uow, entry_id, principal))


@router.patch("/{entry_id}", response_model=TimeEntryOut, summary="Change an unbilled entry (approval is reset)",
              responses=problem_responses(403, 409, _409="The entry is billed, or its week submitted or approved"))
async def update_time_entry(entry_id: uuid.UUID, body: TimeEntryPatch, uow: UoW,
                            principal: TimeLogger) -> TimeEntryOut:
    return TimeEntryOut.model_validate(await service.update(uow, entry_id, body, principal))



@router.post("/{entry_id}/corrections", status_code=201, response_model=TimeEntryOut,
             summary="Correct an entry by a new one with more or (negative) fewer hours, linked to it",
             responses=problem_responses(403, 409, 422, _409="The correction's week is submitted or approved"))
async def correct_time_entry(entry_id: uuid.UUID, body: CorrectionIn, uow: UoW,
                             principal: TimeLogger) -> TimeEntryOut:
    return TimeEntryOut.model_validate(await service.correct(uow, entry_id, body, principal))


@router.post("/{entry_id}/approve", response_model=TimeEntryOut,
             summary="Approve an entry: billable approved time is billed by the next billing run")
async def approve_time_entry(entry_id: uuid.UUID, uow: UoW, principal: TimeEntryWriter) -> TimeEntryOut:
    return TimeEntryOut.model_validate(await service.approve(uow, entry_id, principal))


@router.delete("/{entry_id}", status_code=204, summary="Delete an unbilled entry",
               responses=problem_responses(403, 409, _409="The entry is billed, corrected, or its week submitted "
                                                          "or approved"))
async def delete_time_entry(entry_id: uuid.UUID, uow: UoW, principal: TimeLogger) -> Response:
    await service.delete(uow, entry_id, principal)
    return Response(status_code=204)

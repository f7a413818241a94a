import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from erp.time_entries import service
from erp.time_entries.models import TimeEntry
from erp.time_entries.schemas import TimeEntryIn, TimeEntryOut, TimeEntryPage, TimeEntryPatch
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.auth import require_roles
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.problems import NotFound

router = APIRouter(prefix="/api/erp/time-entries", tags=["time entries"])

WRITERS = ("project_manager", "finance")


@router.get("", response_model=TimeEntryPage, summary="Time entries, filterable; `total_hours` sums all matches")
async def list_time_entries(uow: ReadUoW, principal: CurrentPrincipal, project_id: uuid.UUID | None = None,
                            person_id: Annotated[str | None, Query(max_length=64)] = None,
                            date_from: date | None = None, date_to: date | None = None,
                            billable: bool | None = None, status: Literal["open", "approved"] | None = None,
                            invoiced: bool | None = None, invoice_id: uuid.UUID | None = None,
                            limit: Annotated[int, Query(ge=1, le=500)] = 100,
                            offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> TimeEntryPage:
    conditions = []
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
    total, hours = (await uow.session.execute(
        select(func.count(), func.coalesce(func.sum(TimeEntry.hours), 0)).where(*conditions))).one()
    rows = await uow.session.execute(select(TimeEntry).where(*conditions)
                                     .order_by(TimeEntry.work_date.desc(), TimeEntry.created_at.desc(), TimeEntry.id)
                                     .limit(limit).offset(offset))
    return TimeEntryPage(items=[TimeEntryOut.model_validate(t) for t in rows.scalars()], total=total, limit=limit,
                         offset=offset, total_hours=Decimal(hours))


@router.post("", status_code=201, response_model=TimeEntryOut, summary="Book time on a project")
async def create_time_entry(body: TimeEntryIn, uow: UoW, principal: CurrentPrincipal) -> TimeEntryOut:
    require_roles(principal, *WRITERS)
    return TimeEntryOut.model_validate(await service.create(uow, body, principal))


@router.get("/{entry_id}", response_model=TimeEntryOut, summary="One time entry")
async def get_time_entry(entry_id: uuid.UUID, uow: ReadUoW, principal: CurrentPrincipal) -> TimeEntryOut:
    entry = await uow.session.get(TimeEntry, entry_id)
    if entry is None:
        raise NotFound(f"Time entry {entry_id} does not exist.")
    return TimeEntryOut.model_validate(entry)


@router.patch("/{entry_id}", response_model=TimeEntryOut, summary="Change an unbilled entry (approval is reset)")
async def update_time_entry(entry_id: uuid.UUID, body: TimeEntryPatch, uow: UoW,
                            principal: CurrentPrincipal) -> TimeEntryOut:
    require_roles(principal, *WRITERS)
    return TimeEntryOut.model_validate(await service.update(uow, entry_id, body))


@router.post("/{entry_id}/approve", response_model=TimeEntryOut,
             summary="Approve an entry: billable approved time is billed by the next billing run")
async def approve_time_entry(entry_id: uuid.UUID, uow: UoW, principal: CurrentPrincipal) -> TimeEntryOut:
    require_roles(principal, *WRITERS)
    return TimeEntryOut.model_validate(await service.approve(uow, entry_id, principal))


@router.delete("/{entry_id}", status_code=204, summary="Delete an unbilled entry")
async def delete_time_entry(entry_id: uuid.UUID, uow: UoW, principal: CurrentPrincipal) -> Response:
    require_roles(principal, *WRITERS)
    await service.delete(uow, entry_id)
    return Response(status_code=204)

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from erp.billing.models import BillingRun, ScheduleItem
from erp.billing.runs import run_billing
from erp.db import utcnow
from erp.invoices.schemas import InvoiceOut
from erp.projects.schemas import ScheduleItemOut
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.auth import require_roles
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.paging import page_with_total
from throughline_platform.problems import Conflict, NotFound

router = APIRouter(prefix="/api/erp", tags=["billing"])


class BillingRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date
    issue: bool = Field(True, description="Issue the invoices (numbered, sent); false leaves drafts")
    project_id: uuid.UUID | None = Field(None, description="Only this project's items and time")


class BillingRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    as_of: date
    issue: bool
    project_id: uuid.UUID | None
    triggered_by: str
    invoices_created: int
    items_invoiced: int
    time_entries_invoiced: int
    created_at: datetime


class BillingRunResult(BillingRunOut):
    invoices: list[InvoiceOut]


class BillingRunPage(BaseModel):
    items: list[BillingRunOut]
    total: int
    limit: int
    offset: int


@router.post("/billing-runs", status_code=201, response_model=BillingRunResult,
             summary="Invoice every schedule item due by as_of and approved billable time (exactly once)")
async def create_billing_run(body: BillingRunIn, uow: UoW, principal: CurrentPrincipal) -> BillingRunResult:
    require_roles(principal, "finance")
    result = await run_billing(uow, as_of=body.as_of, issue=body.issue, triggered_by=principal.user_id,
                               project_id=body.project_id)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict("Another billing run invoiced these items at the same time; run again.") from None
    return BillingRunResult(**BillingRunOut.model_validate(result.run).model_dump(),
                            invoices=[InvoiceOut.model_validate(i) for i in result.invoices])


@router.get("/billing-runs", response_model=BillingRunPage, summary="Past billing runs, newest first")
async def list_billing_runs(uow: ReadUoW, principal: CurrentPrincipal,
                            limit: Annotated[int, Query(ge=1, le=200)] = 50,
                            offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> BillingRunPage:
    rows, total = await page_with_total(uow.session, select(BillingRun), BillingRun.created_at.desc(), BillingRun.id,
                                        limit=limit, offset=offset)
    return BillingRunPage(items=[BillingRunOut.model_validate(r) for r in rows], total=total,
                          limit=limit, offset=offset)


@router.get("/billing-runs/{run_id}", response_model=BillingRunOut, summary="One billing run")
async def get_billing_run(run_id: uuid.UUID, uow: ReadUoW, principal: CurrentPrincipal) -> BillingRunOut:
    run = await uow.session.get(BillingRun, run_id)
    if run is None:
        raise NotFound(f"Billing run {run_id} does not exist.")
    return BillingRunOut.model_validate(run)


@router.post("/schedule-items/{item_id}/reach", response_model=ScheduleItemOut,
             summary="Mark a milestone reached: the next billing run invoices it")
async def reach_schedule_item(item_id: uuid.UUID, uow: UoW, principal: CurrentPrincipal) -> ScheduleItemOut:
    require_roles(principal, "project_manager", "finance")
    item = (await uow.session.execute(select(ScheduleItem).where(ScheduleItem.id == item_id)
                                      .with_for_update())).scalars().first()
    if item is None:
        raise NotFound(f"Schedule item {item_id} does not exist.")
    if item.status != "pending":
        raise Conflict(f"Schedule item {item_id} is already {item.status}.")
    if item.reached_at is None:
        item.reached_at = utcnow()
    await uow.commit()
    return ScheduleItemOut.model_validate(item)

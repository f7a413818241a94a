import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from erp.billing import service
from erp.billing.repository import BillingRepository
from erp.billing.schemas import (
    BillingRunIn,
    BillingRunOut,
    BillingRunPage,
    BillingRunResult,
    BillingScheduleOut,
    ScheduleItemOut,
)
from erp.invoices.api import InvoiceOut
from erp.policy import BillingRunner, MilestoneReacher, Reader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp", tags=["billing"])
# A project's schedule, read where its project is (documented with the projects).
schedules_router = APIRouter(prefix="/api/erp/projects", tags=["projects"])


@router.post("/billing-runs", status_code=201, response_model=BillingRunResult,
             summary="Invoice every schedule item due by as_of and approved billable time (exactly once)",
             responses=problem_responses(409, _409="Another billing run invoiced these items at the same time"))
async def create_billing_run(body: BillingRunIn, uow: UoW, principal: BillingRunner) -> BillingRunResult:
    result = await service.bill(uow, as_of=body.as_of, issue=body.issue, triggered_by=principal.user_id,
                                project_id=body.project_id)
    return BillingRunResult(**BillingRunOut.model_validate(result.run).model_dump(),
                            invoices=[InvoiceOut.model_validate(i) for i in result.invoices])


@router.get("/billing-runs", response_model=BillingRunPage, summary="Past billing runs, newest first")
async def list_billing_runs(uow: ReadUoW, principal: Reader,
                            limit: Annotated[int, Query(ge=1, le=200)] = 50,
                            offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> BillingRunPage:
    rows, total = await BillingRepository(uow.session).runs(limit, offset)
    return BillingRunPage(items=[BillingRunOut.model_validate(r) for r in rows], total=total,
                          limit=limit, offset=offset)


@router.get("/billing-runs/{run_id}", response_model=BillingRunOut, summary="One billing run")
async def get_billing_run(run_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> BillingRunOut:
    return BillingRunOut.model_validate(await service.get_run(uow, run_id))


@router.post("/schedule-items/{item_id}/reach", response_model=ScheduleItemOut,
             summary="Mark a milestone reached: the next billing run invoices it",
             responses=problem_responses(409, _409="The schedule item is reached or invoiced already"))
async def reach_schedule_item(item_id: uuid.UUID, uow: UoW, principal: MilestoneReacher) -> ScheduleItemOut:
    return ScheduleItemOut.model_validate(await service.reach(uow, item_id))


@schedules_router.get("/{project_id}/billing-schedule", response_model=BillingScheduleOut,
                      summary="The project's billing schedule and its items")
async def get_billing_schedule(project_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> BillingScheduleOut:
    return BillingScheduleOut.model_validate(await service.schedule_of(uow, project_id))

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from erp.clock import today
from erp.policy import Reader
from erp.projects.api import ProjectStatus
from erp.reports import service
from erp.reports.schemas import AgingReport, CashFlowReport, GroupBy, ProfitabilityReport, UtilisationReport
from throughline_events.types import BusinessDate
from throughline_messaging.deps import UoW

router = APIRouter(prefix="/api/erp/reports", tags=["reports"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]


@router.get("/profitability", response_model=ProfitabilityReport,
            summary="Revenue invoiced and recognised vs cost of time and approved expenses, per project, "
                    "client or cost center")
async def profitability(uow: UoW, principal: Reader, group_by: GroupBy = "project",
                        date_from: BusinessDate | None = None, date_to: BusinessDate | None = None,
                        client_id: uuid.UUID | None = None, project_id: uuid.UUID | None = None,
                        cost_center_id: uuid.UUID | None = None, currency: Currency = None,
                        status: ProjectStatus | None = None,
                        limit: Limit = 100, offset: Offset = 0) -> ProfitabilityReport:
    return await service.profitability(uow, group_by=group_by, date_from=date_from, date_to=date_to,
                                       client_id=client_id, project_id=project_id, cost_center_id=cost_center_id,
                                       currency=currency, status=status, limit=limit, offset=offset)


@router.get("/cash-flow", response_model=CashFlowReport,
            summary="Cash expected per week or month: open invoices by due date, schedule items not yet "
                    "invoiced, approved expenses not yet reimbursed")
async def cash_flow(uow: UoW, principal: Reader, interval: Literal["week", "month"] = "week",
                    date_from: BusinessDate | None = None, date_to: BusinessDate | None = None,
                    client_id: uuid.UUID | None = None, currency: Currency = None) -> CashFlowReport:
    return await service.cash_flow(uow, interval=interval, date_from=date_from, date_to=date_to,
                                   client_id=client_id, currency=currency, today=today())


@router.get("/ar-aging", response_model=AgingReport,
            summary="Receivables by days past due (not due, 0-30, 31-60, 61-90, 90+), per client and in total")
async def ar_aging(uow: UoW, principal: Reader, as_of: BusinessDate | None = None,
                   client_id: uuid.UUID | None = None, currency: Currency = None,
                   limit: Limit = 100, offset: Offset = 0) -> AgingReport:
    return await service.ar_aging(uow, as_of=as_of or today(), client_id=client_id, currency=currency,
                                  limit=limit, offset=offset)


@router.get("/utilisation", response_model=UtilisationReport,
            summary="Hours logged vs weekly capacity per person and week (whole weeks, Monday to Sunday)")
async def utilisation(uow: UoW, principal: Reader, date_from: BusinessDate | None = None,
                      date_to: BusinessDate | None = None,
                      person_id: Annotated[str | None, Query(max_length=64)] = None,
                      project_id: uuid.UUID | None = None, limit: Limit = 100,
                      offset: Offset = 0) -> UtilisationReport:
    return await service.utilisation(uow, date_from=date_from, date_to=date_to, person_id=person_id,
                                     project_id=project_id, today=today(), limit=limit, offset=offset)

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from erp.reports import service
from erp.reports.schemas import AgingReport, CashFlowReport, GroupBy, ProfitabilityReport, UtilisationReport
from throughline_events.money import is_currency
from throughline_messaging.deps import UoW
from throughline_platform.deps import CurrentPrincipal
from throughline_platform.problems import Unprocessable

router = APIRouter(prefix="/api/erp/reports", tags=["reports"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Currency = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]


def _currency(code: str | None) -> str | None:
    if code is not None and not is_currency(code):
        raise Unprocessable(f"{code!r} is not an ISO 4217 currency code.")
    return code


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("/profitability", response_model=ProfitabilityReport,
            summary="Revenue invoiced and recognised vs cost of time and approved expenses, per project, "
                    "client or cost center")
async def profitability(uow: UoW, principal: CurrentPrincipal, group_by: GroupBy = "project",
                        date_from: date | None = None, date_to: date | None = None,
                        client_id: uuid.UUID | None = None, project_id: uuid.UUID | None = None,
                        cost_center_id: uuid.UUID | None = None, currency: Currency = None,
                        status: Literal["active", "on_hold", "completed", "cancelled"] | None = None,
                        limit: Limit = 100, offset: Offset = 0) -> ProfitabilityReport:
    return await service.profitability(uow, group_by=group_by, date_from=date_from, date_to=date_to,
                                       client_id=client_id, project_id=project_id, cost_center_id=cost_center_id,
                                       currency=_currency(currency), status=status, limit=limit, offset=offset)


@router.get("/cash-flow", response_model=CashFlowReport,
            summary="Cash expected per week or month: open invoices by due date, schedule items not yet "
                    "invoiced, approved expenses not yet reimbursed")
async def cash_flow(uow: UoW, principal: CurrentPrincipal, interval: Literal["week", "month"] = "week",
                    date_from: date | None = None, date_to: date | None = None,
                    client_id: uuid.UUID | None = None, currency: Currency = None) -> CashFlowReport:
    return await service.cash_flow(uow, interval=interval, date_from=date_from, date_to=date_to,
                                   client_id=client_id, currency=_currency(currency), today=_today())


@router.get("/ar-aging", response_model=AgingReport,
            summary="Receivables by days past due (not due, 0-30, 31-60, 61-90, 90+), per client and in total")
async def ar_aging(uow: UoW, principal: CurrentPrincipal, as_of: date | None = None,
                   client_id: uuid.UUID | None = None, currency: Currency = None,
                   limit: Limit = 100, offset: Offset = 0) -> AgingReport:
    return await service.ar_aging(uow, as_of=as_of or _today(), client_id=client_id, currency=_currency(currency),
                                  limit=limit, offset=offset)


@router.get("/utilisation", response_model=UtilisationReport,
            summary="Hours logged vs weekly capacity per person and week (whole weeks, Monday to Sunday)")
async def utilisation(uow: UoW, principal: CurrentPrincipal, date_from: date | None = None,
                      date_to: date | None = None, person_id: Annotated[str | None, Query(max_length=64)] = None,
                      project_id: uuid.UUID | None = None, limit: Limit = 100,
                      offset: Offset = 0) -> UtilisationReport:
    return await service.utilisation(uow, date_from=date_from, date_to=date_to, person_id=person_id,
                                     project_id=project_id, today=_today(), limit=limit, offset=offset)

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from erp.clock import today
from erp.policy import CashScenarioWriter, Reader, RecurringItemWriter
from erp.scenarios import service
from erp.scenarios.repository import ScenarioRepository
from erp.scenarios.schemas import (
    Comparison,
    Forecast,
    OpeningBalanceIn,
    OpeningBalanceOut,
    PreviewIn,
    RecurringItemIn,
    RecurringItemOut,
    RecurringItemPage,
    ScenarioIn,
    ScenarioOut,
    ScenarioPage,
    ScenarioPatch,
)
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW

router = APIRouter(prefix="/api/erp/cash-flow-scenarios", tags=["cash-flow scenarios"])
recurring_router = APIRouter(prefix="/api/erp/recurring-items", tags=["cash-flow scenarios"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Weeks = Annotated[int, Query(ge=1, le=service.MAX_WEEKS, description="How many weeks, from the Monday of as_of")]


@router.get("/baseline", response_model=Forecast,
            summary="The forward cash forecast, week by week from the bank balance, with its lowest balance")
async def baseline(uow: ReadUoW, principal: Reader, as_of: BusinessDate | None = None, weeks: Weeks = 13) -> Forecast:
    return await service.forecast(uow, as_of or today(), weeks)


@router.post("/preview", response_model=Comparison,
             summary="Unsaved what-ifs against the baseline, side by side (nothing is written)")
async def preview(body: PreviewIn, uow: ReadUoW, principal: Reader, as_of: BusinessDate | None = None,
                  weeks: Weeks = 13) -> Comparison:
    return await service.compare(uow, body.adjustments, as_of or today(), weeks)


@router.get("/opening-balance", response_model=OpeningBalanceOut,
            summary="Where the forecast starts: the latest bank statements, or an entered balance when newer")
async def opening_balance(uow: ReadUoW, principal: Reader, as_of: BusinessDate | None = None) -> OpeningBalanceOut:
    return await service.opening_balance(uow, as_of or today())


@router.post("/opening-balance", response_model=OpeningBalanceOut, status_code=201,
             summary="Enter the cash on hand on a day (admin, finance)")
async def enter_opening_balance(body: OpeningBalanceIn, uow: UoW,
                                principal: RecurringItemWriter) -> OpeningBalanceOut:
    balance = await service.enter_opening_balance(uow, principal, body)
    return await service.opening_balance(uow, balance.as_of)


@router.get("", response_model=ScenarioPage, summary="Saved scenarios")
async def list_scenarios(uow: ReadUoW, principal: Reader, limit: Limit = 100, offset: Offset = 0) -> ScenarioPage:
    items, total = await ScenarioRepository(uow.session).scenarios(limit, offset)
    return ScenarioPage(items=[ScenarioOut.model_validate(s) for s in items], total=total, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=ScenarioOut,
             summary="Save a scenario: what-ifs (client pays late, deal lost or won, a hire, a bill paid early)")
async def create_scenario(body: ScenarioIn, uow: UoW, principal: CashScenarioWriter) -> ScenarioOut:
    return ScenarioOut.model_validate(await service.create_scenario(uow, principal, body))


@router.get("/{scenario_id}", response_model=Comparison,
            summary="A scenario's forecast beside the baseline, week by week, each with its lowest balance")
async def get_scenario(scenario_id: uuid.UUID, uow: ReadUoW, principal: Reader, as_of: BusinessDate | None = None,
                       weeks: Weeks = 13) -> Comparison:
    scenario = await service.get_scenario(uow, scenario_id)
    return await service.compare(uow, service.adjustments_of(scenario), as_of or today(), weeks, scenario)


@router.patch("/{scenario_id}", response_model=ScenarioOut, summary="Rename or change a scenario (admin, finance)")
async def update_scenario(scenario_id: uuid.UUID, body: ScenarioPatch, uow: UoW,
                          principal: CashScenarioWriter) -> ScenarioOut:
    return ScenarioOut.model_validate(await service.update_scenario(uow, scenario_id, body))


@router.delete("/{scenario_id}", status_code=204, summary="Delete a scenario (admin, finance)")
async def delete_scenario(scenario_id: uuid.UUID, uow: UoW, principal: CashScenarioWriter) -> Response:
    await service.delete_scenario(uow, scenario_id)
    return Response(status_code=204)


@recurring_router.get("", response_model=RecurringItemPage, summary="Recurring cash items (payroll, rent ...)")
async def list_recurring_items(uow: ReadUoW, principal: Reader, limit: Limit = 100,
                               offset: Offset = 0) -> RecurringItemPage:
    items, total = await ScenarioRepository(uow.session).recurring_items(limit, offset)
    return RecurringItemPage(items=[RecurringItemOut.model_validate(i) for i in items], total=total, limit=limit,
                             offset=offset)


@recurring_router.post("", status_code=201, response_model=RecurringItemOut,
                       summary="Add a recurring item (admin, finance)")
async def create_recurring_item(body: RecurringItemIn, uow: UoW,
                                principal: RecurringItemWriter) -> RecurringItemOut:
    return RecurringItemOut.model_validate(await service.create_recurring_item(uow, body))


@recurring_router.put("/{item_id}", response_model=RecurringItemOut,
                      summary="Replace a recurring item (admin, finance)")
async def update_recurring_item(item_id: uuid.UUID, body: RecurringItemIn, uow: UoW,
                                principal: RecurringItemWriter) -> RecurringItemOut:
    return RecurringItemOut.model_validate(await service.update_recurring_item(uow, item_id, body))


@recurring_router.delete("/{item_id}", status_code=204, summary="Remove a recurring item (admin, finance)")
async def delete_recurring_item(item_id: uuid.UUID, uow: UoW, principal: RecurringItemWriter) -> Response:
    await service.delete_recurring_item(uow, item_id)
    return Response(status_code=204)

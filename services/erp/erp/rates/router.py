import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from erp.policy import BillRateWriter, CapacityWriter, CostRateReader, CostRateWriter, Reader
from erp.rates import service
from erp.rates.models import BillRate, Capacity, CostRate
from erp.rates.repository import RateRepository
from erp.rates.schemas import (
    BillRateIn,
    BillRateOut,
    CapacityIn,
    CapacityOut,
    CapacityPage,
    CostRateIn,
    CostRateOut,
    CostRatePage,
)
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp", tags=["rates and capacity"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
UserId = Annotated[str | None, Query(max_length=64)]


@router.get("/cost-rates", response_model=CostRatePage, summary="Cost rates per person (dated series; finance)")
async def list_cost_rates(uow: ReadUoW, principal: CostRateReader, user_id: UserId = None, limit: Limit = 50,
                          offset: Offset = 0) -> CostRatePage:
    items, total = await RateRepository(uow.session).search(CostRate, user_id, limit, offset)
    return CostRatePage(items=[CostRateOut.model_validate(r) for r in items], total=total, limit=limit,
                        offset=offset)


@router.get("/cost-rates/effective", response_model=CostRateOut, summary="A person's cost rate on a date (finance)",
            responses=problem_responses(404, _404="The user has no cost rate on that day"))
async def effective_cost_rate(uow: ReadUoW, principal: CostRateReader,
                              user_id: Annotated[str, Query(max_length=64)], on: BusinessDate) -> CostRateOut:
    return CostRateOut.model_validate(await service.effective_cost_rate(uow, user_id, on))


@router.post("/cost-rates", response_model=CostRateOut, status_code=201,
             summary="Set a person's cost rate from a date on (finance)",
             responses=problem_responses(409, _409="The user has a cost rate from that date"))
async def post_cost_rate(body: CostRateIn, uow: UoW, principal: CostRateWriter) -> CostRateOut:
    return CostRateOut.model_validate(await service.create_cost_rate(uow, body))


@router.delete("/cost-rates/{rate_id}", status_code=204, summary="Remove a cost rate entry (finance)")
async def remove_cost_rate(rate_id: uuid.UUID, uow: UoW, principal: CostRateWriter) -> Response:
    await service.delete_row(uow, CostRate, rate_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/bill-rates", response_model=list[BillRateOut],
            summary="A project's bill rates (dated series)")
async def list_bill_rates(project_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> list[BillRateOut]:
    return [BillRateOut.model_validate(r) for r in await service.bill_rates_of(uow, project_id)]


@router.post("/projects/{project_id}/bill-rates", response_model=BillRateOut, status_code=201,
             summary="Set a project's bill rate from a date on (project_manager, finance)",
             responses=problem_responses(409, _409="The project has a bill rate from that date"))
async def post_bill_rate(project_id: uuid.UUID, body: BillRateIn, uow: UoW,
                         principal: BillRateWriter) -> BillRateOut:
    return BillRateOut.model_validate(await service.create_bill_rate(uow, project_id, body))


@router.delete("/bill-rates/{rate_id}", status_code=204,
               summary="Remove a bill rate entry (project_manager, finance)")
async def remove_bill_rate(rate_id: uuid.UUID, uow: UoW, principal: BillRateWriter) -> Response:
    await service.delete_row(uow, BillRate, rate_id)
    return Response(status_code=204)


@router.get("/capacities", response_model=CapacityPage, summary="Capacity per person per week (dated series)")
async def list_capacities(uow: ReadUoW, principal: Reader, user_id: UserId = None, limit: Limit = 50,
                          offset: Offset = 0) -> CapacityPage:
    items, total = await RateRepository(uow.session).search(Capacity, user_id, limit, offset)
    return CapacityPage(items=[CapacityOut.model_validate(c) for c in items], total=total, limit=limit,
                        offset=offset)


@router.post("/capacities", response_model=CapacityOut, status_code=201,
             summary="Set a person's weekly capacity from a date on (project_manager, finance)",
             responses=problem_responses(409, _409="The user has a capacity from that date"))
async def post_capacity(body: CapacityIn, uow: UoW, principal: CapacityWriter) -> CapacityOut:
    return CapacityOut.model_validate(await service.create_capacity(uow, body))


@router.delete("/capacities/{capacity_id}", status_code=204,
               summary="Remove a capacity entry (project_manager, finance)")
async def remove_capacity(capacity_id: uuid.UUID, uow: UoW, principal: CapacityWriter) -> Response:
    await service.delete_row(uow, Capacity, capacity_id)
    return Response(status_code=204)

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from erp.cost_centers import service
from erp.cost_centers.repository import CostCenterRepository
from erp.cost_centers.schemas import CostCenterIn, CostCenterOut, CostCenterPage, CostCenterPatch
from erp.policy import CostCenterWriter, WorkReader
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/erp/cost-centers", tags=["cost centers"])


@router.get("", response_model=CostCenterPage, summary="Cost centers, filterable by active and text")
async def list_cost_centers(uow: ReadUoW, principal: WorkReader, active: bool | None = None,
                            q: Annotated[str | None, Query(max_length=200)] = None,
                            limit: Annotated[int, Query(ge=1, le=200)] = 50,
                            offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> CostCenterPage:
    items, total = await CostCenterRepository(uow.session).search(active=active, q=q, limit=limit, offset=offset)
    return CostCenterPage(items=[CostCenterOut.model_validate(c) for c in items], total=total, limit=limit,
                          offset=offset)


@router.post("", response_model=CostCenterOut, status_code=201, summary="Create a cost center (finance)",
             responses=problem_responses(409, _409="A cost center with this code exists"))
async def post_cost_center(body: CostCenterIn, uow: UoW, principal: CostCenterWriter) -> CostCenterOut:
    return CostCenterOut.model_validate(await service.create_cost_center(uow, body))


@router.get("/{center_id}", response_model=CostCenterOut, summary="One cost center")
async def get_cost_center(center_id: uuid.UUID, uow: ReadUoW, principal: WorkReader) -> CostCenterOut:
    return CostCenterOut.model_validate(await service.get_cost_center(uow, center_id))


@router.patch("/{center_id}", response_model=CostCenterOut,
              summary="Rename, recode or (de)activate a cost center (finance)",
              responses=problem_responses(409, _409="A cost center with this code exists"))
async def patch_cost_center(center_id: uuid.UUID, body: CostCenterPatch, uow: UoW,
                            principal: CostCenterWriter) -> CostCenterOut:
    return CostCenterOut.model_validate(await service.update_cost_center(uow, center_id, body))

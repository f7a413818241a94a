from fastapi import APIRouter

from crm.pipelines.repository import PipelineRepository
from crm.pipelines.schemas import PipelineOut
from throughline_messaging.deps import CurrentPrincipal, UoW

router = APIRouter(prefix="/api/crm/pipelines", tags=["pipelines"])


@router.get("", response_model=list[PipelineOut], summary="Pipelines with their stages in order")
async def list_pipelines(uow: UoW, principal: CurrentPrincipal) -> list[PipelineOut]:
    return [PipelineOut.model_validate(p) for p in await PipelineRepository(uow.session).list()]

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from crm.policy import Reader
from crm.reports import service
from crm.reports.schemas import Forecast
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW
from throughline_platform.openapi import problem_responses

router = APIRouter(prefix="/api/crm/reports", tags=["reports"])


@router.get("/forecast", response_model=Forecast,
            summary="Weighted forecast of open deals by close month and owner; stage conversion and time in stage",
            responses=problem_responses(404, _404="The pipeline named by pipeline_id does not exist"))
async def get_forecast(uow: ReadUoW, principal: Reader, pipeline_id: uuid.UUID | None = None,
                       owner_id: Annotated[str | None, Query(max_length=64)] = None,
                       close_from: BusinessDate | None = None, close_to: BusinessDate | None = None) -> Forecast:
    return await service.forecast(uow, pipeline_id=pipeline_id, owner_id=owner_id, close_from=close_from,
                                  close_to=close_to)

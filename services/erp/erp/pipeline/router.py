from fastapi import APIRouter

from erp.pipeline.api import OpenDeal, open_deals
from erp.policy import Reader
from throughline_messaging.deps import ReadUoW

router = APIRouter(prefix="/api/erp", tags=["pipeline"])


@router.get("/open-deals", response_model=list[OpenDeal],
            summary="The open CRM deals as the ERP knows them (replicated from crm.deal.events)")
async def list_open_deals(uow: ReadUoW, principal: Reader) -> list[OpenDeal]:
    return await open_deals(uow.session)

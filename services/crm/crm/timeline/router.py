import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from crm.timeline.models import ErpFact
from throughline_messaging.deps import CurrentPrincipal, UoW
from throughline_messaging.problems import Unprocessable

router = APIRouter(prefix="/api/crm/erp-facts", tags=["timeline"])


class ErpFactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    company_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    summary: str
    data: dict[str, Any]
    occurred_at: datetime


@router.get("", response_model=list[ErpFactOut], summary="What the ERP reported for a company or deal, newest first")
async def list_erp_facts(uow: UoW, principal: CurrentPrincipal, company_id: uuid.UUID | None = None,
                         deal_id: uuid.UUID | None = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ErpFactOut]:
    if company_id is None and deal_id is None:
        raise Unprocessable("Name a company_id or a deal_id.")
    query = select(ErpFact)
    if company_id:
        query = query.where(ErpFact.company_id == company_id)
    if deal_id:
        query = query.where(ErpFact.deal_id == deal_id)
    rows = await uow.session.execute(query.order_by(ErpFact.occurred_at.desc()).limit(limit))
    return [ErpFactOut.model_validate(f) for f in rows.scalars()]

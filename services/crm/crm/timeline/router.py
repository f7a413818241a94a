import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from crm.policy import Reader
from crm.timeline import service
from crm.timeline.models import ErpFact
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.problems import Unprocessable

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
async def list_erp_facts(uow: ReadUoW, principal: Reader, company_id: uuid.UUID | None = None,
                         deal_id: uuid.UUID | None = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ErpFactOut]:
    if company_id is None and deal_id is None:
        raise Unprocessable("Name a company_id or a deal_id.")
    query = select(ErpFact)
    if company_id:
        query = query.where(ErpFact.company_id == company_id)
    if deal_id:
        query = query.where(ErpFact.deal_id == deal_id)
    rows = await uow.session.execute(query.order_by(ErpFact.occurred_at.desc(), ErpFact.id.desc()).limit(limit))
    return [ErpFactOut.model_validate(f) for f in rows.scalars()]


class TimelineItem(BaseModel):
    type: str = Field(description="activity, stage_change, erp_fact or mail")
    kind: str = Field(description="call/email/meeting/note, stage_change, the ERP event type, or the mail's "
                                  "direction (outbound, inbound)")
    id: uuid.UUID
    occurred_at: datetime
    deal_id: uuid.UUID | None
    summary: str
    data: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    total: int
    limit: int
    offset: int


timelines_router = APIRouter(prefix="/api/crm", tags=["timeline"])
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


async def _page(uow: UoW, subject: service.Subject, record_id: uuid.UUID, limit: int, offset: int) -> TimelinePage:
    items, total = await service.timeline(uow, subject, record_id, limit, offset)
    return TimelinePage(items=[TimelineItem(**i) for i in items], total=total, limit=limit, offset=offset)


@timelines_router.get("/companies/{company_id}/timeline", response_model=TimelinePage,
                      summary="A company's timeline: activities, its deals' stage changes, ERP facts; newest first")
async def company_timeline(company_id: uuid.UUID, uow: ReadUoW, principal: Reader, limit: Limit = 50,
                           offset: Offset = 0) -> TimelinePage:
    return await _page(uow, "company", company_id, limit, offset)


@timelines_router.get("/contacts/{contact_id}/timeline", response_model=TimelinePage,
                      summary="A contact's timeline, newest first")
async def contact_timeline(contact_id: uuid.UUID, uow: ReadUoW, principal: Reader, limit: Limit = 50,
                           offset: Offset = 0) -> TimelinePage:
    return await _page(uow, "contact", contact_id, limit, offset)


@timelines_router.get("/deals/{deal_id}/timeline", response_model=TimelinePage,
                      summary="A deal's timeline: activities, stage changes, ERP facts; newest first")
async def deal_timeline(deal_id: uuid.UUID, uow: ReadUoW, principal: Reader, limit: Limit = 50,
                        offset: Offset = 0) -> TimelinePage:
    return await _page(uow, "deal", deal_id, limit, offset)

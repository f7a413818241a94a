import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from crm.db import utcnow
from crm.deals import service
from crm.deals.paging import decode_cursor, encode_cursor
from crm.deals.repository import DealRepository
from crm.deals.schemas import (
    DealIn,
    DealOut,
    DealPage,
    DealPatch,
    DealStatusName,
    LoseIn,
    ReopenIn,
    StageChangeOut,
    StageHistoryOut,
    StageMove,
    WinIn,
)
from crm.policy import DealWriter, Reader
from crm.settings import get_settings
from throughline_events.types import BusinessDate
from throughline_messaging.deps import ReadUoW, UoW
from throughline_platform.filters import MAX_FILTER_AMOUNT, check_range
from throughline_platform.openapi import links, problem_responses
from throughline_platform.problems import Unprocessable

router = APIRouter(prefix="/api/crm/deals", tags=["deals"])


@router.post("", status_code=201, response_model=DealOut, summary="Create a deal",
             responses={201: links("deal_id", *((method, f"/api/crm/deals/{{deal_id}}{action}") for method, action in (
                 ("GET", ""), ("PATCH", ""), ("POST", "/stage"), ("POST", "/win"), ("POST", "/lose"),
                 ("GET", "/stage-history"), ("GET", "/timeline"))))})
async def create_deal(body: DealIn, uow: UoW, principal: DealWriter) -> DealOut:
    return DealOut.model_validate(await service.create_deal(uow, body, principal))


@router.get("", response_model=DealPage, summary="List deals with filters, sorting and pagination",
            responses=problem_responses(422, _422="A filter is invalid, or a range's start lies after its end"))
async def list_deals(
    uow: ReadUoW, principal: Reader,
    status: DealStatusName | None = None,
    stage_id: uuid.UUID | None = None,
    owner_id: Annotated[str | None, Query(max_length=64)] = None,
    company_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    pipeline_id: uuid.UUID | None = None,
    idle: Annotated[bool, Query(description="only open deals idle for CRM_IDLE_DEAL_DAYS days or more")] = False,
    idle_days: Annotated[int | None, Query(ge=0, le=3650, description="only open deals idle this many days")] = None,
    close_from: BusinessDate | None = None,
    close_to: BusinessDate | None = None,
    amount_min: Annotated[Decimal | None, Query(ge=0, le=MAX_FILTER_AMOUNT, description="amount at least this")] = None,
    amount_max: Annotated[Decimal | None, Query(ge=0, le=MAX_FILTER_AMOUNT, description="amount at most this")] = None,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$", description="ISO 4217 code")] = None,
    sort: Literal["created_at", "amount", "expected_close_date", "title", "updated_at"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[str | None, Query(max_length=1000, description=(
        "Instead of offset: the next_cursor of the previous page (same filters, sort and order); "
        "as fast on page 2,000 as on page 1"))] = None,
) -> DealPage:
    descending = order == "desc"
    check_range("close_from", close_from, "close_to", close_to)
    check_range("amount_min", amount_min, "amount_max", amount_max)
    if cursor is not None and offset:
        raise Unprocessable("Send either offset or cursor, not both.")
    after = decode_cursor(cursor, sort, descending) if cursor is not None else None
    items, total, estimated = await DealRepository(uow.session).search(
        status=status, stage_id=stage_id, owner_id=owner_id, company_id=company_id, close_from=close_from,
        close_to=close_to, sort=sort, descending=descending, limit=limit, offset=offset, contact_id=contact_id,
        pipeline_id=pipeline_id, idle_days=idle_days if idle_days is not None else
        (get_settings().idle_deal_days if idle else None), now=utcnow(), cursor=after, amount_min=amount_min,
        amount_max=amount_max, currency=currency)
    next_cursor = encode_cursor(sort, descending, items[-1]) if len(items) == limit else None
    return DealPage(items=[DealOut.model_validate(d) for d in items], total=total, total_is_estimate=estimated,
                    limit=limit, offset=offset, next_cursor=next_cursor)


@router.get("/{deal_id}", response_model=DealOut, summary="One deal")
async def get_deal(deal_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> DealOut:
    return DealOut.model_validate(await service.get_deal(uow, deal_id))


@router.post("/{deal_id}/stage", response_model=DealOut, summary="Move a deal to another open stage",
             responses=problem_responses(409, _409="The deal is won or lost"))
async def move_stage(deal_id: uuid.UUID, body: StageMove, uow: UoW, principal: DealWriter) -> DealOut:
    return DealOut.model_validate(await service.move_to_stage(uow, deal_id, body.stage_id, principal))


@router.post("/{deal_id}/win", response_model=DealOut, summary="Win a deal (emits deal.won)",
             responses=problem_responses(409, _409="The deal is won or lost already"))
async def win_deal(deal_id: uuid.UUID, uow: UoW, principal: DealWriter, body: WinIn | None = None) -> DealOut:
    billing = body.billing if body else None
    return DealOut.model_validate(await service.win_deal(uow, deal_id, billing, principal))


@router.post("/{deal_id}/lose", response_model=DealOut, summary="Lose a deal with a reason (emits deal.lost)",
             responses=problem_responses(409, _409="The deal is won or lost already"))
async def lose_deal(deal_id: uuid.UUID, body: LoseIn, uow: UoW, principal: DealWriter) -> DealOut:
    return DealOut.model_validate(await service.lose_deal(uow, deal_id, body.reason, principal))


@router.patch("/{deal_id}", response_model=DealOut, summary="Change an open deal's fields",
              responses=problem_responses(409, _409="The deal is won or lost"))
async def update_deal(deal_id: uuid.UUID, body: DealPatch, uow: UoW, principal: DealWriter) -> DealOut:
    changes = body.model_dump(exclude_unset=True)
    if "billing" in changes:
        changes["billing"] = body.billing.model_dump(mode="json") if body.billing else None
    return DealOut.model_validate(await service.update_deal(uow, deal_id, changes, principal))


@router.post("/{deal_id}/reopen", response_model=DealOut, summary="Reopen a lost deal (won deals stay won)",
             responses=problem_responses(409, _409="The deal is open, or won (a won deal is not reopened)"))
async def reopen_deal(deal_id: uuid.UUID, uow: UoW, principal: DealWriter,
                      body: ReopenIn | None = None) -> DealOut:
    return DealOut.model_validate(await service.reopen_deal(uow, deal_id, body.stage_id if body else None, principal))


@router.get("/{deal_id}/stage-history", response_model=StageHistoryOut,
            summary="Every stage move: who, when, from, to, and time in each stage")
async def stage_history(deal_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> StageHistoryOut:
    deal, rows = await service.stage_history(uow, deal_id)
    return StageHistoryOut(deal_id=deal.id, current_stage_id=deal.stage_id,
                           seconds_in_current_stage=int((utcnow() - deal.stage_entered_at).total_seconds()),
                           items=[StageChangeOut(**row) for row in rows])

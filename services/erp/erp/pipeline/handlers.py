"""crm.deal.events -> the replica of CRM deals (erp.pipeline.replica). deal.won is registered together with the
intake's handler (erp.handlers): one event, two effects, in the same transaction."""

from typing import Any

from pydantic import BaseModel

from erp.pipeline import replica
from erp.pipeline.replica import Details, Stage, Won
from throughline_events.crm import DealCreatedV1, DealLostV1, DealStageChangedV1, DealUpdatedV1, DealWonV1
from throughline_messaging.consumer import HandlerContext
from throughline_messaging.uow import UnitOfWork


def _terms(billing: BaseModel | None) -> dict[str, Any] | None:
    return billing.model_dump(mode="json") if billing is not None else None


async def on_deal_created(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, DealCreatedV1)
    await replica.deal_created(
        ctx.uow, p.deal_id, Details(p.title, p.company_id, p.amount, p.currency),
        Stage(p.stage_id, p.stage_name, p.probability), p.expected_close_date, _terms(p.billing),
        ctx.envelope.occurred_at)


async def on_deal_updated(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, DealUpdatedV1)
    await replica.deal_updated(ctx.uow, p.deal_id, Details(p.title, p.company_id, p.amount, p.currency),
                               p.expected_close_date, _terms(p.billing), ctx.envelope.occurred_at)


async def on_deal_stage_changed(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, DealStageChangedV1)
    await replica.stage_changed(ctx.uow, p.deal_id, Stage(p.to_stage_id, p.to_stage_name, p.probability),
                                ctx.envelope.occurred_at)


async def on_deal_lost(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, DealLostV1)
    await replica.deal_lost(ctx.uow, p.deal_id, Details(p.title, p.company_id, p.amount, p.currency),
                            ctx.envelope.occurred_at)


def _won(ctx: HandlerContext) -> Won:
    p = ctx.payload
    assert isinstance(p, DealWonV1)
    return Won(p.deal_id, Details(p.title, p.company.id, p.amount, p.currency), ctx.envelope.occurred_at)


async def on_deals_won(uow: UnitOfWork, contexts: list[HandlerContext]) -> None:
    """A run of deal.won events (one, on the careful path)."""
    await replica.deals_won(uow, [_won(ctx) for ctx in contexts])

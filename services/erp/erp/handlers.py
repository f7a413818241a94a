"""What the ERP does with CRM and gateway events, by event type and version (each package's handlers do the work)."""

from erp.clients.handlers import on_company_changed, on_contact_changed
from erp.intake.handlers import ON_DEAL_WON as PROJECT_FROM_WON_DEAL
from erp.people.handlers import on_user_changed, on_user_deactivated
from erp.pipeline.handlers import on_deal_created, on_deal_lost, on_deal_stage_changed, on_deal_updated, on_deals_won
from throughline_messaging.consumer import BatchingHandler, Handler, HandlerContext
from throughline_messaging.uow import UnitOfWork


async def _one_deal_won(ctx: HandlerContext) -> None:
    await PROJECT_FROM_WON_DEAL.one(ctx)
    await on_deals_won(ctx.uow, [ctx])


async def _deals_won(uow: UnitOfWork, contexts: list[HandlerContext]) -> None:
    await PROJECT_FROM_WON_DEAL.batch(uow, contexts)
    await on_deals_won(uow, contexts)


# A won deal becomes a project (erp.intake) and leaves the pipeline replica's open deals (erp.pipeline), in one
# transaction; runs of them keep the intake's set-based fast path.
ON_DEAL_WON = BatchingHandler(one=_one_deal_won, batch=_deals_won)

HANDLERS: dict[tuple[str, int], Handler] = {
    ("deal.created", 1): on_deal_created,
    ("deal.stage_changed", 1): on_deal_stage_changed,
    ("deal.updated", 1): on_deal_updated,
    ("deal.won", 1): ON_DEAL_WON,
    ("deal.lost", 1): on_deal_lost,
    ("company.created", 1): on_company_changed,
    ("company.updated", 1): on_company_changed,
    ("contact.created", 1): on_contact_changed,
    ("contact.updated", 1): on_contact_changed,
    # The gateway's users become the people whose time and expenses are booked (erp.people).
    ("user.created", 1): on_user_changed,
    ("user.updated", 1): on_user_changed,
    ("user.deactivated", 1): on_user_deactivated,
}
CONSUMED_TOPICS = ["crm.deal.events", "crm.account.events", "gateway.user.events"]

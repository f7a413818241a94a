"""deal.won -> a project with its billing schedule. The consumer's inbox already makes each effect happen once."""

from erp.intake.service import project_from_won_deal
from erp.intake.won_deals_in_bulk import projects_from_won_deals
from throughline_events.crm import DealWonV1
from throughline_messaging.consumer import BatchingHandler, HandlerContext


async def on_deal_won(ctx: HandlerContext) -> None:
    assert isinstance(ctx.payload, DealWonV1)
    await project_from_won_deal(ctx.uow, ctx.payload)


# Won deals arrive in bulk (a sales push, a backlog after downtime): runs of them are handled set-based.
ON_DEAL_WON = BatchingHandler(one=on_deal_won, batch=projects_from_won_deals)

"""The scan: fire every active deal_idle rule for every open deal idle for its N days, once per idle stretch."""

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select

from crm.automation.api import AutomationFiring, Trigger, fire, rules_for
from crm.db import utcnow
from crm.deals.api import Deal, DealStatus, rule_target
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Unprocessable

BATCH = 500


async def run_time_based(uow: UnitOfWork, as_of: datetime) -> int:
    """Fire every active deal_idle rule for every open deal idle for its N days as of `as_of`, once per idle
    stretch (not again until the deal sees activity and goes quiet again). State-based, so a scheduler that
    was down fires everything that became due meanwhile as soon as it runs again."""
    fired = 0
    for rule in await rules_for(uow, Trigger.DEAL_IDLE):
        assert rule.idle_days is not None
        last_touch = func.coalesce(Deal.last_activity_at, Deal.created_at)
        already = exists().where(and_(AutomationFiring.rule_id == rule.id, AutomationFiring.record_id == Deal.id,
                                      AutomationFiring.fired_at >= last_touch))
        while True:
            deals = list((await uow.session.execute(
                select(Deal).where(Deal.status == DealStatus.OPEN,
                                   last_touch <= as_of - timedelta(days=rule.idle_days), ~already)
                .order_by(Deal.id).limit(BATCH).with_for_update(skip_locked=True))).scalars())
            if not deals:
                break
            fired_now = 0
            for deal in deals:
                fired_now += await fire(uow, rule, rule_target(deal), as_of)
            await uow.commit()
            fired += fired_now
            if len(deals) < BATCH or not fired_now:
                break
    await uow.commit()
    return fired


async def run_now(uow: UnitOfWork, as_of: datetime | None) -> tuple[datetime, int]:
    now = utcnow()
    if as_of is not None and as_of > now:
        raise Unprocessable("as_of: cannot run rules for a moment that has not come yet.")
    moment = as_of or now
    return moment, await run_time_based(uow, moment)

"""Open deals in the forecast, from the ERP's replica of the CRM pipeline (erp.pipeline): each deal planned from its
expected close with erp.billing's `plan_schedule` (as the won-deal intake would plan it), weighted by its stage's
probability, and paid after its client's payment terms and usual lateness.

A deal's billing terms reach the ERP only with deal.won (deal.created and deal.stage_changed carry none), so an open
deal is planned as terms that are absent are: one installment of the full amount, on its expected close (decision
163)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from erp.billing.api import plan_schedule
from erp.pipeline.api import open_deals
from erp.scenarios.forecast import Flow
from erp.scenarios.repository import ScenarioRepository

# The payment terms of a deal's company that is no client yet (the ERP's default for a new client).
DEFAULT_TERMS_DAYS = 30


@dataclass(frozen=True)
class PipelineDeal:
    deal_id: uuid.UUID
    company_id: uuid.UUID | None
    title: str
    amount: Decimal
    currency: str
    probability: Decimal  # 0..1
    expected_close: date | None


async def pipeline_deals(session: AsyncSession) -> list[PipelineDeal]:
    """The open deals of the replica; a deal whose stage probability the ERP has not heard yet counts as 0."""
    return [PipelineDeal(d.deal_id, d.company_id, d.title, d.amount, d.currency,
                         (d.probability or Decimal(0)) / Decimal(100), d.expected_close_date)
            for d in await open_deals(session)]


async def pipeline_flows(session: AsyncSession, deals: list[PipelineDeal], repo: ScenarioRepository,
                         today: date | None = None) -> list[Flow]:
    clients = await repo.days_late_by_company([d.company_id for d in deals if d.company_id is not None])
    flows = []
    for deal in deals:
        if deal.expected_close is None or deal.probability <= 0:
            continue  # a deal nobody dated (or gave up on) cannot be put in a week
        client_id, days_late, terms_days = clients.get(deal.company_id, (None, 0, DEFAULT_TERMS_DAYS)) \
            if deal.company_id else (None, 0, DEFAULT_TERMS_DAYS)
        close = max(deal.expected_close, today) if today else deal.expected_close
        schedule = plan_schedule(None, deal.amount, deal.currency, close)
        for item in schedule.items:
            paid_on = (item.due_date or close) + timedelta(days=terms_days + days_late)
            flows.append(Flow("pipeline", item.amount, deal.currency, paid_on, client_id=client_id,
                              deal_id=deal.deal_id, probability=deal.probability))
    return flows

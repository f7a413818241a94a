"""Open deals in the forecast: each deal's billing terms planned from its expected close (erp.billing's
`plan_schedule`, as the won-deal intake would plan them), every item weighted by the deal's probability and paid
after its client's payment terms and its usual lateness."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from erp.billing.api import plan_schedule
from erp.scenarios.forecast import Flow
from erp.scenarios.repository import ScenarioRepository
from throughline_events.billing import BillingTerms

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
    terms: BillingTerms | None


async def open_deals_with_terms(session: AsyncSession) -> list[PipelineDeal]:
    """The open deals of the ERP's pipeline replica (erp.pipeline, built by issue 23). Until that package is
    merged there is no replica to read, and the forecast has no pipeline part."""
    return []


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
        schedule = plan_schedule(deal.terms, deal.amount, deal.currency, close)
        for item in schedule.items:
            paid_on = (item.due_date or close) + timedelta(days=terms_days + days_late)
            flows.append(Flow("pipeline", item.amount, deal.currency, paid_on, client_id=client_id,
                              deal_id=deal.deal_id, probability=deal.probability))
    return flows

"""Open deals in the forecast, from the ERP's replica of the CRM pipeline (erp.pipeline): each deal planned from its
expected close with erp.billing's `plan_schedule` (as the won-deal intake would plan it), weighted by its stage's
probability, and paid after its client's payment terms and usual lateness.

An open deal is planned on the billing terms sales set on it (deal.created and deal.updated carry them since issue
26's last stop): fixed installments, milestones or a retainer as the won-deal intake would bill them, no item before
the expected close (nothing is invoiced before the deal is won). Without terms, and for time and materials (billed
from time as it is logged, which no one can date ahead), as terms that are absent are: one installment of the full
amount on its expected close (decision 163)."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from erp.billing.api import Terms, plan_schedule
from erp.pipeline.api import billing_terms, open_deals
from erp.scenarios.forecast import Flow
from erp.scenarios.repository import ScenarioRepository
from throughline_events.billing import BillingTerms, TimeAndMaterials

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
    terms: Terms | None = None  # the billing terms sales set on it (None: one installment on the close)


_TERMS: TypeAdapter[Terms] = TypeAdapter(BillingTerms)


def _plannable(raw: dict[str, Any] | None) -> Terms | None:
    """Terms the forecast can date: not time and materials; a replica row the contract cannot read counts as none."""
    if raw is None:
        return None
    try:
        terms = _TERMS.validate_python(raw)
    except ValidationError:
        return None
    return None if isinstance(terms, TimeAndMaterials) else terms


async def pipeline_deals(session: AsyncSession) -> list[PipelineDeal]:
    """The open deals of the replica, with their billing terms (two queries); a deal whose stage probability the
    ERP has not heard yet counts as 0."""
    deals = await open_deals(session)
    terms = await billing_terms(session, [d.deal_id for d in deals])
    return [PipelineDeal(d.deal_id, d.company_id, d.title, d.amount, d.currency,
                         (d.probability or Decimal(0)) / Decimal(100), d.expected_close_date,
                         _plannable(terms.get(d.deal_id)))
            for d in deals]


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
            paid_on = max(item.due_date or close, close) + timedelta(days=terms_days + days_late)
            flows.append(Flow("pipeline", item.amount, deal.currency, paid_on, client_id=client_id,
                              deal_id=deal.deal_id, probability=deal.probability))
    return flows

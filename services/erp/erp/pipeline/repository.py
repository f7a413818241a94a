import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erp.pipeline.models import DealStatus, PipelineDeal
from throughline_events.money import round_money


@dataclass(frozen=True)
class OpenDeal:
    """An open CRM deal as the ERP knows it. `probability` is the percent (0..100) of its stage; None while the
    ERP has not heard it (a deal created before the CRM sent it with deal.created)."""

    deal_id: uuid.UUID
    company_id: uuid.UUID
    title: str
    amount: Decimal
    currency: str
    probability: Decimal | None
    expected_close_date: date | None
    stage: str | None


class PipelineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_deals(self) -> list[OpenDeal]:
        """Every open deal whose deal.created has arrived (before that the ERP does not know what it is), the
        soonest expected to close first."""
        d = PipelineDeal
        rows = await self.session.execute(
            select(d.deal_id, d.company_id, d.title, d.amount, d.currency, d.probability, d.expected_close_date,
                   d.stage_name)
            .where(d.status == DealStatus.OPEN, d.title.is_not(None))
            .order_by(d.expected_close_date.asc().nulls_last(), d.title, d.deal_id))
        # A row with a title got company, amount and currency from the same event (replica._take_details). The
        # amount is kept with 4 decimals, like every amount; a deal's is in its currency's units.
        return [OpenDeal(deal_id, company_id, title, round_money(amount, currency), currency, probability, close,
                         stage)
                for deal_id, company_id, title, amount, currency, probability, close, stage in rows.tuples()
                if company_id is not None and title is not None and amount is not None and currency is not None]

    async def billing_terms(self, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The billing terms sales set on these deals, for those that have them."""
        d = PipelineDeal
        rows = await self.session.execute(select(d.deal_id, d.billing_terms)
                                          .where(d.deal_id.in_(deal_ids), d.billing_terms.is_not(None)))
        return {deal_id: terms for deal_id, terms in rows.tuples()}

    async def by_ids(self, deal_ids: set[uuid.UUID]) -> dict[uuid.UUID, PipelineDeal]:
        rows = await self.session.execute(select(PipelineDeal).where(PipelineDeal.deal_id.in_(deal_ids)))
        return {d.deal_id: d for d in rows.scalars()}

"""What the other ERP packages use of the pipeline replica: the open CRM deals (the planning board books people on
them before they are won; the cash forecast weighs their amounts by probability) and a deal as the ERP knows it."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.pipeline.models import DealStatus, PipelineDeal
from erp.pipeline.repository import OpenDeal, PipelineRepository

__all__ = ["DealStatus", "OpenDeal", "PipelineDeal", "PipelineRepository", "billing_terms", "open_deals"]


async def open_deals(session: AsyncSession) -> list[OpenDeal]:
    """Every open deal the ERP has heard of: id, company, title, amount and currency, its stage and that stage's
    probability (percent), the expected close date. One query."""
    return await PipelineRepository(session).open_deals()


async def billing_terms(session: AsyncSession, deal_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The billing terms sales set on these open deals (JSON as deal.created / deal.updated carried them), for
    those that have them. One query."""
    return await PipelineRepository(session).billing_terms(deal_ids) if deal_ids else {}

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"  # final: the CRM never reopens a won deal
    LOST = "lost"  # a lost deal may be reopened (a later deal.stage_changed)


class PipelineDeal(Entity):
    """The ERP's replica of a CRM deal, kept from crm.deal.events (erp.pipeline.replica says how the order of
    arrival is made irrelevant). What the planning board books people on before a deal is won, and what the cash
    forecast weighs by probability.

    The fields are filled by whichever event brings them: a row may exist before its deal.created arrives (its
    stage_changed came first); until then it has no title and is left out of `open_deals`."""

    __tablename__ = "pipeline_deals"

    deal_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    title: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    # The billing terms sales set on the open deal (deal.created / deal.updated), as the event carried them.
    billing_terms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # When the event that gave title, company, amount and currency happened: deal.created, deal.won and deal.lost all
    # carry them, and the newest one's are kept.
    details_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stage_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    stage_name: Mapped[str | None] = mapped_column(Text)
    probability: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent, 0..100, of the current stage
    status: Mapped[str] = mapped_column(String(10), default=DealStatus.OPEN)
    # When the event that set stage and status happened: an older one arriving later changes neither.
    position_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

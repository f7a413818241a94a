import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Entity
from throughline_messaging.aggregate import RecordsEvents


class DealStatus(StrEnum):
    """Where a deal stands (the `deals.status` column): open until won or lost; a lost deal may be reopened."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Deal(RecordsEvents, Entity):
    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_status_stage", "status", "stage_id"),
        Index("ix_deals_owner_status", "owner_id", "status"),
        Index("ix_deals_expected_close", "expected_close_date"),
    )

    title: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("companies.id"), index=True)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("contacts.id"))
    pipeline_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pipelines.id"))
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("stages.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    billing_terms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), default=DealStatus.OPEN)
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    won_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lost_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DealStageChange(Entity):
    """One move of a deal between stages: who, when, from, to, and how long it sat in the old stage."""

    __tablename__ = "deal_stage_changes"

    deal_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("deals.id"), index=True)
    from_stage_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("stages.id"))
    to_stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("stages.id"))
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seconds_in_previous_stage: Mapped[int | None] = mapped_column(Integer)

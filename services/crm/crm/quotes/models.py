"""Quotes: what sales offers on a deal (lines from the catalogue, a discount, a tax, billing terms, a validity
date), kept as numbered revisions; the client reads, accepts or declines the latest one on its public page."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Entity


class QuoteStatus(StrEnum):
    """The `quotes.status` column. A draft is edited; a sent quote waits for the client; a newer revision
    supersedes every older draft or sent one; accepted and declined are the client's answers (final)."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SUPERSEDED = "superseded"


class PriceKind(StrEnum):
    """How a catalogue service (and a quote line) is priced: a fixed fee, or hours at a rate."""

    FIXED = "fixed"
    HOURLY = "hourly"


# The unit a line's quantity counts, per kind (what deal.won's lines carry and the ERP's budget lines show).
UNIT_OF = {PriceKind.FIXED: "fixed", PriceKind.HOURLY: "hours"}


class CatalogueItem(Entity):
    """A service sales can quote: a fixed fee or an hourly rate card, in one currency."""

    __tablename__ = "quote_catalogue_items"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # a PriceKind
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Quote(Entity):
    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("deal_id", "revision", name="uq_quotes_deal_revision"),)

    deal_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("deals.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=QuoteStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    # The tax: a snapshot of one of the ERP's tax rates (docs/crm-communications.md, "Quotes", says how it is read).
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    tax_name: Mapped[str | None] = mapped_column(String(100))
    tax_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    valid_until: Mapped[date] = mapped_column(Date)
    billing_terms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    notes: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    discount_total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    net_total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    tax_total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    created_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_to: Mapped[str | None] = mapped_column(String(320))
    mail_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_name: Mapped[str | None] = mapped_column(String(200))
    accepted_ip: Mapped[str | None] = mapped_column(String(64))
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list["QuoteLine"]] = relationship(order_by="QuoteLine.position", lazy="selectin",
                                                    cascade="all, delete-orphan")


class QuoteLine(Entity):
    __tablename__ = "quote_lines"

    quote_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    catalogue_item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("quote_catalogue_items.id"))
    kind: Mapped[str] = mapped_column(String(10))  # a PriceKind
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))

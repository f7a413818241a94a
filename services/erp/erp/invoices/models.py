import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Entity
from throughline_messaging.aggregate import RecordsEvents

STATUSES = ("draft", "issued", "partially_paid", "paid", "credited", "void")
OPEN_STATUSES = ("issued", "partially_paid")
PAYMENT_METHODS = ("bank_transfer", "card", "cash", "check", "direct_debit", "other")


class Invoice(RecordsEvents, Entity):
    """An invoice or a credit note (`kind`); amounts in `currency`, stored with 4 decimals, kept rounded
    to the currency's minor unit."""

    __tablename__ = "invoices"

    kind: Mapped[str] = mapped_column(String(20), default="invoice")
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clients.id"))
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("projects.id"))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    credit_of_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("invoices.id"))
    # Unique among live invoices (partial index uq_invoices_schedule_item): billed once, again only after a void.
    schedule_item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("schedule_items.id"))
    billing_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("billing_runs.id"))
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    amount_credited: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    balance_due: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    late_fee_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    notes: Mapped[str | None] = mapped_column(Text)
    void_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(64))
    lines: Mapped[list["InvoiceLine"]] = relationship(order_by="InvoiceLine.position", lazy="selectin",
                                                      cascade="all, delete-orphan")


class InvoiceLine(Entity):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="service")
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    net_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    tax_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    schedule_item_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("schedule_items.id"))
    expense_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Payment(Entity):
    __tablename__ = "payments"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Entity
from throughline_messaging.aggregate import RecordsEvents


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CREDITED = "credited"  # fully credited by credit notes
    VOID = "void"


# Issued and not settled: payments, credit notes and reminders apply.
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class LineKind(StrEnum):
    """Where an invoice line comes from."""

    SERVICE = "service"  # typed in by hand
    SCHEDULE = "schedule"  # a billing schedule item
    TIME = "time"  # approved billable time
    CAP_ADJUSTMENT = "cap_adjustment"  # time above a time-and-materials cap, taken off again
    EXPENSE = "expense"  # a billable expense, at cost
    LATE_FEE = "late_fee"  # added by a reminder step
    CREDIT = "credit"  # a credit note's line


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    CASH = "cash"
    CHECK = "check"
    DIRECT_DEBIT = "direct_debit"
    OTHER = "other"


class Invoice(RecordsEvents, Entity):
    """An invoice or a credit note (`kind`); amounts in `currency`, stored with 4 decimals, kept rounded
    to the currency's minor unit."""

    __tablename__ = "invoices"

    kind: Mapped[str] = mapped_column(String(20), default=InvoiceKind.INVOICE)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    # ISO 11649 creditor reference, set at issue from the number (rules.payment_reference); bank reconciliation
    # finds an invoice by it.
    payment_reference: Mapped[str | None] = mapped_column(String(25), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT)
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
    # Taken when the invoice is issued, read by everything printed after: the company profile (erp.company) and
    # the client's name, address and VAT ID as they were. Null on drafts (and `seller` on invoices issued before
    # the company profile was set up).
    seller: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    bill_to: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Goes up when an issued invoice's lines change after issue (a reminder's late fee): each revision's document
    # is rendered once and kept (erp.documents).
    document_revision: Mapped[int] = mapped_column(Integer, default=1)
    # Set when the invoice is first sent (erp.mailing): the signed, expiring link to the client's page, renewed by
    # every send.
    public_url: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lines: Mapped[list["InvoiceLine"]] = relationship(order_by="InvoiceLine.position", lazy="selectin",
                                                      cascade="all, delete-orphan")


class InvoiceLine(Entity):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default=LineKind.SERVICE)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))  # percent, as written
    # The rate the line named (erp.taxes), and its category and legal note as they were when the line was written.
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("tax_rates.id"))
    tax_category: Mapped[str] = mapped_column(String(20), default="standard")
    tax_note: Mapped[str | None] = mapped_column(Text)
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

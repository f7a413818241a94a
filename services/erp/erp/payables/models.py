import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Entity


class BillStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for approval (the expenses' chain)
    APPROVED = "approved"  # owed: payments may be recorded
    REJECTED = "rejected"  # back with whoever entered it, to correct and submit again
    PARTLY_PAID = "partly_paid"
    PAID = "paid"


# What may still be changed and submitted (again), what money is owed on, and what AP aging counts.
EDITABLE = frozenset({BillStatus.DRAFT, BillStatus.REJECTED})
PAYABLE = frozenset({BillStatus.APPROVED, BillStatus.PARTLY_PAID})
APPROVED_STATUSES = frozenset({BillStatus.APPROVED, BillStatus.PARTLY_PAID, BillStatus.PAID})


class BillAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAYMENT = "payment"


class Vendor(Entity):
    """A supplier: who sends us bills, in which currency, on which terms, and where we pay them."""

    __tablename__ = "vendors"

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    iban: Mapped[str | None] = mapped_column(String(34))
    email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)


class Bill(Entity):
    """A vendor's bill: its lines with their tax, its approval, and what is still owed. `exchange_rate` is the rate
    of its currency to the base currency on `bill_date` (None in the base currency)."""

    __tablename__ = "bills"

    vendor_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("vendors.id"))
    vendor_reference: Mapped[str] = mapped_column(String(100))  # the vendor's own invoice number
    bill_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(20, 10))
    status: Mapped[str] = mapped_column(String(20), default=BillStatus.DRAFT)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    tax_total: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # charged by the vendor (paid to them)
    reverse_charge_tax: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # self-assessed, not paid to the vendor
    total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    balance_due: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("projects.id"))
    cost_center_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cost_centers.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64))
    required_approval: Mapped[str | None] = mapped_column(String(20))  # an erp.expenses ApprovalLevel
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["BillLine"]] = relationship(order_by="BillLine.position", cascade="all, delete-orphan",
                                                   lazy="selectin")


class BillLine(Entity):
    """A line keeps the tax it was written with (like an invoice line). A reverse-charge line pays the vendor no
    tax; the buyer owes `reverse_charge_tax` at `reverse_charge_percent` (the default rate) and deducts it again."""

    __tablename__ = "bill_lines"

    bill_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bills.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    net: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("tax_rates.id"))
    tax_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    tax_category: Mapped[str] = mapped_column(String(20))
    tax_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    reverse_charge_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0))
    reverse_charge_tax: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))


class BillHistory(Entity):
    __tablename__ = "bill_history"

    bill_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bills.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))  # a BillAction
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)


class BillPayment(Entity):
    __tablename__ = "bill_payments"

    bill_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bills.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, LargeBinary, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, Entity, utcnow
from throughline_messaging.aggregate import RecordsEvents


class ExpenseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


# What its submitter may still change and submit (again).
EDITABLE = frozenset({ExpenseStatus.DRAFT, ExpenseStatus.REJECTED})


class ExpenseBillingStatus(StrEnum):
    """For the billing side: an approved billable expense is unbilled until an invoice takes it."""

    NOT_BILLABLE = "not_billable"
    UNBILLED = "unbilled"
    INVOICED = "invoiced"


class ApprovalLevel(StrEnum):
    """Who may decide a submitted expense: a project manager up to the manager limit, finance above it."""

    MANAGER = "manager"
    FINANCE = "finance"


class CategorySource(StrEnum):
    MANUAL = "manual"  # chosen by the submitter
    RULE = "rule"  # filed by an auto-categorisation rule


class RuleField(StrEnum):
    """Where a category rule looks for its pattern."""

    MERCHANT = "merchant"
    DESCRIPTION = "description"
    ANY = "any"  # either


class HistoryAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RECEIPT_ATTACHED = "receipt_attached"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    REIMBURSED = "reimbursed"
    INVOICED = "invoiced"


class ExpenseCategory(Entity):
    __tablename__ = "expense_categories"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class CategoryRule(Entity):
    """`pattern` found (case-insensitively) in the merchant, the description or either files the expense
    under `category_id`; the lowest `priority` wins, then the longest pattern."""

    __tablename__ = "expense_category_rules"

    category_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("expense_categories.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(20))  # a RuleField
    pattern: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=100)


class Expense(RecordsEvents, Entity):
    __tablename__ = "expenses"

    submitted_by: Mapped[str] = mapped_column(String(64))
    submitter_email: Mapped[str | None] = mapped_column(String(320))
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("projects.id"))
    cost_center_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cost_centers.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    expense_date: Mapped[date] = mapped_column(Date)
    merchant: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("expense_categories.id"))
    category_source: Mapped[str | None] = mapped_column(String(10))  # a CategorySource
    billable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=ExpenseStatus.DRAFT)
    required_approval: Mapped[str | None] = mapped_column(String(20))  # an ApprovalLevel
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    billing_status: Mapped[str] = mapped_column(String(20), default=ExpenseBillingStatus.NOT_BILLABLE)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    invoiced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reimbursed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    has_receipt: Mapped[bool] = mapped_column(default=False)
    # Input VAT in the gross `amount` (decision 215): the rate named and, copied when the expense is saved, its
    # percent and category and the tax the gross holds. No rate: no tax, net = gross.
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("tax_rates.id"))
    tax_percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    tax_category: Mapped[str | None] = mapped_column(String(20))
    tax_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))

    @property
    def net_amount(self) -> Decimal:
        """What the expense costs the company: the gross paid less the VAT it may deduct."""
        return self.amount - self.tax_amount


class ExpenseReceipt(Base):
    __tablename__ = "expense_receipts"

    expense_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("expenses.id", ondelete="CASCADE"),
                                                  primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ExpenseHistory(Entity):
    """Every step of an expense's life: who did what, from which status to which, and why."""

    __tablename__ = "expense_history"

    expense_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("expenses.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))  # a HistoryAction
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)

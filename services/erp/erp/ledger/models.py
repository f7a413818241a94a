"""The ledger's tables: accounts, journal entries and their lines, periods and the log of their closes."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Identity, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, Entity
from erp.ledger.chart import AccountRole, AccountType

# Every posting takes this advisory lock shared (the trigger of migration 0018), a period close exclusively: a close
# waits for the postings in flight and the postings after it see it, without postings waiting for each other.
PERIODS_LOCK_KEY = 0x1ED6E5  # "ledger periods"

__all__ = ["PERIODS_LOCK_KEY", "Account", "AccountRole", "AccountType", "EntryKind", "JournalEntry", "JournalLine",
           "Period", "PeriodAction", "PeriodLog", "PeriodStatus", "SourceType"]


class SourceType(StrEnum):
    """The business fact an entry books (with `source_id`, the fact's id). Packages outside this list (payables)
    add their own values: the column is text."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    INVOICE_LINE = "invoice_line"  # a line added to an issued invoice (a reminder's late fee)
    EXPENSE = "expense"
    MANUAL = "manual"  # typed in by finance: an adjustment


class EntryKind(StrEnum):
    ISSUED = "issued"
    VOIDED = "voided"  # the reversal of an invoice's `issued` entry
    RECEIVED = "received"  # a payment on an invoice
    LATE_FEE = "late_fee"
    APPROVED = "approved"  # an expense
    REIMBURSED = "reimbursed"  # an expense paid back
    ADJUSTMENT = "adjustment"  # a manual entry


class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PeriodAction(StrEnum):
    CLOSED = "closed"
    REOPENED = "reopened"


class Account(Entity):
    __tablename__ = "ledger_accounts"

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))  # an AccountType
    currency: Mapped[str | None] = mapped_column(String(3))  # None: any currency
    role: Mapped[str | None] = mapped_column(String(40), unique=True)  # an AccountRole: a default account
    expense_category_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class JournalEntry(Entity):
    """A balanced set of lines: debits equal credits in each currency. `entry_date` is when it counts; `fact_date`
    when its business fact happened (later when that day's period was closed: docs/erp-ledger.md, periods)."""

    __tablename__ = "journal_entries"

    number: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    entry_date: Mapped[date] = mapped_column(Date)
    fact_date: Mapped[date] = mapped_column(Date)
    source_type: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(30))
    memo: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("journal_entries.id"))
    created_by: Mapped[str | None] = mapped_column(String(64))


class JournalLine(Base):
    """Written once with its entry and never changed: no key or timestamps of its own (the entry has them)."""

    __tablename__ = "journal_lines"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("journal_entries.id", ondelete="CASCADE"),
                                                primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # the entry's n-th line
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("ledger_accounts.id"))
    entry_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    debit: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    # The line in the company's base currency at the rate of the entry's fact date (migration 0022): None when the
    # entry could not be converted (no rate, no base currency yet). A base-only line (an exchange difference) is
    # 0 in `currency` and has only these. The monthly balances (migration 0023) sum both pairs.
    debit_base: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    credit_base: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    description: Mapped[str | None] = mapped_column(String(500))
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    tax_category: Mapped[str | None] = mapped_column(String(20))
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cost_center_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Period(Entity):
    """A calendar month that was closed at least once (a month without a row is open)."""

    __tablename__ = "ledger_periods"

    month: Mapped[date] = mapped_column(Date, unique=True)  # its first day
    status: Mapped[str] = mapped_column(String(10))  # a PeriodStatus
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(64))


class PeriodLog(Entity):
    __tablename__ = "ledger_period_log"

    period_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("ledger_periods.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))  # a PeriodAction
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(30))

"""Bank statements as imported, their lines, what each line paid, and the saved CSV column mappings.

The statement keeps what the ledger will need to post its lines to the bank account and compare balances: the
account, the currency, the opening and closing balances and their dates. Every line is kept, debits too (money out
is not matched to invoices here, but the ledger will post it).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class LineStatus(StrEnum):
    UNMATCHED = "unmatched"  # a credit waiting for a person (nothing matched, or money left over a match)
    MATCHED = "matched"  # a credit whose whole amount paid invoices; a debit that is a vendor bill's payment
    IGNORED = "ignored"  # set aside: a credit that is no invoice payment (what was left of it), or a debit, booked
    #                      against the account the person chose (`ledger_account_id`)
    DEBIT = "debit"  # money out waiting for a person: a bill payment, or an account to book it against


class BankStatement(Entity):
    __tablename__ = "bank_statements"

    format: Mapped[str] = mapped_column(String(10))
    # An IBAN (compact, upper case) when the bank gives one, else the bank's account identification.
    account: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    statement_id: Mapped[str | None] = mapped_column(String(100))  # the bank's: CAMT Stmt/Id, MT940 :20:/:28C:
    opening_balance: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    opening_date: Mapped[date | None] = mapped_column(Date)
    closing_balance: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    closing_date: Mapped[date | None] = mapped_column(Date)
    first_booking_date: Mapped[date | None] = mapped_column(Date)
    last_booking_date: Mapped[date | None] = mapped_column(Date)
    # The statement's identity (`ParsedStatement.fingerprint`): the same statement is imported once.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    mapping_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("bank_csv_mappings.id",
                                                                          ondelete="SET NULL"))
    # What the import found (the lines' statuses move on as people reconcile; these stay as imported).
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    matched_count: Mapped[int] = mapped_column(Integer, default=0)
    unmatched_count: Mapped[int] = mapped_column(Integer, default=0)
    debit_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    overpaid_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(64))


class BankLine(Entity):
    __tablename__ = "bank_lines"
    # The transaction's identity on its account (`statement.with_transaction_keys`): recorded once, however often
    # and however concurrently statements holding it are imported.
    __table_args__ = (UniqueConstraint("account", "transaction_key", name="uq_bank_lines_transaction"),)

    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bank_statements.id"))
    account: Mapped[str] = mapped_column(String(50))
    transaction_key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)  # its place in the statement, from 1
    direction: Mapped[str] = mapped_column(String(6))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))  # > 0; `direction` says which way
    currency: Mapped[str] = mapped_column(String(3))
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    structured_reference: Mapped[str | None] = mapped_column(String(500))  # CAMT Strd/CdtrRefInf/Ref, blank-joined
    remittance: Mapped[str | None] = mapped_column(Text)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    reversal: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))
    applied_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))  # paid onto invoices
    match_method: Mapped[str | None] = mapped_column(String(20))  # how its first match was found
    note: Mapped[str | None] = mapped_column(Text)  # why it waits, what is left; a person's note
    reconciled_by: Mapped[str | None] = mapped_column(String(64))
    reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set aside: the account booked against the bank (the entry's other side); a debit that paid a bill: its payment.
    ledger_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("ledger_accounts.id"))
    bill_payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("bill_payments.id"), unique=True)
    # How often it was set aside (each booking and its reversal on reopening have their own key: `booked.<n>`).
    bookings: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def open_amount(self) -> Decimal:
        """What is still to reconcile: nothing once matched or set aside."""
        waiting = self.status in (LineStatus.UNMATCHED, LineStatus.DEBIT)
        return self.amount - self.applied_amount if waiting else Decimal(0)


class BankLineMatch(Entity):
    """A payment a bank line made on an invoice: one per invoice the line paid."""

    __tablename__ = "bank_line_matches"

    line_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bank_lines.id"))
    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id"))
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("payments.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    method: Mapped[str] = mapped_column(String(20))
    matched_by: Mapped[str] = mapped_column(String(64))


class BankLedgerAccount(Entity):
    """The ledger account a bank account (a statement's account, an IBAN) books to: 1000 Bank for the first one
    seen, a new asset account for each other (docs/erp-ledger.md, "Bank lines in the books")."""

    __tablename__ = "bank_ledger_accounts"

    account: Mapped[str] = mapped_column(String(50), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    ledger_account_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("ledger_accounts.id"), unique=True)


class BankCsvMapping(Entity):
    """How one bank's CSV export is read: `csv_statement.CsvMapping`, saved under a name."""

    __tablename__ = "bank_csv_mappings"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    account: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str | None] = mapped_column(String(3))
    delimiter: Mapped[str] = mapped_column(String(2))
    decimal_separator: Mapped[str] = mapped_column(String(1))
    date_format: Mapped[str] = mapped_column(String(20))
    encoding: Mapped[str] = mapped_column(String(20))
    columns: Mapped[dict[str, Any]] = mapped_column(JSONB)

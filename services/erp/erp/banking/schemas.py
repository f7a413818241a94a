import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.banking.csv_statement import DateFormat, DecimalSeparator, Delimiter, Encoding
from throughline_events.money import round_money
from throughline_events.types import DecimalString


class StatementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    format: str
    account: str
    currency: str
    statement_id: str | None = Field(description="The bank's id of the statement (CAMT Stmt/Id, MT940 :20:/:28C:)")
    opening_balance: Decimal | None
    opening_date: date | None
    closing_balance: Decimal | None
    closing_date: date | None
    first_booking_date: date | None
    last_booking_date: date | None
    file_name: str | None
    line_count: int
    matched_count: int
    unmatched_count: int
    debit_count: int
    duplicate_count: int
    overpaid_count: int
    waiting: int = Field(0, description="Its lines still waiting for a person now")
    ledger_account_id: uuid.UUID | None = Field(None, description="The ledger account its bank account books to")
    ledger_balance: Decimal | None = Field(None, description="One statement read alone: that account's balance in "
                                                             "the books up to the closing date, in its currency")
    difference: Decimal | None = Field(None, description="closing_balance less ledger_balance: 0 once every line "
                                                         "of the account up to that day is reconciled")
    imported_by: str
    created_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "StatementOut":
        if self.opening_balance is not None:
            self.opening_balance = round_money(self.opening_balance, self.currency)
        if self.closing_balance is not None:
            self.closing_balance = round_money(self.closing_balance, self.currency)
        return self


class StatementPage(BaseModel):
    items: list[StatementOut]
    total: int
    limit: int
    offset: int


class ImportedStatement(BaseModel):
    statement: StatementOut
    already_imported: bool = Field(description="The same statement was imported before: nothing was recorded")


class ImportResult(BaseModel):
    """What an import did. `lines` = `matched` + `unmatched` + `debits` + `duplicates`."""

    format: str
    lines: int = Field(description="Entries in the file, credits and debits")
    matched: int = Field(description="New credits whose whole amount paid invoices")
    unmatched: int = Field(description="New credits waiting for a person (over-payments included)")
    debits: int = Field(description="New debits (money out): kept, not matched to invoices")
    duplicates: int = Field(description="Entries imported before: nothing recorded again")
    overpaid: int = Field(description="Of the unmatched: credits that paid an invoice and left money over")
    payments: int = Field(description="Payments recorded on invoices")
    statements: list[ImportedStatement]


class MatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str | None = None
    payment_id: uuid.UUID
    amount: Decimal
    method: str
    matched_by: str
    created_at: datetime


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    statement_id: uuid.UUID
    account: str
    transaction_key: str
    position: int
    direction: str
    amount: Decimal
    currency: str
    booking_date: date
    value_date: date | None
    counterparty_name: str | None
    counterparty_iban: str | None
    structured_reference: str | None
    remittance: str | None
    bank_reference: str | None
    end_to_end_id: str | None
    reversal: bool
    status: str
    applied_amount: Decimal
    open_amount: Decimal = Field(description="Still to reconcile: the amount less what it paid, while it waits")
    match_method: str | None
    note: str | None
    reconciled_by: str | None
    reconciled_at: datetime | None
    ledger_account_id: uuid.UUID | None = Field(None, description="Set aside: the account it was booked against")
    bill_payment_id: uuid.UUID | None = Field(None, description="A debit linked to a vendor bill's payment")
    matches: list[MatchOut] = []

    @model_validator(mode="after")
    def _in_currency_units(self) -> "LineOut":
        c = self.currency
        self.amount, self.applied_amount = round_money(self.amount, c), round_money(self.applied_amount, c)
        self.open_amount = round_money(self.open_amount, c)
        for match in self.matches:
            match.amount = round_money(match.amount, c)
        return self


class LinePage(BaseModel):
    items: list[LineOut]
    total: int
    limit: int
    offset: int


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: uuid.UUID
    amount: DecimalString = Field(gt=0, decimal_places=4)


class MatchIn(BaseModel):
    """The invoices a bank line paid, and how much of it each: the amounts add up to the line's open amount."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    allocations: list[AllocationIn] = Field(min_length=1, max_length=100)
    note: str | None = Field(None, max_length=2000)


class IgnoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000, description="What the money is, if not an invoice payment")
    account_id: uuid.UUID | None = Field(None, description="The ledger account the line is booked against (the "
                                                           "bank account's other side); default 1900 suspense")


class LinkIn(BaseModel):
    """The payment recorded by hand that the line is: an invoice payment for a credit, a bill payment for a debit."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    payment_id: uuid.UUID | None = Field(None, description="An invoice payment (a credit's)")
    bill_payment_id: uuid.UUID | None = Field(None, description="A vendor bill's payment (a debit's)")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one(self) -> "LinkIn":
        if (self.payment_id is None) == (self.bill_payment_id is None):
            raise ValueError("name either payment_id or bill_payment_id")
        return self


class BankAccountOut(BaseModel):
    """A bank account the statements name, and the ledger account it books to."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    account: str
    currency: str
    ledger_account_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class BankAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ledger_account_id: uuid.UUID = Field(description="An active asset account, in the bank account's currency or "
                                                      "any, that no other bank account books to")


class BillPaymentCandidateOut(BaseModel):
    """A vendor bill's payment recorded by hand that a debit may be."""

    bill_payment_id: uuid.UUID
    bill_id: uuid.UUID
    vendor_name: str
    vendor_reference: str
    amount: Decimal
    currency: str
    paid_on: date


class PaymentCandidateOut(BaseModel):
    """An invoice payment typed in by hand that a credit may be."""

    payment_id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str | None
    client_name: str
    amount: Decimal
    currency: str
    paid_on: date


class CandidateOut(BaseModel):
    invoice_id: uuid.UUID
    number: str
    client_id: uuid.UUID
    client_name: str
    currency: str
    balance_due: Decimal
    due_date: date | None
    status: str
    reasons: list[Literal["reference", "amount", "iban", "name"]]


class CsvColumnsIn(BaseModel):
    """The header names of the columns (as in the file's first row); date and amount are required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    booking_date: str = Field(min_length=1, max_length=100)
    amount: str = Field(min_length=1, max_length=100, description="Signed: a negative amount is money out")
    currency: str | None = Field(None, min_length=1, max_length=100)
    counterparty: str | None = Field(None, min_length=1, max_length=100)
    iban: str | None = Field(None, min_length=1, max_length=100)
    reference: str | None = Field(None, min_length=1, max_length=100)
    value_date: str | None = Field(None, min_length=1, max_length=100)
    transaction_id: str | None = Field(None, min_length=1, max_length=100)


class CsvMappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    account: str = Field(min_length=5, max_length=50, description="The account the export is of (its IBAN)")
    currency: str | None = Field(None, pattern="^[A-Z]{3}$", description="When the file has no currency column")
    delimiter: Delimiter = ";"
    decimal_separator: DecimalSeparator = ","
    date_format: DateFormat = "%d.%m.%Y"
    encoding: Encoding = "utf-8"
    columns: CsvColumnsIn


class CsvMappingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    account: str
    currency: str | None
    delimiter: str
    decimal_separator: str
    date_format: str
    encoding: str
    columns: dict[str, str | None]
    created_at: datetime
    updated_at: datetime


class PreviewLine(BaseModel):
    direction: str
    amount: Decimal
    currency: str
    booking_date: date
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    rf_references: list[str]
    already_imported: bool


class PreviewStatement(BaseModel):
    account: str
    currency: str
    statement_id: str | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    lines: int
    credits: int
    already_imported: int


class PreviewOut(BaseModel):
    """What an import would read (nothing is recorded): the statements and their first lines."""

    format: str
    statements: list[PreviewStatement]
    lines: list[PreviewLine] = Field(description="The first lines, at most 50")


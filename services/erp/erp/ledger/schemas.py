import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from erp.ledger.chart import AccountType
from throughline_events.types import CurrencyCode

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# Absurd amounts are refused before they reach a NUMERIC(18, 4) column (which would answer a 500).
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("99999999999999"), max_digits=18, decimal_places=4)]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=20, pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    type: AccountType
    currency: CurrencyCode | None = None
    expense_category_id: uuid.UUID | None = None
    description: str | None = Field(None, max_length=2000)


class AccountPatch(BaseModel):
    """The type, currency and role of an account stay as they are: its posted lines were booked on them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str | None = Field(None, min_length=1, max_length=20, pattern=CODE_PATTERN)
    name: str | None = Field(None, min_length=1, max_length=200)
    expense_category_id: uuid.UUID | None = None
    description: str | None = Field(None, max_length=2000)
    active: bool | None = None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    currency: str | None
    role: str | None
    expense_category_id: uuid.UUID | None
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int
    limit: int
    offset: int


class ManualLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    account_id: uuid.UUID
    currency: CurrencyCode
    debit: Amount = Decimal(0)
    credit: Amount = Decimal(0)
    description: str | None = Field(None, max_length=500)
    client_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None


class ManualEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    entry_date: date
    memo: str = Field(min_length=1, max_length=2000)
    lines: list[ManualLineIn] = Field(min_length=2, max_length=200)


class JournalLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: int
    account_id: uuid.UUID
    account_code: str
    account_name: str
    currency: str
    debit: Decimal
    credit: Decimal
    debit_base: Decimal | None = None  # in the base currency (None: not converted)
    credit_base: Decimal | None = None
    description: str | None
    tax_rate: Decimal | None
    tax_category: str | None
    client_id: uuid.UUID | None
    project_id: uuid.UUID | None
    cost_center_id: uuid.UUID | None


class JournalEntryOut(BaseModel):
    id: uuid.UUID
    number: int
    entry_date: date
    fact_date: date
    source_type: str
    source_id: uuid.UUID | None
    kind: str
    memo: str | None
    reverses_id: uuid.UUID | None
    created_by: str | None = Field(description="The user who made a manual entry (null: posted automatically)")
    created_by_name: str | None = Field(None, description="Their name, from the people directory")
    created_at: datetime
    lines: list[JournalLineOut]


class JournalEntryPage(BaseModel):
    items: list[JournalEntryOut]
    total: int
    limit: int
    offset: int


class PeriodCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str | None = Field(None, max_length=2000)


class PeriodReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=3, max_length=2000)


class PeriodLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    action: str
    reason: str | None
    actor_id: str
    actor_name: str | None = Field(None, description="The actor's name, from the people directory")
    actor_role: str
    created_at: datetime


class PeriodOut(BaseModel):
    month: str  # yyyy-mm
    status: str
    closed_at: datetime | None
    closed_by: str | None
    log: list[PeriodLogOut]


class PeriodList(BaseModel):
    items: list[PeriodOut]


# --- statements ---


class StatementRow(BaseModel):
    account_id: uuid.UUID
    code: str
    name: str
    type: AccountType
    column: str | None = None  # the project or cost center (`columns`), None for the rest
    debit: Decimal
    credit: Decimal
    balance: Decimal  # in the account's normal direction: debit-normal (asset, expense) debits minus credits


Basis = Literal["currency", "base"]


class Unconverted(BaseModel):
    """Lines of a currency the base-currency statement could not convert (no rate on their day, or posted before
    the books kept base amounts in another currency): left out of its figures, listed here in their currency."""

    currency: str
    debit: Decimal
    credit: Decimal
    lines: int


class TrialBalance(BaseModel):
    date_from: date | None
    date_to: date
    currency: str
    columns: str | None
    rows: list[StatementRow]
    total_debit: Decimal
    total_credit: Decimal
    other_currencies: list[str]  # posted in the range but not in this report's currency (basis "currency")
    basis: Basis = "currency"  # "base": every currency converted into the base currency (`currency`)
    unconverted: list[Unconverted] = []  # basis "base": what is left out


class ProfitAndLoss(BaseModel):
    date_from: date | None
    date_to: date
    currency: str
    columns: str | None
    income: list[StatementRow]
    expenses: list[StatementRow]
    total_income: Decimal
    total_expenses: Decimal
    result: Decimal  # income minus expenses
    by_column: dict[str, Decimal]  # the result per project or cost center ("" for lines without one)
    other_currencies: list[str]
    basis: Basis = "currency"
    unconverted: list[Unconverted] = []


class BalanceSheet(BaseModel):
    as_of: date
    currency: str
    assets: list[StatementRow]
    liabilities: list[StatementRow]
    equity: list[StatementRow]
    result_to_date: Decimal  # income minus expenses not yet moved to retained earnings: part of equity
    total_assets: Decimal
    total_liabilities_and_equity: Decimal
    other_currencies: list[str]
    basis: Basis = "currency"
    unconverted: list[Unconverted] = []


# --- VAT report ---


class VatRow(BaseModel):
    """One rate and category: the taxable base (net amounts on revenue or expense lines) and the tax booked."""

    tax_rate: Decimal | None  # None: a line on a tax account without a rate (a manual adjustment)
    tax_category: str | None
    taxable_base: Decimal
    tax: Decimal


class ReverseChargeRow(BaseModel):
    """A reverse-charge purchase at one rate: its base, the VAT self-assessed (2210) and deducted again (1410)."""

    tax_rate: Decimal | None
    taxable_base: Decimal
    output_tax: Decimal
    input_tax: Decimal


class VatTotals(BaseModel):
    output_tax: Decimal  # the balance of VAT output (2200): invoices minus credit notes
    input_tax: Decimal  # the balance of VAT input (1400): bills
    reverse_charge_output_tax: Decimal  # VAT output, reverse charge (2210)
    reverse_charge_input_tax: Decimal  # VAT input, reverse charge (1410)
    reverse_charge_sales: Decimal  # the net of reverse-charge sales (no VAT: the buyer owes it)
    net_payable: Decimal  # output + reverse-charge output - input - reverse-charge input (negative: a refund)


class VatPeriod(BaseModel):
    period: str  # 2026-12, or 2026-Q4
    date_from: date
    date_to: date
    output: list[VatRow]  # sales: invoices, credit notes (negative), late fees
    reverse_charge_sales: list[VatRow]  # sales to EU businesses, reverse charge: base only
    input: list[VatRow]  # purchases: bills
    reverse_charge_purchases: list[ReverseChargeRow]
    totals: VatTotals


class VatReport(BaseModel):
    date_from: date | None
    date_to: date
    currency: str
    period: str  # month or quarter
    periods: list[VatPeriod]  # those with VAT lines, oldest first
    totals: VatTotals
    other_currencies: list[str]
    notes: list[str]  # what the report does not contain (expenses carry no VAT)

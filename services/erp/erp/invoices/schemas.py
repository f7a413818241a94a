import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.invoices.models import PaymentMethod
from throughline_events.money import MINOR_UNITS, decimal_places, round_money
from throughline_events.types import BusinessDate, DecimalInput, MoneyInput


def plain(value: Decimal) -> Decimal:
    """4.0000 -> 4, 2.5000 -> 2.5 (never an exponent)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    description: str = Field(min_length=1, max_length=500)
    quantity: DecimalInput = Field(gt=0, le=Decimal("1000000000"), decimal_places=4)
    unit_price: MoneyInput = Field(ge=0, le=Decimal("100000000000000"), decimal_places=4)
    tax_rate: DecimalInput = Field(Decimal(0), ge=0, le=100, decimal_places=4)


class InvoiceIn(BaseModel):
    """A draft invoice. `client_id` may be left out when `project_id` names the project (its client)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    client_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    late_fee_percent: DecimalInput | None = Field(None, ge=0, le=100, decimal_places=4)
    notes: str | None = Field(None, max_length=5000)
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class InvoicePatch(BaseModel):
    """Changes to a draft; `lines`, when given, replace all lines."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    late_fee_percent: DecimalInput | None = Field(None, ge=0, le=100, decimal_places=4)
    notes: str | None = Field(None, max_length=5000)
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=500)


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str | None = Field(None, max_length=2000)


class CreditNoteIn(BaseModel):
    """A credit note against an issued invoice: its lines (like an invoice's) or just a gross `amount`
    (one line, split in the invoice's tax proportion would be guesswork, so an amount line carries no tax)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=2000)
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=500)
    amount: MoneyInput | None = Field(None, gt=0, decimal_places=4)

    @model_validator(mode="after")
    def _lines_or_amount(self) -> "CreditNoteIn":
        if (self.lines is None) == (self.amount is None):
            raise ValueError("give either lines or amount")
        return self


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: MoneyInput = Field(gt=0, decimal_places=4)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    paid_on: BusinessDate | None = None
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER
    reference: str | None = Field(None, max_length=200)


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    schedule_item_id: uuid.UUID | None
    expense_id: uuid.UUID | None


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    number: str | None
    status: str
    payment_reference: str | None = Field(None, description="ISO 11649 RF creditor reference, set at issue "
                                                            "(invoices only): what the client quotes when paying")
    overdue: bool = False
    client_id: uuid.UUID
    project_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    credit_of_id: uuid.UUID | None
    schedule_item_id: uuid.UUID | None
    billing_run_id: uuid.UUID | None
    currency: str
    payment_terms_days: int
    issue_date: date | None
    due_date: date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    balance_due: Decimal
    late_fee_percent: Decimal | None
    notes: str | None
    void_reason: str | None
    issued_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    lines: list[LineOut]

    @model_validator(mode="after")
    def _in_currency_units(self) -> "InvoiceOut":
        c = self.currency
        for name in ("subtotal", "tax_total", "total", "amount_paid", "amount_credited", "balance_due"):
            setattr(self, name, round_money(getattr(self, name), c))
        for line in self.lines:
            line.quantity, line.tax_rate = plain(line.quantity), plain(line.tax_rate)
            places = max(MINOR_UNITS[c], decimal_places(line.unit_price))
            line.unit_price = line.unit_price.quantize(Decimal(1).scaleb(-places))
            line.net_amount = round_money(line.net_amount, c)
            line.tax_amount = round_money(line.tax_amount, c)
            line.total_amount = round_money(line.total_amount, c)
        return self


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    total: int
    limit: int
    offset: int


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    invoice_id: uuid.UUID
    amount: Decimal
    currency: str
    paid_on: date
    method: str
    reference: str | None
    recorded_by: str
    created_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "PaymentOut":
        self.amount = round_money(self.amount, self.currency)
        return self


class PaymentRecorded(BaseModel):
    payment: PaymentOut
    invoice: InvoiceOut


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    total: int
    limit: int
    offset: int

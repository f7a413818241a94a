import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.invoices.models import PaymentMethod
from erp.invoices.rules import TaxedLine, tax_breakdown
from erp.taxes.api import EN16931_CODE, plain_number
from throughline_events.money import MINOR_UNITS, decimal_places, round_money
from throughline_events.types import BusinessDate, DecimalInput, MoneyInput


class LineIn(BaseModel):
    """A line. Its tax: `tax_rate_id` (a rate of GET /api/erp/tax-rates), or `tax_rate` (a bare percent, for older
    clients), or neither: the client's default rate (see erp.taxes). In a PATCH, `id` names a line of the draft
    that is changed in place (it keeps what it bills, and its tax when none is given)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: uuid.UUID | None = Field(None, description="PATCH only: an existing line of the draft")
    description: str = Field(min_length=1, max_length=500)
    quantity: DecimalInput = Field(gt=0, le=Decimal("1000000000"), decimal_places=4)
    unit_price: MoneyInput = Field(ge=0, le=Decimal("100000000000000"), decimal_places=4)
    tax_rate_id: uuid.UUID | None = Field(None, description="The tax rate; its percent, category and legal note "
                                                            "are copied onto the line")
    tax_rate: DecimalInput | None = Field(None, ge=0, le=100, decimal_places=4,
                                          description="A percent without a rate (category standard above 0, else zero)")

    @model_validator(mode="after")
    def _one_tax(self) -> "LineIn":
        if self.tax_rate_id is not None and self.tax_rate is not None:
            raise ValueError("give tax_rate_id or tax_rate, not both")
        return self


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
    tax_rate_id: uuid.UUID | None
    tax_category: str
    tax_note: str | None
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    schedule_item_id: uuid.UUID | None
    expense_id: uuid.UUID | None


class TaxGroupOut(BaseModel):
    """One rate of the invoice's tax breakdown (what the printed invoice and its e-invoice XML show per rate)."""

    category_code: str = Field(description="EN 16931 VAT category code: S, Z, E, AE")
    percent: Decimal
    basis: Decimal
    tax: Decimal
    note: str | None


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
    seller: dict[str, Any] | None = Field(None, description="The company as it was when issued (null on drafts)")
    bill_to: dict[str, Any] | None = Field(None, description="The client's name, address and VAT ID as they were "
                                                             "when issued (null on drafts)")
    document_revision: int = 1
    public_url: str | None = Field(None, description="Once sent: the signed, expiring link to the client's page "
                                                     "(no login): the invoice, its PDF and the payment details")
    sent_at: datetime | None = None
    lines: list[LineOut]
    tax_breakdown: list[TaxGroupOut] = Field(default_factory=list, description="Totals per rate")

    @model_validator(mode="after")
    def _in_currency_units(self) -> "InvoiceOut":
        c = self.currency
        taxed = [TaxedLine(line.net_amount, EN16931_CODE[line.tax_category], line.tax_rate, line.tax_note)
                 for line in self.lines]
        self.tax_breakdown = [TaxGroupOut(category_code=g.code, percent=plain_number(g.percent),
                                          basis=round_money(g.basis, c), tax=round_money(g.tax, c), note=g.note)
                              for g in tax_breakdown(taxed, [line.tax_amount for line in self.lines])]
        for name in ("subtotal", "tax_total", "total", "amount_paid", "amount_credited", "balance_due"):
            setattr(self, name, round_money(getattr(self, name), c))
        for line in self.lines:
            line.quantity, line.tax_rate = plain_number(line.quantity), plain_number(line.tax_rate)
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

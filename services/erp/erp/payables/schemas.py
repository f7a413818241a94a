import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.money import round_money
from throughline_events.types import BusinessDate, DecimalInput, MoneyInput

# An amount beyond this is a typing mistake, not a bill (the columns hold 14 digits before the point).
MAX_AMOUNT = Decimal("1000000000")


class VendorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    address: str | None = Field(None, max_length=2000)
    country: str | None = Field(None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    vat_id: str | None = Field(None, max_length=30, description="Checked by its country's rules (python-stdnum)")
    iban: str | None = Field(None, max_length=50, description="Checked with schwifty")
    email: str | None = Field(None, max_length=320)
    currency: str = Field(pattern="^[A-Z]{3}$", description="What its bills are in, unless a bill says otherwise")
    payment_terms_days: int = Field(30, ge=0, le=365)


class VendorPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=2000)
    country: str | None = Field(None, min_length=2, max_length=2)
    vat_id: str | None = Field(None, max_length=30)
    iban: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=320)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    active: bool | None = None


class VendorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    address: str | None
    country: str | None
    vat_id: str | None
    iban: str | None
    email: str | None
    currency: str
    payment_terms_days: int
    active: bool
    created_at: datetime
    updated_at: datetime


class VendorPage(BaseModel):
    items: list[VendorOut]
    total: int
    limit: int
    offset: int


class BillLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    description: str = Field(min_length=1, max_length=500)
    quantity: DecimalInput = Field(Decimal(1), gt=0, le=Decimal("1000000"), decimal_places=4)
    unit_price: MoneyInput = Field(ge=0, le=MAX_AMOUNT, decimal_places=4)
    tax_rate_id: uuid.UUID | None = Field(None, description="A rate of /api/erp/tax-rates (reverse charge "
                                                            "included); leave out for the default rate")


class BillIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    vendor_id: uuid.UUID
    vendor_reference: str = Field(min_length=1, max_length=100, description="The vendor's invoice number")
    bill_date: BusinessDate
    due_date: BusinessDate | None = Field(None, description="Leave out for the bill date + the vendor's terms")
    currency: str | None = Field(None, pattern="^[A-Z]{3}$", description="Leave out for the vendor's currency")
    lines: list[BillLineIn] = Field(min_length=1, max_length=200)
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    notes: str | None = Field(None, max_length=2000)


class BillPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    vendor_reference: str | None = Field(None, min_length=1, max_length=100)
    bill_date: BusinessDate | None = None
    due_date: BusinessDate | None = None
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    lines: list[BillLineIn] | None = Field(None, min_length=1, max_length=200)
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    notes: str | None = Field(None, max_length=2000)


class BillLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    tax_rate_id: uuid.UUID | None
    tax_percent: Decimal
    tax_category: str
    tax_amount: Decimal
    reverse_charge_percent: Decimal
    reverse_charge_tax: Decimal


class BillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    vendor_id: uuid.UUID
    vendor_name: str = ""
    vendor_reference: str
    bill_date: date
    due_date: date
    currency: str
    exchange_rate: Decimal | None
    status: str
    subtotal: Decimal
    tax_total: Decimal
    reverse_charge_tax: Decimal
    total: Decimal
    amount_paid: Decimal
    balance_due: Decimal
    project_id: uuid.UUID | None
    cost_center_id: uuid.UUID | None
    notes: str | None
    entered_by: str
    required_approval: str | None
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    lines: list[BillLineOut]
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "BillOut":
        for field in ("subtotal", "tax_total", "reverse_charge_tax", "total", "amount_paid", "balance_due"):
            setattr(self, field, round_money(getattr(self, field), self.currency))
        for line in self.lines:
            for field in ("unit_price", "net", "tax_amount", "reverse_charge_tax"):
                setattr(line, field, round_money(getattr(line, field), self.currency))
            line.tax_percent, line.reverse_charge_percent = \
                line.tax_percent.normalize(), line.reverse_charge_percent.normalize()
        return self


class BillPage(BaseModel):
    items: list[BillOut]
    total: int
    limit: int
    offset: int


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=2000)


class RejectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str = Field(min_length=1, max_length=2000, description="Why: whoever entered the bill sees it")


class BillPaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: MoneyInput = Field(gt=0, le=MAX_AMOUNT, decimal_places=4)
    paid_on: BusinessDate
    reference: str | None = Field(None, max_length=200)


class BillPaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    bill_id: uuid.UUID
    amount: Decimal
    currency: str
    paid_on: date
    reference: str | None
    recorded_by: str
    created_at: datetime


class BillHistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    action: str
    from_status: str | None
    to_status: str
    actor_id: str
    actor_role: str
    comment: str | None
    created_at: datetime


class ApAgingTotals(BaseModel):
    """What is owed in one currency, by days past due."""

    currency: str
    not_due: Decimal
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_90_plus: Decimal
    total: Decimal
    bills: int


class ApAgingRow(ApAgingTotals):
    vendor_id: uuid.UUID
    vendor_name: str


class ApAgingReport(BaseModel):
    as_of: date
    items: list[ApAgingRow]
    totals: list[ApAgingTotals]

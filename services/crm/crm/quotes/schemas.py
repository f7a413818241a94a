import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm.deals.api import BillingInput
from throughline_events.money import check_amount, round_money
from throughline_events.types import BusinessDate, DecimalInput, MoneyInput

# The values of models.PriceKind and models.QuoteStatus as the HTTP API spells them.
PriceKindName = Literal["fixed", "hourly"]
QuoteStatusName = Literal["draft", "sent", "accepted", "declined", "superseded"]


class CatalogueItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    kind: PriceKindName = Field(description="fixed: a fixed fee; hourly: a rate card (hours x rate)")
    unit_price: MoneyInput = Field(ge=0, max_digits=16, description="The fee, or the hourly rate")
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")

    @model_validator(mode="after")
    def _money(self) -> "CatalogueItemIn":
        check_amount(self.unit_price, self.currency, field="unit_price")
        return self


class CatalogueItemPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    unit_price: MoneyInput | None = Field(None, ge=0, max_digits=16)
    active: bool | None = None


class CatalogueItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    description: str | None
    kind: str
    unit_price: Decimal
    currency: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _units(self) -> "CatalogueItemOut":
        self.unit_price = round_money(self.unit_price, self.currency)
        return self


class LineIn(BaseModel):
    """A quote line: from the catalogue (`catalogue_item_id`: its name, kind and price unless given here), or
    typed. Fixed: quantity x fee (quantity 1 by default); hourly: hours x rate."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    catalogue_item_id: uuid.UUID | None = None
    description: str | None = Field(None, min_length=1, max_length=500)
    kind: PriceKindName | None = None
    quantity: DecimalInput = Field(Decimal(1), gt=0, max_digits=12, decimal_places=2,
                                   description="Hours for an hourly line, a count for a fixed one")
    unit_price: MoneyInput | None = Field(None, ge=0, max_digits=16)


class TaxIn(BaseModel):
    """One of the ERP's tax rates (`GET /api/erp/tax-rates`), as the quote keeps it: a snapshot."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rate_id: uuid.UUID | None = Field(None, description="The ERP's tax rate id")
    name: str = Field(min_length=1, max_length=100)
    percent: DecimalInput = Field(ge=0, le=100, max_digits=7, decimal_places=4)


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=200, description="Default: the deal's title")
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    discount_percent: DecimalInput = Field(Decimal(0), ge=0, le=100, max_digits=7, decimal_places=4)
    tax: TaxIn | None = Field(None, description="Absent: no tax")
    valid_until: BusinessDate
    billing: BillingInput | None = Field(None, description="Default: the deal's billing terms")
    notes: str | None = Field(None, max_length=5000)


class QuotePatch(BaseModel):
    """Only the fields sent change (a draft only)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=200)
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=200)
    discount_percent: DecimalInput | None = Field(None, ge=0, le=100, max_digits=7, decimal_places=4)
    tax: TaxIn | None = None
    valid_until: BusinessDate | None = None
    billing: BillingInput | None = None
    notes: str | None = Field(None, max_length=5000)


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    to: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                           description="Default: the deal's contact")
    message: str | None = Field(None, max_length=5000, description="A few words above the link")


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    catalogue_item_id: uuid.UUID | None
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class QuoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    deal_id: uuid.UUID
    revision: int
    status: QuoteStatusName
    latest: bool = Field(False, description="The deal's latest revision: the only one that can be accepted")
    title: str
    currency: str
    lines: list[LineOut]
    discount_percent: Decimal
    tax_rate_id: uuid.UUID | None
    tax_name: str | None
    tax_percent: Decimal
    valid_until: date
    billing: dict[str, Any] | None = Field(validation_alias="billing_terms")
    notes: str | None
    subtotal: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    created_by: str | None
    sent_at: datetime | None
    sent_to: str | None
    mail_id: uuid.UUID | None
    accepted_at: datetime | None
    accepted_name: str | None
    accepted_ip: str | None
    declined_at: datetime | None
    decline_reason: str | None
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _units(self) -> "QuoteOut":
        for name in ("subtotal", "discount_total", "net_total", "tax_total", "total"):
            setattr(self, name, round_money(getattr(self, name), self.currency))
        for line in self.lines:
            line.quantity = line.quantity.quantize(Decimal("0.01"))
            line.unit_price = round_money(line.unit_price, self.currency)
            line.amount = round_money(line.amount, self.currency)
        return self


class SentOut(BaseModel):
    quote: QuoteOut
    mail_id: uuid.UUID
    link_expires_at: datetime
    preview_url: str = Field(description="The client's page as staff preview it (GET, with your token)")

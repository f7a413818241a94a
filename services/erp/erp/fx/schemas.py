import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from throughline_events.types import BusinessDate, DecimalInput

# A rate outside these bounds is a typing mistake (a missing or extra point), not a currency: the most extreme
# pairs against any base (IRR, VND, LBP against KWD) stay within them.
MIN_RATE = Decimal("0.0000001")
MAX_RATE = Decimal("10000000")


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    currency: str = Field(pattern="^[A-Z]{3}$", description="The foreign currency (ISO 4217)")
    rate_date: BusinessDate
    rate: DecimalInput = Field(ge=MIN_RATE, le=MAX_RATE, max_digits=20, decimal_places=10,
                               description="What one unit of `currency` is worth in the base currency that day")


class RateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    base_currency: str
    currency: str
    rate_date: date
    rate: Decimal
    source: str
    entered_by: str
    updated_at: datetime


class RatePage(BaseModel):
    base_currency: str | None = Field(description="The company's base currency; None before the profile is set up")
    note: str | None = Field(description="Why the list is empty, when it is: no rates are shipped")
    items: list[RateOut]
    total: int
    limit: int
    offset: int


class ImportResult(BaseModel):
    base_currency: str
    imported: int = Field(description="Rows written (a day that had a rate has it replaced)")
    currencies: list[str]
    date_from: date | None
    date_to: date | None


class Conversion(BaseModel):
    amount: Decimal
    currency: str
    on_date: date
    base_currency: str
    rate: Decimal
    rate_date: date
    base_amount: Decimal

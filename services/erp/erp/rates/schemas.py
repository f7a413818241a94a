import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.money import round_money
from throughline_events.types import BusinessDate, DecimalInput, MoneyInput


class CostRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user_id: str = Field(min_length=1, max_length=64)
    hourly_cost: MoneyInput = Field(ge=0, max_digits=18, decimal_places=4)
    currency: str = Field(pattern="^[A-Z]{3}$")
    effective_from: BusinessDate


class CostRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    user_id: str
    hourly_cost: Decimal
    currency: str
    effective_from: date
    created_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "CostRateOut":
        self.hourly_cost = round_money(self.hourly_cost, self.currency)
        return self


class BillRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hourly_rate: MoneyInput = Field(ge=0, max_digits=18, decimal_places=4)
    effective_from: BusinessDate


class BillRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    project_id: uuid.UUID
    hourly_rate: Decimal
    effective_from: date
    created_at: datetime


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user_id: str = Field(min_length=1, max_length=64)
    hours_per_week: DecimalInput = Field(ge=0, le=168, max_digits=6, decimal_places=2)
    effective_from: BusinessDate


class CapacityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    user_id: str
    hours_per_week: Decimal
    effective_from: date
    created_at: datetime


class CostRatePage(BaseModel):
    items: list[CostRateOut]
    total: int
    limit: int
    offset: int


class CapacityPage(BaseModel):
    items: list[CapacityOut]
    total: int
    limit: int
    offset: int

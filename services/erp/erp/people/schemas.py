import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.money import round_money
from throughline_events.types import BusinessDate, DecimalInput, MoneyInput

Currency = Annotated[str, Field(pattern="^[A-Z]{3}$")]


class RateIn(BaseModel):
    """An hourly rate from a date on: a new entry of the person's series (one on the same date is corrected)."""

    model_config = ConfigDict(extra="forbid")
    hourly_rate: MoneyInput = Field(ge=0, max_digits=18, decimal_places=4)
    currency: Currency
    effective_from: BusinessDate


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours_per_week: DecimalInput = Field(ge=0, le=168, max_digits=6, decimal_places=2)
    effective_from: BusinessDate


class PersonPatch(BaseModel):
    """Only the fields sent change. Name, email, role and active come from the gateway's user and are not set here."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    department: str | None = Field(None, max_length=100, description="Empty or null: no department")
    cost_center_id: uuid.UUID | None = None
    weekly_capacity: CapacityIn | None = None
    cost_rate: RateIn | None = None
    list_rate: RateIn | None = Field(None, description="What an hour of theirs is billed at by default")


class RateOut(BaseModel):
    hourly_rate: Decimal
    currency: str
    effective_from: date

    @model_validator(mode="after")
    def _in_currency_units(self) -> "RateOut":
        self.hourly_rate = round_money(self.hourly_rate, self.currency)
        return self


class CapacityOut(BaseModel):
    hours_per_week: Decimal
    effective_from: date


class PersonOut(BaseModel):
    """A person as the directory shows them, with the rates in force today. `cost_rate` is null for a caller who may
    not read it (only finance and admin read everyone's; a person reads their own)."""

    id: str
    name: str
    email: str
    role: str
    active: bool
    department: str | None
    cost_center_id: uuid.UUID | None
    weekly_capacity: CapacityOut | None
    list_rate: RateOut | None
    cost_rate: RateOut | None
    cost_rate_visible: bool = Field(description="Whether the caller may see this person's cost rate")
    updated_at: datetime


class PersonDetail(PersonOut):
    """A person with the history of each series, the latest first (cost rates only for who may read them)."""

    capacity_history: list[CapacityOut]
    list_rate_history: list[RateOut]
    cost_rate_history: list[RateOut]


class PersonPage(BaseModel):
    items: list[PersonOut]
    total: int
    limit: int
    offset: int

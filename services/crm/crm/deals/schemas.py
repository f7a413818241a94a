import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm.money import check_money, normalize
from throughline_events.billing import BillingTerms


class DealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=200)
    company_id: uuid.UUID
    contact_id: uuid.UUID | None = None
    pipeline_id: uuid.UUID | None = Field(None, description="Defaults to the default pipeline")
    stage_id: uuid.UUID | None = Field(None, description="Defaults to the pipeline's first open stage")
    amount: Decimal = Field(ge=0, max_digits=16)
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    owner_id: str | None = Field(None, max_length=64)
    expected_close_date: date | None = None
    billing: BillingTerms | None = None

    @model_validator(mode="after")
    def _money(self) -> "DealIn":
        check_money(self.amount, self.currency)
        return self


class StageMove(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage_id: uuid.UUID


class WinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    billing: BillingTerms | None = Field(None, description="Replaces the deal's billing terms when given")


class LoseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=1000)


class DealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    company_id: uuid.UUID
    contact_id: uuid.UUID | None
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    amount: Decimal
    currency: str
    owner_id: str | None
    expected_close_date: date | None
    billing: dict[str, Any] | None = Field(validation_alias="billing_terms")
    status: str
    stage_entered_at: datetime
    won_at: datetime | None
    lost_at: datetime | None
    lost_reason: str | None
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "DealOut":
        self.amount = normalize(self.amount, self.currency)
        return self


class DealPage(BaseModel):
    items: list[DealOut]
    total: int
    limit: int
    offset: int

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from crm.deals.models import DealStatus
from crm.deals.paging import EXACT_TOTAL_UP_TO
from crm.settings import get_settings
from throughline_events.billing import BillingTerms
from throughline_events.money import check_amount, round_money

# The values of models.DealStatus as the HTTP API spells them (tests/crm/test_rules_unit.py keeps them in step).
DealStatusName = Literal["open", "won", "lost"]

# An expected close date within reach of a sales forecast. Unbounded, a slip of the keyboard (year 226, 9999) put a
# deal where no forecast window finds it and every month list sorts it first or last.
EARLIEST_CLOSE = date(2000, 1, 1)
LATEST_CLOSE = date(2099, 12, 31)


def _within_forecast_reach(value: date) -> date:
    if not EARLIEST_CLOSE <= value <= LATEST_CLOSE:
        raise ValueError(f"an expected close date lies between {EARLIEST_CLOSE} and {LATEST_CLOSE}")
    return value


CloseDate = Annotated[date, AfterValidator(_within_forecast_reach)]


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
    expected_close_date: CloseDate | None = None
    billing: BillingTerms | None = None

    @model_validator(mode="after")
    def _money(self) -> "DealIn":
        check_amount(self.amount, self.currency)
        return self


class DealPatch(BaseModel):
    """Only the fields sent change. Stage and status have their own commands (stage, win, lose, reopen)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=200)
    contact_id: uuid.UUID | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=16)
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    owner_id: str | None = Field(None, max_length=64)
    expected_close_date: CloseDate | None = None
    billing: BillingTerms | None = None


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage_id: uuid.UUID | None = Field(None, description="Open stage to reopen in; default: the stage it was lost from")


class StageChangeOut(BaseModel):
    id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage_name: str | None
    to_stage_id: uuid.UUID
    to_stage_name: str
    changed_by: str | None
    changed_at: datetime
    seconds_in_previous_stage: int | None
    seconds_in_stage: int = Field(description="How long the deal stayed (or has stayed so far) in to_stage")
    current: bool


class StageHistoryOut(BaseModel):
    deal_id: uuid.UUID
    current_stage_id: uuid.UUID
    seconds_in_current_stage: int
    items: list[StageChangeOut]


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
    last_activity_at: datetime | None = None
    reopened_at: datetime | None = None
    idle_days: int = Field(0, description="Whole days since the last activity (or creation) of an open deal")
    is_idle: bool = Field(False, description="Open and without activity for CRM_IDLE_DEAL_DAYS days or more")
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "DealOut":
        self.amount = round_money(self.amount, self.currency)
        if self.status == DealStatus.OPEN:
            last = self.last_activity_at or self.created_at
            self.idle_days = max(0, (datetime.now(UTC) - last).days)
            self.is_idle = self.idle_days >= get_settings().idle_deal_days
        return self


class DealPage(BaseModel):
    items: list[DealOut]
    total: int = Field(description=f"Deals matching the filters: exact up to {EXACT_TOTAL_UP_TO:,}, the "
                                   "database's estimate above (then total_is_estimate is true)")
    total_is_estimate: bool = False
    limit: int
    offset: int
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page; null on the last page")

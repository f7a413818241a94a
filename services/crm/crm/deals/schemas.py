import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from crm.deals.models import DealStatus
from crm.deals.paging import EXACT_TOTAL_UP_TO
from crm.settings import get_settings
from throughline_events.billing import BillingTerms, FixedInstallments, Milestones, Retainer
from throughline_events.money import check_amount, parse_decimal, round_money
from throughline_events.types import BusinessDate, MoneyInput, check_business_date

# The values of models.DealStatus as the HTTP API spells them (tests/crm/test_rules_unit.py keeps them in step).
DealStatusName = Literal["open", "won", "lost"]

_TERMS_MONEY = ("amount", "hourly_rate", "cap")
_TERMS_COUNTS = ("installments", "count")


def _strict_terms(value: Any) -> Any:
    """Billing terms as a request must write them. The contract's models read terms tolerantly (an event is
    parsed as its producer wrote it); what a person or client sends is held to the request rules: money as a plain
    decimal string, counts as JSON integers (not 3.0 or "3"), milestone percents as plain decimals."""
    if not isinstance(value, dict):
        return value  # the contract model says what is wrong
    for key in _TERMS_MONEY:
        money = value.get(key)
        if money is not None and not (isinstance(money, str) and _plain(money)):
            raise ValueError(f"billing {key} is money: a plain decimal string like \"1250.00\"")
    for key in _TERMS_COUNTS:
        count = value.get(key)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ValueError(f"billing {key} is a whole number (a JSON integer)")
    milestones = value.get("milestones")
    for milestone in milestones if isinstance(milestones, list) else ():
        percent = milestone.get("percent") if isinstance(milestone, dict) else None
        if percent is not None and not ((isinstance(percent, str) and _plain(percent))
                                        or (isinstance(percent, int) and not isinstance(percent, bool))):
            raise ValueError("a milestone percent is a plain decimal string like \"30\" or a whole number")
    return value


def _plain(text: str) -> bool:
    try:
        parse_decimal(text)
    except ValueError:
        return False
    return True


def _terms_on_business_dates(terms: Any) -> Any:
    dates = []
    if isinstance(terms, FixedInstallments | Retainer):
        dates.append(terms.start_date)
    elif isinstance(terms, Milestones):
        dates += [m.due_date for m in terms.milestones if m.due_date is not None]
    for day in dates:
        check_business_date(day)
    return terms


BillingInput = Annotated[BillingTerms, BeforeValidator(_strict_terms), AfterValidator(_terms_on_business_dates)]
"""Billing terms in a request: the contract's `BillingTerms`, held to the request rules (`throughline_events.types`:
money as plain decimal strings, whole counts, business dates)."""


class DealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=200)
    company_id: uuid.UUID
    contact_id: uuid.UUID | None = None
    pipeline_id: uuid.UUID | None = Field(None, description="Defaults to the default pipeline")
    stage_id: uuid.UUID | None = Field(None, description="Defaults to the pipeline's first open stage")
    amount: MoneyInput = Field(ge=0, max_digits=16)
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    owner_id: str | None = Field(None, max_length=64)
    expected_close_date: BusinessDate | None = None
    billing: BillingInput | None = None

    @model_validator(mode="after")
    def _money(self) -> "DealIn":
        check_amount(self.amount, self.currency)
        return self


class DealPatch(BaseModel):
    """Only the fields sent change. Stage and status have their own commands (stage, win, lose, reopen)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=200)
    contact_id: uuid.UUID | None = None
    amount: MoneyInput | None = Field(None, ge=0, max_digits=16)
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Z]{3}$")
    owner_id: str | None = Field(None, max_length=64)
    expected_close_date: BusinessDate | None = None
    billing: BillingInput | None = None


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
    billing: BillingInput | None = Field(None, description="Replaces the deal's billing terms when given")


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

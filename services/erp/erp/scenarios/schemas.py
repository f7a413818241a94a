import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.scenarios.models import Direction, Interval, RecurringKind
from throughline_events.types import BusinessDate, MoneyInput

MAX_AMOUNT = Decimal("1000000000")


# --- recurring items and the opening balance ---


class RecurringItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    kind: RecurringKind
    direction: Direction = Direction.OUT
    amount: MoneyInput = Field(gt=0, le=MAX_AMOUNT, decimal_places=4)
    currency: str = Field(pattern="^[A-Z]{3}$")
    interval: Interval = Interval.MONTH
    start_date: BusinessDate
    end_date: BusinessDate | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> "RecurringItemIn":
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class RecurringItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    kind: str
    direction: str
    amount: Decimal
    currency: str
    interval: str
    start_date: date
    end_date: date | None
    created_at: datetime
    updated_at: datetime


class RecurringItemPage(BaseModel):
    items: list[RecurringItemOut]
    total: int
    limit: int
    offset: int


class OpeningBalanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    as_of: BusinessDate
    amount: MoneyInput = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, decimal_places=4)
    currency: str = Field(pattern="^[A-Z]{3}$")
    note: str | None = Field(None, max_length=1000)


class OpeningBalanceOut(BaseModel):
    amount: Decimal = Field(description="In the base currency")
    currency: str
    as_of: date | None
    source: Literal["bank_statement", "entered", "none"] = Field(
        description="The latest bank statements' closing balances, an entered balance (when newer), or none yet")
    note: str | None = None


# --- scenarios ---


class ClientPaysLate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["client_pays_late"]
    client_id: uuid.UUID
    days: int = Field(ge=-365, le=365, description="Days later (earlier, if negative) than the baseline expects")


class DealLost(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["deal_lost"]
    deal_id: uuid.UUID


class DealWon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["deal_won"]
    deal_id: uuid.UUID
    won_on: BusinessDate | None = Field(None, description="Leave out for the deal's expected close date")


class Hire(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: Literal["hire"]
    name: str = Field("New hire", min_length=1, max_length=200)
    monthly_cost: MoneyInput = Field(gt=0, le=MAX_AMOUNT, decimal_places=4)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$", description="Leave out for the base currency")
    start_date: BusinessDate
    end_date: BusinessDate | None = None


class BillPaidEarly(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["bill_paid_early"]
    bill_id: uuid.UUID
    pay_on: BusinessDate


Adjustment = Annotated[ClientPaysLate | DealLost | DealWon | Hire | BillPaidEarly, Field(discriminator="type")]


class ScenarioIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    adjustments: list[Adjustment] = Field(min_length=1, max_length=50)


class ScenarioPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    adjustments: list[Adjustment] | None = Field(None, min_length=1, max_length=50)


class ScenarioOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    description: str | None
    adjustments: list[Adjustment]
    created_by: str
    created_at: datetime
    updated_at: datetime


class ScenarioPage(BaseModel):
    items: list[ScenarioOut]
    total: int
    limit: int
    offset: int


# --- the forecast ---


class ForecastWeek(BaseModel):
    week_start: date
    week_end: date
    opening: Decimal
    invoices: Decimal = Field(description="Open invoices, on the day each client's history says they pay")
    schedule: Decimal = Field(description="Billing schedule items and retainers not invoiced yet")
    pipeline: Decimal = Field(description="Open deals, weighted by probability, on their billing terms")
    other_in: Decimal = Field(description="Recurring income")
    bills: Decimal = Field(description="Vendor bills still owed (submitted or approved)")
    expenses: Decimal = Field(description="Approved expenses not reimbursed yet")
    recurring: Decimal = Field(description="Recurring costs: payroll, rent ...")
    hires: Decimal = Field(description="Hires a scenario adds")
    inflow: Decimal
    outflow: Decimal
    net: Decimal
    closing: Decimal


class RateUsed(BaseModel):
    currency: str
    rate: Decimal
    rate_date: date


class Forecast(BaseModel):
    as_of: date
    base_currency: str
    opening_balance: OpeningBalanceOut
    weeks: list[ForecastWeek]
    lowest_balance: Decimal
    lowest_week: date = Field(description="The start of the week whose closing balance is the lowest")
    beyond_horizon_in: Decimal
    beyond_horizon_out: Decimal
    rates: list[RateUsed] = Field(description="Exchange rates (as of `as_of`) that converted other currencies")


class WeekDelta(BaseModel):
    week_start: date
    baseline: Decimal
    scenario: Decimal
    delta: Decimal


class Comparison(BaseModel):
    scenario: ScenarioOut | None = Field(description="None for a preview of unsaved adjustments")
    baseline: Forecast
    forecast: Forecast
    weeks: list[WeekDelta] = Field(description="Closing balances side by side, week by week")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adjustments: list[Adjustment] = Field(min_length=1, max_length=50)

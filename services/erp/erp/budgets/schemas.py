import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from throughline_events.types import DecimalInput, MoneyInput


class BurnFigures(BaseModel):
    """One measure of a budget (hours, or money in the project's currency)."""

    budget: Decimal | None = Field(description="None: the project has no budget in this measure")
    actual: Decimal = Field(description="Hours: every hour logged. Money: cost of that time (at each person's cost "
                                        "rate of the day) plus approved expenses at their net (the VAT "
                                        "in them is deducted)")
    unbilled: Decimal = Field(description="Approved, billable and not yet invoiced. Money: those hours at the bill "
                                          "rate of their day (else the time-and-materials rate) plus approved "
                                          "billable expenses not yet invoiced, at the net they are re-billed at")
    invoiced: Decimal = Field(description="Hours: billed on an invoice. Money: net invoiced (issued invoices less "
                                          "credit notes, before tax)")
    booked_remaining: Decimal = Field(description="Hours booked from today on (planning). Money: those hours at "
                                                  "each person's current cost rate")
    forecast_at_completion: Decimal = Field(description="actual + booked_remaining")
    burn_percent: Decimal | None = Field(description="actual / budget, in percent (None without a budget)")
    forecast_percent: Decimal | None = Field(description="forecast_at_completion / budget, in percent")


class PhaseFigures(BaseModel):
    """A phase of a milestones project: an item of its billing schedule. Time is not logged per phase, so a phase
    has money figures only: its amount and what was invoiced for it."""

    position: int
    label: str
    due_date: date | None
    status: str
    budget: Decimal
    invoiced: Decimal


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    measure: str
    threshold: int
    budget: Decimal
    actual: Decimal
    reached_at: datetime


class BudgetOut(BaseModel):
    project_id: uuid.UUID
    currency: str
    thresholds: list[int] = Field(description="Alert thresholds in percent of the budget (default 50, 80, 100)")
    hours: BurnFigures
    money: BurnFigures
    unpriced_hours: Decimal = Field(description="Hours without a cost rate in the project's currency on their day: "
                                                "not in money.actual")
    unrated_hours: Decimal = Field(description="Unbilled hours without a bill rate: not in money.unbilled")
    unconverted_expenses: int = Field(description="Approved expenses in another currency: not in money.actual")
    phases: list[PhaseFigures] = Field(description="A milestones project's phases (empty for other projects)")
    alerts: list[AlertOut] = Field(description="Thresholds reached, newest first")


class BudgetIn(BaseModel):
    """A project's budget. A field left out keeps its value; `budget_hours: null` removes the hours budget."""

    model_config = ConfigDict(extra="forbid")
    budget_hours: DecimalInput | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    budget_amount: MoneyInput | None = Field(None, ge=0, max_digits=18, decimal_places=4)
    thresholds: list[int] | None = Field(None, min_length=1, max_length=10,
                                         description="Percent of the budget, each 1..1000, no repeats")

    @field_validator("thresholds")
    @classmethod
    def _sensible(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if any(t < 1 or t > 1000 for t in value):
            raise ValueError("each threshold is a percent between 1 and 1000")
        if len(set(value)) != len(value):
            raise ValueError("thresholds must not repeat")
        return sorted(value)


class EfficiencyRow(BaseModel):
    """One department or cost center in one currency over the period. Money in `currency`."""

    department: str | None = Field(description="The people's department when grouped by department (null: people "
                                               "without one, and projects with money but no hours in the period)")
    cost_center_id: uuid.UUID | None
    cost_center_code: str | None
    cost_center_name: str | None
    currency: str
    revenue: Decimal = Field(description="Revenue earned (effort basis, as the profitability report's "
                                         "revenue_recognised); by department, each project's shared out by its "
                                         "people's hours in the period")
    direct_cost: Decimal = Field(description="Cost of time at cost rates plus approved expenses at their net")
    margin: Decimal
    margin_percent: Decimal | None = Field(description="margin / revenue (effort basis)")
    hours: Decimal
    billable_hours: Decimal
    capacity_hours: Decimal | None = Field(description="The people's capacity in the period, shared between groups "
                                                       "by their hours in each")
    billable_utilisation_percent: Decimal | None = Field(description="billable_hours / capacity_hours")
    revenue_per_billable_hour: Decimal | None
    effective_rate: Decimal | None = Field(description="revenue / every hour logged (billable or not)")
    list_rate: Decimal | None = Field(description="Average list rate of the billable hours (bill rate of their day, "
                                                  "else the time-and-materials rate)")
    effective_vs_list_percent: Decimal | None = Field(description="effective_rate / list_rate")


class EfficiencyReport(BaseModel):
    group_by: str
    date_from: date
    date_to: date
    items: list[EfficiencyRow]

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["project", "client", "cost_center"]
MarginBasis = Literal["effort", "invoiced"]

# What each basis compares (the project page shows both, side by side, with these labels).
MARGIN_BASES: dict[str, str] = {
    "effort": "Effort basis: revenue earned (time and materials at bill rates up to the cap; else the budget times "
              "the share of budget hours done; else what was invoiced) less the cost of time and approved expenses",
    "invoiced": "Invoiced basis: net invoiced (issued invoices less credit notes, before tax) less the cost of time "
                "and approved expenses",
}


class Margin(BaseModel):
    """A margin on one basis, named."""

    basis: MarginBasis
    label: str
    revenue: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None


class ProfitabilityRow(BaseModel):
    """One project, client or cost center in one currency. Money in `currency`, rounded to its minor unit."""

    project_id: uuid.UUID | None = None
    project_name: str | None = None
    status: str | None = None
    client_id: uuid.UUID | None = None
    client_name: str | None = None
    cost_center_id: uuid.UUID | None = None
    cost_center_code: str | None = None
    cost_center_name: str | None = None
    projects: int
    currency: str
    revenue_invoiced: Decimal = Field(description="Net invoiced in the period: issued invoices less credit notes")
    revenue_recognised: Decimal = Field(description="Revenue earned in the period by effort (see margins)")
    cost_time: Decimal
    cost_expenses: Decimal
    cost_total: Decimal
    margin: Decimal = Field(description="Invoiced basis: revenue_invoiced - cost_total")
    margin_percent: Decimal | None = Field(description="Invoiced basis: margin / revenue_invoiced")
    recognised_margin: Decimal = Field(description="Effort basis: revenue_recognised - cost_total")
    recognised_margin_percent: Decimal | None = Field(description="Effort basis: recognised_margin / "
                                                                  "revenue_recognised")
    margins: list[Margin] = Field(description="The two margins, each naming its basis: effort, then invoiced")
    budget_amount: Decimal
    budget_burn_percent: Decimal | None
    hours_logged: Decimal
    billable_hours: Decimal
    budget_hours: Decimal | None
    hours_burn_percent: Decimal | None
    unpriced_hours: Decimal
    unconverted_expenses: int


class ProfitabilityTotals(BaseModel):
    currency: str
    revenue_invoiced: Decimal
    revenue_recognised: Decimal
    cost_time: Decimal
    cost_expenses: Decimal
    cost_total: Decimal
    margin: Decimal
    margin_percent: Decimal | None
    hours_logged: Decimal


class ProfitabilityReport(BaseModel):
    group_by: GroupBy
    date_from: date | None
    date_to: date | None
    items: list[ProfitabilityRow]
    total: int
    limit: int
    offset: int
    totals: list[ProfitabilityTotals]


class CashFlowPeriod(BaseModel):
    period_start: date
    period_end: date
    currency: str
    invoices_due: Decimal
    schedule_items: Decimal
    inflow: Decimal
    expenses_to_reimburse: Decimal
    net: Decimal
    cumulative_net: Decimal


class CashFlowTotals(BaseModel):
    currency: str
    overdue_invoices: Decimal
    invoices_due: Decimal
    schedule_items: Decimal
    inflow: Decimal
    expenses_to_reimburse: Decimal
    net: Decimal
    beyond_horizon_inflow: Decimal


class CashFlowReport(BaseModel):
    interval: Literal["week", "month"]
    date_from: date
    date_to: date
    items: list[CashFlowPeriod]
    totals: list[CashFlowTotals]


class AgingRow(BaseModel):
    client_id: uuid.UUID
    client_name: str
    currency: str
    not_due: Decimal
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_90_plus: Decimal
    total: Decimal
    invoices: int


class AgingTotals(BaseModel):
    currency: str
    not_due: Decimal
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_90_plus: Decimal
    total: Decimal
    invoices: int


class AgingReport(BaseModel):
    as_of: date
    items: list[AgingRow]
    total: int
    limit: int
    offset: int
    totals: list[AgingTotals]


class UtilisationWeek(BaseModel):
    week_start: date
    capacity_hours: Decimal | None
    hours: Decimal
    billable_hours: Decimal
    utilisation_percent: Decimal | None
    billable_utilisation_percent: Decimal | None


class UtilisationRow(BaseModel):
    person_id: str
    capacity_hours: Decimal | None
    hours: Decimal
    billable_hours: Decimal
    utilisation_percent: Decimal | None
    billable_utilisation_percent: Decimal | None
    weeks: list[UtilisationWeek]


class UtilisationReport(BaseModel):
    date_from: date
    date_to: date
    items: list[UtilisationRow]
    total: int
    limit: int
    offset: int
    capacity_hours: Decimal
    hours: Decimal
    billable_hours: Decimal
    utilisation_percent: Decimal | None

"""Billing terms chosen by sales on a deal, turned into a billing schedule by the ERP."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.types import DecimalString

Interval = Literal["week", "month", "quarter", "year"]


class _Terms(BaseModel):
    # Tolerant reader, like every other part of the contract: a field added to the terms later must not make
    # older consumers reject the whole deal.won (DESIGN §3: adding an optional field is not a new version).
    model_config = ConfigDict(frozen=True, extra="ignore")


class FixedInstallments(_Terms):
    type: Literal["fixed"] = "fixed"
    installments: int = Field(ge=1, le=120)
    interval: Interval = "month"
    start_date: date


class Milestone(_Terms):
    name: str = Field(min_length=1, max_length=200)
    percent: DecimalString = Field(gt=Decimal(0), le=Decimal(100))
    due_date: date | None = None


class Milestones(_Terms):
    type: Literal["milestones"] = "milestones"
    milestones: list[Milestone] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _percents_make_the_whole(self) -> "Milestones":
        total = sum((m.percent for m in self.milestones), Decimal(0))
        if total != Decimal(100):
            raise ValueError(f"milestone percents must add up to 100, not {total}")
        return self


class Retainer(_Terms):
    type: Literal["retainer"] = "retainer"
    amount: DecimalString = Field(gt=Decimal(0))
    interval: Interval = "month"
    count: int = Field(ge=1, le=120)
    start_date: date


class TimeAndMaterials(_Terms):
    type: Literal["time_and_materials"] = "time_and_materials"
    hourly_rate: DecimalString = Field(gt=Decimal(0))
    cap: DecimalString | None = Field(default=None, gt=Decimal(0))


BillingTerms = Annotated[
    FixedInstallments | Milestones | Retainer | TimeAndMaterials,
    Field(discriminator="type"),
]

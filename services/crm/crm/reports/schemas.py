import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class ForecastRow(BaseModel):
    currency: str
    count: int
    amount: Decimal
    weighted_amount: Decimal = Field(description="Sum of amount x stage probability, rounded per currency")


class MonthRow(ForecastRow):
    month: str | None = Field(description="YYYY-MM of the expected close date; null: no close date set")


class OwnerRow(ForecastRow):
    owner_id: str | None


class StageStats(BaseModel):
    stage_id: uuid.UUID
    name: str
    position: int
    kind: str
    probability: Decimal
    open_deals: int
    entered: int = Field(description="Deals that ever entered the stage")
    advanced: int = Field(description="Of those, deals that reached a later stage (won included, lost not)")
    conversion_rate: Decimal | None = Field(description="advanced / entered, 0..1 (null when none entered)")
    average_seconds_in_stage: int | None = Field(description="Mean time deals spent in it before moving on")


class Forecast(BaseModel):
    as_of: datetime
    pipeline_id: uuid.UUID = Field(description="The pipeline of the stage statistics")
    close_from: date | None
    close_to: date | None
    owner_id: str | None
    totals: list[ForecastRow]
    by_month: list[MonthRow]
    by_owner: list[OwnerRow]
    stages: list[StageStats]

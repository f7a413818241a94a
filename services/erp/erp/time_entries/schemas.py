import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.types import BusinessDate, DecimalInput


class TimeEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    project_id: uuid.UUID
    person_id: str | None = Field(None, min_length=1, max_length=64,
                                  description="Whose time (a user id); default: the caller")
    work_date: BusinessDate
    hours: DecimalInput = Field(gt=0, le=24, decimal_places=2)
    billable: bool = True
    description: str | None = Field(None, max_length=2000)


class TimeEntryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    work_date: BusinessDate | None = None
    hours: DecimalInput | None = Field(None, gt=0, le=24, decimal_places=2)
    billable: bool | None = None
    description: str | None = Field(None, max_length=2000)


class TimeEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    person_id: str
    project_id: uuid.UUID
    work_date: date
    hours: Decimal
    billable: bool
    description: str | None
    status: str
    approved_by: str | None
    approved_at: datetime | None
    invoice_id: uuid.UUID | None
    beyond_cap: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _two_decimals(self) -> "TimeEntryOut":
        self.hours = self.hours.quantize(Decimal("0.01"))
        return self


class TimeEntryPage(BaseModel):
    items: list[TimeEntryOut]
    total: int
    limit: int
    offset: int
    total_hours: Decimal

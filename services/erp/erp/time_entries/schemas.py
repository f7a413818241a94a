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


class CorrectionIn(BaseModel):
    """A correction of an entry that may no longer change (billed, or in a locked week)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    hours: DecimalInput = Field(ge=-24, le=24, decimal_places=2,
                                description="Hours more (or, negative, fewer) than the original, not 0")
    work_date: BusinessDate | None = Field(None, description="The day it is logged on, in an open week; default today")
    description: str | None = Field(None, max_length=2000, description="Why; default the original's description")

    @model_validator(mode="after")
    def _not_zero(self) -> "CorrectionIn":
        if self.hours == 0:
            raise ValueError("hours: a correction of 0 h corrects nothing")
        return self


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
    invoice_line_id: uuid.UUID | None = Field(description="The invoice line that billed it")
    corrects_id: uuid.UUID | None = Field(description="The entry this one corrects")
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

import re
import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from throughline_events.types import BusinessDate, DecimalInput

ISO_WEEK = re.compile(r"^(?P<year>\d{4})-W(?P<week>\d{2})$")


def parse_week(week: str) -> date:
    """The Monday of an ISO week written like 2026-W49; ValueError when there is no such week."""
    match = ISO_WEEK.match(week)
    if match is None:
        raise ValueError(f"week {week!r}: write an ISO week like 2026-W49")
    try:
        return date.fromisocalendar(int(match["year"]), int(match["week"]), 1)
    except ValueError:
        raise ValueError(f"week {week!r}: the year {match['year']} has no week {match['week']}") from None


def week_name(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class CellIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    work_date: BusinessDate
    hours: DecimalInput = Field(ge=-24, le=24, decimal_places=2,
                                description="Above zero; a cell holding a correction may stand below zero unchanged")
    note: str | None = Field(None, max_length=2000)


class RowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_id: uuid.UUID
    billable: bool = True
    cells: list[CellIn] = Field(max_length=7, description="The days with time; a day left out has none")

    @field_validator("cells")
    @classmethod
    def _one_cell_a_day(cls, cells: list[CellIn]) -> list[CellIn]:
        days = [cell.work_date for cell in cells]
        if len(set(days)) != len(days):
            raise ValueError("a day appears twice in the row")
        return cells


class WeekIn(BaseModel):
    """The whole week: what it has after the save (a cell left out is deleted)."""

    model_config = ConfigDict(extra="forbid")
    rows: list[RowIn] = Field(max_length=100)


class CellOut(BaseModel):
    work_date: date
    hours: Decimal
    note: str | None
    entry_ids: list[uuid.UUID]
    billed: bool = Field(description="Some of its time is on an invoice: it cannot change (correct it instead)")


class RowOut(BaseModel):
    project_id: uuid.UUID
    project_name: str
    billable: bool
    cells: list[CellOut] = Field(description="Seven, Monday to Sunday")
    total: Decimal


class TimerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    project_id: uuid.UUID
    billable: bool = True
    note: str | None = Field(None, max_length=2000)


class TimerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    person_id: str
    project_id: uuid.UUID
    billable: bool
    note: str | None
    started_at: datetime


class WeekOut(BaseModel):
    person_id: str
    week: str = Field(description="ISO week, like 2026-W49")
    week_start: date = Field(description="Its Monday")
    days: list[date]
    status: str = Field(description="open, submitted, approved or returned")
    locked: bool = Field(description="Submitted or approved: nothing in it changes")
    comment: str | None = Field(description="The project manager's comment when the week was returned")
    submitted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    rows: list[RowOut]
    day_totals: list[Decimal]
    total: Decimal
    billable_total: Decimal
    timer: TimerOut | None


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str = Field(min_length=1, max_length=2000, description="What to fix")


class WeekSummary(BaseModel):
    id: uuid.UUID
    person_id: str
    week: str
    week_start: date
    status: str
    submitted_at: datetime | None
    hours: Decimal
    billable_hours: Decimal


class WeekList(BaseModel):
    items: list[WeekSummary]

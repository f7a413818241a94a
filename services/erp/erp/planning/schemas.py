import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from erp.planning.models import BookingStatus
from throughline_events.types import BusinessDate, DecimalInput


def _monday(value: date | None) -> date | None:
    if value is not None and value.isoweekday() != 1:
        raise ValueError(f"a week is given by its Monday; {value} is a {value.strftime('%A')}")
    return value


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    person_id: str = Field(min_length=1, max_length=64, description="Who is booked (a person's id: a user id)")
    project_id: uuid.UUID | None = Field(None, description="The project; or name an open deal instead")
    deal_id: uuid.UUID | None = Field(None, description="An open CRM deal (GET /api/erp/open-deals); tentative only")
    week: BusinessDate = Field(description="The Monday of the week")
    hours: DecimalInput = Field(gt=0, le=168, decimal_places=2)
    status: BookingStatus = BookingStatus.TENTATIVE
    note: str | None = Field(None, max_length=2000)

    _week_is_monday = field_validator("week")(_monday)

    @model_validator(mode="after")
    def _project_or_deal(self) -> "BookingIn":
        if (self.project_id is None) == (self.deal_id is None):
            raise ValueError("name either a project_id or a deal_id")
        if self.deal_id is not None and self.status == BookingStatus.CONFIRMED:
            raise ValueError("a booking on a deal is tentative until the deal is won and its project staffed")
        return self


class BookingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    week: BusinessDate | None = None
    hours: DecimalInput | None = Field(None, gt=0, le=168, decimal_places=2)
    status: BookingStatus | None = None
    note: str | None = Field(None, max_length=2000)

    _week_is_monday = field_validator("week")(_monday)


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    person_id: str
    project_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    week: date
    hours: Decimal
    status: BookingStatus
    note: str | None
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class BookingWritten(BookingOut):
    """A booking as written, and whether it leaves the person's week booked beyond capacity (allowed, flagged)."""

    over_capacity: bool
    week_booked: Decimal = Field(description="The person's hours booked that week now, tentative ones weighted")
    week_capacity: Decimal = Field(description="The person's capacity that week (0 without one)")


class BookingPage(BaseModel):
    items: list[BookingOut]
    total: int
    limit: int
    offset: int


class StaffFromDeal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: bool = Field(True, description="Confirm the bookings as they move to the project (else they stay "
                                            "tentative, now counted in full)")


class BoardPerson(BaseModel):
    """One person's row of the board: each list has one value per week of the board, in its order."""

    person_id: str
    capacity: list[Decimal] = Field(description="Hours the person can work (0 without a capacity)")
    confirmed: list[Decimal] = Field(description="Hours of confirmed bookings")
    tentative: list[Decimal] = Field(description="Hours of tentative bookings, as booked")
    booked: list[Decimal] = Field(description="Confirmed and tentative hours, a tentative booking on a deal weighted "
                                              "by the deal's probability")
    actual: list[Decimal] = Field(description="Hours of time entries")
    over_allocated: list[bool] = Field(description="booked > capacity")


class Board(BaseModel):
    """People x weeks, in columns: `weeks[i]` is the week of every person's i-th values (one statement reads it)."""

    from_week: date
    weeks: list[date]
    people: list[BoardPerson]

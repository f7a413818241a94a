import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The values of models.StepKind / EnrolmentStatus as the HTTP API spells them (tests/crm/test_rules_unit.py keeps
# them in step).
StepKindName = Literal["email", "task"]
EnrolmentStatusName = Literal["active", "completed", "stopped"]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: StepKindName
    delay_days: int = Field(0, ge=0, le=365, description="Business days (or days) after the previous step")
    template_id: uuid.UUID | None = Field(None, description="email: the mail template")
    task_title: str | None = Field(None, min_length=1, max_length=200, description="task: what the owner does")
    task_due_in_hours: int = Field(24, ge=0, le=24 * 366, description="task: due this long after the step runs")

    @model_validator(mode="after")
    def _kind(self) -> "StepIn":
        if (self.kind == "email") != (self.template_id is not None):
            raise ValueError("an email step names its template_id, and only an email step")
        if (self.kind == "task") != (self.task_title is not None):
            raise ValueError("a task step names its task_title, and only a task step")
        return self


class _Window(BaseModel):
    @model_validator(mode="after")
    def _window(self) -> "_Window":
        start, end = getattr(self, "window_start_hour", None), getattr(self, "window_end_hour", None)
        if start is not None and end is not None and start >= end:
            raise ValueError("the send window must start before it ends (window_start_hour < window_end_hour)")
        return self


class SequenceIn(_Window):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    active: bool = True
    window_start_hour: int = Field(9, ge=0, le=23, description="Send window start, the recipient's local hour")
    window_end_hour: int = Field(17, ge=1, le=24, description="Send window end (exclusive); 24: midnight")
    business_days_only: bool = Field(True, description="Skip weekends and public holidays; delays in business days")
    steps: list[StepIn] = Field(min_length=1, max_length=50)


class SequencePatch(_Window):
    """Only the fields sent change. `steps` replaces the steps; enrolments go on from the position they are at."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    active: bool | None = None
    window_start_hour: int | None = Field(None, ge=0, le=23)
    window_end_hour: int | None = Field(None, ge=1, le=24)
    business_days_only: bool | None = None
    steps: list[StepIn] | None = Field(None, min_length=1, max_length=50)


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    kind: str
    delay_days: int
    template_id: uuid.UUID | None
    task_title: str | None
    task_due_in_hours: int | None


class SequenceOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    active: bool
    window_start_hour: int
    window_end_hour: int
    business_days_only: bool
    steps: list[StepOut]
    enrolments: dict[str, int] = Field(description="Enrolments per status")
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contact_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = Field(None, description="Its win or loss stops the enrolment")

    @model_validator(mode="after")
    def _one_person(self) -> "EnrolIn":
        if (self.contact_id is None) == (self.lead_id is None):
            raise ValueError("enrol a contact_id or a lead_id (one of them)")
        return self


class StepStatus(BaseModel):
    """A step of an enrolment: done (and what became of its mail), due next, or later."""

    position: int
    kind: str
    status: str = Field(description="queued, sent, bounced, failed (its mail), task_created, skipped, due, "
                                    "scheduled, or not_run (the enrolment ended first)")
    due_at: datetime | None = None
    ran_at: datetime | None = None
    mail_id: uuid.UUID | None = None
    task_id: uuid.UUID | None = None
    error: str | None = None


class EnrolmentOut(BaseModel):
    id: uuid.UUID
    sequence_id: uuid.UUID
    sequence_name: str
    contact_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    email: str
    owner_id: str
    status: str
    stop_reason: str | None
    next_position: int
    next_due_at: datetime | None
    waiting_reason: str | None
    enrolled_by: str | None
    enrolled_via: str
    created_at: datetime
    finished_at: datetime | None
    steps: list[StepStatus]


class EnrolmentPage(BaseModel):
    items: list[EnrolmentOut]
    total: int
    limit: int
    offset: int

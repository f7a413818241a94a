import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from throughline_events.types import BusinessDateTime

# The values of models.TaskStatus as the HTTP API spells them (tests/crm/test_rules_unit.py keeps them in step).
TaskStatusName = Literal["open", "done"]


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    due_at: BusinessDateTime = Field(description="Due date and time, with a UTC offset")
    assignee_id: str | None = Field(None, min_length=1, max_length=64, description="Default: the caller")
    company_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None


class TaskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    due_at: BusinessDateTime | None = None
    assignee_id: str | None = Field(None, min_length=1, max_length=64)


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    title: str
    description: str | None
    due_at: datetime
    assignee_id: str
    status: str
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    completed_at: datetime | None
    completed_by: str | None
    created_by: str | None
    automation_rule_id: uuid.UUID | None
    created_at: datetime


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int


class DueLists(BaseModel):
    assignee_id: str
    as_of: datetime
    timezone: str
    overdue: list[TaskOut] = Field(description="Open tasks due before now, oldest first")
    today: list[TaskOut] = Field(description="Open tasks due from now until the end of today (in `timezone`)")
    upcoming: list[TaskOut] = Field(description="Open tasks due after today, within `days` days")

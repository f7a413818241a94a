import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.types import check_business_date

# The HTTP vocabulary is spelled out as Literals (inline enums in the OpenAPI document) and compared as such here, so
# mypy checks every spelling; they hold the values of the models' StrEnums (models.Trigger), which the code that
# reads stored rules compares with. tests/crm/test_rules_unit.py keeps the two in step.
TriggerName = Literal["stage_entered", "deal_idle", "lead_created", "deal_won"]
DEAL_TRIGGERS: tuple[TriggerName, ...] = ("stage_entered", "deal_idle", "deal_won")
DEAL_FIELDS = ("title", "expected_close_date")
LEAD_FIELDS = ("status",)
# The lead statuses (leads.models.LeadStatus) a set_field action may write: the leads package sits above the engine,
# so they are spelled out here; tests/crm/test_rules_unit.py keeps them in step.
SETTABLE_LEAD_STATUSES = ("new", "contacted", "qualified")


class CreateTask(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: Literal["create_task"] = "create_task"
    title: str = Field(min_length=1, max_length=200, description="Template: {title} is the deal title or lead name")
    description: str | None = Field(None, max_length=5000)
    due_in_hours: int = Field(24, ge=0, le=24 * 366, description="Due this long after the rule fires")
    assignee: str = Field("owner", min_length=1, max_length=64,
                          description='"owner" (the record\'s owner) or a user id')


class AssignOwner(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: Literal["assign_owner"] = "assign_owner"
    owner_id: str = Field(min_length=1, max_length=64)


class SetField(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: Literal["set_field"] = "set_field"
    field: Literal["title", "expected_close_date", "status"]
    value: str = Field(min_length=1, max_length=200)


class LogNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    type: Literal["log_note"] = "log_note"
    subject: str = Field(min_length=1, max_length=200, description="Template: {title}")
    body: str | None = Field(None, max_length=5000)


class EnrolInSequence(BaseModel):
    """Enrol the deal's contact (or the lead) in a sequence; a deal_won rule enrols them without the deal, whose
    win would otherwise stop it at once."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["enrol_in_sequence"] = "enrol_in_sequence"
    sequence_id: uuid.UUID


Action = Annotated[CreateTask | AssignOwner | SetField | LogNote | EnrolInSequence, Field(discriminator="type")]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    trigger: TriggerName
    stage_id: uuid.UUID | None = Field(None, description="stage_entered: the stage")
    idle_days: int | None = Field(None, ge=1, le=3650, description="deal_idle: days without activity")
    actions: list[Action] = Field(min_length=1, max_length=10)
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> "RuleIn":
        if (self.trigger == "stage_entered") != (self.stage_id is not None):
            raise ValueError("stage_id is required for stage_entered and only for it")
        if (self.trigger == "deal_idle") != (self.idle_days is not None):
            raise ValueError("idle_days is required for deal_idle and only for it")
        fields = DEAL_FIELDS if self.trigger in DEAL_TRIGGERS else LEAD_FIELDS
        for action in self.actions:
            if isinstance(action, SetField):
                if action.field not in fields:
                    raise ValueError(f"set_field on a {self.trigger} rule can set {', '.join(fields)}")
                if action.field == "expected_close_date":
                    check_business_date(date.fromisoformat(action.value))
                if action.field == "status" and action.value not in SETTABLE_LEAD_STATUSES:
                    raise ValueError(f"set_field status: one of {', '.join(SETTABLE_LEAD_STATUSES)}")
        return self


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    active: bool | None = None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    trigger: str
    stage_id: uuid.UUID | None
    idle_days: int | None
    actions: list[Action]
    active: bool
    created_by: str | None
    created_at: datetime


class FiringOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    rule_id: uuid.UUID
    record_id: uuid.UUID
    fired_on: date
    fired_at: datetime


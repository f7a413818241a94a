import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.types import BusinessDateTime

# The values of models.ActivityKind as the HTTP API spells them (tests/crm/test_rules_unit.py keeps them in step).
Kind = Literal["call", "email", "meeting", "note"]


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Kind
    subject: str = Field(min_length=1, max_length=200)
    body: str | None = Field(None, max_length=20_000)
    direction: Literal["inbound", "outbound"] | None = Field(None, description="For calls and emails")
    occurred_at: BusinessDateTime | None = Field(None, description="Default: now. With a UTC offset.")
    company_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _linked(self) -> "ActivityIn":
        if not (self.company_id or self.contact_id or self.deal_id or self.lead_id):
            raise ValueError("link the activity to a company, contact, deal or lead")
        if self.kind == "note" and self.direction is not None:
            raise ValueError("a note has no direction")
        return self


class ActivityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    subject: str
    body: str | None
    direction: str | None
    occurred_at: datetime
    company_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    deal_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    created_by: str | None
    automation_rule_id: uuid.UUID | None
    created_at: datetime


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    total: int
    limit: int
    offset: int

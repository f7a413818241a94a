import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from throughline_events.types import BusinessDate


class ReminderRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: BusinessDate
    client_id: uuid.UUID | None = Field(None, description="Only this client's invoices")
    invoice_id: uuid.UUID | None = Field(None, description="Only this invoice")


class ReminderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    invoice_id: uuid.UUID
    step: int
    days_after_due: int
    days_overdue: int
    as_of: date
    recipient: str | None
    channel: str
    subject: str
    body: str
    balance_due: Decimal
    late_fee: Decimal
    delivery_status: str
    delivery_error: str | None
    sent_at: datetime | None
    created_at: datetime


class ReminderRunOut(BaseModel):
    as_of: date
    reminders: list[ReminderOut]


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    total: int
    limit: int
    offset: int

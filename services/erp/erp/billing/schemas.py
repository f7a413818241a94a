import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.invoices.api import InvoiceOut
from throughline_events.money import round_money
from throughline_events.types import BusinessDate


class BillingRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: BusinessDate
    issue: bool = Field(True, description="Issue the invoices (numbered, sent); false leaves drafts")
    project_id: uuid.UUID | None = Field(None, description="Only this project's items and time")


class BillingRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    as_of: date
    issue: bool
    project_id: uuid.UUID | None
    triggered_by: str
    invoices_created: int
    items_invoiced: int
    time_entries_invoiced: int
    created_at: datetime


class BillingRunResult(BillingRunOut):
    invoices: list[InvoiceOut]


class BillingRunPage(BaseModel):
    items: list[BillingRunOut]
    total: int
    limit: int
    offset: int


class ScheduleItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    position: int
    label: str
    due_date: date | None
    amount: Decimal
    status: str
    reached_at: datetime | None
    invoice_id: uuid.UUID | None


class BillingScheduleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    project_id: uuid.UUID
    billing_type: str
    currency: str
    total: Decimal
    hourly_rate: Decimal | None
    cap: Decimal | None
    terms: dict[str, Any] | None
    items: list[ScheduleItemOut]

    @model_validator(mode="after")
    def _in_currency_units(self) -> "BillingScheduleOut":
        self.total = round_money(self.total, self.currency)
        for item in self.items:
            item.amount = round_money(item.amount, self.currency)
        return self

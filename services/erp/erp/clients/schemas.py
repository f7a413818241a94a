import uuid
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from erp.company.api import check_country


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    crm_company_id: uuid.UUID | None
    name: str
    email: str | None
    phone: str | None
    address: str | None
    billing_address: str | None
    tax_id: str | None
    payment_terms_days: int
    currency: str | None
    country: str | None
    default_tax_rate_id: uuid.UUID | None
    crm_version: int
    crm_deleted: bool
    reminder_pause: str | None = Field(None, description="Reminders paused: 'dispute' (until lifted) or 'promise' "
                                                         "(to pay by reminder_pause_until)")
    reminder_pause_until: date | None = None
    reminder_pause_note: str | None = None
    created_at: datetime
    updated_at: datetime


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    crm_contact_id: uuid.UUID
    crm_company_id: uuid.UUID | None
    name: str
    email: str | None
    phone: str | None
    crm_version: int
    crm_deleted: bool


class ClientPage(BaseModel):
    items: list[ClientOut]
    total: int
    limit: int
    offset: int


class ClientBillingIn(BaseModel):
    """The ERP-only fields finance keeps on a client."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    billing_address: str | None = Field(None, max_length=2000)
    tax_id: str | None = Field(None, max_length=50)
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    country: str | None = Field(None, description="ISO 3166-1 alpha-2: the bill-to's country")
    default_tax_rate_id: uuid.UUID | None = Field(
        None, description="The tax rate of this client's lines when a line names none; null: reverse charge is "
                          "proposed for a business client in another EU member state, else the default rate")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return check_country(value) if value else None


class ReminderPauseIn(BaseModel):
    """Pause this client's reminders: a dispute (until lifted), or a promise to pay by a date (reminders resume the
    day after, catching up the steps that came due meanwhile)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Literal["dispute", "promise"]
    until: date | None = Field(None, description="Required for a promise: the day the client promised to pay by")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _promise_has_a_date(self) -> Self:
        if self.reason == "promise" and self.until is None:
            raise ValueError("until: a promise to pay names the day it runs until")
        return self

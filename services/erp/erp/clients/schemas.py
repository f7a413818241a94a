import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

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

import uuid
from typing import Any

from pydantic import BaseModel, Field


class OverviewWarning(BaseModel):
    upstream: str = Field(description="the service that failed: crm or erp")
    part: str = Field(description="the part of the overview that is missing or incomplete")
    detail: str


class Balance(BaseModel):
    currency: str
    amount: str = Field(description="decimal string in the currency's minor units")


class CustomerOverview(BaseModel):
    """One customer across CRM and ERP. A part that could not be fetched is null and named in `warnings`."""

    company_id: uuid.UUID
    company: dict[str, Any] | None
    contacts: list[dict[str, Any]] | None
    open_deals: list[dict[str, Any]] | None
    last_activities: list[dict[str, Any]] | None
    erp_client: dict[str, Any] | None
    projects: list[dict[str, Any]] | None
    invoices: list[dict[str, Any]] | None
    balance_due: list[Balance] | None = Field(description="open invoice balances, one entry per currency")
    partial: bool
    warnings: list[OverviewWarning]

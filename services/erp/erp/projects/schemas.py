import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.projects.models import ProjectStatus
from throughline_events.money import round_money
from throughline_events.types import DecimalInput, MoneyInput


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    client_id: uuid.UUID
    deal_id: uuid.UUID | None
    owner_id: str | None
    status: str
    budget_amount: Decimal
    budget_hours: Decimal | None
    currency: str
    cost_center_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "ProjectOut":
        self.budget_amount = round_money(self.budget_amount, self.currency)
        return self


class BudgetLineOut(BaseModel):
    """A line of the quote the project was won on (its budget, line by line)."""

    model_config = ConfigDict(from_attributes=True)
    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal

    def in_currency(self, currency: str) -> "BudgetLineOut":
        self.unit_price, self.amount = round_money(self.unit_price, currency), round_money(self.amount, currency)
        return self


class ProjectPage(BaseModel):
    items: list[ProjectOut]
    total: int
    limit: int
    offset: int


class ProjectIn(BaseModel):
    """A project entered by hand (not from a won deal)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    client_id: uuid.UUID
    currency: str | None = Field(None, pattern="^[A-Z]{3}$", description="Defaults to the client's currency")
    budget_amount: MoneyInput = Field(Decimal(0), ge=0, max_digits=18, decimal_places=4)
    budget_hours: DecimalInput | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    cost_center_id: uuid.UUID | None = None
    owner_id: str | None = Field(None, max_length=64)
    status: ProjectStatus = ProjectStatus.ACTIVE


class ProjectPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=200)
    status: ProjectStatus | None = None
    budget_amount: MoneyInput | None = Field(None, ge=0, max_digits=18, decimal_places=4)
    budget_hours: DecimalInput | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    cost_center_id: uuid.UUID | None = None
    owner_id: str | None = Field(None, max_length=64)

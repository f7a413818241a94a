import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.expenses.models import RuleField
from erp.taxes.api import plain_number
from throughline_events.money import round_money
from throughline_events.types import BusinessDate, BusinessDateTime, DecimalInput, MoneyInput


class ExpenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: MoneyInput = Field(gt=0, max_digits=18, decimal_places=4)
    currency: str = Field(pattern="^[A-Z]{3}$")
    expense_date: BusinessDate
    merchant: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    category_id: uuid.UUID | None = Field(None, description="Leave out to let the category rules choose")
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    billable: bool = False
    tax_rate_id: uuid.UUID | None = Field(
        None, description="The VAT rate of the receipt (a tax rate's id; not reverse charge): its VAT is computed "
                          "from the gross `amount` and booked as input tax. Leave out for no VAT")


class ExpensePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount: MoneyInput | None = Field(None, gt=0, max_digits=18, decimal_places=4)
    currency: str | None = Field(None, pattern="^[A-Z]{3}$")
    expense_date: BusinessDate | None = None
    merchant: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    category_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    billable: bool | None = None
    tax_rate_id: uuid.UUID | None = Field(None, description="null: no VAT; left out: the rate it has")


class ExpenseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    submitted_by: str
    submitter_email: str | None
    submitter_name: str | None = Field(None, description="The submitter's name, from the people directory")
    project_id: uuid.UUID | None
    cost_center_id: uuid.UUID | None
    amount: Decimal
    currency: str
    expense_date: date
    merchant: str | None
    description: str | None
    category_id: uuid.UUID | None
    category_source: str | None
    billable: bool
    status: str
    required_approval: str | None
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    billing_status: str
    invoice_id: uuid.UUID | None
    invoiced_at: datetime | None
    reimbursed_at: datetime | None
    has_receipt: bool
    tax_rate_id: uuid.UUID | None
    tax_percent: Decimal | None = Field(description="The rate's percent when the expense was saved")
    tax_category: str | None
    tax_amount: Decimal = Field(description="Input VAT in the gross `amount`: amount x r / (100 + r)")
    net_amount: Decimal = Field(description="amount - tax_amount: the cost to the company, and what is re-billed")
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _in_currency_units(self) -> "ExpenseOut":
        self.amount = round_money(self.amount, self.currency)
        self.tax_amount = round_money(self.tax_amount, self.currency)
        self.net_amount = round_money(self.net_amount, self.currency)
        if self.tax_percent is not None:  # 19, not 19.0000, as the tax rates show it
            self.tax_percent = plain_number(self.tax_percent)
        return self


class ExpensePage(BaseModel):
    items: list[ExpenseOut]
    total: int
    limit: int
    offset: int


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str | None = Field(None, max_length=2000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    comment: str = Field(min_length=1, max_length=2000, description="Why: the submitter sees it")


class ReimburseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paid_at: BusinessDateTime | None = Field(None, description="Defaults to now; needs a UTC offset")


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    action: str
    from_status: str | None
    to_status: str
    actor_id: str
    actor_role: str
    comment: str | None
    created_at: datetime


class ReceiptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    expense_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    description: str | None


class CategoryRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category_id: uuid.UUID
    field: RuleField = RuleField.ANY
    pattern: str = Field(min_length=1, max_length=100)
    priority: int = Field(100, ge=0, le=10_000)


class CategoryRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    category_id: uuid.UUID
    field: str
    pattern: str
    priority: int


class CategorySuggestion(BaseModel):
    category: CategoryOut | None
    rule: CategoryRuleOut | None


class BillExpensesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expense_ids: list[uuid.UUID] | None = Field(
        None, max_length=500, description="Leave out to bill all of the project's unbilled expenses")
    tax_rate: DecimalInput = Field(Decimal(0), ge=0, le=100, decimal_places=4, description="Percent, on each line")

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp.taxes.models import EN16931_CODE, TaxCategory
from erp.taxes.rules import plain_number


class TaxRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    category: TaxCategory
    percent: Decimal = Field(ge=0, le=100, decimal_places=4)
    legal_note: str | None = Field(None, max_length=1000,
                                   description="Printed on invoices with this rate; required for exempt and "
                                               "reverse charge")
    is_default: bool = Field(False, description="What a line gets when neither it nor its client names a rate")
    active: bool = True


class TaxRatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    category: TaxCategory | None = None
    percent: Decimal | None = Field(None, ge=0, le=100, decimal_places=4)
    legal_note: str | None = Field(None, max_length=1000)
    is_default: bool | None = None
    active: bool | None = None


class TaxRateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    category: str
    en16931_code: str = Field("", description="The EN 16931 VAT category code (UNTDID 5305) of the category")
    percent: Decimal
    legal_note: str | None
    is_default: bool
    active: bool
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="after")
    def _code_and_plain_number(self) -> "TaxRateOut":
        self.en16931_code = EN16931_CODE[self.category]
        self.percent = plain_number(self.percent)
        return self


class TaxRatePage(BaseModel):
    items: list[TaxRateOut]
    total: int
    limit: int
    offset: int

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from erp.company.rules import check_bic, check_country, check_currency, check_iban, check_vat_id

Language = Literal["en", "de", "fr"]


class BankAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    iban: str = Field(min_length=1, max_length=42, description="Checked (schwifty); stored compact")
    bic: str | None = Field(None, max_length=11, description="Checked (schwifty); optional within SEPA")
    bank_name: str | None = Field(None, max_length=100)

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        return check_iban(value)

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        return check_bic(value) if value else None


class CompanyIn(BaseModel):
    """The whole profile (PUT replaces it): what an invoice says about its seller."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    legal_name: str = Field(min_length=1, max_length=200)
    address_lines: list[str] = Field(default_factory=list, max_length=4)
    postal_code: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    country: str = Field(description="ISO 3166-1 alpha-2")
    vat_id: str | None = Field(None, max_length=30, description="With its country prefix; checked (python-stdnum)")
    registration_number: str | None = Field(None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    website: str | None = Field(None, max_length=200)
    bank_accounts: list[BankAccount] = Field(default_factory=list, max_length=5)
    invoice_footer: str | None = Field(None, max_length=2000)
    payment_terms_days: int = Field(30, ge=0, le=365, description="Default terms of clients created from now on")
    base_currency: str = Field(description="ISO 4217; invoices without a project or client currency use it")
    invoice_language: Language = "en"

    @field_validator("address_lines")
    @classmethod
    def _lines(cls, value: list[str]) -> list[str]:
        lines = [line.strip() for line in value if line.strip()]
        if any(len(line) > 200 for line in lines):
            raise ValueError("an address line has at most 200 characters")
        return lines

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)

    @field_validator("base_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("vat_id")
    @classmethod
    def _vat_id(cls, value: str | None) -> str | None:
        return check_vat_id(value) if value else None

    @field_validator("postal_code", "city", "registration_number", "phone", "website", "invoice_footer")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    legal_name: str
    address_lines: list[str]
    postal_code: str | None
    city: str | None
    country: str
    vat_id: str | None
    registration_number: str | None
    email: str | None
    phone: str | None
    website: str | None
    bank_accounts: list[BankAccount]
    logo_sha256: str | None = Field(description="The logo (GET .../company/logo), by its content hash")
    invoice_footer: str | None
    payment_terms_days: int
    base_currency: str
    invoice_language: str
    created_at: datetime
    updated_at: datetime

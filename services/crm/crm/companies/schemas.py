import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from crm.zones import check_time_zone

DOMAIN_PATTERN = r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


# ISO 3166-1 alpha-2 ("DE"): its public holidays are not business days for sequence mail.
Country = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
# An IANA time zone name the time zone database knows ("Europe/Berlin").
TimeZone = Annotated[str, Field(max_length=64, description="IANA time zone, e.g. Europe/Berlin"),
                     AfterValidator(check_time_zone)]


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=253, pattern=DOMAIN_PATTERN)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=2000)
    industry: str | None = Field(None, max_length=100)
    size: int | None = Field(None, ge=1, le=10_000_000)
    owner_id: str | None = Field(None, max_length=64)
    country: Country | None = None
    time_zone: TimeZone | None = None


class CompanyPatch(BaseModel):
    """Only the fields sent are changed; `null` clears an optional field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=253, pattern=DOMAIN_PATTERN)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=2000)
    industry: str | None = Field(None, max_length=100)
    size: int | None = Field(None, ge=1, le=10_000_000)
    owner_id: str | None = Field(None, max_length=64)
    country: Country | None = None
    time_zone: TimeZone | None = None


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    domain: str | None
    email: str | None
    phone: str | None
    address: str | None
    industry: str | None
    size: int | None
    owner_id: str | None
    country: str | None = None
    time_zone: str | None = None
    duplicate_of: uuid.UUID | None = Field(None, description="Set when created on purpose despite a duplicate")
    version: int
    created_at: datetime
    updated_at: datetime


class CompanyPage(BaseModel):
    items: list[CompanyOut]
    total: int
    limit: int
    offset: int


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field("", max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    title: str | None = Field(None, max_length=100)
    company_id: uuid.UUID | None = None
    owner_id: str | None = Field(None, max_length=64)
    time_zone: TimeZone | None = None


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_name: str | None = Field(None, min_length=1, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    title: str | None = Field(None, max_length=100)
    company_id: uuid.UUID | None = None
    owner_id: str | None = Field(None, max_length=64)
    time_zone: TimeZone | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    phone: str | None
    title: str | None
    company_id: uuid.UUID | None
    owner_id: str | None
    time_zone: str | None = None
    duplicate_of: uuid.UUID | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class ContactPage(BaseModel):
    items: list[ContactOut]
    total: int
    limit: int
    offset: int

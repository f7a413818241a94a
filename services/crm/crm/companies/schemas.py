import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=253, pattern=r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=2000)
    industry: str | None = Field(None, max_length=100)
    size: int | None = Field(None, ge=1, le=10_000_000)
    owner_id: str | None = Field(None, max_length=64)


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
    version: int
    created_at: datetime
    updated_at: datetime


class CompanyPage(BaseModel):
    items: list[CompanyOut]
    total: int
    limit: int
    offset: int

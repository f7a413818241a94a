import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

Role = Literal["admin", "sales", "finance", "project_manager", "viewer"]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=8, max_length=200)
    full_name: str = Field("", max_length=200)
    role: Role


class UserPatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    role: Role | None = None
    active: bool | None = None
    full_name: str | None = Field(None, max_length=200)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int

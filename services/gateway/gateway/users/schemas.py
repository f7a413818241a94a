import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Role = Literal["admin", "sales", "finance", "project_manager", "member", "viewer"]
# A new password as typed: never trimmed (a space is a character; gateway/credentials/passwords.py normalises it the
# same way on every path and checks the policy: 8 to 200 characters, not a common password).
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=8, max_length=200)]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    email: EmailStr = Field(max_length=320)
    password: NewPassword | None = Field(None, description="Omit to invite: the account has no usable password "
                                                           "until its user sets one through a set-password link "
                                                           "(POST /api/auth/users/{id}/password-link)")
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
    password: NewPassword


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


class PasswordLinkOut(BaseModel):
    token: str = Field(description="For POST /api/auth/set-password; works once, until expires_at")
    path: str = Field(description="The web app's page for it, to append to the app's address")
    expires_at: datetime


class SetPasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=4096)
    password: NewPassword


class SetPasswordOut(BaseModel):
    email: str = Field(description="The account's email, to log in with the new password")


class ColleagueOut(BaseModel):
    """What every user may know of the others: enough to choose an owner or an assignee."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    full_name: str
    role: Role

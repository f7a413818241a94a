import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ListName(StrEnum):
    """The lists that keep saved views: the web app's screens with filters."""

    PIPELINE = "pipeline"
    LEADS = "leads"
    INVOICES = "invoices"


MAX_FILTERS = 20


def _checked(filters: dict[str, str]) -> dict[str, str]:
    if len(filters) > MAX_FILTERS:
        raise ValueError(f"at most {MAX_FILTERS} filters")
    for key, value in filters.items():
        if not (1 <= len(key) <= 40 and key.replace("_", "").isalnum() and key.isascii() and key.islower()):
            raise ValueError(f"filter name {key[:40]!r}: lower-case letters, digits and _ only, 1 to 40 of them")
        if len(value) > 200:
            raise ValueError(f"filter {key}: at most 200 characters")
    return filters


class ViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    list: ListName = Field(description="which list the view filters")
    name: str = Field(min_length=1, max_length=100, description="unique per person and list")
    filters: dict[str, str] = Field(description="the list's query parameters, e.g. {\"owner\": \"mine\"}")

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, str]) -> dict[str, str]:
        return _checked(value)


class ViewPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    filters: dict[str, str] | None = None

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else _checked(value)


class ViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)
    id: uuid.UUID
    list: ListName = Field(validation_alias="list_name")
    name: str
    filters: dict[str, str]
    created_at: datetime
    updated_at: datetime


class ViewList(BaseModel):
    items: list[ViewOut]

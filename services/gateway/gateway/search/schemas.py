import uuid
from typing import Literal

from pydantic import BaseModel, Field

from gateway.customers.schemas import OverviewWarning

HitType = Literal["company", "contact", "deal", "lead", "project", "invoice"]


class SearchHit(BaseModel):
    type: HitType
    id: uuid.UUID
    title: str
    subtitle: str = Field(description="what tells two hits of the same title apart (a domain, an email, a client)")
    link: str = Field(description="the record's page in the web app, e.g. #/contacts/{id}")
    score: float = Field(description="higher ranks first")


class SearchResults(BaseModel):
    """The hits the caller's role may read, best first. A service that could not answer is named in `warnings`."""

    q: str
    words: list[str] = Field(description="the query's words as searched (lower case)")
    types: list[HitType] = Field(description="the types searched: those asked for that the caller's role may read")
    hits: list[SearchHit]
    partial: bool
    warnings: list[OverviewWarning]

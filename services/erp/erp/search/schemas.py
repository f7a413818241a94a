import uuid
from enum import StrEnum

from pydantic import BaseModel, Field


class SearchType(StrEnum):
    PROJECT = "project"
    INVOICE = "invoice"


class SearchHit(BaseModel):
    type: SearchType
    id: uuid.UUID
    title: str
    subtitle: str = Field(description="what tells two hits of the same title apart (the client, a status, a total)")
    score: float = Field(description="higher ranks first; comparable with the CRM's scores")


class SearchResults(BaseModel):
    words: list[str] = Field(description="the query's words as searched (lower case, at most 8)")
    hits: list[SearchHit] = Field(description="the best hits of each type asked for, best first")

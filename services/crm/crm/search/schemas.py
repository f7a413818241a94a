import uuid
from enum import StrEnum

from pydantic import BaseModel, Field


class SearchType(StrEnum):
    COMPANY = "company"
    CONTACT = "contact"
    DEAL = "deal"
    LEAD = "lead"


class SearchHit(BaseModel):
    type: SearchType
    id: uuid.UUID
    title: str
    subtitle: str = Field(description="what tells two hits of the same title apart (a domain, an email, a status)")
    score: float = Field(description="higher ranks first; comparable with the ERP's scores")


class SearchResults(BaseModel):
    words: list[str] = Field(description="the query's words as searched (lower case, at most 8)")
    hits: list[SearchHit] = Field(description="the best hits of each type asked for, best first")

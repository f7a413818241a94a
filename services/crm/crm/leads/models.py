import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, Entity
from throughline_messaging.aggregate import RecordsEvents


class LeadStatus(StrEnum):
    """The `leads.status` column. PATCH sets the first four (disqualified with a reason); only conversion sets
    converted, after which the lead is read-only."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"


class AssignmentStrategy(StrEnum):
    """The `assignment_rules.strategy` column: round_robin rules take every lead, by_source rules one source."""

    ROUND_ROBIN = "round_robin"
    BY_SOURCE = "by_source"


class Lead(RecordsEvents, Entity):
    __tablename__ = "leads"

    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    company_name: Mapped[str | None] = mapped_column(String(200))
    company_domain: Mapped[str | None] = mapped_column(String(253))
    company_size: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=LeadStatus.NEW)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer, default=0)
    score_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    disqualified_reason: Mapped[str | None] = mapped_column(Text)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class AssignmentRule(Entity):
    """Who gets new leads without an owner: round robin over a list of users, optionally only for one source."""

    __tablename__ = "assignment_rules"

    name: Mapped[str] = mapped_column(String(100))
    strategy: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(30))
    owner_ids: Mapped[list[str]] = mapped_column(JSONB)
    position: Mapped[int] = mapped_column(Integer, default=100)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaptureKey(Entity):
    """A key a website form posts leads with (POST /api/crm/lead-capture). It can do nothing but capture: it is not a
    token and opens no other endpoint, because it is public (it sits in the website's HTML). Only its SHA-256 is
    stored; the key is shown once, at creation. A request that names an Origin (every browser's does) must come
    from one of `allowed_origins`."""

    __tablename__ = "capture_keys"

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSONB, default=list)
    thank_you_url: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaptureSubmission(Base):
    """One submitted form, by the key it came with and the random id the form's snippet put in it: a second post of
    the same submission (a double click, a browser resending) finds this row and creates no second lead."""

    __tablename__ = "capture_submissions"

    submission: Mapped[str] = mapped_column(String(200), primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("leads.id", deferrable=True, initially="DEFERRED"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

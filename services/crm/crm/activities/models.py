import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Entity

KINDS = ("call", "email", "meeting", "note")


class Activity(Entity):
    """A call, email, meeting or note, linked to a company, contact, deal and/or lead."""

    __tablename__ = "activities"

    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[str | None] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[str | None] = mapped_column(String(64))
    automation_rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

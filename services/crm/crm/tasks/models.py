import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Entity


class TaskStatus(StrEnum):
    """The `tasks.status` column: open until completed; a done task may be reopened."""

    OPEN = "open"
    DONE = "done"


class Task(Entity):
    """A follow-up: due at a moment, assigned to a user, optionally linked to a company/contact/deal/lead."""

    __tablename__ = "tasks"

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    assignee_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default=TaskStatus.OPEN)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))
    automation_rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

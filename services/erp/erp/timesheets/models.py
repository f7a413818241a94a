import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base


class RunningTimer(Base):
    """A person's running timer: at most one (the person is the key). Stopping it books the elapsed time."""

    __tablename__ = "running_timers"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"))
    billable: Mapped[bool] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

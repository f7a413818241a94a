import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, utcnow


class Person(Base):
    """Someone whose time and expenses the ERP books: made from a gateway user (`gateway.user.events`), with the same
    id, so that a time entry's `person_id` and a token's subject name the same person. The gateway owns the name,
    email, role and active flag; the ERP owns the department and cost center. Weekly capacity, cost and list rates are
    dated series in `erp.rates`, keyed by the same id."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    department: Mapped[str | None] = mapped_column(String(100))
    cost_center_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cost_centers.id"))
    # When the gateway made the change this row holds: an older event (a replayed dead letter) changes nothing.
    user_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ARRAY, DateTime, ForeignKey, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, Entity, utcnow
from throughline_messaging.aggregate import RecordsEvents

# The alert thresholds of a project that has not chosen its own, in percent of its budget.
DEFAULT_THRESHOLDS = (50, 80, 100)


class Measure(StrEnum):
    HOURS = "hours"  # hours logged vs the budget's hours
    MONEY = "money"  # cost of time and approved expenses vs the budget's amount


class BudgetSettings(Base):
    """A project's own alert thresholds (absent: DEFAULT_THRESHOLDS)."""

    __tablename__ = "project_budget_settings"

    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"), primary_key=True)
    thresholds: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class BudgetAlert(RecordsEvents, Entity):
    """A threshold a project's burn reached, against the budget it had then: one row per (project, measure,
    threshold, budget), so a threshold fires once per budget (docs/decisions.md, 132)."""

    __tablename__ = "project_budget_alerts"

    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"))
    measure: Mapped[str] = mapped_column(String(10))  # a Measure
    threshold: Mapped[int] = mapped_column(Integer)
    budget: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    actual: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    reached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

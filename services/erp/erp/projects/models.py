import uuid
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity
from throughline_messaging.aggregate import RecordsEvents


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"  # may be reopened for late work
    CANCELLED = "cancelled"  # final: takes no more time or costs, is not billed


class Project(RecordsEvents, Entity):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("clients.id"), index=True)
    # Unique: a deal becomes at most one project, whatever the event delivery does.
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=ProjectStatus.ACTIVE)
    budget_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    budget_hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    cost_center_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class BudgetLine(Entity):
    """A line of the quote the project's deal was won on (deal.won's `lines`): the project's budget, line by line.
    The invoices of its billing schedule spread each item over these lines, naming them (erp/billing/runs.py)."""

    __tablename__ = "project_budget_lines"

    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))

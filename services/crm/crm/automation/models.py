import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Entity


class Trigger(StrEnum):
    """When a rule fires (the `automation_rules.trigger` column). stage_entered names its stage, deal_idle its
    days without activity; the scheduler evaluates deal_idle, the changes themselves fire the others."""

    STAGE_ENTERED = "stage_entered"
    DEAL_IDLE = "deal_idle"
    LEAD_CREATED = "lead_created"
    DEAL_WON = "deal_won"


class AutomationRule(Entity):
    __tablename__ = "automation_rules"

    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(20))
    stage_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    idle_days: Mapped[int | None] = mapped_column(Integer)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))


class AutomationFiring(Entity):
    """One rule fired for one record on one day: the unique key is the never-twice guarantee."""

    __tablename__ = "automation_firings"
    __table_args__ = (
        UniqueConstraint("rule_id", "record_id", "fired_on", name="uq_automation_firings_rule_record_day"),
    )

    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    fired_on: Mapped[date] = mapped_column(Date)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

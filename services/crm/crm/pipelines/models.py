import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Entity


class StageKind(StrEnum):
    """What entering a stage means for a deal (the `stages.kind` column): still open, won or lost. A pipeline has
    open stages in order, then exactly one won and one lost stage: the members are declared in that order."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Pipeline(Entity):
    __tablename__ = "pipelines"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    stages: Mapped[list["Stage"]] = relationship(
        order_by="Stage.position", lazy="selectin", back_populates="pipeline",
        primaryjoin="and_(Pipeline.id == Stage.pipeline_id, Stage.archived_at.is_(None))", viewonly=True)


class Stage(Entity):
    __tablename__ = "stages"

    pipeline_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("pipelines.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    kind: Mapped[str] = mapped_column(String(10), default=StageKind.OPEN)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pipeline: Mapped[Pipeline] = relationship(back_populates="stages", viewonly=True)

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class CostCenter(Entity):
    """Where a cost is booked when it is not (only) a project's: a department, a team, overhead."""

    __tablename__ = "cost_centers"

    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Entity


class ErpFact(Entity):
    """Something the ERP told us (project created, invoice issued/paid/overdue...), for the sales timeline."""

    __tablename__ = "erp_facts"
    __table_args__ = (
        Index("ix_erp_facts_company", "company_id", "occurred_at"),
        Index("ix_erp_facts_deal", "deal_id", "occurred_at"),
    )

    kind: Mapped[str] = mapped_column(String(50))
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)

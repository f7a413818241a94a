import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, utcnow


class InvoiceDocument(Base):
    """An issued invoice's (or credit note's) document at one revision: the PDF/A-3 with its embedded e-invoice
    XML, rendered once by whoever asked first (a request or the scheduler), then only ever read. A trigger refuses
    UPDATE (migration 0008)."""

    __tablename__ = "invoice_documents"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_type: Mapped[str] = mapped_column(String(50), default="application/pdf")
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    e_invoice_xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    render_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, utcnow


class CompanyProfile(Base):
    """Our company: the seller on every invoice. One row (`key` = 1), replaced by PUT /api/erp/settings/company.
    Invoices copy it when they are issued (`invoices.seller`), so a change never alters an issued invoice."""

    __tablename__ = "company_profile"

    key: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    legal_name: Mapped[str] = mapped_column(String(200))
    address_lines: Mapped[list[str]] = mapped_column(JSONB, default=list)
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    registration_number: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    website: Mapped[str | None] = mapped_column(String(200))
    # [{"iban", "bic", "bank_name"}], the first is the one invoices print and the payment QR code names.
    bank_accounts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    invoice_footer: Mapped[str | None] = mapped_column(Text)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    base_currency: Mapped[str] = mapped_column(String(3))
    invoice_language: Mapped[str] = mapped_column(String(5), default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CompanyLogo(Base):
    """A logo by its content hash: written once, never changed, so a snapshot that names it always finds it."""

    __tablename__ = "company_logos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

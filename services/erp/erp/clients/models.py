import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, FetchedValue, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class Client(Entity):
    """A CRM company as the ERP bills it: a replica of the CRM's fields plus the ERP's own."""

    __tablename__ = "clients"

    crm_company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    # The CRM version this replica reflects: older or repeated updates are ignored.
    crm_version: Mapped[int] = mapped_column(Integer, default=0)
    crm_deleted: Mapped[bool] = mapped_column(default=False)
    # ERP-only fields, never overwritten by CRM events.
    billing_address: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(String(50))
    # Left out on insert: the column's default is the company's default payment terms (migration 0008).
    payment_terms_days: Mapped[int] = mapped_column(Integer, server_default=FetchedValue())
    currency: Mapped[str | None] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, for the bill-to
    # The tax rate of this client's lines when a line names none (else reverse charge is proposed for a business
    # client in another EU member state, else the default rate): erp.taxes.
    default_tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("tax_rates.id"))
    replicated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Reminders paused for this client (the reminder run skips its invoices): a dispute (until lifted), or a promise
    # to pay by `reminder_pause_until` (reminders resume the day after).
    reminder_pause: Mapped[str | None] = mapped_column(String(10))
    reminder_pause_until: Mapped[date | None] = mapped_column(Date)
    reminder_pause_note: Mapped[str | None] = mapped_column(Text)


class ClientContact(Entity):
    """A CRM contact as the ERP knows it (whom invoices and reminders go to): a replica, newest version wins."""

    __tablename__ = "client_contacts"

    crm_contact_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    crm_company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    crm_version: Mapped[int] = mapped_column(Integer, default=0)
    crm_deleted: Mapped[bool] = mapped_column(default=False)

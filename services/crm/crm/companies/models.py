import uuid
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Entity
from throughline_messaging.aggregate import RecordsEvents


class Company(RecordsEvents, Entity):
    __tablename__ = "companies"

    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    # ISO 3166-1 alpha-2: whose public holidays are not business days for its sequence mail (docs/crm-communications.md)
    country: Mapped[str | None] = mapped_column(String(2))
    # IANA name: when its people's sequence mail may go out, unless a contact has its own.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Bumped on every change and carried in events: the ERP replica ignores anything older than it has.
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Contact(RecordsEvents, Entity):
    __tablename__ = "contacts"

    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    # IANA name: the send window of sequence mail is in it (else the company's, else CRM_DEFAULT_TIME_ZONE).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

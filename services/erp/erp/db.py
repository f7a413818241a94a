"""The ERP's metadata: its own tables plus the shared outbox, inbox and idempotency keys."""

from sqlalchemy.orm import DeclarativeBase

from throughline_messaging.tables import idempotency_table, service_metadata
from throughline_platform.db import EntityColumns, utcnow

metadata, outbox, inbox = service_metadata()
idempotency = idempotency_table(metadata)

__all__ = ["Base", "Entity", "idempotency", "inbox", "metadata", "outbox", "utcnow"]


class Base(DeclarativeBase):
    metadata = metadata


class Entity(EntityColumns, Base):
    __abstract__ = True

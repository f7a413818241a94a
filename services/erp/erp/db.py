"""The ERP's metadata: its own tables plus the shared outbox and inbox."""

from sqlalchemy.orm import DeclarativeBase

from throughline_messaging.tables import service_metadata
from throughline_platform.db import EntityColumns, utcnow

metadata, outbox, inbox = service_metadata()

__all__ = ["Base", "Entity", "inbox", "metadata", "outbox", "utcnow"]


class Base(DeclarativeBase):
    metadata = metadata


class Entity(EntityColumns, Base):
    __abstract__ = True

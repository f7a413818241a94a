"""The outbox and inbox tables, added to a service's own metadata (each service owns its database)."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from throughline_platform.db import new_metadata


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("message_key", String(100), nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # The relay only ever scans what is unpublished; keep that scan tiny however big the table grows.
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer_group", String(100), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
    )


def create_messaging_tables_sql() -> list[str]:
    """DDL for Alembic migrations, so both services create identical tables."""
    return [
        """
        CREATE TABLE outbox (
            id BIGSERIAL PRIMARY KEY,
            event_id UUID NOT NULL UNIQUE,
            event_type VARCHAR(100) NOT NULL,
            topic VARCHAR(200) NOT NULL,
            message_key VARCHAR(100) NOT NULL,
            value BYTEA NOT NULL,
            headers JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            published_at TIMESTAMPTZ
        )""",
        "CREATE INDEX ix_outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
        """
        CREATE TABLE inbox (
            consumer_group VARCHAR(100) NOT NULL,
            event_id UUID NOT NULL,
            event_type VARCHAR(100) NOT NULL,
            topic VARCHAR(200) NOT NULL,
            partition INTEGER NOT NULL,
            "offset" BIGINT NOT NULL,
            processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT pk_inbox PRIMARY KEY (consumer_group, event_id)
        )""",
    ]


def service_metadata() -> tuple[MetaData, Table, Table]:
    """A service's metadata with the shared outbox and inbox tables already in it."""
    metadata = new_metadata()
    return metadata, outbox_table(metadata), inbox_table(metadata)

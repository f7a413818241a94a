"""The outbox, inbox and idempotency tables, added to a service's own metadata (each service owns its database)."""

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


def idempotency_table(metadata: MetaData) -> Table:
    """(principal, Idempotency-Key) -> the request's hash and the answer it got (throughline_messaging.idempotency).
    `status` is NULL only while a request that commits before it answers is running."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("principal", String(80), nullable=False),
        Column("key", String(200), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=True),
        Column("content_type", String(200), nullable=True),
        Column("body", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("principal", "key", name="pk_idempotency_keys"),
        Index("ix_idempotency_keys_created_at", "created_at"),  # the purge deletes the oldest
    )


def create_idempotency_table_sql() -> list[str]:
    """DDL for Alembic migrations, so both services create identical tables."""
    return [
        """
        CREATE TABLE idempotency_keys (
            principal VARCHAR(80) NOT NULL,
            key VARCHAR(200) NOT NULL,
            request_hash VARCHAR(64) NOT NULL,
            status INTEGER,
            content_type VARCHAR(200),
            body BYTEA,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT pk_idempotency_keys PRIMARY KEY (principal, key)
        )""",
        "CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)",
    ]


def create_outbox_table_sql() -> list[str]:
    """DDL of the outbox alone, for a database that publishes events but reads none (the gateway's)."""
    return create_messaging_tables_sql()[:2]


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

"""Database engines (SQLAlchemy async with asyncpg, one pool per process) and what every service's tables share."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Uuid, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# Constraint and index names as the migrations write them: a model and its migration name them alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class EntityColumns:
    """The columns every entity table has: a UUID key and when the row was created and last changed. Mixed into
    each service's own declarative `Entity` (each service has its own metadata, so its own base classes)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


def new_engine(url: str, *, pool_size: int = 10, max_overflow: int = 0,
               application_name: str = "throughline") -> AsyncEngine:
    """A fixed pool of `pool_size` connections by default: a request beyond it waits its turn. Overflow
    connections are closed again as soon as they are returned to a full pool, so under a steady load above
    `pool_size` every request paid for a new connection (a PostgreSQL backend started, authenticated, its
    prepared statements made again): docs/perf-notes/connections-and-plans.md. `application_name` is what
    `pg_stat_activity` shows for these connections: which process holds them."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        # asyncpg's statement cache keeps prepared statements per connection: repeated queries skip parsing.
        connect_args={"server_settings": {"application_name": application_name}},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, record: ConnectionPoolEntry,
                              proxy: PoolProxiedConnection) -> None:
    """Stands in for `pool_pre_ping` without its round trips. When PostgreSQL restarts or ends a session it
    closes the socket, and asyncpg, whose transport always reads, marks the connection closed as soon as the
    event loop sees that: a local check finds it. Raising DisconnectionError makes the pool discard the
    connection and hand out a new one. (The asyncpg dialect's pre-ping costs BEGIN, `;` and ROLLBACK: three
    round trips per checkout, in every process; figures in docs/perf-notes/win-path.md.)"""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database closed this pooled connection")


def new_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN of an SQLAlchemy URL, for raw asyncpg connections (LISTEN, advisory locks)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

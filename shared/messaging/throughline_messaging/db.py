"""Database engines: SQLAlchemy async with asyncpg, one pool per process."""

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def new_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        # asyncpg's statement cache keeps prepared statements per connection: repeated queries skip parsing.
        connect_args={"server_settings": {"application_name": "throughline"}},
    )


def new_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN of an SQLAlchemy URL, for raw asyncpg connections (LISTEN, advisory locks)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

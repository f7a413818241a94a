"""Which failures are the infrastructure's (wait and retry, however long) and which are the event's own."""

import asyncpg
from sqlalchemy import exc as sa_exc

_TRANSIENT_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.TooManyConnectionsError,
    # 55000: what a database answers while it refuses connections (ALLOW_CONNECTIONS false, maintenance).
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError,
)


def is_transient(error: BaseException) -> bool:
    """True when retrying the same work later can succeed: the database or the network was away."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT_DRIVER_ERRORS):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)):
            return True
        current = current.__cause__ or current.__context__
    return False

"""Counting the SQL statements a service call sends, for the tests that hold a request to a number of round trips
(the timesheet's save and load, a project's budget figures and threshold checks)."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from erp.db import outbox
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.db import new_session_factory


async def statements_sent(engine: AsyncEngine, call: Callable[[UnitOfWork], Awaitable[Any]]) -> tuple[Any, list[str]]:
    """What `call(uow)` answers and the statements it sent, each cut to 80 characters (BEGIN and COMMIT not
    counted: the driver sends them by its own calls)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split())[:80])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        writer = OutboxWriter("erp", outbox, notify_channel="outbox_erp")
        async with UnitOfWork(new_session_factory(engine), writer) as uow:
            answer = await call(uow)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return answer, sent

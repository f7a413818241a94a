"""FastAPI dependencies of an event-driven service: the unit of work, for writing or for reading."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from throughline_messaging.idempotency import UOW_SCOPE_KEY
from throughline_messaging.runtime import ServiceRuntime
from throughline_messaging.uow import UnitOfWork


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def _unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    held: UnitOfWork | None = request.scope.get(UOW_SCOPE_KEY)
    if held is not None:
        # A request with an Idempotency-Key: its unit of work is deferred, and the idempotency middleware commits
        # it together with the answer, then closes it.
        yield held
        return
    async with _runtime(request).uow() as uow:
        yield uow


async def _read_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work for reading only, whose statements each run on their own: no BEGIN before the first and no
    ROLLBACK after the last, two round trips of a pooled connection fewer per request. Under READ COMMITTED,
    PostgreSQL's default and ours, each statement of a transaction reads its own snapshot anyway, so the
    transaction promised a read nothing more. Not for what needs one: `SET LOCAL`, server-side cursors
    (`session.stream`), row locks, or any write. A request refused before its first statement (a bad token, a
    missing role) takes no pooled connection."""
    async with _runtime(request).read_uow() as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(_unit_of_work)]
ReadUoW = Annotated[UnitOfWork, Depends(_read_unit_of_work)]

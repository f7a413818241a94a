"""`page_with_total` on a real PostgreSQL: the totals are right for every kind of page, and the count runs only
when the page cannot tell it."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.stack import Stack
from throughline_platform.db import new_engine, new_session_factory
from throughline_platform.paging import page_with_total

NUMBERS = Table("paging_numbers", MetaData(), Column("n", Integer, primary_key=True))
ROWS = 5


@pytest.fixture(scope="module")
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = new_engine(stack.database_urls["crm"], pool_size=1)
    async with engine.begin() as conn:
        await conn.run_sync(NUMBERS.metadata.create_all)
        await conn.execute(NUMBERS.delete())
        await conn.execute(NUMBERS.insert(), [{"n": n} for n in range(1, ROWS + 1)])
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(NUMBERS.metadata.drop_all)
        await engine.dispose()


@pytest.mark.parametrize(("limit", "offset", "matching", "page", "total", "statements"), [
    (10, 0, True, [1, 2, 3, 4, 5], 5, 1),   # the first page holds everything
    (2, 0, True, [1, 2], 5, 2),             # a full page: only a count can tell what follows
    (2, 4, True, [5], 5, 1),                # the last page, short: the list ends here
    (2, 10, True, [], 5, 2),                # past the end: the list ended somewhere before
    (10, 0, False, [], 0, 1),               # nothing matches
    (5, 0, True, [1, 2, 3, 4, 5], 5, 2),    # a page exactly full: there might be more
])
async def test_totals_and_statements(engine: AsyncEngine, limit: int, offset: int, matching: bool, page: list[int],
                                     total: int, statements: int) -> None:
    executed: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        executed.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with new_session_factory(engine)() as session:
            query = select(NUMBERS.c.n).where(NUMBERS.c.n > (0 if matching else ROWS))
            rows, counted = await page_with_total(session, query, NUMBERS.c.n, limit=limit, offset=offset)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert (rows, counted) == (page, total)
    assert len([s for s in executed if "paging_numbers" in s]) == statements

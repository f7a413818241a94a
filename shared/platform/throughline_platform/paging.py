"""A page of a list and the list's total, counting only when the page cannot tell."""

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def page_with_total(session: AsyncSession, query: Select[T], *order_by: Any, limit: int,
                          offset: int) -> tuple[list[T], int]:
    """The rows of `query` from `offset` on, at most `limit` of them in `order_by` order, and how many rows the
    whole query has.

    A page shorter than the limit ends the list, so when it holds rows, or is the first page, the total is
    `offset` plus its rows, and no count runs. Most filtered lists (a deal's project, an invoice's payments,
    one client's invoices) fit in their first page, so they cost one statement instead of two. The count runs
    only for a full page, or an empty one past the first (where the list may end anywhere before `offset`)."""
    rows = list((await session.execute(query.order_by(*order_by).limit(limit).offset(offset))).scalars())
    if len(rows) < limit and (rows or offset == 0):
        return rows, offset + len(rows)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    return rows, int(total)

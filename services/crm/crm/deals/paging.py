"""Deal lists at volume: keyset cursors and totals that do not count every matching row.

A cursor names the last row of a page (its sort value and id); the next page starts right after it, so page
2,000 costs what page 1 costs (an offset makes PostgreSQL walk past every skipped row). `limit`/`offset` keep
working as before. The total is exact up to EXACT_TOTAL_UP_TO matching rows; above that it is the planner's
estimate (and says so), since an exact count reads every matching row on every page request."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from crm.deals.models import Deal
from throughline_platform.problems import Unprocessable

EXACT_TOTAL_UP_TO = 10_000

# How each sortable column's value is read back from a cursor.
_PARSE: dict[str, Callable[[str], Any]] = {
    "created_at": datetime.fromisoformat, "updated_at": datetime.fromisoformat, "amount": Decimal,
    "expected_close_date": date.fromisoformat, "title": str,
}


@dataclass(frozen=True)
class Cursor:
    value: Any  # the sort column's value in the last row of the previous page (None: that row had none)
    last_id: uuid.UUID


def encode_cursor(sort: str, descending: bool, last: Deal) -> str:
    value = getattr(last, sort)
    raw = {"sort": sort, "order": "desc" if descending else "asc", "id": str(last.id),
           "value": None if value is None else value.isoformat() if isinstance(value, date) else str(value)}
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: str, descending: bool) -> Cursor:
    """The cursor's position; 422 when it is not one of ours or was made for another sort order."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if raw["sort"] != sort or raw["order"] != ("desc" if descending else "asc"):
            raise Unprocessable("cursor: it was made for another sort or order; send the same sort and order "
                                "as the request that returned it.")
        value = raw["value"]
        return Cursor(value=None if value is None else _PARSE[sort](value), last_id=uuid.UUID(raw["id"]))
    except (ValueError, KeyError, TypeError, InvalidOperation, binascii.Error):
        raise Unprocessable("cursor: not a cursor returned by this list (next_cursor).") from None


def after(cursor: Cursor, column: Any, *, descending: bool, nullable: bool) -> ColumnElement[bool]:
    """Rows that come after the cursor in `ORDER BY column [DESC] NULLS LAST, id`."""
    if cursor.value is None:  # already among the rows without a value, ordered by id
        return and_(column.is_(None), Deal.id > cursor.last_id)
    # Written as a range (<= / >=) plus a tie-break so that an index on the column serves it.
    if descending:
        beyond = and_(column <= cursor.value, or_(column < cursor.value, Deal.id > cursor.last_id))
    else:
        beyond = and_(column >= cursor.value, or_(column > cursor.value, Deal.id > cursor.last_id))
    return or_(beyond, column.is_(None)) if nullable else beyond


class _Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <select>`, with the select's parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain)
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


async def total_of(session: AsyncSession, matching: Select[Any]) -> tuple[int, bool]:
    """(total, is_estimate) for a select of the matching rows: counts at most EXACT_TOTAL_UP_TO + 1 of them,
    and above that takes the planner's row estimate (never below what was counted)."""
    ids = matching.with_only_columns(Deal.id)
    counted = int((await session.execute(
        select(func.count()).select_from(ids.limit(EXACT_TOTAL_UP_TO + 1).subquery()))).scalar_one())
    if counted <= EXACT_TOTAL_UP_TO:
        return counted, False
    plan = (await session.execute(_Explain(ids))).scalar_one()
    estimate = int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
    return max(estimate, counted), True

"""Many rows in one INSERT whose SQL does not depend on how many: one array per column, unnested.

`INSERT INTO t (a, b) SELECT * FROM unnest(:a, :b)` is compiled once by SQLAlchemy, prepared once per
connection by PostgreSQL and executed as one statement. A multi-row VALUES list is compiled afresh for
every row count; an executemany runs the statement once per row (measured on the embedded PostgreSQL with
1,500-row batches: 7 instead of 10.5 microseconds of PostgreSQL CPU per row, and less Python per row).
PostgreSQL only, like the rest of the persistence code.
"""

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Numeric, String, Table, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine


def insert_from_arrays(table: Table, columns: Sequence[str], prefix: str = "",
                       where: Callable[[TableValuedAlias], ColumnElement[bool]] | None = None) -> Insert:
    """The statement; bind one list per column, named like the column after `prefix` (`arrays` builds them).
    Columns left out take their server defaults (never a Python-side default: name those columns). `where`,
    given the unnested rows, keeps only the rows it is true for."""
    rows = (func.unnest(*(bindparam(prefix + c, type_=_array_of(table.c[c].type)) for c in columns))
            .table_valued(*columns).render_derived())
    selected = select(*rows.c) if where is None else select(*rows.c).where(where(rows))
    return insert(table).from_select(list(columns), selected, include_defaults=False)


def _array_of(column_type: TypeEngine[Any]) -> ARRAY[Any]:
    """An array of the column's type without its length or scale. The arrays are cast explicitly, and an
    explicit cast to varchar(200) cuts a longer value silently; without the length, a value that does not
    fit fails when it is assigned to the column, as it would in a plain INSERT."""
    if isinstance(column_type, String):
        return ARRAY(Text())
    if isinstance(column_type, Numeric):
        return ARRAY(Numeric())
    return ARRAY(column_type)


def arrays(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    return {c: [row[c] for row in rows] for c in columns}


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns (the others take their server defaults)."""
    if not rows:
        return
    columns = tuple(rows[0])
    await session.execute(_insert_statement(table, columns), arrays(rows, columns))


@lru_cache(maxsize=256)
def _insert_statement(table: Table, columns: tuple[str, ...]) -> Insert:
    """One statement object per table and column list: building it, and SQLAlchemy's cache key for it (which
    it memoises on the object), cost more CPU than running it for the one or two rows of a quiet moment
    (9 % of the ERP worker in the full-path benchmark)."""
    return insert_from_arrays(table, columns)


def part_prefix(n: int) -> str:
    """The prefix of part n's parameters in `chained_arrays`."""
    return f"t{n}_"


def chained_arrays(parts: Sequence[tuple[Sequence[dict[str, Any]], Sequence[str]]]) -> dict[str, list[Any]]:
    """The parameters of several `insert_from_arrays` chained in one statement (each made with the prefix
    `part_prefix(n)`), so that two tables' columns of the same name stay apart: per part, its rows and its
    columns in the same order."""
    return {part_prefix(n) + c: [row[c] for row in rows] for n, (rows, columns) in enumerate(parts) for c in columns}

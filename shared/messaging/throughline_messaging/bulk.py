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


def insert_chain_from_arrays(parts: Sequence[tuple[Table, Sequence[str]]]) -> Insert:
    """Several tables' `insert_from_arrays` as ONE statement: every part but the last is a data-modifying
    CTE, the last is the statement itself (`WITH t0 AS (INSERT ...), t1 AS (INSERT ...) INSERT ...`). Bind
    part n's column c as `chained_arrays` names it (`t<n>_<c>`), so that two tables' columns of the same name
    stay apart.

    PostgreSQL runs all the parts in one snapshot: no part sees the rows another inserts, so none may depend on
    reading them. Foreign keys between the parts are fine, in either order: PostgreSQL checks non-deferred
    constraints when the whole statement ends, when every part's rows exist (and a reference to a row that
    exists nowhere still fails; tests/integration/test_deal_won_batches.py)."""
    inserts = [insert_from_arrays(table, columns, part_prefix(n)) for n, (table, columns) in enumerate(parts)]
    *ctes, last = inserts
    return last.add_cte(*(statement.cte(f"t{n}") for n, statement in enumerate(ctes)))


def part_prefix(n: int) -> str:
    """The prefix of part n's parameters in `chained_arrays`, for statements that chain parts their own way."""
    return f"t{n}_"


def chained_arrays(parts: Sequence[tuple[Sequence[dict[str, Any]], Sequence[str]]]) -> dict[str, list[Any]]:
    """The parameters of `insert_chain_from_arrays`: per part, its rows and its columns in the same order."""
    return {part_prefix(n) + c: [row[c] for row in rows] for n, (rows, columns) in enumerate(parts) for c in columns}


async def insert_rows_together(session: AsyncSession, parts: Sequence[tuple[Table, Sequence[dict[str, Any]]]]
                               ) -> None:
    """`insert_rows` for several tables in one statement (one round trip), in the order given: a table whose
    rows reference another's by a (non-deferred) foreign key may come before or after it. Each part's rows
    all name the same columns; a part without rows is left out of the statement (its columns are unknown)."""
    given = [(table, rows) for table, rows in parts if rows]
    if not given:
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in given)
    parameters = chained_arrays([(rows, columns) for (_, rows), (_, columns) in zip(given, shape, strict=True)])
    await session.execute(_chain_statement(shape), parameters)


@lru_cache(maxsize=64)
def _chain_statement(shape: tuple[tuple[Table, tuple[str, ...]], ...]) -> Insert:
    """One statement object per list of tables and columns, for the reason `_insert_statement` gives."""
    return insert_chain_from_arrays(shape)

"""The statements' sums from the monthly balances (erp.ledger.service.statements_from_monthly_balances) equal the
sums over the lines alone (StatementRepository.sums, the reference) on random books in the real PostgreSQL: lines
dated at month edges, in several currencies, with and without client, project and cost center and base amounts,
some entries deleted and some lines changed afterwards (the summary's triggers take them away and add them again);
asked for random ranges (from the start or from a day, to a day), filters, columns and amount pairs.

The comparison covers every line of the database (the other tests' lines too): both paths read the same table."""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from devstack.stack import Stack
from erp.ledger.repository import StatementRepository
from erp.ledger.service import statements_from_monthly_balances
from erp.ledger.service.statements_from_monthly_balances import Split, split

D = Decimal
# Month edges around a year's end and a February, and a day inside.
DAYS = [date(2030, 12, 31), date(2031, 1, 1), date(2031, 1, 2), date(2031, 1, 15), date(2031, 1, 31),
        date(2031, 2, 1), date(2031, 2, 28), date(2031, 3, 1), date(2031, 3, 31), date(2031, 4, 1),
        date(2031, 4, 30), date(2031, 5, 1)]
CLIENTS = [uuid.uuid4() for _ in range(2)]
PROJECTS = [uuid.uuid4() for _ in range(3)]
COST_CENTERS = [uuid.uuid4() for _ in range(2)]
ACCOUNT_CODES = ["1000", "1100", "2200", "4000", "6000"]

amounts = st.integers(1, 10_000_000).map(lambda n: D(n) / 10_000)
line = st.fixed_dictionaries({
    "code": st.sampled_from(ACCOUNT_CODES), "currency": st.sampled_from(["EUR", "USD"]),
    "debit_side": st.booleans(), "amount": amounts, "base": st.none() | amounts,
    "client": st.none() | st.sampled_from(CLIENTS), "project": st.none() | st.sampled_from(PROJECTS),
    "cost_center": st.none() | st.sampled_from(COST_CENTERS)})
entry = st.tuples(st.sampled_from(DAYS), st.lists(line, min_size=1, max_size=3))

@st.composite
def query(draw: st.DrawFn) -> dict[str, Any]:
    """A range (from the start or from a day, to a day at or after it), at most one filter, columns, amounts."""
    date_to = draw(st.sampled_from(DAYS))
    date_from = draw(st.none() | st.sampled_from([d for d in DAYS if d <= date_to]))
    filters: dict[str, Any] = {"project_id": None, "cost_center_id": None, "client_id": None}
    by = draw(st.sampled_from([None, None, "project_id", "cost_center_id", "client_id"]))
    if by is not None:
        filters[by] = draw(st.sampled_from({"project_id": PROJECTS, "cost_center_id": COST_CENTERS,
                                            "client_id": CLIENTS}[by]))
    return {"date_from": date_from, "date_to": date_to, **filters,
            "columns": draw(st.sampled_from([None, "project", "cost_center"])),
            "amounts": draw(st.sampled_from(["transaction", "base"]))}


class Db:
    """One event loop and engine for the module (hypothesis calls the test synchronously)."""

    def __init__(self, url: str) -> None:
        self.runner = asyncio.Runner()
        self.engine: AsyncEngine = self.runner.run(self._engine(url))

    @staticmethod
    async def _engine(url: str) -> AsyncEngine:
        return create_async_engine(url)

    def session(self) -> AsyncSession:
        return async_sessionmaker(self.engine)()

    def close(self) -> None:
        self.runner.run(self.engine.dispose())
        self.runner.close()


@pytest.fixture(scope="module")
def db(stack: Stack) -> Iterator[Db]:
    handle = Db(stack.database_urls["erp"])
    yield handle
    handle.close()


async def _book(session: AsyncSession, entries: list[tuple[date, list[dict[str, Any]]]], delete: list[int],
                change: list[int]) -> None:
    """The entries (source 'test': the period rule keeps their future dates), then the deletions (an entry's
    cascade) and changes (a line's amount doubled) asked for by index."""
    accounts = {code: id_ for code, id_ in await session.execute(text("SELECT code, id FROM ledger_accounts"))}
    ids = []
    for day, lines in entries:
        entry_id = uuid.uuid4()
        ids.append(entry_id)
        await session.execute(text("""
            INSERT INTO journal_entries (id, entry_date, fact_date, source_type, kind, memo)
            VALUES (:id, :day, :day, 'test', 'adjustment', 'monthly balances property')"""),
            {"id": entry_id, "day": day})
        await session.execute(text("""
            INSERT INTO journal_lines (entry_id, position, account_id, entry_date, currency, debit, credit,
                                       debit_base, credit_base, client_id, project_id, cost_center_id)
            VALUES (:entry, :position, :account, :day, :currency, :debit, :credit, :debit_base, :credit_base,
                    :client, :project, :cost_center)"""), [
            {"entry": entry_id, "position": n, "account": accounts[item["code"]], "day": day,
             "currency": item["currency"], "debit": item["amount"] if item["debit_side"] else 0,
             "credit": 0 if item["debit_side"] else item["amount"],
             "debit_base": item["base"] if item["debit_side"] else None,
             "credit_base": None if item["debit_side"] else item["base"], "client": item["client"],
             "project": item["project"], "cost_center": item["cost_center"]} for n, item in enumerate(lines, 1)])
    for n in change:
        await session.execute(text("""UPDATE journal_lines SET debit = debit * 2, credit = credit * 2,
                                      debit_base = debit_base * 2 WHERE entry_id = :id AND position = 1"""),
                              {"id": ids[n % len(ids)]})
    for n in delete:
        await session.execute(text("DELETE FROM journal_entries WHERE id = :id"), {"id": ids[n % len(ids)]})
    await session.commit()


def _normal(sums: list[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[Decimal, Decimal]]:
    shaped = {(s["account_id"], s["currency"], s["col"]): (s["debit"] or D(0), s["credit"] or D(0)) for s in sums}
    assert len(shaped) == len(sums)
    return shaped


async def _both(session: AsyncSession, asked: dict[str, Any]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    plain = await StatementRepository(session).sums(**asked)
    fast = await statements_from_monthly_balances.sums(session, **asked)
    return _normal(plain), _normal(fast)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(entry, min_size=1, max_size=8), delete=st.lists(st.integers(0, 7), max_size=2),
       change=st.lists(st.integers(0, 7), max_size=2), queries=st.lists(query(), min_size=1, max_size=6))
def test_sums_from_monthly_balances_equal_the_sums_over_the_lines(
        db: Db, entries: list[tuple[date, list[dict[str, Any]]]], delete: list[int], change: list[int],
        queries: list[dict[str, Any]]) -> None:
    async def check() -> None:
        async with db.session() as session:
            await _book(session, entries, delete, change)
            for asked in queries:
                plain, fast = await _both(session, asked)
                assert fast == plain, asked
    db.runner.run(check())


def test_the_figures_are_not_all_zero(db: Db) -> None:
    """The property above compares something: the books it wrote show in both paths."""
    async def sums() -> dict[Any, Any]:
        async with db.session() as session:
            plain, fast = await _both(session, {
                "date_from": date(2030, 12, 1), "date_to": date(2031, 5, 31), "columns": "project",
                "project_id": None, "cost_center_id": None, "client_id": None, "amounts": "transaction"})
            assert plain == fast
            return fast
    assert any(debit or credit for debit, credit in db.runner.run(sums()).values())


@pytest.mark.parametrize(("date_from", "date_to", "expected"), [
    # whole months only
    (date(2031, 1, 1), date(2031, 3, 31), Split((date(2031, 1, 1), date(2031, 4, 1)), [])),
    # days on both sides
    (date(2031, 1, 15), date(2031, 3, 14), Split((date(2031, 2, 1), date(2031, 3, 1)),
                                                 [(date(2031, 1, 15), date(2031, 1, 31)),
                                                  (date(2031, 3, 1), date(2031, 3, 14))])),
    # inside one month, or a month short of its last day: lines only
    (date(2031, 2, 2), date(2031, 2, 27), Split(None, [(date(2031, 2, 2), date(2031, 2, 27))])),
    (date(2031, 2, 1), date(2031, 2, 27), Split(None, [(date(2031, 2, 1), date(2031, 2, 27))])),
    # from the start
    (None, date(2031, 2, 10), Split((None, date(2031, 2, 1)), [(date(2031, 2, 1), date(2031, 2, 10))])),
    # over a year's end, to a leap day
    (date(2031, 12, 31), date(2032, 2, 29), Split((date(2032, 1, 1), date(2032, 3, 1)),
                                                  [(date(2031, 12, 31), date(2031, 12, 31))])),
])
def test_a_range_splits_into_its_full_months_and_the_days_around(date_from: date | None, date_to: date,
                                                                 expected: Split) -> None:
    assert split(date_from, date_to) == expected

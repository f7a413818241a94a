"""The planning board's statement (decision 202: integer sums, text JSON) answers what the statement before it
answered, value for value, on the bench's kind of data (smoke volumes) with deals open at several probabilities,
one without a probability, one won and one lost, capacities changing in the range, people booked but not in the
directory, and weeks with and without time. Seeded and compared inside one transaction that is rolled back, so the
other tests never see the rows."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench import planning as bench_planning
from bench import timesheets as bench_timesheets
from devstack.stack import Stack
from erp.planning.repository import _WEIGHT as WEIGHT
from erp.planning.repository import BookingRepository
from throughline_platform.db import new_engine

# The statement as it was before decision 202 (commit 0d0adab), the reference.
PREVIOUS_BOARD = f"""
WITH weeks AS (
    SELECT n, CAST(:first AS date) + 7 * n AS week FROM generate_series(0, :weeks - 1) AS n
), booked AS (
    SELECT b.person_id, b.week,
           sum(b.hours) FILTER (WHERE b.status = 'confirmed') AS confirmed,
           sum(b.hours) FILTER (WHERE b.status = 'tentative') AS tentative,
           sum(b.hours * {WEIGHT}) AS booked
    FROM bookings b LEFT JOIN pipeline_deals d ON d.deal_id = b.deal_id
    WHERE b.week >= :first AND b.week < :past
    GROUP BY b.person_id, b.week
), actual AS (
    -- The Monday of each entry's week by date arithmetic (date_trunc would go through timestamps).
    SELECT person_id, work_date - (CAST(extract(isodow FROM work_date) AS integer) - 1) AS week, sum(hours) AS hours
    FROM time_entries WHERE work_date >= :first AND work_date < :past
    GROUP BY 1, 2
), shown AS (
    SELECT id AS person_id FROM people WHERE active
    UNION
    SELECT person_id FROM booked
), capacity_periods AS (
    SELECT user_id, hours_per_week, effective_from,
           lead(effective_from) OVER (PARTITION BY user_id ORDER BY effective_from) AS until
    FROM capacities
), cells AS (
    SELECT p.person_id, w.n, coalesce(c.hours_per_week, 0) AS capacity, coalesce(bk.confirmed, 0) AS confirmed,
           coalesce(bk.tentative, 0) AS tentative, coalesce(bk.booked, 0) AS booked, coalesce(a.hours, 0) AS actual
    FROM shown p CROSS JOIN weeks w
    LEFT JOIN capacity_periods c
           ON c.user_id = p.person_id AND c.effective_from <= w.week AND (c.until IS NULL OR w.week < c.until)
    LEFT JOIN booked bk ON bk.person_id = p.person_id AND bk.week = w.week
    LEFT JOIN actual a ON a.person_id = p.person_id AND a.week = w.week
), rows AS (
    SELECT person_id,
           json_agg(CAST(round(capacity, 2) AS text) ORDER BY n) AS capacity,
           json_agg(CAST(round(confirmed, 2) AS text) ORDER BY n) AS confirmed,
           json_agg(CAST(round(tentative, 2) AS text) ORDER BY n) AS tentative,
           json_agg(CAST(round(booked, 2) AS text) ORDER BY n) AS booked,
           json_agg(CAST(round(actual, 2) AS text) ORDER BY n) AS actual,
           json_agg(round(booked, 2) > capacity ORDER BY n) AS over_allocated
    FROM cells GROUP BY person_id
)
-- As text: the driver would otherwise decode the JSON into Python objects, only for them to be encoded again.
SELECT CAST(json_build_object(
    'from_week', CAST(:first AS date),
    'weeks', (SELECT json_agg(week ORDER BY n) FROM weeks),
    'people', coalesce((SELECT json_agg(json_build_object(
        'person_id', person_id, 'capacity', capacity, 'confirmed', confirmed, 'tentative', tentative,
        'booked', booked, 'actual', actual, 'over_allocated', over_allocated) ORDER BY person_id) FROM rows),
        '[]')) AS text)
"""


@pytest.fixture
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = new_engine(stack.database_urls["erp"], pool_size=1)
    yield engine
    await engine.dispose()


async def test_the_board_statement_answers_what_the_previous_one_did(engine: AsyncEngine) -> None:
    tag = uuid.uuid4().hex[:8]
    volume = bench_planning.Volume(people=12, deals=6, bookings_per_week=3)
    first = bench_planning.FIRST_WEEK
    seed = [*bench_timesheets._seed_sql(tag, 1, 1)[:2], *bench_planning._seed_sql(tag, volume),
            # A deal won, one lost, one without a probability; someone booked who is not in the directory.
            f"UPDATE pipeline_deals SET status = 'won' WHERE title = 'Bench deal {tag} 1'",
            f"UPDATE pipeline_deals SET status = 'lost' WHERE title = 'Bench deal {tag} 2'",
            f"UPDATE pipeline_deals SET probability = NULL WHERE title = 'Bench deal {tag} 3'",
            f"""INSERT INTO bookings (id, person_id, project_id, deal_id, week, hours, status, created_by, updated_by,
                                      created_at, updated_at)
                SELECT gen_random_uuid(), 'gone-{tag}', id, NULL, DATE '{first + timedelta(weeks=3)}', 12.5,
                       'confirmed', 'test', 'test', now(), now()
                FROM projects ORDER BY id LIMIT 1"""]
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(bind=connection)
        try:
            for statement in seed:
                await session.execute(text(statement))
            for weeks in (26, 1, 52):
                params: dict[str, Any] = {"first": first, "weeks": weeks, "past": first + timedelta(weeks=weeks)}
                board = json.loads(await BookingRepository(session).board_json(first, weeks))
                before = json.loads((await session.execute(text(PREVIOUS_BOARD), params)).scalar_one())
                assert board == before
                mine = [p for p in board["people"] if tag in p["person_id"]]
                assert len(mine) == (13 if weeks > 3 else 12) and len(board["weeks"]) == weeks  # gone-: week 3
            # The seed reaches every kind of cell: worked weeks, over-allocated ones, weighted bookings.
            assert any(a != "0.00" for p in mine for a in p["actual"])
            assert any(any(p["over_allocated"]) for p in mine) and not all(all(p["over_allocated"]) for p in mine)
            assert any(b.split(".")[1] not in ("00", "50") for p in mine for b in p["booked"])
        finally:
            await session.close()
            await transaction.rollback()

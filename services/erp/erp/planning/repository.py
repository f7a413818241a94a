import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from erp.planning.models import Booking
from throughline_platform.paging import page_with_total

# What a booking counts for, as a share of its hours: a booking on a project in full (confirmed or tentative: the
# work is sold); a tentative booking on a deal by the deal's probability while it is open, in full once it is won
# (until its project is staffed from it), not at all once lost. `b` is the booking, `d` its deal's replica row.
_WEIGHT = """CASE WHEN b.project_id IS NOT NULL THEN 1
                  WHEN d.status = 'won' THEN 1
                  WHEN d.status = 'open' THEN coalesce(d.probability, 0) / 100
                  ELSE 0 END"""

# The planning board as the JSON the API answers with (schemas.Board), built by PostgreSQL in one statement: with
# 200 people x 26 weeks, building and serialising 5,200 cells in Python cost more than the query (decision 148).
# The people it shows: the directory's active people (erp.people), and anyone booked in the range (decision 143).
# Hours go out as decimal strings with two places, like every other hours figure of the API.
# What it costs (decision 202, measured on the bench's 201 people x 26 weeks): the hours of bookings and time entries
# are summed as integer hundredths (the columns are NUMERIC(5, 2), so this is exact; a numeric sum's state costs
# several times an integer's); an entry's week is found by day arithmetic from the first Monday; the JSON is
# concatenated text (string_agg of the values, which are numbers and booleans and need no escaping; only the person
# id goes through to_json), not json_agg and json_build_object, which check and escape every value.
_BOARD = text(f"""
WITH weeks AS (
    SELECT n, CAST(:first AS date) + 7 * n AS week FROM generate_series(0, :weeks - 1) AS n
), booked AS (
    SELECT b.person_id, b.week,
           sum(CAST(b.hours * 100 AS integer)) FILTER (WHERE b.status = 'confirmed') / 100.0 AS confirmed,
           sum(CAST(b.hours * 100 AS integer)) FILTER (WHERE b.status = 'tentative') / 100.0 AS tentative,
           sum(b.hours * {_WEIGHT}) AS booked
    FROM bookings b LEFT JOIN pipeline_deals d ON d.deal_id = b.deal_id
    WHERE b.week >= :first AND b.week < :past
    GROUP BY b.person_id, b.week
), actual AS (
    -- The Monday of each entry's week: the range's first Monday plus whole weeks.
    SELECT person_id, CAST(:first AS date) + 7 * ((work_date - CAST(:first AS date)) / 7) AS week,
           sum(CAST(hours * 100 AS integer)) / 100.0 AS hours
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
           '{{"person_id":' || CAST(to_json(person_id) AS text)
           || ',"capacity":["' || string_agg(CAST(round(capacity, 2) AS text), '","' ORDER BY n)
           || '"],"confirmed":["' || string_agg(CAST(round(confirmed, 2) AS text), '","' ORDER BY n)
           || '"],"tentative":["' || string_agg(CAST(round(tentative, 2) AS text), '","' ORDER BY n)
           || '"],"booked":["' || string_agg(CAST(round(booked, 2) AS text), '","' ORDER BY n)
           || '"],"actual":["' || string_agg(CAST(round(actual, 2) AS text), '","' ORDER BY n)
           || '"],"over_allocated":['
           || string_agg(CASE WHEN round(booked, 2) > capacity THEN 'true' ELSE 'false' END, ',' ORDER BY n)
           || ']}}' AS person
    FROM cells GROUP BY person_id
)
-- As text: the driver would otherwise decode the JSON into Python objects, only for them to be encoded again.
SELECT '{{"from_week":"' || CAST(CAST(:first AS date) AS text) || '","weeks":'
       || (SELECT CAST(json_agg(week ORDER BY n) AS text) FROM weeks)
       || ',"people":[' || coalesce((SELECT string_agg(person, ',' ORDER BY person_id) FROM rows), '') || ']}}'
""")

# Each (person, week) pair's booked hours (weighted as on the board; `excluding` a booking about to go) and the
# capacity in force on its Monday.
_WEEK_LOADS = text(f"""
SELECT pair.person_id, pair.week,
       (SELECT coalesce(round(sum(b.hours * {_WEIGHT}), 2), 0)
          FROM bookings b LEFT JOIN pipeline_deals d ON d.deal_id = b.deal_id
         WHERE b.person_id = pair.person_id AND b.week = pair.week
           AND b.id IS DISTINCT FROM CAST(:excluding AS uuid)),
       (SELECT hours_per_week FROM capacities
         WHERE user_id = pair.person_id AND effective_from <= pair.week ORDER BY effective_from DESC LIMIT 1)
FROM unnest(CAST(:people AS varchar[]), CAST(:weeks AS date[])) AS pair (person_id, week)
""")

# The hours each person is booked on a project (tentative and confirmed, in full) in the weeks starting on or after
# `:from_week`: what the budgets' forecast builds on, inside their own statement (erp.planning.api).
PROJECT_BOOKED_SQL = """
SELECT person_id, sum(hours) AS hours FROM bookings
WHERE project_id = CAST(:project_id AS uuid) AND week >= CAST(:from_week AS date)
GROUP BY person_id
"""


@dataclass(frozen=True)
class WeekLoad:
    booked: Decimal
    capacity: Decimal

    @property
    def over_capacity(self) -> bool:
        return self.booked > self.capacity


class BookingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, booking: Booking) -> None:
        self.session.add(booking)

    async def get(self, booking_id: uuid.UUID) -> Booking | None:
        return await self.session.get(Booking, booking_id)

    async def locked(self, booking_id: uuid.UUID) -> Booking | None:
        return (await self.session.execute(select(Booking).where(Booking.id == booking_id).with_for_update()
                                           .execution_options(populate_existing=True))).scalars().first()

    async def delete(self, booking: Booking) -> None:
        await self.session.delete(booking)

    async def of_deal_unstaffed(self, deal_id: uuid.UUID) -> list[Booking]:
        """The deal's bookings not yet given to a project, locked."""
        return list((await self.session.execute(
            select(Booking).where(Booking.deal_id == deal_id, Booking.project_id.is_(None))
            .order_by(Booking.person_id, Booking.week, Booking.id).with_for_update()
            .execution_options(populate_existing=True))).scalars())

    async def search(self, *, person_id: str | None, project_id: uuid.UUID | None, deal_id: uuid.UUID | None,
                     week_from: date | None, week_to: date | None, limit: int, offset: int
                     ) -> tuple[list[Booking], int]:
        conditions: list[ColumnElement[bool]] = []
        if person_id:
            conditions.append(Booking.person_id == person_id)
        if project_id:
            conditions.append(Booking.project_id == project_id)
        if deal_id:
            conditions.append(Booking.deal_id == deal_id)
        if week_from:
            conditions.append(Booking.week >= week_from)
        if week_to:
            conditions.append(Booking.week <= week_to)
        return await page_with_total(self.session, select(Booking).where(*conditions), Booking.week,
                                     Booking.person_id, Booking.created_at, Booking.id, limit=limit, offset=offset)

    async def week_loads(self, pairs: set[tuple[str, date]], excluding: uuid.UUID | None = None
                         ) -> dict[tuple[str, date], WeekLoad]:
        """Each person's hours booked in the week (weighted as on the board) and their capacity then, for all the
        pairs in one statement. What the session holds unwritten is written first: the booking being written
        counts."""
        await self.session.flush()
        ordered = sorted(pairs)
        rows = await self.session.execute(_WEEK_LOADS, {"people": [p for p, _ in ordered],
                                                        "weeks": [w for _, w in ordered], "excluding": excluding})
        return {(person_id, week): WeekLoad(Decimal(booked), Decimal(capacity or 0))
                for person_id, week, booked, capacity in rows.all()}

    async def board_json(self, first: date, weeks: int) -> str:
        """The board (schemas.Board) as JSON text: every person x week of the range, one statement."""
        return str((await self.session.execute(_BOARD, {"first": first, "weeks": weeks,
                                                        "past": first + timedelta(weeks=weeks)})).scalar_one())


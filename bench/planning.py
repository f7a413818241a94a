"""Scenario 15 (issue 23): the planning board, GET /api/erp/planning?weeks=26, through the gateway.

Seeds the ERP by bulk SQL with people (a weekly capacity each), open deals in the pipeline replica, and for every
person and week of the board a few bookings (on projects, tentative and confirmed, and on deals) and a week of time
entries; then reads the whole board (people x 26 weeks) closed-loop at c=4. Target: p95 <= 150 ms with 200 people."""

import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from bench.load import closed_loop
from bench.report import Row
from bench.scenarios import Ctx, seed_erp

SCENARIO = "15 planning board"
TARGET_MS = 150.0
WEEKS = 26
FIRST_WEEK = date(2027, 1, 4)  # a Monday; the board's range, away from what other scenarios write


@dataclass(frozen=True)
class Volume:
    people: int
    deals: int
    bookings_per_week: int  # per person: one on a deal, the rest on projects


VOLUMES = {"full": Volume(people=200, deals=100, bookings_per_week=3),
           "smoke": Volume(people=5, deals=3, bookings_per_week=2)}


def _seed_sql(tag: str, v: Volume) -> list[str]:
    people = f"SELECT 'bench-planner-{tag}-' || p AS person_id, p FROM generate_series(1, {v.people}) p"
    weeks = f"SELECT (DATE '{FIRST_WEEK.isoformat()}' + 7 * w) AS week, w FROM generate_series(0, {WEEKS - 1}) w"
    return [
        # The people directory's rows (made from the gateway's users in the product), active: the board's people.
        f"""INSERT INTO people (id, name, email, role, active, user_changed_at)
            SELECT person_id, 'Bench planner ' || p, person_id || '@bench.example', 'member', true, now()
            FROM ({people}) people""",
        f"""INSERT INTO capacities (id, user_id, hours_per_week, effective_from, created_at, updated_at)
            SELECT gen_random_uuid(), person_id, (ARRAY[40, 32, 24])[1 + p % 3], DATE '2026-01-05', now(), now()
            FROM ({people}) people""",
        # A second capacity from mid-range on for a third of them: the board picks the one in force each week.
        f"""INSERT INTO capacities (id, user_id, hours_per_week, effective_from, created_at, updated_at)
            SELECT gen_random_uuid(), person_id, 36, DATE '{(FIRST_WEEK + timedelta(weeks=13)).isoformat()}', now(),
                   now()
            FROM ({people}) people WHERE p % 3 = 0""",
        f"""INSERT INTO pipeline_deals (id, deal_id, company_id, title, amount, currency, details_at, stage_id,
                                        stage_name, probability, status, position_at, created_at, updated_at)
            SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'Bench deal {tag} ' || d, 10000, 'EUR',
                   now(), gen_random_uuid(), 'Proposal', (ARRAY[10, 25, 50, 75])[1 + d % 4], 'open', now(), now(),
                   now()
            FROM generate_series(1, {v.deals}) d""",
        f"""CREATE TEMP TABLE bench_planning_deals ON COMMIT DROP AS
            SELECT row_number() OVER (ORDER BY deal_id) AS k, deal_id FROM pipeline_deals
            WHERE title LIKE 'Bench deal {tag} %'""",
        """CREATE TEMP TABLE bench_planning_projects ON COMMIT DROP AS
           SELECT row_number() OVER (ORDER BY id) AS k, id FROM (SELECT id FROM projects ORDER BY id LIMIT 50) p""",
        # Per person and week: one tentative booking on a deal, the others on projects (confirmed and tentative).
        f"""INSERT INTO bookings (id, person_id, project_id, deal_id, week, hours, status, created_by, updated_by,
                                  created_at, updated_at)
            SELECT gen_random_uuid(), person_id, NULL, d.deal_id, week, 8, 'tentative', 'bench', 'bench', now(), now()
            FROM ({people}) people CROSS JOIN ({weeks}) weeks
            JOIN bench_planning_deals d ON d.k = 1 + (p + w) % {v.deals}""",
        f"""INSERT INTO bookings (id, person_id, project_id, deal_id, week, hours, status, created_by, updated_by,
                                  created_at, updated_at)
            SELECT gen_random_uuid(), person_id, pr.id, NULL, week, 4 + (p + w + b) % 12,
                   (ARRAY['confirmed', 'tentative'])[1 + b % 2], 'bench', 'bench', now(), now()
            FROM ({people}) people CROSS JOIN ({weeks}) weeks
            CROSS JOIN generate_series(1, {v.bookings_per_week - 1}) b
            JOIN bench_planning_projects pr
              ON pr.k = 1 + (p * 7 + w + b) % (SELECT count(*) FROM bench_planning_projects)""",
        # The weeks already worked: five days of time entries per person and week, in the first half of the range.
        f"""INSERT INTO time_entries (id, person_id, project_id, work_date, hours, billable, status, beyond_cap,
                                      created_by, created_at, updated_at)
            SELECT gen_random_uuid(), person_id, pr.id, week + day, 6 + (p + day) % 3, true, 'open', false, 'bench',
                   now(), now()
            FROM ({people}) people CROSS JOIN ({weeks}) weeks CROSS JOIN generate_series(0, 4) day
            JOIN bench_planning_projects pr ON pr.k = 1 + (p + w) % (SELECT count(*) FROM bench_planning_projects)
            WHERE w < {WEEKS // 2}""",
    ]


async def planning_board(ctx: Ctx) -> list[Row]:
    v = VOLUMES[ctx.volumes.name]
    erp = await asyncpg.connect(ctx.dsn("erp"))
    try:
        if not await erp.fetchval("SELECT count(*) FROM projects"):
            await seed_erp(ctx, ctx.volumes.erp_projects, 0, 0)
        started = time.perf_counter()
        async with erp.transaction():
            for statement in _seed_sql(uuid.uuid4().hex[:8], v):
                await erp.execute(statement)
        await erp.execute("ANALYZE capacities; ANALYZE bookings; ANALYZE pipeline_deals; ANALYZE time_entries")
        seeded_in = time.perf_counter() - started
        people = int(await erp.fetchval("SELECT count(*) FROM people WHERE active"))
        bookings = int(await erp.fetchval("SELECT count(*) FROM bookings"))
        entries = int(await erp.fetchval("SELECT count(*) FROM time_entries"))
    finally:
        await erp.close()
    params = {"from_week": FIRST_WEEK.isoformat(), "weeks": str(WEEKS)}
    async with ctx.gateway(pool=8) as gw:
        probe = await gw.get("/api/erp/planning", params)
        if probe.status != 200:
            return [Row(SCENARIO, "board p95", None, "ms", note=f"FAILED: /api/erp/planning answers {probe.status}: "
                                                               f"{probe.body[:120]!r}")]
        result = await closed_loop(gw.getter("/api/erp/planning", params), 4, ctx.volumes.erp_seconds,
                                   max_requests=ctx.volumes.read_requests)
    p95 = result.pct(95)
    return [Row(SCENARIO, f"board, {people} people x {WEEKS} weeks, p95", p95, "ms", target=f"<= {TARGET_MS:.0f} ms",
                met=p95 <= TARGET_MS,
                note=f"p50 {result.pct(50):.1f} ms, {result.count} requests at c=4, {result.rate:.0f} req/s"
                     + (f", errors {result.errors}" if result.errors else "")
                     + f"; {bookings:,} bookings, {entries:,} time entries in the ERP, seeded in {seeded_in:.1f} s")]

"""Scenario `budget` (issue 23): one project's budget figures, GET /api/erp/projects/{id}/budget, through the
gateway, with that project holding ~20,000 time entries among 2,000,000 (smoke: 200 among 2,000).

Seeds scenario 7's kind of books (clients, projects with schedules, bill rates, invoices) when they are not there,
then the time entries by bulk SQL: 200 people with cost rates, the target project's entries (a time-and-materials
project with issued invoices; a quarter of its approved billable entries billed on one of them) and the rest
spread over every other project, over the last year. The monthly rollup the figures read (migration 0006) is
rebuilt once after the insert instead of by its per-statement trigger, and the table is vacuumed (as autovacuum
would) so that the covering index of migration 0016 answers alone. Target: p95 <= 20 ms."""

import time

import asyncpg

from bench.load import closed_loop
from bench.report import Row
from bench.scenarios import Ctx, seed_erp

SCENARIO = "14 budget"
TARGET_MS = 20.0
# (time entries in all, of which on the measured project, projects, invoices) per volume.
VOLUMES = {"full": (2_000_000, 20_000, 1_000, 20_000), "smoke": (2_000, 200, 10, 200)}
PEOPLE = 200

_TARGET = """
    SELECT p.id FROM projects p JOIN billing_schedules bs ON bs.project_id = p.id
    WHERE bs.billing_type = 'time_and_materials' AND p.currency = 'EUR' AND p.status = 'active'
      AND EXISTS (SELECT 1 FROM invoices i WHERE i.project_id = p.id AND i.status NOT IN ('draft', 'void'))
    ORDER BY p.id LIMIT 1
"""


def _seed_sql(entries: int, on_target: int) -> list[str]:
    """The entries ($1 = the measured project), and the rollup rebuilt for every project that got some."""
    every = entries // on_target  # every n-th entry is the measured project's
    person = f"'budget-person-' || lpad((g % {PEOPLE})::text, 3, '0')"
    approved = "(g / 7) % 10 < 7"
    return [
        f"""INSERT INTO cost_rates (id, user_id, hourly_cost, currency, effective_from)
            SELECT gen_random_uuid(), 'budget-person-' || lpad(g::text, 3, '0'), 40 + g % 50, 'EUR',
                   DATE '2024-01-01'
            FROM generate_series(0, {PEOPLE - 1}) g""",
        "ALTER TABLE time_entries DISABLE TRIGGER report_time_months_insert",
        f"""INSERT INTO time_entries (id, person_id, project_id, work_date, hours, billable, description, status,
                                     approved_by, approved_at, created_by, created_at, updated_at)
            SELECT gen_random_uuid(), {person},
                   CASE WHEN g % {every} = 0 THEN $1::uuid
                        ELSE o.ids[1 + (g::bigint * 7919) % cardinality(o.ids)] END,
                   current_date - 1 - g % 365, 0.5 + (g / 3) % 8 * 0.5, (g / 5) % 5 <> 0, 'Work',
                   CASE WHEN {approved} THEN 'approved' ELSE 'open' END, CASE WHEN {approved} THEN 'manager-1' END,
                   CASE WHEN {approved} THEN now() END, {person}, now(), now()
            FROM generate_series(1, {entries}) g,
                 (SELECT array_agg(id ORDER BY id) AS ids FROM projects WHERE id <> $1::uuid) o""",
        """UPDATE time_entries t SET invoice_id = (SELECT i.id FROM invoices i WHERE i.project_id = $1::uuid
                                                    AND i.status NOT IN ('draft', 'void') ORDER BY i.id LIMIT 1)
           WHERE t.project_id = $1::uuid AND t.status = 'approved' AND t.billable
             AND t.work_date < current_date - 270""",
        """SELECT refresh_report_time_changes(NULL, array_agg(project_id ORDER BY project_id),
                                              array_agg(first_day ORDER BY project_id),
                                              array_agg(last_day ORDER BY project_id))
           FROM (SELECT project_id, min(work_date) AS first_day, max(work_date) AS last_day
                 FROM time_entries GROUP BY project_id) AS c""",
        "ALTER TABLE time_entries ENABLE TRIGGER report_time_months_insert",
    ]


async def budget_figures(ctx: Ctx) -> list[Row]:
    entries, on_target, projects, invoices = VOLUMES[ctx.volumes.name]
    erp = await asyncpg.connect(ctx.dsn("erp"))
    try:
        target = await erp.fetchval(_TARGET)
        seeded_books = ""
        if target is None:
            _, _, seconds = await seed_erp(ctx, projects, invoices, 0)
            target = await erp.fetchval(_TARGET)
            seeded_books = f"books seeded in {seconds:.1f} s; "
        started = time.perf_counter()
        async with erp.transaction():
            for statement in _seed_sql(entries, on_target):
                await (erp.execute(statement, target) if "$1" in statement else erp.execute(statement))
        await erp.execute("VACUUM ANALYZE time_entries")
        await erp.execute("ANALYZE report_time_months")
        seeded_in = time.perf_counter() - started
        total = int(await erp.fetchval("SELECT count(*) FROM time_entries"))
        mine = int(await erp.fetchval("SELECT count(*) FROM time_entries WHERE project_id = $1", target))
    finally:
        await erp.close()
    path = f"/api/erp/projects/{target}/budget"
    rows = [Row(SCENARIO, "seeded by bulk SQL (time entries, rollup rebuilt, VACUUM ANALYZE)", seeded_in, "s",
                note=f"{seeded_books}the project has {mine:,} of {total:,} time entries")]
    async with ctx.gateway(pool=8) as gw:
        probe = await gw.get(path, {})
        if probe.status != 200:
            return [*rows, Row(SCENARIO, "budget figures", None, "ms",
                               note=f"skipped: {path} answers {probe.status}: {probe.body[:120]!r}")]
        for concurrency in (1, 4):
            result = await closed_loop(gw.getter(path, {}), concurrency, ctx.volumes.erp_seconds,
                                       max_requests=ctx.volumes.read_requests * 4)
            p95 = result.pct(95)
            rows.append(Row(SCENARIO, f"budget figures of one project p95, c={concurrency}", p95, "ms",
                            target=f"<= {TARGET_MS:.0f} ms", met=p95 <= TARGET_MS,
                            note=f"p50 {result.pct(50):.1f} ms, {result.count} requests, {result.rate:.0f} req/s"
                                 + (f", errors {result.errors}" if result.errors else "")))
    return rows

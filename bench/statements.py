"""Scenario 17 `statements` (issue 26): the trial balance and the P&L over 1,000,000 journal lines, through the
gateway. Target: p95 <= 100 ms for each measured call.

The lines are loaded by bulk SQL straight into journal_entries and journal_lines (the entries' BEFORE INSERT
trigger runs: no month of the range is closed, so it keeps each entry's date; the lines' AFTER INSERT trigger
keeps the monthly balances of migration 0023): ~400,000 entries over 2024 and 2025 (invoices of three lines:
receivable, revenue, VAT; payments and expenses of two), 300 projects of 120 clients, 8 cost centers, EUR (most),
USD and GBP by client, the base amounts filled. Then each case below is called `calls` times in a row (c=1) after a
few unmeasured calls (the lines-only source at most 20 times: at 1-2 s a call, 50 would take a quarter of an
hour per round), with the ERP's API restarted reading the sums from the monthly balances (the default) and from
the lines alone (ERP_STATEMENTS_SOURCE=lines, the reference), in alternating rounds (A B B A: a machine whose speed
drifts during the run weighs on both sides alike). The target applies to the default; the lines-only figures are
the "before". Each row also gives the CPU milliseconds per call of erp-api, PostgreSQL and the gateway, which the
load of a shared machine moves far less than the wall-clock figures."""

import time
import uuid

import asyncpg

from bench.load import closed_loop, percentile
from bench.report import Row, check
from bench.scenarios import Ctx
from bench.system import cpu_snapshot, process_ids

SCENARIO = "17 statements"
TARGET_MS = 100.0
DEFAULT, REFERENCE = "monthly_balances", "lines"
ROUNDS = (DEFAULT, REFERENCE, REFERENCE, DEFAULT)
CLIENTS, PROJECTS, COST_CENTERS = 120, 300, 8
_NS = uuid.UUID("9a1d5c0e-17b7-4a51-8d26-5a7e0e5b1726")


def _ids(kind: str, count: int) -> list[uuid.UUID]:
    return [uuid.uuid5(_NS, f"{kind}-{n}") for n in range(count)]


# One entry per g; its kind by g % 10: 0-4 an invoice (3 lines), 5-7 a payment (2), 8-9 an expense (2): 2.5 lines
# an entry. Date and project by a hash of g; client by project, currency by client; net amounts between 50 and
# 5,050, with 19 % VAT on invoices. The dimensions as the product posts them (erp.ledger.service.posting): invoices
# and payments carry client and project, expenses project and cost center (the project's department, one in five
# another one's). Written in date order, as a ledger grows (a posting is dated when its fact happens; the few late
# facts of a closed month are dated into the open one).
_ENTRIES = """
    CREATE TEMP TABLE bench_entries ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, g, DATE '2024-01-01' + abs(hashtext('day' || g) % 731) AS day, g % 10 AS kind,
           p.project_id, CASE WHEN g % 10 < 8 THEN p.client_id END AS client_id, p.currency,
           CASE WHEN g % 10 >= 8 THEN ($1::uuid[])[(1 + CASE WHEN g % 5 = 0 THEN abs(hashtext('cc' || g)) % 8
                                                               ELSE p.n % 8 END)::int] END AS cost_center_id,
           round((50 + (g * 104729) % 500000 / 100.0)::numeric, 2) AS net
    FROM generate_series(1, $2::bigint) g
    JOIN unnest($3::uuid[], $4::uuid[], $5::text[]) WITH ORDINALITY AS p(project_id, client_id, currency, n)
      ON p.n = 1 + abs(hashtext('project' || g) % $6::int)
"""
_INSERT_ENTRIES = """
    INSERT INTO journal_entries (id, entry_date, fact_date, source_type, source_id, kind, memo, created_by)
    SELECT id, day, day, 'bench', NULL, CASE WHEN kind < 5 THEN 'issued' WHEN kind < 8 THEN 'received'
                                            ELSE 'approved' END, 'statements bench', 'bench'
    FROM bench_entries ORDER BY day, g
"""
_INSERT_LINES = """
    INSERT INTO journal_lines (entry_id, position, account_id, entry_date, currency, debit, credit, client_id,
                               project_id, cost_center_id, debit_base, credit_base)
    SELECT e.id, l.position, a.id, e.day, e.currency, l.debit, l.credit, e.client_id, e.project_id,
           e.cost_center_id,
           round(l.debit * r.rate, 4), round(l.credit * r.rate, 4)
    FROM bench_entries e
    JOIN (VALUES ('EUR', 1.0), ('USD', 0.92), ('GBP', 1.17)) AS r(currency, rate) ON r.currency = e.currency
    CROSS JOIN LATERAL (VALUES
        -- invoice: receivable / revenue / VAT output
        (e.kind < 5, 1, '1100', round(e.net * 1.19, 2), 0),
        (e.kind < 5, 2, CASE WHEN e.g % 7 = 0 THEN '4100' ELSE '4000' END, 0, e.net),
        (e.kind < 5, 3, '2200', 0, round(e.net * 1.19, 2) - e.net),
        -- payment: bank / receivable
        (e.kind BETWEEN 5 AND 7, 1, '1000', e.net, 0),
        (e.kind BETWEEN 5 AND 7, 2, '1100', 0, e.net),
        -- expense: one of the expense accounts / expenses to reimburse
        (e.kind >= 8, 1, (ARRAY['6000', '6010', '6020', '6100', '6200', '6300', '6400', '6900'])[1 + (e.g % 8)::int],
         round(e.net / 10, 2), 0),
        (e.kind >= 8, 2, '2100', 0, round(e.net / 10, 2))
    ) AS l(applies, position, code, debit, credit)
    JOIN ledger_accounts a ON a.code = l.code
    WHERE l.applies
    ORDER BY e.day, e.g, l.position
"""


async def _load(dsn: str, lines: int) -> tuple[uuid.UUID, float, int, int]:
    """The lines (about `lines`), once: a second run on the same system reuses them. Returns a project of the
    data, the seconds the load took, the lines there are and the monthly balances' rows."""
    clients, projects, centers = _ids("client", CLIENTS), _ids("project", PROJECTS), _ids("cost-center", COST_CENTERS)
    db = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        if not await db.fetchval("SELECT count(*) FROM journal_entries WHERE source_type = 'bench'"):
            currency = ["EUR" if n % 10 < 8 else "USD" if n % 10 == 8 else "GBP" for n in range(CLIENTS)]
            of_project = [clients[n % CLIENTS] for n in range(PROJECTS)]
            async with db.transaction():
                await db.execute(_ENTRIES, centers, int(lines / 2.5), projects, of_project,
                                 [currency[n % CLIENTS] for n in range(PROJECTS)], PROJECTS)
                await db.execute(_INSERT_ENTRIES)
                await db.execute(_INSERT_LINES)
            await db.execute("VACUUM ANALYZE journal_lines")
            await db.execute("VACUUM ANALYZE journal_entries")
            await db.execute("ANALYZE ledger_monthly_balances")
        seconds = time.perf_counter() - started
        total = int(await db.fetchval("SELECT count(*) FROM journal_lines"))
        summary = int(await db.fetchval("SELECT count(*) FROM ledger_monthly_balances"))
        # The measured project: the first of the data (all projects are alike by construction).
        return projects[0], seconds, total, summary
    finally:
        await db.close()


def _cases(project: uuid.UUID) -> dict[str, tuple[str, dict[str, str]]]:
    year = {"date_from": "2025-01-01", "date_to": "2025-12-31", "currency": "EUR"}
    tb, pl = "/api/erp/reports/trial-balance", "/api/erp/reports/profit-and-loss"
    return {
        "trial balance, a year": (tb, year),
        "trial balance, a month": (tb, {**year, "date_from": "2025-06-01", "date_to": "2025-06-30"}),
        "trial balance, mid-month to mid-month": (tb, {**year, "date_from": "2025-03-15", "date_to": "2025-09-14"}),
        "P&L, a year": (pl, year),
        "P&L, a month": (pl, {**year, "date_from": "2025-06-01", "date_to": "2025-06-30"}),
        "P&L, a year, one project": (pl, {**year, "project_id": str(project)}),
        "P&L, a year, columns=project": (pl, {**year, "columns": "project"}),
    }


async def statements(ctx: Ctx) -> list[Row]:
    smoke = ctx.volumes.name == "smoke"
    project, loaded_in, total, summary = await _load(ctx.dsn("erp"), ctx.volumes.statement_lines)
    cases = _cases(project)
    calls = ctx.volumes.statement_calls
    rounds = ROUNDS[:2] if smoke else ROUNDS
    latencies: dict[tuple[str, str], list[float]] = {}
    # CPU ms per call of erp-api, PostgreSQL (its backends) and the gateway: what the machine's load does not move.
    cpu: dict[tuple[str, str], list[float]] = {}
    api = ctx.stack.processes["erp-api"]
    try:
        for source in rounds:
            api.restart({"ERP_STATEMENTS_SOURCE": source})
            api.wait_ready()
            pids = {k: v for k, v in process_ids(ctx.stack).items()
                    if k in ("erp-api", "gateway", "postgres (postmaster)")}
            async with ctx.gateway(pool=2) as gw:
                for case, (path, params) in cases.items():
                    probe = await gw.get(path, params)
                    if probe.status != 200:
                        raise RuntimeError(f"{path} answers {probe.status}: {probe.body[:200]!r}")
                    for _ in range(2):  # warm: plans cached, pages in memory
                        await gw.get(path, params)
                    before = cpu_snapshot(pids)
                    result = await closed_loop(gw.getter(path, params), 1, 600.0,
                                               max_requests=calls if source == DEFAULT else min(calls, 20))
                    after = cpu_snapshot(pids)
                    if result.errors:
                        raise RuntimeError(f"{path}: {result.errors} errors")
                    latencies.setdefault((source, case), []).extend(result.latencies)
                    cpu.setdefault((source, case), []).append(
                        sum(after[k] - before[k] for k in pids) * 1000 / max(1, result.count))
                    print(f"  {source}: {case}: p50 {result.pct(50):.1f} ms, p95 {result.pct(95):.1f} ms, "
                          f"CPU {cpu[(source, case)][-1]:.1f} ms per call", flush=True)
    finally:
        api.restart()  # back to the system as configured
        api.wait_ready()
    rows = [Row(SCENARIO, "loaded by bulk SQL (entries, lines, monthly balances by trigger, VACUUM ANALYZE)",
                loaded_in, "s", note=f"{total:,} journal lines, {summary:,} monthly balances")]
    for case in cases:
        fast, plain = latencies[(DEFAULT, case)], latencies[(REFERENCE, case)]
        fast_cpu, plain_cpu = (sum(cpu[(s, case)]) / len(cpu[(s, case)]) for s in (DEFAULT, REFERENCE))
        p95 = percentile(fast, 95) * 1000
        rows.append(Row(SCENARIO, f"{case} p95", p95, "ms", f"<= {TARGET_MS:.0f} ms", check(p95, "<=", TARGET_MS),
                        note=f"monthly balances; p50 {percentile(fast, 50) * 1000:.1f} ms, {len(fast)} calls, "
                             f"CPU {fast_cpu:.1f} ms per call (erp-api, PostgreSQL, gateway)"))
        rows.append(Row(SCENARIO, f"{case} p95, lines only (before)", percentile(plain, 95) * 1000, "ms",
                        note=f"ERP_STATEMENTS_SOURCE=lines; p50 {percentile(plain, 50) * 1000:.1f} ms, "
                             f"{len(plain)} calls, CPU {plain_cpu:.1f} ms per call"))
    return rows

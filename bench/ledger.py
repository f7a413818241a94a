"""Scenario 16: what posting to the ledger costs an issued invoice and its payment (issue 26: at most 20 % CPU).

Side by side on one system: the ERP's API process is restarted with posting on (ERP_LEDGER_POSTING, the default)
and off, in alternating rounds (on, off, off, on, on, off: a machine that speeds up or slows down during the run
weighs on both sides alike). Each round issues `per_round` invoices of two taxed lines and records a full payment
on each, straight to the ERP API; the drafts are made before the measured window. Measured: the CPU seconds of erp-api,
PostgreSQL (its backends included) and erp-worker (whose relay publishes the extra `ledger.entry_posted` events)
from the first issue until the worker has published the round's events, per invoice (issue + payment).

The setting exists for this measure only: with it off the books miss what happens (docs/erp-ledger.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx

from bench.report import Row, check
from bench.system import cpu_snapshot, process_ids
from devstack.stack import Stack

SCENARIO = "16 ledger posting"
# ABBA: a machine whose speed drifts during the run weighs on both sides alike.
ROUNDS = ("on", "off", "off", "on", "on", "off")


async def _client(dsn: str) -> str:
    client_id = uuid.uuid4()
    db = await asyncpg.connect(dsn)
    try:
        await db.execute("""
            INSERT INTO clients (id, crm_company_id, name, payment_terms_days, currency, replicated_at)
            VALUES ($1, $2, $3, 30, 'EUR', now())""", client_id, uuid.uuid4(), f"Ledger bench {client_id.hex[:6]}")
    finally:
        await db.close()
    return str(client_id)


async def _published(dsn: str) -> None:
    """Until the relay has published every outbox row (the round's events are part of its cost)."""
    db = await asyncpg.connect(dsn)
    try:
        for _ in range(600):
            if not await db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                return
            await asyncio.sleep(0.1)
    finally:
        await db.close()


async def _round(stack: Stack, http: httpx.AsyncClient, dsn: str, client_id: str, per_round: int) -> float:
    drafts = []
    for _ in range(per_round):
        reply = await http.post("/api/erp/invoices", json={"client_id": client_id, "lines": [
            {"description": "Design", "quantity": "3", "unit_price": "120.00", "tax_rate": "19"},
            {"description": "Hosting", "quantity": "1", "unit_price": "40.00", "tax_rate": "7"}]})
        reply.raise_for_status()
        drafts.append(reply.json()["id"])
    await _published(dsn)
    pids = {k: v for k, v in process_ids(stack).items() if k in ("erp-api", "erp-worker", "postgres (postmaster)")}
    before = cpu_snapshot(pids)
    for invoice_id in drafts:
        issued = await http.post(f"/api/erp/invoices/{invoice_id}/issue")
        issued.raise_for_status()
        paid = await http.post(f"/api/erp/invoices/{invoice_id}/payments", json={"amount": issued.json()["total"]})
        paid.raise_for_status()
    await _published(dsn)
    after = cpu_snapshot(pids)
    return sum(after[k] - before[k] for k in pids) * 1000 / per_round


async def ledger_posting(stack: Stack, erp_url: str, token: str, dsn: str, per_round: int) -> list[Row]:
    client_id = await _client(dsn)
    api = stack.processes["erp-api"]
    spent: dict[str, list[float]] = {"on": [], "off": []}
    try:
        for mode in ROUNDS:
            api.restart({"ERP_LEDGER_POSTING": "true" if mode == "on" else "false"})
            api.wait_ready()
            async with httpx.AsyncClient(base_url=erp_url, headers={"Authorization": f"Bearer {token}"},
                                         timeout=60) as http:
                await _round(stack, http, dsn, client_id, max(5, per_round // 10))  # warm-up, not counted
                started = time.perf_counter()
                spent[mode].append(await _round(stack, http, dsn, client_id, per_round))
                print(f"  ledger {mode}: {spent[mode][-1]:.2f} CPU ms per invoice "
                      f"({time.perf_counter() - started:.1f} s)", flush=True)
    finally:
        api.restart()  # back to the system as configured (posting on)
        api.wait_ready()
    on, off = sum(spent["on"]) / len(spent["on"]), sum(spent["off"]) / len(spent["off"])
    ratio = on / off if off else None
    each = "; ".join(f"{mode}: " + ", ".join(f"{x:.1f}" for x in spent[mode]) for mode in ("on", "off"))
    note = f"{per_round} invoices per round, rounds {', '.join(ROUNDS)}; erp-api + erp-worker + PostgreSQL; {each}"
    return [
        Row(SCENARIO, "CPU ms per invoice issued and paid, posting on", on, "ms", note=note),
        Row(SCENARIO, "CPU ms per invoice issued and paid, posting off", off, "ms"),
        Row(SCENARIO, "posting's extra CPU per invoice issued and paid", (ratio - 1) * 100 if ratio else None, "%",
            "<= 20 %", check((ratio - 1) * 100 if ratio else None, "<=", 20)),
    ]

"""Reads run each statement on its own: the read unit of work sends no BEGIN and no ROLLBACK to a real
PostgreSQL, and every GET endpoint of the CRM and the ERP that reads the database uses it, except the reads
that need a transaction (named below, with why)."""

from collections.abc import AsyncGenerator, Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from asyncpg.transaction import Transaction
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy import event, text
from sqlalchemy.pool import QueuePool

from crm.app import api_routers as crm_routers
from crm.db import inbox, outbox
from devstack.stack import Stack
from erp.app import api_routers as erp_routers
from throughline_messaging import deps
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.runtime import RuntimeConfig, ServiceRuntime
from throughline_messaging.uow import UnitOfWork

# Reads that need a transaction, and why.
TRANSACTIONAL_READS = {
    "/api/crm/export/{entity}": "streams deals through a server-side cursor, which lives in a transaction",
    "/api/erp/reports/profitability": "SET LOCAL plan_cache_mode (erp.reports.repository)",
    "/api/erp/reports/cash-flow": "SET LOCAL plan_cache_mode",
    "/api/erp/reports/ar-aging": "SET LOCAL plan_cache_mode",
    "/api/erp/reports/utilisation": "SET LOCAL plan_cache_mode",
    "/api/erp/reports/department-efficiency": "SET LOCAL plan_cache_mode (the profitability figures it builds on)",
    "/api/crm/search": "SET LOCAL enable_seqscan (throughline_platform.search.prepare)",
    "/api/erp/search": "SET LOCAL enable_seqscan",
}


def _get_routes(routers: list[APIRouter]) -> Iterator[APIRoute]:
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and "GET" in (route.methods or set()):
                yield route


def _units_of_work(route: APIRoute) -> set[Any]:
    return {d.call for d in route.dependant.dependencies} & {deps._unit_of_work, deps._read_unit_of_work}


def test_every_get_endpoint_reads_without_a_transaction_unless_it_needs_one() -> None:
    seen = set()
    for route in _get_routes([*crm_routers(), *erp_routers()]):
        uses = _units_of_work(route)
        if not uses:
            continue
        seen.add(route.path)
        expected = deps._unit_of_work if route.path in TRANSACTIONAL_READS else deps._read_unit_of_work
        assert uses == {expected}, \
            f"GET {route.path}: {TRANSACTIONAL_READS.get(route.path, 'reads without a transaction')}"
    assert set(TRANSACTIONAL_READS) <= seen  # the exceptions still exist
    assert len(seen) > 40


async def test_a_read_unit_of_work_sends_no_begin_and_no_rollback(stack: Stack,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    for method, word in (("start", "BEGIN"), ("commit", "COMMIT"), ("rollback", "ROLLBACK")):
        original = getattr(Transaction, method)

        async def logged(transaction: Transaction, _original: Any = original, _word: str = word) -> None:
            sent.append(_word)
            await _original(transaction)

        monkeypatch.setattr(Transaction, method, logged)
    runtime = ServiceRuntime(RuntimeConfig(  # the wiring the services use; started in no role
        service="crm", database_url=stack.database_urls["crm"],
        kafka=KafkaSettings(bootstrap_servers="unused:9092", client_id="read-uow-test"),
        outbox=outbox, inbox=inbox, roles=frozenset({"api"}), consumer_group="unused", db_pool_size=1))
    engine = runtime.engine
    pool = cast(QueuePool, engine.sync_engine.pool)
    async with engine.connect() as connection:  # SQLAlchemy's first-connect queries, before the log starts
        await connection.execute(text("SELECT 1"))
    sent.clear()
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2].split()[0]))
    # A request as the dependencies see it: the app's runtime, and a scope without an idempotent unit of work.
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtime=runtime)), scope={})
    try:
        for reading in (deps._read_unit_of_work, deps._unit_of_work):
            sent.append(f"-- {reading.__name__}")
            units = cast(AsyncGenerator[UnitOfWork, None], reading(request))  # type: ignore[arg-type]
            uow = await anext(units)
            assert pool.checkedout() == 0  # taken with the first statement, not before
            assert (await uow.session.execute(text("SELECT count(*) FROM deals"))).scalar_one() >= 0
            await uow.session.execute(text("SELECT 1"))
            await units.aclose()
            assert pool.checkedin() == 1  # back in the pool (one connection: both use it)
    finally:
        await engine.dispose()
    assert sent == ["-- _read_unit_of_work", "SELECT", "SELECT",
                    "-- _unit_of_work", "SELECT", "BEGIN", "SELECT", "ROLLBACK"]


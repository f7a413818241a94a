"""ERP facts on the CRM timeline in bulk: the set-based handler writes exactly the rows the per-event handler
writes, on the real CRM database, for a run mixing every kind of fact. Nothing is committed."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import throughline_events
from crm.db import outbox
from crm.timeline.handlers import HANDLERS
from devstack.stack import Stack
from throughline_events import Envelope, parse_payload
from throughline_messaging.consumer import BatchingHandler, HandlerContext
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.context import bound_ids
from throughline_platform.db import new_engine, new_session_factory

GOLDEN = Path(throughline_events.__file__).parent / "golden"
KINDS = ["project.created", "invoice.issued", "payment.recorded", "invoice.paid", "invoice.overdue",
         "invoice.voided"]


@pytest.fixture(scope="module")
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = new_engine(stack.database_urls["crm"], pool_size=2)
    yield new_session_factory(engine)
    await engine.dispose()


def facts_of(company_id: uuid.UUID) -> list[Envelope]:
    """One of each kind the timeline shows (the golden events), as new events about one company."""
    envelopes = []
    for kind in KINDS:
        golden: dict[str, Any] = json.loads((GOLDEN / f"{kind}.v1.json").read_text())
        golden["event_id"] = str(uuid.uuid4())
        golden["data"]["company_id"] = str(company_id)
        envelopes.append(Envelope.model_validate(golden))
    return envelopes


async def rows_about(uow: UnitOfWork, company_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await uow.session.execute(text(
        "SELECT kind, deal_id, summary, data, occurred_at, source_event_id FROM erp_facts WHERE company_id = :c "
        "ORDER BY kind"), {"c": company_id})).mappings().all()
    return [{**row, "data": {**row["data"], "company_id": "<company>"}, "source_event_id": "<event>"}
            for row in rows]


async def test_the_batch_handler_writes_exactly_the_per_event_handlers_rows(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    one_by_one, as_batch = uuid.uuid4(), uuid.uuid4()
    async with UnitOfWork(sessions, OutboxWriter("crm", outbox, notify_channel="outbox_crm")) as uow:
        for envelope in facts_of(one_by_one):
            with bound_ids(correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id)):
                await HANDLERS[(envelope.event_type, 1)](HandlerContext(uow, envelope, parse_payload(envelope)))
                await uow.stage_events()
        batch = facts_of(as_batch)
        handler = HANDLERS[("project.created", 1)]
        assert isinstance(handler, BatchingHandler)
        assert all(HANDLERS[(e.event_type, 1)] is handler for e in batch)  # one run, every kind mixed
        await handler.batch(uow, [HandlerContext(uow, e, parse_payload(e)) for e in batch])
        await uow.stage_events()
        expected = await rows_about(uow, one_by_one)
        assert sorted(r["kind"] for r in expected) == sorted(KINDS)
        assert await rows_about(uow, as_batch) == expected
        sources = (await uow.session.execute(text(
            "SELECT source_event_id FROM erp_facts WHERE company_id = :c"), {"c": as_batch})).scalars()
        assert sorted(sources) == sorted(e.event_id for e in batch)

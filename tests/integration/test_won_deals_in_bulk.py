"""Won deals in bulk (`erp.intake.won_deals_in_bulk`, the intake's fast path): the set-based handler makes exactly
what the per-event handler (`erp.intake.service.project_from_won_deal`) makes for the same deals, on the real ERP
database (clients, projects, schedules and their items, project.created events), and through the real broker a
batch with a failing event still dead-letters only that event.

The database tests run the handlers the way the consumer's fast path does (per event: ids bound, handler,
stage; batch: one call, stage) inside one unit of work that is never committed, so nothing they write is
seen by other tests or published by the relay.
"""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devstack.stack import Stack
from erp.clients.replica import apply_company_state
from erp.clients.repository import ClientRepository
from erp.db import outbox
from erp.handlers import HANDLERS
from erp.intake.repository import IntakeRepository
from tests.erp_costs.helpers import sql
from tests.integration.won_deals import QUOTE_LINES, won_envelope
from tests.kafka_support import read_topic, wait_until
from tests.support import wait_for
from throughline_events import Envelope, encode, parse_payload
from throughline_events.crm import DealWonV1
from throughline_messaging.consumer import BatchingHandler, HandlerContext
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.context import bound_ids
from throughline_platform.db import new_engine, new_session_factory

DEAL_TOPIC, DLT = "crm.deal.events", "crm.deal.events.erp.dlt"



def _registered_handler() -> BatchingHandler:
    handler = HANDLERS[("deal.won", 1)]
    assert isinstance(handler, BatchingHandler)
    return handler


won_deal = _registered_handler()


@pytest.fixture(scope="module")
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = new_engine(stack.database_urls["erp"], pool_size=2)
    yield new_session_factory(engine)
    await engine.dispose()


def uow_on(sessions: async_sessionmaker[AsyncSession]) -> UnitOfWork:
    return UnitOfWork(sessions, OutboxWriter("erp", outbox, notify_channel="outbox_erp"))


def deal_of(envelope: Envelope) -> DealWonV1:
    won = parse_payload(envelope)
    assert isinstance(won, DealWonV1)
    return won


def contexts(uow: UnitOfWork, envelopes: list[Envelope]) -> list[HandlerContext]:
    return [HandlerContext(uow, e, parse_payload(e)) for e in envelopes]


async def one_by_one(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    """What the consumer does per event: ids bound, the handler, its events staged."""
    for ctx in contexts(uow, envelopes):
        with bound_ids(correlation_id=ctx.envelope.correlation_id, causation_id=str(ctx.envelope.event_id)):
            await won_deal(ctx)
            await uow.stage_events()


async def as_batch(uow: UnitOfWork, envelopes: list[Envelope]) -> None:
    await won_deal.batch(uow, contexts(uow, envelopes))
    await uow.stage_events()


async def what_was_made(uow: UnitOfWork, envelopes: list[Envelope]) -> list[dict[str, Any]]:
    """Per deal, everything the ERP made for it, with generated ids replaced by what they point at."""
    made = []
    for envelope in envelopes:
        won = deal_of(envelope)
        projects = (await uow.session.execute(text(
            "SELECT p.*, c.crm_company_id, c.name AS client_name, c.crm_version, c.replicated_at, "
            "c.payment_terms_days FROM projects p JOIN clients c ON c.id = p.client_id WHERE p.deal_id = :d"),
            {"d": won.deal_id})).mappings().all()
        assert len(projects) == 1, f"deal {won.title}: {len(projects)} projects"
        project = dict(projects[0])
        [schedule] = (await uow.session.execute(text(
            "SELECT *, terms IS NULL AS terms_sql_null FROM billing_schedules WHERE project_id = :p"),
            {"p": project["id"]})).mappings().all()
        items = (await uow.session.execute(text(
            "SELECT position, label, due_date, amount, status, reached_at, invoice_id FROM schedule_items "
            "WHERE schedule_id = :s ORDER BY position"), {"s": schedule["id"]})).mappings().all()
        events = (await uow.session.execute(text(
            "SELECT event_type, topic, message_key, value, headers FROM outbox WHERE message_key = :k"),
            {"k": str(project["id"])})).mappings().all()
        assert len(events) == 1, f"deal {won.title}: {len(events)} project.created events"
        event = dict(events[0])
        sent = json.loads(event.pop("value"))
        # The event names its own deal.won as its cause and carries that event's correlation id.
        assert sent["causation_id"] == str(envelope.event_id)
        assert sent["correlation_id"] == envelope.correlation_id == event["headers"]["correlation_id"]
        assert sent["data"]["project_id"] == str(project["id"]) == sent["aggregate_id"]
        assert sent["data"]["client_id"] == str(project["client_id"])
        assert sent["data"]["company_id"] == str(won.company.id) == str(project["crm_company_id"])
        assert sent["data"]["deal_id"] == str(won.deal_id)
        assert event["headers"]["event_id"] == sent["event_id"]
        made.append({
            "project": _without(project, "id", "client_id", "deal_id", "crm_company_id", "created_at", "updated_at"),
            "schedule": _without(dict(schedule), "id", "project_id", "created_at", "updated_at"),
            "items": [dict(i) for i in items],
            "event": {"event_type": event["event_type"], "topic": event["topic"],
                      "version": event["headers"]["event_version"],
                      "data": _without(sent["data"], "project_id", "client_id", "company_id", "deal_id", "created_at"),
                      "envelope": _without(sent, "event_id", "aggregate_id", "causation_id", "correlation_id",
                                           "occurred_at", "data")},
        })
    return made


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


async def test_the_batch_handler_makes_exactly_what_the_per_event_handler_makes(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # Two sets of deals alike in everything but their ids: one handled event by event, one as a batch. In
    # each, deals 0 and 5 share a new company (one client, named by the first), and there are 7 deals so
    # that every kind of billing terms occurs.
    def deals() -> list[Envelope]:
        shared_company = uuid.uuid4()
        return [won_envelope(uuid.uuid4(), shared_company if n in (0, 5) else uuid.uuid4(), n) for n in range(7)]

    per_event, batched = deals(), deals()
    async with uow_on(sessions) as uow:  # never committed: rolled back at the end
        await one_by_one(uow, per_event)
        await as_batch(uow, batched)
        expected = await what_was_made(uow, per_event)
        assert await what_was_made(uow, batched) == expected
        assert [m["schedule"]["billing_type"] for m in expected] == [
            "fixed", "milestones", "retainer", "time_and_materials", "single", "fixed", "milestones"]
        assert [i["amount"] for i in expected[0]["items"]] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.35")]
        for deal_set in (per_event, batched):
            companies = sorted({deal_of(e).company.id for e in deal_set})
            names = (await uow.session.execute(text(
                "SELECT name FROM clients WHERE crm_company_id = ANY(:ids)"), {"ids": companies})).scalars()
            # 7 deals, 6 companies: the shared one is named by the first deal that named it.
            assert sorted(names) == [f"Company of deal {n}" for n in (0, 1, 2, 3, 4, 6)]


async def test_deals_won_on_a_quote_get_its_lines_as_budget_lines_on_both_paths(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Issue 25: deal.won's optional `lines` become the project's budget lines, the same per event and in bulk; a
    deal without lines gets none."""
    def deals() -> list[Envelope]:
        return [won_envelope(uuid.uuid4(), uuid.uuid4(), n, lines=QUOTE_LINES if n % 2 == 0 else None)
                for n in range(4)]

    async def budget_lines(uow: UnitOfWork, envelopes: list[Envelope]) -> list[list[tuple[Any, ...]]]:
        return [[tuple(row) for row in (await uow.session.execute(text(
            "SELECT b.position, b.description, b.quantity, b.unit, b.unit_price, b.amount FROM project_budget_lines b "
            "JOIN projects p ON p.id = b.project_id WHERE p.deal_id = :d ORDER BY b.position"),
            {"d": deal_of(e).deal_id})).all()] for e in envelopes]

    per_event, batched = deals(), deals()
    async with uow_on(sessions) as uow:  # never committed
        await one_by_one(uow, per_event)
        await as_batch(uow, batched)
        made = await budget_lines(uow, per_event)
        assert await budget_lines(uow, batched) == made
        assert made[0] == [
            (1, "Discovery workshop", Decimal("1.00"), "fixed", Decimal("300.0000"), Decimal("300.0000")),
            (2, "Design and build", Decimal("7.50"), "hours", Decimal("120.0000"), Decimal("900.0000"))]
        assert made[1] == [] and made[2] == made[0] and made[3] == []
        assert await what_was_made(uow, batched) == await what_was_made(uow, per_event)


async def test_a_batch_creates_nothing_twice(sessions: async_sessionmaker[AsyncSession]) -> None:
    company, other = uuid.uuid4(), uuid.uuid4()
    handled_before, repeated, new = (won_envelope(uuid.uuid4(), company, n) for n in range(3))
    same_company = won_envelope(uuid.uuid4(), company, 3)
    async with uow_on(sessions) as uow:
        await one_by_one(uow, [handled_before])
        known = await ClientRepository(uow.session).by_crm_company(company)
        assert known is not None
        # The earlier deal again (a redelivery the inbox did not catch, e.g. another event id), a deal twice
        # in the batch, a second deal of a company the ERP already knows, and a deal of a new company.
        again = won_envelope(deal_of(handled_before).deal_id, company, 0)
        repeated_again = won_envelope(deal_of(repeated).deal_id, company, 1)
        of_other = won_envelope(uuid.uuid4(), other, 4)
        await as_batch(uow, [again, repeated, new, repeated_again, same_company, of_other])
        counts = (await uow.session.execute(text(
            "SELECT count(*) FILTER (WHERE crm_company_id = :c), count(*) FILTER (WHERE crm_company_id = :o) "
            "FROM clients WHERE crm_company_id IN (:c, :o)"), {"c": company, "o": other})).one()
        assert tuple(counts) == (1, 1)
        made = await what_was_made(uow, [handled_before, repeated, new, same_company, of_other])
        assert [m["project"]["name"] for m in made] == ["Deal 0", "Deal 1", "Deal 2", "Deal 3", "Deal 4"]
        # One project.created per project (checked above), the repeated deal's caused by its first deal.won;
        # the repeat and the redelivered deal caused none.
        caused = (await uow.session.execute(text(
            "SELECT convert_from(value, 'UTF8')::jsonb->>'causation_id' FROM outbox "
            "WHERE event_type = 'project.created' AND convert_from(value, 'UTF8')::jsonb->>'causation_id' = ANY(:ids)"),
            {"ids": [str(e.event_id) for e in (handled_before, again, repeated, new, repeated_again, same_company,
                                               of_other)]})).scalars()
        assert sorted(caused) == sorted(str(e.event_id) for e in (handled_before, repeated, new, same_company,
                                                                   of_other))


async def test_a_deal_of_a_known_company_leaves_its_client_as_the_crm_made_it(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    company = uuid.uuid4()
    async with uow_on(sessions) as uow:
        await apply_company_state(ClientRepository(uow.session), company_id=company, version=3,
                                  name="Real Name Ltd", email="billing@example.com", phone=None, address=None)
        await uow.session.flush()
        await as_batch(uow, [won_envelope(uuid.uuid4(), company, 1, company_name="Stale Name")])
        client = (await uow.session.execute(text(
            "SELECT c.name, c.crm_version, c.email, count(p.id) FROM clients c JOIN projects p ON p.client_id = c.id "
            "WHERE c.crm_company_id = :c GROUP BY c.id"), {"c": company})).one()
        assert tuple(client) == ("Real Name Ltd", 3, "billing@example.com", 1)


async def test_a_value_its_column_cannot_hold_fails_the_batch_instead_of_being_cut(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # As the per-event handler's INSERT fails (and the event ends in the dead-letter topic), so must the
    # set-based one: its arrays are cast without the column's length, so nothing truncates the title.
    async with uow_on(sessions) as uow:
        with pytest.raises(DBAPIError, match="too long"):
            await as_batch(uow, [won_envelope(uuid.uuid4(), uuid.uuid4(), 1, title="x" * 201)])


async def test_a_run_of_only_time_and_materials_deals_makes_schedules_without_items(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # Nothing is billed up front for time and materials: the run has no schedule items at all, and the one
    # insert statement is then made of the projects and the schedules alone.
    def deals() -> list[Envelope]:
        return [won_envelope(uuid.uuid4(), uuid.uuid4(), n) for n in (3, 8)]  # TERMS[3]: time and materials

    per_event, batched = deals(), deals()
    async with uow_on(sessions) as uow:
        await one_by_one(uow, per_event)
        await as_batch(uow, batched)
        expected = await what_was_made(uow, per_event)
        assert await what_was_made(uow, batched) == expected
        assert [(m["schedule"]["billing_type"], m["items"]) for m in expected] == [("time_and_materials", [])] * 2


async def test_the_one_insert_checks_the_keys_between_its_rows_when_it_ends(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # Schedules and items refer to projects and schedules that the same statement inserts: their foreign keys are
    # checked when it ends, when all its rows exist. A row whose reference exists nowhere is not quietly left out
    # (only a row offered with a project that is left out is): its key fails.
    company = uuid.uuid4()
    async with uow_on(sessions) as uow:
        await as_batch(uow, [won_envelope(uuid.uuid4(), company, 0)])
        [client_id] = (await uow.session.execute(text("SELECT id FROM clients WHERE crm_company_id = :c"),
                                                 {"c": company})).scalars()
        project, schedule, item = _rows(client_id)
        inserted = await IntakeRepository(uow.session).insert_new([project], [schedule], [item])
        assert inserted == {project["deal_id"]}
        assert (await uow.session.execute(text(
            "SELECT count(*) FROM schedule_items i JOIN billing_schedules s ON s.id = i.schedule_id "
            "JOIN projects p ON p.id = s.project_id WHERE p.id = :p"), {"p": project["id"]})).scalar_one() == 1
    async with uow_on(sessions) as uow:
        project, schedule, item = _rows(client_id)
        item["schedule_id"] = uuid.uuid4()
        with pytest.raises(IntegrityError, match="schedule_items"):
            await IntakeRepository(uow.session).insert_new([project], [schedule], [item])


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _rows(client_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    now = datetime.now(UTC)
    project_id, schedule_id = uuid.uuid4(), uuid.uuid4()
    return ({"id": project_id, "name": "By hand", "client_id": client_id, "deal_id": uuid.uuid4(), "currency": "EUR",
             "budget_amount": Decimal("10.00"), "status": "active", "created_at": now, "updated_at": now},
            {"id": schedule_id, "project_id": project_id, "billing_type": "single", "currency": "EUR",
             "total": Decimal("10.00"), "created_at": now, "updated_at": now},
            {"id": uuid.uuid4(), "schedule_id": schedule_id, "position": 1, "label": "All", "amount": Decimal("10.00"),
             "status": "pending", "created_at": now, "updated_at": now})


@pytest.fixture
async def traced_sessions(stack: Stack) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], list[str]]]:
    """Sessions on a one-connection engine of their own, and the SQL of every statement it executes."""
    engine = new_engine(stack.database_urls["erp"], pool_size=1)
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    async with engine.connect() as connection:  # SQLAlchemy's first-connect queries, before counting
        await connection.execute(text("SELECT 1"))
    yield new_session_factory(engine), sent
    await engine.dispose()


async def test_a_run_of_won_deals_costs_three_statements_whatever_its_size(
        traced_sessions: tuple[async_sessionmaker[AsyncSession], list[str]]) -> None:
    """The clients claimed, the clients locked, and ONE insert of the projects, their schedules, their items
    and their project.created events that leaves out the deals with projects; the same three SQL texts (one
    prepared statement each) for 2 deals and for 7, so no expanding IN; and nothing left to stage after them.
    The registered handler adds a fourth: the pipeline replica's deals marked won (erp.pipeline), one upsert."""
    sessions, sent = traced_sessions
    texts: dict[int, list[str]] = {}
    for size in (2, 7):
        envelopes = [won_envelope(uuid.uuid4(), uuid.uuid4(), n) for n in range(size)]
        async with uow_on(sessions) as uow:  # never committed
            run = contexts(uow, envelopes)
            sent.clear()
            await won_deal.batch(uow, run)
            texts[size] = list(sent)
            await uow.stage_events()
            assert sent == texts[size]  # the events went with the insert: no outbox INSERT of their own
            made = await what_was_made(uow, envelopes)
        assert sum(len(m["items"]) for m in made) > size  # items were made, and in that one statement
    statements = texts[7]
    assert [sql.split()[0] for sql in statements] == ["INSERT", "SELECT", "WITH", "INSERT"], statements
    for table in ("projects", "billing_schedules", "schedule_items", "outbox"):
        assert [sql for sql in statements if f"INSERT INTO {table} " in sql] == [statements[2]], table
    assert statements[3].startswith("INSERT INTO pipeline_deals "), statements[3]
    assert texts[2] == texts[7]


# --- through the broker ---------------------------------------------------------------------------------------

async def publish_together(stack: Stack, envelopes: list[Envelope], key: bytes) -> None:
    """Every envelope in one producer flush on one key: one partition, most likely one consumer batch."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, acks="all", linger_ms=50)
    crm = stack.event_signer("crm")  # signed with the CRM's key, as its relay would
    await producer.start()
    try:
        for envelope in envelopes:
            value = encode(envelope)
            await producer.send(DEAL_TOPIC, value=value, key=key, headers=[
                ("event_id", str(envelope.event_id).encode()), ("event_type", b"deal.won"), ("event_version", b"1"),
                *crm.headers(DEAL_TOPIC, key, value)])
        await producer.flush()
    finally:
        await producer.stop()


def projects_by_deal(stack: Stack, deal_ids: list[uuid.UUID]) -> dict[str, int]:
    ids = ",".join(f"'{d}'" for d in deal_ids)
    return {deal: int(count) for deal, count in sql(
        stack, f"SELECT deal_id, count(*) FROM projects WHERE deal_id IN ({ids}) GROUP BY deal_id")}


async def test_a_failing_deal_in_a_batch_is_dead_lettered_alone(stack: Stack) -> None:
    key = str(uuid.uuid4()).encode()
    company = uuid.uuid4()
    good = [won_envelope(uuid.uuid4(), company, n) for n in range(4)]
    # Valid by the contract, refused by the database (a project name has at most 200 characters): the
    # handler fails on every attempt, so the batch falls back to the careful path.
    bad = won_envelope(uuid.uuid4(), company, 9, title="x" * 300)
    await publish_together(stack, [good[0], good[1], bad, good[2], good[1], good[3]], key)

    async def parked() -> dict[str, bytes] | None:
        records = [r for r in await read_topic(stack.bootstrap_servers, DLT) if r.key == key]
        return dict(records[0].headers) if records else None

    headers = await wait_until(parked, 30, "the failing deal.won in the dead-letter topic")
    assert headers["dlt.reason"] == b"handler_failed"
    assert headers["event_id"] == str(bad.event_id).encode()
    deal_ids = [deal_of(e).deal_id for e in good]
    wait_for(lambda: len(projects_by_deal(stack, deal_ids)) == 4, 15, "the good deals' projects")
    assert projects_by_deal(stack, deal_ids) == {str(d): 1 for d in deal_ids}
    assert projects_by_deal(stack, [deal_of(bad).deal_id]) == {}
    assert len([r for r in await read_topic(stack.bootstrap_servers, DLT) if r.key == key]) == 1
    assert sql(stack, f"SELECT count(*) FROM clients WHERE crm_company_id = '{company}'") == [["1"]]

    # A redelivery of the whole batch: the inbox skips every event that was handled; nothing doubles.
    await publish_together(stack, good, key)
    marker = won_envelope(uuid.uuid4(), company, 5)
    await publish_together(stack, [marker], key)  # same partition, after the redelivery
    wait_for(lambda: projects_by_deal(stack, [deal_of(marker).deal_id]), 15, "the marker deal's project")
    assert projects_by_deal(stack, deal_ids) == {str(d): 1 for d in deal_ids}

"""The database plumbing that saves round trips and CPU still keeps its promises, on a PostgreSQL of its own
(it is restarted here):
- the outbox INSERT wakes the relays at COMMIT (no separate `SELECT pg_notify`), never for a rollback;
- pooled connections the server closed (a restart, a terminated session) are replaced at checkout, so no
  request fails, although the pool no longer pings before every checkout;
- a pool under more concurrent work than it has connections makes that work wait, and opens no more;
- the relay's statements use their indexes, whatever the outbox looked like when they were planned;
- work done without a transaction ends without a flush, and refuses to end with changes no statement wrote.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import asyncpg
import pytest
from sqlalchemy import MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from devstack.postgres import EmbeddedPostgres
from throughline_events.erp import ExpenseSubmittedV1
from throughline_messaging.aggregate import Cause
from throughline_messaging.relay import OutboxRelay
from throughline_messaging.tables import create_messaging_tables_sql, outbox_table
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.db import asyncpg_dsn, new_engine, new_session_factory
from throughline_platform.event_signing import EventSigner, new_private_key_pem

CHANNEL = "outbox_test"
POOL_SIZE = 4


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("round-trips") / "data", durable=False)  # throw-away
    server.start()
    try:
        server.create_database("plumbing")
        for statement in create_messaging_tables_sql():
            server.psql("plumbing", statement)
        server.psql("plumbing", "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
        yield server
    finally:
        server.stop()


@pytest.fixture
async def engine(postgres: EmbeddedPostgres) -> AsyncIterator[AsyncEngine]:
    engine = new_engine(postgres.url("plumbing"), pool_size=POOL_SIZE, application_name="plumbing-test")
    try:
        yield engine
    finally:
        await engine.dispose()


def _expense_submitted() -> ExpenseSubmittedV1:
    return ExpenseSubmittedV1.model_validate({
        "expense_id": str(uuid.uuid4()), "amount": "1.00", "currency": "EUR", "submitted_by": "u",
        "occurred_at": "2026-11-27T10:00:00Z"})


async def test_staged_events_wake_the_relay_once_at_commit_and_never_on_rollback(
        engine: AsyncEngine, postgres: EmbeddedPostgres) -> None:
    wake_ups: list[str] = []
    listener = await asyncpg.connect(asyncpg_dsn(postgres.url("plumbing")))
    await listener.add_listener(CHANNEL, lambda _conn, _pid, channel, _payload: wake_ups.append(channel))
    writer = OutboxWriter("erp", outbox_table(MetaData()), notify_channel=CHANNEL)
    try:
        async with UnitOfWork(new_session_factory(engine), writer) as uow:
            uow.record(_expense_submitted(), Cause("c", "x"))
            await uow.stage_events()  # a first INSERT, as a consumer's batch makes
            uow.record(_expense_submitted(), Cause("c", "y"))
            await uow.stage_events()
            await asyncio.sleep(0.2)
            assert wake_ups == [], "woken before COMMIT: the relay would find nothing"
            await uow.commit()
        await _until(lambda: bool(wake_ups))
        await asyncio.sleep(0.2)
        assert wake_ups == [CHANNEL], "one wake-up per committed transaction"

        async with UnitOfWork(new_session_factory(engine), writer) as uow:
            uow.record(_expense_submitted(), Cause("c", "z"))
            await uow.stage_events()  # then left without commit: rolled back
        await asyncio.sleep(0.3)
        assert wake_ups == [CHANNEL]
        assert postgres.psql("plumbing", "SELECT count(*) FROM outbox").strip() == "2"
        # Rolled back, not left open on a pooled connection (which would hold its locks until its next use).
        assert postgres.psql("plumbing", "SELECT count(*) FROM pg_stat_activity WHERE datname = 'plumbing' "
                                         "AND state LIKE 'idle in transaction%'").strip() == "0"
    finally:
        await listener.close()


async def test_no_request_fails_after_a_restart_or_a_terminated_session(
        engine: AsyncEngine, postgres: EmbeddedPostgres) -> None:
    await _use_every_pooled_connection(engine)
    postgres.stop()
    postgres.start()
    await asyncio.sleep(0.05)  # the event loop reads the closed sockets (a real restart takes longer)
    await _use_every_pooled_connection(engine)

    postgres.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = 'plumbing' AND pid <> pg_backend_pid()")
    await asyncio.sleep(0.05)
    await _use_every_pooled_connection(engine)


async def test_more_concurrent_work_than_pooled_connections_waits_and_opens_none(
        engine: AsyncEngine, postgres: EmbeddedPostgres) -> None:
    await _use_every_pooled_connection(engine)  # the pool full, as it is on a service under load
    sessions_before = await _settled_sessions_started(postgres)
    async def one() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_sleep(0.02)"))

    await asyncio.gather(*(one() for _ in range(4 * POOL_SIZE)))
    # An overflow connection is closed as soon as it is returned to a full pool: under steady load above the
    # pool's size, every request would have started a backend of its own.
    assert _sessions_started(postgres) - sessions_before == 0
    names = postgres.psql("plumbing", "SELECT DISTINCT application_name FROM pg_stat_activity "
                                      "WHERE datname = 'plumbing' AND pid <> pg_backend_pid()").split()
    assert "plumbing-test" in names, names


async def test_the_relays_statements_use_their_indexes_however_small_the_outbox_was_when_planned(
        engine: AsyncEngine, postgres: EmbeddedPostgres) -> None:
    relay = OutboxRelay(engine=engine, database_url=postgres.url("plumbing"), producer=None,
                        outbox=outbox_table(MetaData()), service="plumbing", notify_channel=CHANNEL,
                        signer=EventSigner.from_pem("plumbing-key", "plumbing", new_private_key_pem()))
    conn = await relay.connect()
    try:
        assert await conn.fetchval("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()") \
            == "plumbing-relay"
        # The generic plan: what a long-lived connection settles on after a few executions of a statement, and
        # keeps until PostgreSQL plans again. On this small outbox the mark would be a sequential scan.
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE relay_select(int) AS {relay.select_sql}")
        await conn.execute(f"PREPARE relay_mark(bigint[]) AS {relay.mark_sql}")
        for statement, index in (("relay_select(1000)", "ix_outbox_unpublished"),
                                 ("relay_mark('{1,2}')", "outbox_pkey")):
            plan = "\n".join(row[0] for row in await conn.fetch(f"EXPLAIN EXECUTE {statement}"))
            assert "Seq Scan" not in plan and index in plan, plan
    finally:
        await conn.close()


class _Base(DeclarativeBase):
    pass


class _Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]


async def test_work_without_a_transaction_ends_without_a_flush_and_keeps_what_it_read(engine: AsyncEngine) -> None:
    writer = OutboxWriter("erp", outbox_table(MetaData()), notify_channel=CHANNEL)
    async with UnitOfWork(new_session_factory(engine), writer) as uow:
        await uow.without_transaction()
        await uow.session.execute(text("INSERT INTO notes VALUES (1, 'first')"))
        note = await uow.session.get(_Note, 1)
        assert note is not None
        note.body = "second"  # the change made on the object, as services make it
        with uow.session.no_autoflush:
            await uow.session.execute(text("UPDATE notes SET body = 'second' WHERE id = 1"))
        set_committed_value(note, "body", "second")  # what the statement wrote, as a repository records it
        flushes: list[object] = []
        event.listen(uow.session.sync_session, "before_flush", lambda *args: flushes.append(args))
        await uow.commit()
        assert flushes == []
    assert note.body == "second"  # still readable once the unit of work is over

    async with UnitOfWork(new_session_factory(engine), writer) as uow:
        await uow.without_transaction()
        note = await uow.session.get(_Note, 1)
        assert note is not None
        note.body = "third"  # changed in the session, written by no statement
        with pytest.raises(RuntimeError, match="changes that no statement wrote"):
            await uow.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT body FROM notes WHERE id = 1"))).scalar_one() == "second"


async def _settled_sessions_started(postgres: EmbeddedPostgres) -> int:
    """Once new backends have reported themselves (each does when it first goes idle)."""
    counted = _sessions_started(postgres)
    for _ in range(20):
        await asyncio.sleep(0.05)
        counted, previous = _sessions_started(postgres), counted
        if counted == previous:
            break
    return counted


def _sessions_started(postgres: EmbeddedPostgres) -> int:
    counted = postgres.psql("postgres", "SELECT pg_stat_clear_snapshot(); "
                                        "SELECT sessions FROM pg_stat_database WHERE datname = 'plumbing'")
    return int(counted.split()[-1])


async def _use_every_pooled_connection(engine: AsyncEngine) -> None:
    """As many concurrent transactions as the pool holds connections, each long enough to hold its own."""
    async def one() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(one() for _ in range(POOL_SIZE)))


async def _until(condition: Callable[[], bool], timeout: float = 3) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "no notification arrived"
        await asyncio.sleep(0.02)

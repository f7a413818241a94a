"""The unit of work: one transaction; the aggregates' recorded events become outbox rows before COMMIT."""

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import ColumnElement, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.selectable import TableValuedAlias

from throughline_events import Envelope, EventPayload, encode, topic_for
from throughline_messaging.aggregate import Cause, RecordedEvent, aggregates_with_events, pop_all_recorded
from throughline_messaging.bulk import arrays, insert_from_arrays
from throughline_platform.context import causation_id_var, correlation_id_var, request_id_var

OUTBOX_COLUMNS = ("event_id", "event_type", "topic", "message_key", "value", "headers")


def insert_and_wake(outbox: Table, only_if: ColumnElement[bool] | None = None,
                    keep: Callable[[TableValuedAlias], ColumnElement[bool]] | None = None) -> Insert:
    """The outbox rows' INSERT, which also wakes the relays: `INSERT INTO outbox ... SELECT ... FROM unnest(...)
    WHERE (SELECT pg_notify(:notify_channel, '')) IS NOT NULL`. The subquery does not depend on the rows, so
    PostgreSQL runs it once per statement (an InitPlan), and it is always true. A notification is delivered at
    COMMIT (a rolled-back INSERT's never is), one per transaction however many INSERTs asked for it: every
    transaction that commits outbox rows wakes the relays, without a round trip of its own.

    `only_if` (a condition on the statement's other CTEs) inserts the rows only when the change that caused them
    happened in the same statement; `keep` (a condition on each row, given the unnested rows) only the rows whose
    change happened. Their parameters come from `UnitOfWork.outbox_parameters`."""
    rows = insert_from_arrays(outbox, OUTBOX_COLUMNS, where=keep).select
    assert rows is not None  # insert_from_arrays is an INSERT ... SELECT
    wake = select(func.pg_notify(bindparam("notify_channel"), "")).scalar_subquery()
    condition = wake.is_not(None) if only_if is None else only_if & wake.is_not(None)
    return insert(outbox).from_select(OUTBOX_COLUMNS, rows.where(condition), include_defaults=False)


class OutboxWriter:
    """Turns recorded events into envelopes and stages them as outbox rows in the current transaction."""

    def __init__(self, producer: str, outbox: Table, notify_channel: str) -> None:
        self.producer = producer
        self.outbox = outbox
        self.notify_channel = notify_channel
        self._insert = insert_and_wake(outbox)  # built once: building it cost more CPU than running it

    def envelope(self, recorded: RecordedEvent) -> Envelope:
        payload = recorded.payload
        cause = recorded.cause
        if cause is None:  # caused by the request or event being handled now: its ids are bound
            cause = Cause(correlation_id_var.get(), causation_id_var.get() or request_id_var.get())
        return Envelope(
            event_id=uuid.uuid4(),
            event_type=payload.event_type,
            event_version=payload.event_version,
            occurred_at=recorded.occurred_at,
            producer=self.producer,
            aggregate_type=payload.aggregate_type,
            aggregate_id=payload.aggregate_id(),
            correlation_id=cause.correlation_id,
            causation_id=cause.causation_id,
            data=payload.model_dump(mode="json"),
        )

    async def stage(self, session: AsyncSession, recorded: list[RecordedEvent]) -> int:
        if not recorded:
            return 0
        await session.execute(self._insert, self.parameters(recorded))
        return len(recorded)

    def parameters(self, recorded: list[RecordedEvent]) -> dict[str, Any]:
        """The outbox INSERT's parameters (see `insert_and_wake`) for these events."""
        rows = []
        for event in recorded:
            envelope = self.envelope(event)
            rows.append({
                "event_id": envelope.event_id,
                "event_type": envelope.event_type,
                "topic": topic_for(envelope.aggregate_type).name,
                "message_key": str(envelope.aggregate_id),
                "value": encode(envelope),
                "headers": {
                    "event_id": str(envelope.event_id),
                    "event_type": envelope.event_type,
                    "event_version": str(envelope.event_version),
                    "correlation_id": envelope.correlation_id or "",
                },
            })
        return {**arrays(rows, OUTBOX_COLUMNS), "notify_channel": self.notify_channel}


class UnitOfWork:
    """`async with uow: ...; await uow.commit()`; leaving without commit rolls back.

    `on_commit` runs after a commit that staged events (the in-process relay wake-up).

    `autocommit`: the session factory's engine runs each statement as a transaction of its own (isolation level
    AUTOCOMMIT), and this unit of work is as after `without_transaction()` from the start, except that it takes
    a pooled connection only with its first statement (`ServiceRuntime.read_uow`).

    `defer_commit()` (a request with an `Idempotency-Key`, throughline_messaging.idempotency): `commit()` stages the
    events and flushes, but the COMMIT waits for `commit_deferred()`, which the idempotency middleware calls once it
    has stored the answer in the same transaction: the change and the answer a repeat gets commit together.
    """

    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], writer: OutboxWriter,
                 on_commit: Callable[[], None] | None = None, *, autocommit: bool = False) -> None:
        self._session_factory = session_factory
        self._writer = writer
        self._on_commit = on_commit
        self._staged = 0
        self._recorded: list[RecordedEvent] = []
        self._starts_autocommit = autocommit
        self._autocommit = autocommit
        self._deferred = False
        self._commit_requested = False

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self._staged = 0
        self._recorded = []
        self._autocommit = self._starts_autocommit
        self._deferred = self._commit_requested = False
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        # close() rolls back what was not committed. A rollback() first would do that too, but it also expires
        # everything the session loaded, just before close() detaches it: 1.5 % of crm-api's samples per win.
        await self.session.close()

    def record(self, payload: EventPayload, cause: Cause) -> None:
        """Record an event of work done without an aggregate object (set-based SQL handling many events at
        once), naming what caused it. Staged with the aggregates' events, in recording order."""
        self._recorded.append(RecordedEvent(payload, cause))

    async def stage_events(self) -> int:
        """Move every recorded event (the session's aggregates' and `record`'s) into the outbox (same
        transaction)."""
        await self.session.flush()
        staged = await self._writer.stage(self.session, self._pop_recorded())
        self._staged += staged
        return staged

    def outbox_parameters(self) -> dict[str, Any]:
        """Every event recorded so far, as the parameters of an outbox INSERT (`insert_and_wake`) that the caller
        runs as part of the statement making the change the events describe: change and events are then one
        statement, hence one transaction, also without a transaction around it (see `without_transaction`)."""
        recorded = self._pop_recorded()
        self._staged += len(recorded)
        return self._writer.parameters(recorded)

    def _pop_recorded(self) -> list[RecordedEvent]:
        recorded = pop_all_recorded(aggregates_with_events(self.session.sync_session))
        if self._recorded:
            recorded = sorted([*recorded, *self._recorded], key=lambda e: e.sequence)
            self._recorded = []
        return recorded

    async def without_transaction(self) -> None:
        """Run each of the following statements as a transaction of its own: no BEGIN and COMMIT round trips.

        Only for work that reads, then writes all it changes, its events included (`outbox_parameters`), in one
        statement guarded by what it read (optimistic: the guard finds the rows unchanged, or nothing is
        written). Call it before the first statement; `restart` goes back to a normal transaction.

        A deferred unit of work stays in its transaction (the single statement is just as correct inside one), so
        that the stored answer commits with it."""
        if self._deferred:
            return
        await self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        self._autocommit = True

    async def restart(self) -> None:
        """Drop what this unit of work has read and recorded and start again with a new session, as it started
        (in a normal transaction, unless it is an `autocommit` unit of work)."""
        if self._commit_requested:
            raise RuntimeError("a deferred unit of work cannot restart after its commit: the work would be lost")
        await self.session.close()
        self.session = self._session_factory()
        self._staged = 0
        self._recorded = []
        self._autocommit = self._starts_autocommit

    def discard_events(self) -> None:
        """Forget events recorded by work that is being rolled back (a failed handler's savepoint)."""
        self._pop_recorded()

    def defer_commit(self) -> None:
        """From now on `commit()` leaves the COMMIT to `commit_deferred()` (see the class)."""
        if self._autocommit:
            raise RuntimeError("an autocommit unit of work has no transaction to defer")
        self._deferred = True

    @property
    def commit_requested(self) -> bool:
        """A deferred unit of work whose work called `commit()`: what it changed is to be committed."""
        return self._commit_requested

    async def commit_deferred(self) -> None:
        """COMMIT a deferred unit of work (with whatever was written since its `commit()`)."""
        await self.stage_events()
        await self.session.commit()
        self._commit_requested = False
        if self._staged and self._on_commit is not None:
            self._on_commit()
        self._staged = 0

    async def commit(self) -> None:
        if self._deferred:
            await self.stage_events()  # written and flushed in the transaction; COMMIT is commit_deferred's
            self._commit_requested = True
            return
        if self._autocommit:
            self._check_all_written()  # each statement committed itself: nothing to flush, no COMMIT to send
            # Detached as they are, what was read stays readable: the rollback that ends every unit of work would
            # expire it (the session's transaction is still open, if only in name).
            self.session.expunge_all()
        else:
            await self.stage_events()  # the outbox INSERT also asks PostgreSQL to wake the relays at COMMIT
            await self.session.commit()
        if self._staged and self._on_commit is not None:
            self._on_commit()
        self._staged = 0

    def _check_all_written(self) -> None:
        """Without a transaction the statements have written everything, or changes would be dropped here: refuse
        rather than lose them. (A flush would find no net change on the objects those statements wrote, but it
        costs a pass of the ORM's unit of work: 6 % of crm-api's CPU per win.)"""
        session = self.session
        if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
            raise RuntimeError("changes that no statement wrote are left in a unit of work without a transaction")
        if self._pop_recorded():
            raise RuntimeError("events recorded after their statement are left in a unit of work without a "
                               "transaction")


class RelaySignal:
    """In-process wake-up for the relay, set right after a commit that staged events."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self, at_most: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), at_most)
        self._event.clear()

"""The event consumer: batches, inbox dedupe in the handler's transaction, offsets after COMMIT, DLT.

Delivery is at-least-once; effects are exactly-once because each event's inbox row and its effects
commit together. A batch is handled in one transaction with one inbox statement (the fast path); only when
a handler raises is it handled again one savepoint per event (the careful path). In the fast path, a run
of consecutive events whose handler is a `BatchingHandler` is handed to its set-based form in one call; the
careful path always uses the per-event form, which stays the reference behaviour.

A member works in `lanes`: each lane owns a fixed share of the member's partitions and handles its batches
in its own transactions, so one lane's Python work overlaps another's wait for PostgreSQL or the broker. A
partition always belongs to the same lane, so its events keep their order.

Offsets are committed only for events whose database transaction committed, but not after every batch: a
handled batch's offsets wait (merged across lanes, the highest per partition) until `commit_interval` has
passed since the last commit, checked after each batch and on every empty poll, and are always committed on a
clean stop and when a rebalance revokes their partitions. A crash before that redelivers them, and the inbox
skips them. Per event:
- unsigned, signed by a key the ring does not hold, badly signed, or signed by another service than the topic's or
  the envelope's producer: dead-lettered at once, before it is even decoded (throughline_platform.event_signing);
- cannot be decoded, breaks the contract, or has a version we do not handle: dead-lettered at once;
- its handler raises: retried (in a savepoint) up to `max_attempts`, then dead-lettered;
- its handler refuses it (raises `EventRefused`: the event is well-formed but must not be applied, and trying again
  cannot change that): dead-lettered at once, with the handler's reason;
- the database or broker is away: the whole batch waits and is retried, however long that takes
  (an outage is not the event's fault, so it never sends good events to the DLT).

A dead letter never fails for its size: a record too large for the producer to send as it is (it may have arrived
larger than we may send) is cut to fit, with headers saying so and where the original sits (`dead_letter`).
"""

import asyncio
import contextlib
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, MessageSizeTooLargeError, RecordListTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.dml import ReturningInsert

from throughline_events import (
    ContractError,
    Envelope,
    EventPayload,
    dead_letter_topic,
    decode,
    parse_payload,
)
from throughline_events.codec import UnknownEventVersion
from throughline_messaging import metrics
from throughline_messaging.aggregate import Cause
from throughline_messaging.bulk import arrays, insert_from_arrays
from throughline_messaging.errors import is_transient
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.uow import UnitOfWork
from throughline_platform import failpoints
from throughline_platform.context import bound_ids
from throughline_platform.event_signing import EventRejected, EventVerifier, check_producer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class HandlerContext:
    uow: UnitOfWork
    envelope: Envelope
    payload: EventPayload

    @property
    def cause(self) -> Cause:
        """What events recorded while handling this one carry: its correlation id, and it as their cause."""
        return Cause(self.envelope.correlation_id, str(self.envelope.event_id))


Handler = Callable[[HandlerContext], Awaitable[None]]
# Handles a run of consecutive events routed to one `BatchingHandler`, in their order, with the same effects
# as its per-event handler applied to each in turn. Events it records name their cause (`uow.record`).
BatchHandler = Callable[[UnitOfWork, list[HandlerContext]], Awaitable[None]]


@dataclass(frozen=True)
class BatchingHandler:
    """A per-event handler together with its set-based form, for event types that arrive in bulk.

    Registered like any handler, for one event type or several (the same object for each). The fast path
    gives runs of consecutive events routed to it to `batch`; the careful path (after any handler raised)
    calls `one` per event, so retries, failure isolation and dead-lettering stay exactly those of the
    per-event handler."""

    one: Handler
    batch: BatchHandler

    async def __call__(self, ctx: HandlerContext) -> None:
        await self.one(ctx)


class HandlerFailed(Exception):
    reason = "handler_failed"


class EventRefused(Exception):
    """Raised by a handler for an event it must not apply although it is signed and well-formed (a rule the contract
    cannot express: a replica version implausibly far ahead). Its savepoint is rolled back and the event is
    dead-lettered at once with `reason` (the `dlt.reason` header and the metric's label), without the retries a
    failing handler gets: the same event would be refused again. `replay-dlt` can bring it back once it is fixed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class _HandlerRaised(Exception):
    """A handler failed in the fast path: its cause is in __cause__; the batch goes the careful way."""


@dataclass(frozen=True)
class _Work:
    position: int
    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope
    payload: EventPayload
    handler: Handler


_CLAIM_COLUMNS = ["consumer_group", "event_id", "event_type", "topic", "partition", "offset"]


def _claim_all_statement(inbox: Table) -> ReturningInsert[Any]:
    """One INSERT for the whole batch whatever its size (see `bulk`), so SQLAlchemy compiles it once; a
    multi-row VALUES list was compiled afresh for every batch (a sixth of the ERP worker's CPU in the
    pipeline benchmark)."""
    return (insert_from_arrays(inbox, _CLAIM_COLUMNS)
            .on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
            .returning(inbox.c.event_id))


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    ignored: int = 0


class EventConsumer:
    def __init__(self, *, service: str, group: str, topics: list[str], kafka: KafkaSettings,
                 uow_factory: Callable[[], UnitOfWork], inbox: Table, handlers: dict[tuple[str, int], Handler],
                 producer: AIOKafkaProducer, verifier: EventVerifier, batch_size: int = 500, lanes: int = 1,
                 max_attempts: int = 3, retry_backoff: float = 0.05, max_backoff: float = 10.0,
                 commit_interval: float = 1.0) -> None:
        """`commit_interval` (seconds): the longest handled offsets wait before they are committed; 0 commits
        after every batch. Longer saves a broker round trip per batch and costs redelivered (skipped) events
        after a crash, never a lost or doubled effect."""
        if lanes < 1:
            raise ValueError("a consumer needs at least one lane")
        if commit_interval < 0:
            raise ValueError("commit_interval cannot be negative")
        self.service = service
        self.group = group
        self.topics = topics
        self.kafka = kafka
        self.uow_factory = uow_factory
        self.inbox = inbox
        self._claim_all = _claim_all_statement(inbox)
        self.handlers = handlers
        self.handled_types = {event_type for event_type, _ in handlers}
        self.producer = producer
        self.verifier = verifier
        self.batch_size = batch_size
        self.lanes = lanes
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.max_backoff = max_backoff
        self.commit_interval = commit_interval
        self.stats = ConsumerStats()
        self.started = False
        self._lanes_waiting: set[int] = set()  # lanes whose batch waits for the database or broker to come back
        self._consumer: AIOKafkaConsumer | None = None
        self._stop = asyncio.Event()
        self._drain = False
        self._positions: dict[TopicPartition, int] = {}  # handled offsets (next to handle), per partition
        self._pending: dict[TopicPartition, int] = {}  # handled offsets not committed yet
        self._commit_lock = asyncio.Lock()  # one offset commit at a time, so a later one never precedes an earlier
        self._last_commit = float("-inf")  # time.monotonic() of the last commit started

    @property
    def waiting_on_infrastructure(self) -> bool:
        return bool(self._lanes_waiting)

    @property
    def assigned_partitions(self) -> int:
        return len(self._consumer.assignment()) if self._consumer is not None and self.started else 0

    async def lag(self) -> int | None:
        """Events not yet handled on this member's partitions (None until the broker has told us)."""
        consumer = self._consumer
        if consumer is None or not self.started:
            return None
        total = 0
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                return None
            done = self._positions.get(tp)
            if done is None:
                done = await consumer.position(tp)
            total += max(0, highwater - done)
        return total

    async def stop(self, *, drain: bool = True) -> None:
        """Stop after the current batch; with `drain`, first consume until the topics are caught up."""
        self._drain = drain
        self._stop.set()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.kafka.bootstrap_servers,
            client_id=f"{self.kafka.client_id}-consumer",
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            session_timeout_ms=self.kafka.session_timeout_ms,
            heartbeat_interval_ms=self.kafka.heartbeat_interval_ms,
            rebalance_timeout_ms=self.kafka.rebalance_timeout_ms,
            fetch_max_wait_ms=self.kafka.fetch_max_wait_ms,
            **self.kafka.client_options(),
        )
        consumer.subscribe(self.topics, listener=_CommitOnRevoke(self, consumer))
        self._consumer = consumer
        await self._start(consumer)
        lanes = [asyncio.create_task(self._consume_lane(consumer, lane), name=f"{self.group}-lane-{lane}")
                 for lane in range(self.lanes)]
        try:
            await asyncio.gather(*lanes)  # the first lane to fail fails the consumer, with its own exception
            # A clean stop (or drain): what was handled is committed. A cancelled or failed run commits nothing
            # more; its handled events are redelivered and skipped by the inbox.
            try:
                await self._commit_pending(consumer)
            except KafkaError as exc:
                log.warning("offset_commit_on_stop_failed", error=repr(exc))
        finally:
            for task in lanes:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
            self.started = False
            await consumer.stop()

    async def _consume_lane(self, consumer: AIOKafkaConsumer, lane: int) -> None:
        while True:
            partitions = self._partitions_of(consumer, lane)
            if partitions is None:  # the member owns no partition of this lane at the moment
                if self._stop.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 0.2)
                continue
            batches = await consumer.getmany(*partitions, timeout_ms=200, max_records=self.batch_size)
            records = [record for partition_records in batches.values() for record in partition_records]
            if not records:
                if self._stop.is_set():
                    return  # drained: nothing more was waiting (run() commits what was handled)
                await self._commit_if_due(consumer)  # an idle consumer still commits within the interval
                continue
            if not await self._handle_until_done(records, lane):
                return  # asked to stop while the infrastructure was away: redelivered later
            self._mark_handled(records)
            await self._commit_if_due(consumer)
            if self._stop.is_set() and not self._drain:
                return

    def _partitions_of(self, consumer: AIOKafkaConsumer, lane: int) -> tuple[TopicPartition, ...] | None:
        """The partitions a lane reads: () for all of them when there is one lane; None when it has none now.

        A partition's lane depends on its topic and number only, never on what else is assigned, so a rebalance
        cannot hand a partition to a second lane while the first still works on it."""
        if self.lanes == 1:
            return ()
        mine = tuple(tp for tp in consumer.assignment() if _lane_of(tp, self.lanes) == lane)
        return mine or None

    async def _start(self, consumer: AIOKafkaConsumer) -> None:
        backoff = 0.2
        while True:
            try:
                await consumer.start()
                self.started = True
                log.info("consumer_started", group=self.group, topics=self.topics)
                return
            except KafkaError as exc:
                log.warning("consumer_start_retry", error=repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _handle_until_done(self, records: list[ConsumerRecord[bytes, bytes]], lane: int = 0) -> bool:
        backoff = 0.1
        while True:
            try:
                started = time.perf_counter()
                await self._handle_batch(records)
                metrics.CONSUMER_BATCH_SECONDS.labels(self.service).observe(time.perf_counter() - started)
                self._lanes_waiting.discard(lane)
                return True
            except Exception as exc:
                if not (is_transient(exc) or isinstance(exc, KafkaError)):
                    raise
                self._lanes_waiting.add(lane)
                log.warning("consumer_batch_retry", error=repr(exc), backoff_s=round(backoff, 2))
                if self._stop.is_set() and not self._drain:
                    return False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _handle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Decode, then handle the whole batch in ONE transaction (fast path). If a handler fails, that
        transaction is rolled back and the batch is handled again one savepoint per event (careful path), so
        that only the failing event is retried and finally dead-lettered."""
        dead: list[tuple[int, ConsumerRecord[bytes, bytes], Exception]] = []
        work: list[_Work] = []
        ignored = 0
        verify = self.verifier.verify
        for position, record in enumerate(records):
            try:
                # Who sent it, before what it says: a forged event is never decoded for a handler.
                signer = verify(record.topic, record.key, record.value, record.headers)
                envelope = decode(record.value)
                check_producer(signer, envelope.producer)
                handler = self.handlers.get((envelope.event_type, envelope.event_version))
                if handler is None:
                    if envelope.event_type in self.handled_types:
                        raise UnknownEventVersion(
                            f"{self.group} does not handle {envelope.event_type} v{envelope.event_version}")
                    ignored += 1  # consumers read only what they need
                    continue
                payload = parse_payload(envelope)
            except (EventRejected, ContractError) as exc:
                dead.append((position, record, exc))
                continue
            work.append(_Work(position, record, envelope, payload, handler))
        try:
            handled, duplicates = await self._handle_fast(work) if work else (0, 0)
        except _HandlerRaised as failed:
            log.warning("consumer_batch_slow_path", error=repr(failed.__cause__), events=len(work))
            handled, duplicates, failures = await self._handle_careful(work)
            dead += failures
        if handled:
            failpoints.hit("consumer.after_db_commit")  # a batch with effects is committed, its offsets not yet
        dead.sort(key=lambda item: item[0])  # dead letters leave in the order the events came
        await self._dead_letter([(record, error) for _, record, error in dead])
        self.stats.handled += handled
        self.stats.duplicates += duplicates
        self.stats.ignored += ignored
        metrics.EVENTS_DUPLICATE.labels(self.service).inc(duplicates)
        metrics.EVENTS_IGNORED.labels(self.service).inc(ignored)

    async def _handle_fast(self, work: list["_Work"]) -> tuple[int, int]:
        """Every event of the batch in one transaction, without savepoints, the inbox claimed by one statement.

        Per event this saves the SAVEPOINT / RELEASE round trips and the claim's own round trip; the session is
        emptied after each handler call so that finding recorded events stays O(1) per event instead of
        growing with the batch. Consecutive fresh events with the same `BatchingHandler` go to it in one call.
        A handler error rolls the whole transaction back (raised as `_HandlerRaised`)."""
        async with self.uow_factory() as uow:
            claimed = await self._claim_many(uow, work)
            fresh: list[_Work] = []
            for item in work:
                envelope = item.envelope
                if envelope.event_id not in claimed:
                    log.info("event_duplicate_skipped", event_id=str(envelope.event_id),
                             event_type=envelope.event_type)
                    continue
                claimed.discard(envelope.event_id)  # the same event twice in one batch: the second is a duplicate
                fresh.append(item)
            for run in _runs(fresh):
                try:
                    await self._run_handlers(uow, run)
                except Exception as exc:
                    uow.discard_events()
                    if is_transient(exc):
                        raise
                    raise _HandlerRaised() from exc
                uow.session.expunge_all()
                for item in run:
                    envelope, record = item.envelope, item.record
                    log.info("event_handled", event_id=str(envelope.event_id), event_type=envelope.event_type,
                             topic=record.topic, partition=record.partition, offset=record.offset,
                             correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id))
                    metrics.EVENTS_CONSUMED.labels(self.service, envelope.event_type).inc()
            await uow.commit()
        return len(fresh), len(work) - len(fresh)

    @staticmethod
    async def _run_handlers(uow: UnitOfWork, run: list["_Work"]) -> None:
        """One handler call for the run, and the events it recorded staged in the outbox."""
        handler = run[0].handler
        if isinstance(handler, BatchingHandler):
            await handler.batch(uow, [HandlerContext(uow, item.envelope, item.payload) for item in run])
            await uow.stage_events()  # each recorded event names its own cause
            return
        [item] = run
        envelope = item.envelope
        with bound_ids(correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id)):
            await handler(HandlerContext(uow, envelope, item.payload))
            await uow.stage_events()  # recorded events take the ids bound here

    async def _handle_careful(
            self, work: list["_Work"]) -> tuple[int, int, list[tuple[int, ConsumerRecord[bytes, bytes], Exception]]]:
        """One savepoint per event: a failing handler is retried alone, then given up on (dead-lettered)."""
        handled = duplicates = 0
        failures: list[tuple[int, ConsumerRecord[bytes, bytes], Exception]] = []
        async with self.uow_factory() as uow:
            for item in work:
                outcome = await self._handle_one(uow, item.record, item.envelope, item.payload, item.handler)
                uow.session.expunge_all()
                if isinstance(outcome, Exception):
                    failures.append((item.position, item.record, outcome))
                elif outcome:
                    handled += 1
                    metrics.EVENTS_CONSUMED.labels(self.service, item.envelope.event_type).inc()
                else:
                    duplicates += 1
            await uow.commit()
        return handled, duplicates, failures

    async def _handle_one(self, uow: UnitOfWork, record: ConsumerRecord[bytes, bytes], envelope: Envelope,
                          payload: EventPayload, handler: Handler) -> bool | Exception:
        """True: handled; False: a duplicate; an exception: give up on this event (dead-letter it)."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with bound_ids(correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id)):
                    async with uow.session.begin_nested():
                        if not await self._claim(uow, record, envelope):
                            log.info("event_duplicate_skipped", event_id=str(envelope.event_id),
                                     event_type=envelope.event_type)
                            return False
                        await handler(HandlerContext(uow, envelope, payload))
                        await uow.stage_events()
                    log.info("event_handled", event_id=str(envelope.event_id), event_type=envelope.event_type,
                             topic=record.topic, partition=record.partition, offset=record.offset)
                    return True
            except Exception as exc:
                uow.discard_events()
                if is_transient(exc):
                    raise
                if isinstance(exc, EventRefused):
                    log.warning("event_refused", event_id=str(envelope.event_id), reason=exc.reason, error=str(exc))
                    return exc
                log.warning("event_handler_failed", event_id=str(envelope.event_id), attempt=attempt,
                            error=repr(exc))
                if attempt == self.max_attempts:
                    return HandlerFailed(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self.retry_backoff * attempt)
        raise AssertionError("unreachable")

    async def _claim_many(self, uow: UnitOfWork, work: list["_Work"]) -> set[uuid.UUID]:
        """Claim the batch's events in the inbox with one statement; the ids it inserted (the rest are
        duplicates: already handled, or twice in this batch)."""
        result = await uow.session.execute(self._claim_all, arrays([
            {"consumer_group": self.group, "event_id": w.envelope.event_id, "event_type": w.envelope.event_type,
             "topic": w.record.topic, "partition": w.record.partition, "offset": w.record.offset} for w in work
        ], _CLAIM_COLUMNS))
        return set(result.scalars())

    async def _claim(self, uow: UnitOfWork, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> bool:
        statement = (
            pg_insert(self.inbox)
            .values(consumer_group=self.group, event_id=envelope.event_id, event_type=envelope.event_type,
                    topic=record.topic, partition=record.partition, offset=record.offset)
            .on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
            .returning(self.inbox.c.event_id)
        )
        return (await uow.session.execute(statement)).first() is not None

    async def _dead_letter(self, dead: list[tuple[ConsumerRecord[bytes, bytes], Exception]]) -> None:
        """Send each record to its dead-letter topic and wait for the broker.

        What may fail here, and what each failure means: the producer refusing a record as too large cannot happen
        (each letter is cut to the producer's limit first); the broker refusing it as too large (a topic whose
        `max.message.bytes` is below that limit) is the record's doing, so it is cut further and sent again; any
        other error (broker away, not authorised, timeouts) is the infrastructure's, and is raised: the batch waits
        and is retried as in any outage, and no event is lost meanwhile."""
        if not dead:
            return
        failed_at = datetime.now(UTC).isoformat()
        letters = [dead_letter(record, error, self.group, failed_at, self.kafka.max_request_size)
                   for record, error in dead]
        results = await self._send_letters(letters)
        too_large = [index for index, result in enumerate(results) if isinstance(result, _TOO_LARGE)]
        if too_large:
            retry = [dead_letter(dead[i][0], dead[i][1], self.group, failed_at, SMALL_DEAD_LETTER_BYTES)
                     for i in too_large]
            for index, letter, result in zip(too_large, retry, await self._send_letters(retry), strict=True):
                letters[index], results[index] = letter, result
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure
        for (record, error), letter in zip(dead, letters, strict=True):
            reason = letter.reason
            log.error("event_dead_lettered", reason=reason, error=str(error)[:500], topic=record.topic,
                      partition=record.partition, offset=record.offset, truncated=letter.truncated)
            metrics.EVENTS_DEAD_LETTERED.labels(self.service, reason).inc()
        self.stats.dead_lettered += len(dead)

    async def _send_letters(self, letters: list["DeadLetter"]) -> list[object]:
        futures = [await self.producer.send(letter.topic, value=letter.value, key=letter.key, headers=letter.headers)
                   for letter in letters]
        results: list[object] = await asyncio.gather(*futures, return_exceptions=True)
        return results

    def _mark_handled(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """The batch's database transaction committed: its offsets are handled, and pending until committed."""
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        # A partition belongs to one lane, which handles its batches in order, so its handled offset only grows
        # here; the pending offsets of all lanes are merged highest-wins, as a failed commit puts them back.
        self._positions.update(offsets)
        _merge_highest(self._pending, offsets)

    async def _commit_if_due(self, consumer: AIOKafkaConsumer) -> None:
        if not self._pending:
            return
        if self.commit_interval == 0:  # after every batch, as before the interval existed
            await self._commit_pending(consumer)
        elif time.monotonic() - self._last_commit >= self.commit_interval and not self._commit_lock.locked():
            await self._commit_pending(consumer)  # (another lane committing right now takes ours along or soon)

    async def _commit_pending(self, consumer: AIOKafkaConsumer,
                              only: frozenset[TopicPartition] | None = None) -> None:
        """Commit the pending offsets of the partitions still assigned (of `only`, if given); a partition no
        longer assigned is another member's now, and its pending offset is dropped (the inbox skips what that
        member gets again). A rebalance under us (CommitFailedError) drops them too; any other error puts them
        back and is raised."""
        async with self._commit_lock:
            if only is None:
                taken, self._pending = self._pending, {}
            else:
                taken = {tp: offset for tp, offset in self._pending.items() if tp in only}
                for tp in taken:
                    del self._pending[tp]
            assigned = consumer.assignment()
            offsets = {tp: offset for tp, offset in taken.items() if tp in assigned}
            if not offsets:
                return
            self._last_commit = time.monotonic()
            try:
                await consumer.commit(offsets)
            except CommitFailedError as exc:
                # The group rebalanced under us: another member gets these events again and its inbox skips them.
                log.warning("offset_commit_failed", error=repr(exc))
            except BaseException:
                _merge_highest(self._pending, offsets)
                raise

    async def _on_partitions_revoked(self, consumer: AIOKafkaConsumer, revoked: frozenset[TopicPartition]) -> None:
        """Before a rebalance hands them on: commit what was handled of the revoked partitions, then forget them."""
        try:
            await self._commit_pending(consumer, only=revoked)
        except KafkaError as exc:
            log.warning("offset_commit_on_revoke_failed", error=repr(exc))
        finally:
            for tp in revoked:
                self._pending.pop(tp, None)
                self._positions.pop(tp, None)  # lag() asks the consumer until this member handles it again


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, owner: EventConsumer, consumer: AIOKafkaConsumer) -> None:
        self._owner = owner
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._on_partitions_revoked(self._consumer, frozenset(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass


# When the broker refuses a dead letter cut to the producer's limit (its topic allows less), it is cut to this.
SMALL_DEAD_LETTER_BYTES = 64 * 1024
# The broker's answers that a record (or the batch holding it) is larger than the topic takes.
_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError)
# A cut dead letter keeps at most this much of the original key and of the original headers; the rest of the room
# goes to the head of the value.
_KEPT_KEY_BYTES = 1024
_KEPT_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    reason: str
    truncated: bool


def dead_letter(record: ConsumerRecord[bytes, bytes], error: Exception, group: str, failed_at: str,
                limit: int) -> DeadLetter:
    """The dead letter of `record`: the record as it came (value, key and headers, so that a replay republishes it
    exactly, signature included) with `dlt.*` headers saying why and where it came from.

    If that would not fit in `limit` bytes (as the producer counts a record), the letter keeps the head of the value
    (and at most 1 KiB of the key and 16 KiB of the original headers) with `dlt.truncated: true` and the original
    sizes; `dlt.original.topic/partition/offset` say where the whole record still sits, for as long as that topic
    keeps it."""
    reason = getattr(error, "reason", type(error).__name__)
    topic = dead_letter_topic(record.topic, group)
    original = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlt.")]
    about = [
        ("dlt.reason", reason.encode()),
        ("dlt.error", str(error)[:2000].encode()),
        ("dlt.original.topic", record.topic.encode()),
        ("dlt.original.partition", str(record.partition).encode()),
        ("dlt.original.offset", str(record.offset).encode()),
        ("dlt.consumer.group", group.encode()),
        ("dlt.failed_at", failed_at.encode()),
    ]
    headers = original + about
    if _record_size(record.key, record.value, headers) <= limit:
        return DeadLetter(topic, record.key, record.value, headers, reason, truncated=False)
    key = record.key if record.key is None else record.key[:_KEPT_KEY_BYTES]
    kept = original if _record_size(None, None, original) <= _KEPT_HEADER_BYTES else []
    about += [("dlt.truncated", b"true"),
              ("dlt.original.value_bytes", str(len(record.value or b"")).encode()),
              ("dlt.original.key_bytes", str(len(record.key or b"")).encode()),
              ("dlt.original.headers_dropped", str(len(original) - len(kept)).encode())]
    headers = kept + about
    room = limit - _record_size(key, b"", headers) - 8  # 8: the value's length prefix may grow by a few bytes
    value = None if record.value is None else record.value[:max(0, room)]
    return DeadLetter(topic, key, value, headers, reason, truncated=True)


def _record_size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    """The size the producer checks against its `max_request_size` (its own upper-bound estimate)."""
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    return size


def _merge_highest(into: dict[TopicPartition, int], offsets: dict[TopicPartition, int]) -> None:
    for tp, offset in offsets.items():
        into[tp] = max(into.get(tp, offset), offset)


def _runs(items: list[_Work]) -> list[list[_Work]]:
    """Split events, in order, into runs for one handler call each: consecutive events sharing a
    `BatchingHandler` form one run; every other event is a run of its own."""
    runs: list[list[_Work]] = []
    for item in items:
        previous = runs[-1][-1].handler if runs else None
        if isinstance(item.handler, BatchingHandler) and item.handler is previous:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _lane_of(partition: TopicPartition, lanes: int) -> int:
    # crc32, not hash(): str hashes are salted per process, and the spread should be the same on every member.
    return (zlib.crc32(partition.topic.encode()) + int(partition.partition)) % lanes

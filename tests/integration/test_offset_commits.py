"""Offsets are committed at an interval, not after every batch, and never lose or double an effect.

Runs real `EventConsumer`s against the embedded broker and the CRM's database, on a topic and consumer group
of their own. The handler writes one row per event to a table of this module's own (without a unique key,
so a second effect of one event would show), in the consumer's transaction. Commits sent to the broker are
counted by wrapping `AIOKafkaConsumer.commit`; committed offsets are read back from the broker.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.db import inbox, outbox
from devstack.stack import Stack
from tests.integration.won_deals import won_envelope
from tests.kafka_support import fresh_keys, wait_until
from throughline_events import encode
from throughline_messaging.consumer import EventConsumer, HandlerContext
from throughline_messaging.kafka import KafkaSettings, ensure_topics, new_producer
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.db import new_engine, new_session_factory
from throughline_platform.event_signing import EventSigner, EventVerifier

PARTITIONS = 3


@dataclass
class Rig:
    """One topic and group, the producer, the effects table, and what was sent to and committed on the broker."""

    stack: Stack
    engine: AsyncEngine
    effects: Table
    topic: str
    group: str
    kafka: KafkaSettings
    producer: AIOKafkaProducer
    signer: EventSigner
    verifier: EventVerifier
    commits: list[tuple[float, dict[TopicPartition, int]]] = field(default_factory=list)  # (when, offsets)
    ends: dict[TopicPartition, int] = field(default_factory=dict)  # per partition: offset after the last sent

    def consumer(self, *, commit_interval: float, batch_size: int = 5, lanes: int = 1) -> EventConsumer:
        sessions = new_session_factory(self.engine)

        async def record_effect(ctx: HandlerContext) -> None:
            await ctx.uow.session.execute(self.effects.insert().values(event_id=ctx.envelope.event_id,
                                                                        group=self.group))

        return EventConsumer(
            service="crm", group=self.group, topics=[self.topic], kafka=self.kafka,
            uow_factory=lambda: UnitOfWork(sessions, OutboxWriter("crm", outbox, notify_channel="outbox_crm")),
            inbox=inbox, handlers={("deal.won", 1): record_effect}, producer=self.producer, verifier=self.verifier,
            batch_size=batch_size, lanes=lanes, commit_interval=commit_interval)

    async def send(self, count: int) -> None:
        envelopes = [won_envelope(uuid.uuid4(), uuid.uuid4(), n) for n in range(count)]
        records = [(encode(e), str(e.aggregate_id).encode()) for e in envelopes]
        sent = await asyncio.gather(*[
            await self.producer.send(self.topic, value=value, key=key,
                                     headers=self.signer.headers(self.topic, key, value))
            for value, key in records])
        for meta in sent:
            tp = TopicPartition(self.topic, meta.partition)
            self.ends[tp] = max(self.ends.get(tp, 0), meta.offset + 1)

    async def committed(self) -> dict[TopicPartition, int | None]:
        """The group's committed offsets on the broker, read without joining the group."""
        reader = AIOKafkaConsumer(bootstrap_servers=self.kafka.bootstrap_servers, group_id=self.group,
                                  enable_auto_commit=False)
        await reader.start()
        try:
            partitions = [TopicPartition(self.topic, p) for p in range(PARTITIONS)]
            reader.assign(partitions)
            return {tp: await reader.committed(tp) for tp in partitions}
        finally:
            await reader.stop()

    async def all_committed(self) -> bool:
        committed = await self.committed()
        return all(committed[tp] == end for tp, end in self.ends.items())

    async def effect_rows(self) -> tuple[int, int]:
        """(rows, distinct events) in the effects table for this group."""
        async with self.engine.connect() as conn:
            rows, distinct = (await conn.execute(
                select(func.count(), func.count(self.effects.c.event_id.distinct()))
                .where(self.effects.c.group == self.group))).one()
        return int(rows), int(distinct)


@pytest.fixture
async def rig(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    suffix = uuid.uuid4().hex[:8]
    effects = Table(f"test_offset_effects_{suffix}", MetaData(),
                    Column("event_id", UUID(as_uuid=True), nullable=False), Column("group", String, nullable=False))
    engine = new_engine(stack.database_urls["crm"], pool_size=3)
    async with engine.begin() as conn:
        await conn.run_sync(effects.create)
    kafka = KafkaSettings(bootstrap_servers=stack.bootstrap_servers, client_id="offsets-test",
                          session_timeout_ms=6_000, heartbeat_interval_ms=500, fetch_max_wait_ms=50)
    topic, group = f"crm.offsets-test-{suffix}", f"offsets-{suffix}"  # a CRM topic: CRM-signed events
    await ensure_topics(kafka, {topic: PARTITIONS})
    producer = new_producer(kafka)
    await producer.start()
    rig = Rig(stack, engine, effects, topic, group, kafka, producer, *fresh_keys("crm"))

    original_commit: Callable[..., Awaitable[Any]] = AIOKafkaConsumer.commit

    async def counted_commit(self: AIOKafkaConsumer, offsets: Any = None) -> Any:
        result = await original_commit(self, offsets)
        if self._group_id == group:
            rig.commits.append((time.monotonic(), dict(offsets or {})))
        return result

    monkeypatch.setattr(AIOKafkaConsumer, "commit", counted_commit)
    try:
        yield rig
    finally:
        await producer.stop()
        async with engine.begin() as conn:
            await conn.run_sync(effects.drop)
        await engine.dispose()


async def _running(consumer: EventConsumer) -> asyncio.Task[None]:
    task = asyncio.create_task(consumer.run())

    async def assigned() -> bool:
        if task.done():
            task.result()  # a consumer that died says why
        return consumer.assigned_partitions == PARTITIONS

    await wait_until(assigned, 30, "the consumer to be assigned every partition")
    return task


async def _stop(consumer: EventConsumer, task: asyncio.Task[None], *, drain: bool = False) -> None:
    await consumer.stop(drain=drain)
    await asyncio.wait_for(task, 30)


def _handled(consumer: EventConsumer, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return consumer.stats.handled + consumer.stats.duplicates >= count
    return probe


@pytest.mark.parametrize("lanes", [1, 2])
async def test_offsets_are_committed_at_the_interval_and_an_idle_consumer_catches_up(rig: Rig, lanes: int) -> None:
    interval = 1.5
    consumer = rig.consumer(commit_interval=interval, batch_size=1, lanes=lanes)
    task = await _running(consumer)
    try:
        await rig.send(40)
        await wait_until(_handled(consumer, 40), 60, "40 events handled")
        last_handled = time.monotonic()
        batches = 40  # batch_size=1: one batch, and one transaction, per event
        # Idle now: within about the interval, what was handled is committed, with no batch to trigger it.
        await wait_until(rig.all_committed, interval + 5, "the committed offsets to reach the end")
        caught_up = time.monotonic()
        assert caught_up - last_handled <= interval + 1.5
        assert consumer.stats.handled == 40 and consumer.stats.duplicates == 0
        assert 1 <= len(rig.commits) <= batches // 4, f"{len(rig.commits)} commits for {batches} batches"
        assert await consumer.lag() == 0  # counted from what was handled
    finally:
        await _stop(consumer, task)


async def test_an_interval_of_zero_commits_after_every_batch(rig: Rig) -> None:
    consumer = rig.consumer(commit_interval=0, batch_size=1)
    task = await _running(consumer)
    try:
        await rig.send(10)
        await wait_until(_handled(consumer, 10), 60, "10 events handled")
        assert len(rig.commits) == 10
        assert await rig.all_committed()
    finally:
        await _stop(consumer, task)


async def test_lag_counts_from_what_was_handled_not_what_was_committed(rig: Rig) -> None:
    consumer = rig.consumer(commit_interval=600)
    task = await _running(consumer)
    try:
        await rig.send(30)
        await wait_until(_handled(consumer, 30), 60, "30 events handled")
        assert not await rig.all_committed()  # the first batch was committed, the rest waits for the interval
        assert await consumer.lag() == 0
    finally:
        await _stop(consumer, task)


@pytest.mark.parametrize("drain", [False, True])
async def test_a_clean_stop_commits_everything_handled(rig: Rig, drain: bool) -> None:
    consumer = rig.consumer(commit_interval=600)
    task = await _running(consumer)
    await rig.send(30)
    if not drain:
        await wait_until(_handled(consumer, 30), 60, "30 events handled")
        assert not await rig.all_committed()
    await _stop(consumer, task, drain=drain)
    assert consumer.stats.handled == 30
    assert await rig.all_committed()
    assert await rig.effect_rows() == (30, 30)


async def test_after_an_unclean_stop_the_restarted_consumer_gets_the_events_again_and_skips_them(
        rig: Rig) -> None:
    first = rig.consumer(commit_interval=600)
    task = await _running(first)
    await rig.send(30)
    await wait_until(_handled(first, 30), 60, "30 events handled")
    assert first.stats.handled == 30
    task.cancel()  # as a crash would: no clean stop, the pending offsets are not committed
    with pytest.raises(asyncio.CancelledError):
        await task
    committed = await rig.committed()
    redelivered = sum(end - (committed[tp] or 0) for tp, end in rig.ends.items())
    assert redelivered > 0, "everything was committed already: nothing to redeliver"

    second = rig.consumer(commit_interval=600)
    task = await _running(second)
    await wait_until(_handled(second, redelivered), 60, f"{redelivered} events redelivered")
    await _stop(second, task)
    assert second.stats.duplicates == redelivered and second.stats.handled == 0  # the inbox skipped them all
    assert await rig.effect_rows() == (30, 30)  # one effect per event
    assert await rig.all_committed()


async def test_a_rebalance_commits_what_was_handled_of_the_revoked_partitions(rig: Rig) -> None:
    first = rig.consumer(commit_interval=600)
    first_task = await _running(first)
    second: EventConsumer | None = None
    second_task: asyncio.Task[None] | None = None
    try:
        await rig.send(30)
        await wait_until(_handled(first, 30), 60, "30 events handled")
        assert not await rig.all_committed()
        # A second member joins: the first's partitions are revoked, and what it handled is committed then.
        second = rig.consumer(commit_interval=600)
        second_task = asyncio.create_task(second.run())

        async def shared() -> bool:
            return (first.assigned_partitions + second.assigned_partitions == PARTITIONS
                    and second.assigned_partitions > 0)

        await wait_until(shared, 30, "the partitions to be shared by the two members")
        assert await rig.all_committed()
        await asyncio.sleep(1)  # time for a redelivery, if there were one
        assert second.stats.duplicates == 0 and second.stats.handled == 0
    finally:
        await _stop(first, first_task)
        if second is not None and second_task is not None:
            await _stop(second, second_task)
    assert await rig.effect_rows() == (30, 30)

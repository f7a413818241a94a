"""A consumer working in lanes: every event handled once, each partition in order, lanes side by side.

Runs a real `EventConsumer` against the embedded broker and the CRM's database, on a topic and consumer
group of its own so that nothing else reads what it writes.
"""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.db import inbox, outbox
from devstack.stack import Stack
from tests.integration.won_deals import won_envelope
from tests.kafka_support import fresh_keys, wait_until
from throughline_events import encode
from throughline_messaging.consumer import EventConsumer, HandlerContext, _lane_of
from throughline_messaging.kafka import KafkaSettings, ensure_topics, new_producer
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.db import new_engine, new_session_factory

PARTITIONS = 6
EVENTS = 120


def test_each_lane_gets_a_fixed_even_share_of_a_topic() -> None:
    for lanes in (2, 3, 6):
        shares: dict[int, int] = defaultdict(int)
        for partition in range(PARTITIONS):
            shares[_lane_of(TopicPartition("crm.deal.events", partition), lanes)] += 1
        assert sorted(shares) == list(range(lanes))
        assert set(shares.values()) == {PARTITIONS // lanes}
    assert _lane_of(TopicPartition("any", 4), 1) == 0


@pytest.fixture
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = new_engine(stack.database_urls["crm"], pool_size=3)
    yield new_session_factory(engine)
    await engine.dispose()


async def test_lanes_handle_every_event_once_and_each_partition_in_order(
        stack: Stack, sessions: async_sessionmaker[AsyncSession]) -> None:
    # A CRM topic of its own (what is on a crm.* topic must be signed by a CRM key).
    topic, group = f"crm.lanes-test-{uuid.uuid4().hex[:8]}", f"lanes-{uuid.uuid4().hex[:8]}"
    signer, verifier = fresh_keys("crm")
    kafka = KafkaSettings(bootstrap_servers=stack.bootstrap_servers, client_id="lanes-test",
                          session_timeout_ms=6_000, heartbeat_interval_ms=1_000, fetch_max_wait_ms=50)
    await ensure_topics(kafka, {topic: PARTITIONS})

    envelopes = [won_envelope(uuid.uuid4(), uuid.uuid4(), n) for n in range(EVENTS)]
    producer = new_producer(kafka)
    await producer.start()
    try:
        records = [(encode(e), str(e.aggregate_id).encode()) for e in envelopes]
        sent = await asyncio.gather(*[
            await producer.send(topic, value=value, key=key, headers=signer.headers(topic, key, value))
            for value, key in records])
        position = {e.event_id: (meta.partition, meta.offset) for e, meta in zip(envelopes, sent, strict=True)}

        handled: dict[int, list[int]] = defaultdict(list)  # partition -> offsets, in the order handled
        in_flight = most_in_flight = 0

        async def record_and_wait(ctx: HandlerContext) -> None:
            # Waits like a handler waiting for the database, so that lanes can overlap.
            nonlocal in_flight, most_in_flight
            in_flight += 1
            most_in_flight = max(most_in_flight, in_flight)
            partition, offset = position[ctx.envelope.event_id]
            handled[partition].append(offset)
            await asyncio.sleep(0.01)
            in_flight -= 1

        consumer = EventConsumer(
            service="crm", group=group, topics=[topic], kafka=kafka,
            uow_factory=lambda: UnitOfWork(sessions, OutboxWriter("crm", outbox, notify_channel="outbox_crm")),
            inbox=inbox, handlers={("deal.won", 1): record_and_wait}, producer=producer, verifier=verifier,
            batch_size=10, lanes=2)
        task = asyncio.create_task(consumer.run())
        try:
            await wait_until(lambda: _done(consumer), 60, f"{EVENTS} events handled")
        finally:
            await consumer.stop(drain=False)
            await asyncio.wait_for(task, 30)
    finally:
        await producer.stop()

    assert consumer.stats.handled == EVENTS and consumer.stats.duplicates == 0
    assert sum(len(offsets) for offsets in handled.values()) == EVENTS
    for partition, offsets in handled.items():
        assert offsets == sorted(offsets), f"partition {partition} handled out of order"
    assert len(handled) == PARTITIONS  # the keys reached every partition, so both lanes had work
    assert most_in_flight == 2  # the two lanes' batches overlapped; a partition's never did
    async with sessions() as session:
        claimed = await session.scalar(select(func.count()).select_from(inbox).where(inbox.c.consumer_group == group))
    assert claimed == EVENTS


async def _done(consumer: EventConsumer) -> bool:
    return consumer.stats.handled >= EVENTS

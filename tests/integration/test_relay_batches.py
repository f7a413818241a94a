"""The relay's per-partition batches on the real broker and database.

A key lands on the partition `send(key=...)` would choose (murmur2, as Java's client), each partition gets
its records in outbox order even when they fill several batches, a failed batch stops the marking at the
first row it carried (later rows are retried, in order), and a running relay wakes for a committed row and
publishes everything committed before it stops. Every record leaves signed over its topic, key and value.

Each test gets its own outbox (same columns and indexes as the services', in a schema of its own in the CRM
database), topic, advisory lock and NOTIFY channel, so the services' relays never see these rows.
"""

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from sqlalchemy import MetaData

from devstack.stack import Stack
from tests.kafka_support import read_topic, wait_until
from throughline_messaging.kafka import KafkaSettings, ensure_topics, new_producer
from throughline_messaging.relay import OutboxRelay, murmur2
from throughline_messaging.tables import outbox_table
from throughline_platform.db import asyncpg_dsn, new_engine
from throughline_platform.event_signing import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    EventSigner,
    EventVerifier,
    KeyRing,
    new_private_key_pem,
    public_key_pem,
)

PARTITIONS = 6  # as the services' topics


@pytest.fixture(scope="module")
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    producer = new_producer(KafkaSettings(stack.bootstrap_servers, "relay-batches-test"))
    await producer.start()
    yield producer
    await producer.stop()


@dataclass
class ScratchOutbox:
    conn: asyncpg.Connection
    schema: str
    topic: str
    relay: OutboxRelay
    verifier: EventVerifier  # knows the relay's key, as every reader would

    async def add(self, rows: list[tuple[str, bytes, dict[str, str]]]) -> None:
        """Commit rows (key, value, headers) in this order, and wake the relay as a unit of work does."""
        async with self.conn.transaction():
            await self.conn.executemany(
                f"INSERT INTO {self.schema}.outbox (event_id, event_type, topic, message_key, value, headers) "
                "VALUES ($1, 'test.event', $2, $3, $4, $5::jsonb)",
                [(uuid.uuid4(), self.topic, key, value, json.dumps(headers)) for key, value, headers in rows])
            await self.conn.execute("SELECT pg_notify($1, '')", self.relay.notify_channel)

    async def published_keys(self) -> list[str]:
        rows = await self.conn.fetch(
            f"SELECT message_key FROM {self.schema}.outbox WHERE published_at IS NOT NULL ORDER BY id")
        return [row["message_key"] for row in rows]

    async def unpublished(self) -> int:
        count: int = await self.conn.fetchval(
            f"SELECT count(*) FROM {self.schema}.outbox WHERE published_at IS NULL")
        return count


@pytest.fixture
async def outbox(stack: Stack, producer: AIOKafkaProducer) -> AsyncIterator[ScratchOutbox]:
    name = f"relay_test_{uuid.uuid4().hex[:10]}"
    topic = name.replace("_", "-")
    await ensure_topics(KafkaSettings(stack.bootstrap_servers, "relay-batches-test"), {topic: PARTITIONS})
    url = stack.database_urls["crm"]
    conn = await asyncpg.connect(asyncpg_dsn(url))
    await conn.execute(f"CREATE SCHEMA {name}")
    await conn.execute(f"CREATE TABLE {name}.outbox (LIKE public.outbox INCLUDING ALL)")
    engine = new_engine(url, pool_size=1)
    # The topic has no dot, so it belongs to a "service" of its own name: the key signs for it.
    signer = EventSigner.from_pem(f"{topic}-key", topic, new_private_key_pem())
    relay = OutboxRelay(engine=engine, database_url=url, producer=producer,
                        outbox=outbox_table(MetaData(schema=name)), service=name, notify_channel=name,
                        signer=signer,
                        poll_interval=30.0)  # a test that waits for the relay must be woken by its NOTIFY
    verifier = EventVerifier(KeyRing.from_json(json.dumps(
        {signer.key_id: {"service": topic, "public_key": public_key_pem(signer.public_key)}})))
    try:
        yield ScratchOutbox(conn, name, topic, relay, verifier)
    finally:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await conn.close()
        await engine.dispose()


class FailingPartition:
    """The real producer, except that every batch for one partition fails as a broker error would."""

    def __init__(self, producer: AIOKafkaProducer, partition: int) -> None:
        self.producer = producer
        self.partition = partition

    def create_batch(self) -> Any:
        return self.producer.create_batch()

    async def partitions_for(self, topic: str) -> set[int]:
        partitions: set[int] = await self.producer.partitions_for(topic)
        return partitions

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> asyncio.Future[Any]:
        if partition != self.partition:
            future: asyncio.Future[Any] = await self.producer.send_batch(batch, topic, partition=partition)
            return future
        failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        failed.set_exception(KafkaError("injected: this partition's leader is away"))
        return failed


def test_the_relays_murmur2_is_aiokafkas() -> None:
    # Every length up to 80 bytes (whole 4-byte words and each size of tail), random bytes including >= 0x80.
    for length in range(81):
        for _ in range(200):
            data = os.urandom(length)
            assert murmur2(data) == aiokafka_murmur2(data), data


async def test_each_key_lands_on_the_partition_send_chooses(
        stack: Stack, outbox: ScratchOutbox, producer: AIOKafkaProducer) -> None:
    keys = [str(uuid.uuid4()) for _ in range(120)]
    await outbox.add([(key, b"relay", {}) for key in keys])
    assert await outbox.relay.publish_batch(outbox.conn) == len(keys)
    for key in keys:  # the same keys the ordinary way, to the same topic
        await producer.send(outbox.topic, value=b"send", key=key.encode())
    await producer.flush()

    partition_of: dict[bytes, dict[bytes, int]] = {b"relay": {}, b"send": {}}
    for record in await read_topic(stack.bootstrap_servers, outbox.topic):
        partition_of[record.value][record.key] = record.partition
    assert len(partition_of[b"relay"]) == len(keys)
    assert partition_of[b"relay"] == partition_of[b"send"]
    assert len(set(partition_of[b"relay"].values())) == PARTITIONS  # the keys spread over every partition


async def test_each_partition_gets_its_records_in_outbox_order_across_several_batches(
        stack: Stack, outbox: ScratchOutbox) -> None:
    # 4 aggregates, 40 events each, interleaved; 20 kB each, so one aggregate's events fill 4 producer batches
    # (256 kB at most each) on its partition.
    keys = [f"aggregate-{n}" for n in range(4)]
    filler = b"x" * 20_000
    rows = [(key, f"{key}:{seq}".encode() + b"|" + filler, {"event_type": "test.event", "seq": str(seq)})
            for seq in range(40) for key in keys]
    await outbox.add(rows)
    assert await outbox.relay.publish_batch(outbox.conn) == len(rows)
    assert await outbox.unpublished() == 0

    records = sorted(await read_topic(stack.bootstrap_servers, outbox.topic), key=lambda r: (r.partition, r.offset))
    now_ms = time.time() * 1000
    for key in keys:
        mine = [r for r in records if r.key == key.encode()]
        assert len({r.partition for r in mine}) == 1
        assert [r.value.split(b"|")[0] for r in mine] == [f"{key}:{seq}".encode() for seq in range(40)]
        signature_headers = {KEY_ID_HEADER, SIGNATURE_HEADER}
        assert [{k: v for k, v in r.headers if k not in signature_headers} for r in mine] == [
            {"event_type": b"test.event", "seq": str(seq).encode()} for seq in range(40)]
        for record in mine:  # each signed as published: its topic, key and exact value
            assert outbox.verifier.verify(record.topic, record.key, record.value, record.headers).service == \
                outbox.topic
        assert all(abs(r.timestamp - now_ms) < 60_000 for r in mine)  # stamped when sent, as send() does


async def test_a_failed_batch_stops_the_marking_at_its_first_row_and_the_rest_follows_in_order(
        stack: Stack, outbox: ScratchOutbox, producer: AIOKafkaProducer) -> None:
    keys = [f"deal-{n}" for n in range(40)]
    await outbox.add([(key, key.encode(), {}) for key in keys])
    real_producer = outbox.relay.producer
    outbox.relay.producer = FailingPartition(producer, partition=0)
    with pytest.raises(RuntimeError, match="publish failed after"):
        await outbox.relay.publish_batch(outbox.conn)

    # The other partitions' batches reached the broker; partition 0's did not. The rows marked are exactly
    # those before the first row that went to partition 0: later ones stay for the retry, whatever their fate.
    reached = {r.key.decode() for r in await read_topic(stack.bootstrap_servers, outbox.topic)}
    first_failed = next(n for n, key in enumerate(keys) if key not in reached)
    assert 0 < first_failed < len(keys) - 1, "the keys no longer exercise a failure mid-batch; pick others"
    assert await outbox.published_keys() == keys[:first_failed]

    outbox.relay.producer = real_producer
    assert await outbox.relay.publish_batch(outbox.conn) == len(keys) - first_failed
    assert await outbox.published_keys() == keys
    on_broker = await read_topic(stack.bootstrap_servers, outbox.topic)
    assert {r.key.decode() for r in on_broker} == set(keys)  # partition 0's rows too, now


async def test_a_running_relay_wakes_for_a_commit_and_publishes_everything_before_it_stops(
        outbox: ScratchOutbox) -> None:
    running = asyncio.create_task(outbox.relay.run())
    try:
        await wait_until(lambda: _true(outbox.relay.is_leader), 10, "the relay to lead")
        await outbox.add([("wake-1", b"1", {})])
        # Woken by the NOTIFY: the relay's poll interval (30 s) is far longer than this wait.
        await wait_until(lambda: _none_unpublished(outbox), 5, "the row to be published")
        await outbox.add([(f"stop-{n}", b"2", {}) for n in range(50)])
        await outbox.relay.stop()
        await asyncio.wait_for(running, 10)
    finally:
        running.cancel()
    assert await outbox.unpublished() == 0


async def _true(value: bool) -> bool:
    return value


async def _none_unpublished(outbox: ScratchOutbox) -> bool:
    return await outbox.unpublished() == 0


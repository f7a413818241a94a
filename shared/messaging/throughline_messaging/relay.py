"""The outbox relay: publishes committed outbox rows to Kafka, in order, forever, never dropping one.

One relay per service is active at a time (a PostgreSQL advisory lock elects it), so the outbox is
published in id order and each aggregate's events keep their order on its partition. Others wait.

The leader reads and marks rows on the connection that holds the lock (no pool checkout, ping or
BEGIN/COMMIT per wake; a leader that lost its connection, and with it the lock, can publish nothing more),
and hands the producer one batch per partition instead of one `send()` per row.

Every record is signed here, as it leaves (`EventSigner`: Ed25519 over topic, key and value, two headers): only
relay processes hold a service's private key, and the API's request path pays nothing for it (docs/messaging.md
has the cost per event).
"""

import asyncio
import contextlib
import hashlib
import json
import struct
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, delete, func
from sqlalchemy.ext.asyncio import AsyncEngine

from throughline_messaging import metrics
from throughline_messaging.uow import RelaySignal
from throughline_platform import failpoints
from throughline_platform.db import asyncpg_dsn
from throughline_platform.event_signing import EventSigner

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(self, *, engine: AsyncEngine, database_url: str, producer: AIOKafkaProducer, outbox: Table,
                 service: str, notify_channel: str, signer: EventSigner, signal: RelaySignal | None = None,
                 batch_size: int = 1000, poll_interval: float = 1.0, linger: float = 0.005,
                 max_backoff: float = 10.0, retention: timedelta = timedelta(days=7)) -> None:
        self.engine = engine
        self.dsn = asyncpg_dsn(database_url)
        self.producer = producer
        self.outbox = outbox
        self.service = service
        self.notify_channel = notify_channel
        self.signer = signer
        self.signal = signal or RelaySignal()
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.linger = linger
        self.max_backoff = max_backoff
        self.retention = retention
        self.lock_key = _lock_key(f"outbox-relay:{service}")
        self.is_leader = False
        self._stopping = asyncio.Event()
        self._published_since_cleanup = 0
        table = outbox.fullname
        self.select_sql = (f"SELECT id, topic, message_key, value, headers::text AS headers FROM {table} "
                           "WHERE published_at IS NULL ORDER BY id LIMIT $1")
        self.mark_sql = f"UPDATE {table} SET published_at = now() WHERE id = ANY($1::bigint[])"

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                await self._lead()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Broker or database away: keep every row, wait, try again. Never give up, never drop.
                metrics.RELAY_ERRORS.labels(self.service).inc()
                log.warning("relay_retry", error=repr(exc), backoff_s=round(backoff, 2))
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                self.is_leader = False

    async def stop(self) -> None:
        """Publish what is committed, then return (the clean-stop path: nothing left behind)."""
        self._stopping.set()
        self.signal.set()

    async def connect(self) -> asyncpg.Connection:
        """The relay's own connection, named in `pg_stat_activity`. Sequential scans are off on it: asyncpg
        prepares the relay's two statements once per connection, and PostgreSQL soon settles on one generic
        plan for each, planned for the outbox as it was then. Planned on a small outbox, the mark's
        `id = ANY($1)` is a sequential scan, and it stays one as the table grows until something (autovacuum,
        ANALYZE) makes PostgreSQL plan again: on a fresh system every batch read the whole outbox
        (docs/perf-notes/connections-and-plans.md). Both statements always have an index to use: the primary
        key, `ix_outbox_unpublished`."""
        return await asyncpg.connect(self.dsn, server_settings={
            "application_name": f"{self.service}-relay", "enable_seqscan": "off"})

    async def _lead(self) -> None:
        conn = await self.connect()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                await self._sleep(self.poll_interval)  # another relay leads; stand by
                return
            self.is_leader = True
            await conn.add_listener(self.notify_channel, lambda *_: self.signal.set())
            log.info("relay_leading", service=self.service)
            await self._publish_until_stopped(conn)
        finally:
            await conn.close(timeout=2)

    async def _publish_until_stopped(self, conn: asyncpg.Connection) -> None:
        while True:
            published = await self.publish_batch(conn)
            if self._stopping.is_set():
                if not published:
                    return  # everything committed before stop() is out
            elif published < self.batch_size:
                # A short batch took every row committed when it was read. A later commit sets the signal (in
                # this process, or by NOTIFY from another), so asking the database again now would find nothing.
                busy = self.signal.is_set()  # the next commit came while this round was out
                await self.signal.wait(self.poll_interval)
                if busy:
                    # Commits come faster than rounds: let a few more join the next one, as a Kafka producer's
                    # linger does. A round costs a read, a produce request and a mark however little it holds.
                    # A relay that had to wait for its next commit publishes it at once.
                    await self._sleep(self.linger)

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publish the oldest unpublished rows, mark those the broker acknowledged; how many that was."""
        rows = await conn.fetch(self.select_sql, self.batch_size)  # prepared once per connection by asyncpg
        if not rows:
            return 0
        results = await self._send(rows)
        acked = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                break  # stop at the first failure: later rows are retried too, in order
            acked.append(row["id"])
        failpoints.hit("relay.after_publish")
        if acked:
            await conn.execute(self.mark_sql, acked)  # one statement, its own transaction
            metrics.RELAY_BATCHES.labels(self.service).inc()
        metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(acked))
        if len(acked) < len(rows):
            failed = next(r for r in results if isinstance(r, BaseException))
            raise RuntimeError(f"publish failed after {len(acked)} of {len(rows)}") from failed
        self._published_since_cleanup += len(acked)
        if self._published_since_cleanup >= 50_000:
            await self._forget_old()
        return len(acked)

    async def _send(self, rows: Sequence[asyncpg.Record]) -> list[object]:
        """Publish the rows and wait for the broker; one result per row (its batch's metadata or error)."""
        # Each topic's partitions as the producer's metadata lists them, in its order: what `send()` hands its
        # partitioner.
        partitions = {topic: list(await self.producer.partitions_for(topic)) for topic in {r["topic"] for r in rows}}
        batches = _PartitionBatches(self.producer)
        sign = self.signer.headers
        for row in rows:
            topic, key, value = row["topic"], row["message_key"].encode(), row["value"]
            headers = [(name, text.encode()) for name, text in json.loads(row["headers"]).items()]
            headers += sign(topic, key, value)
            batches.add(topic, key_partition(key, partitions[topic]), key, value, headers)
        return await batches.send()

    async def _forget_old(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.outbox).where(
                self.outbox.c.published_at < func.now() - self.retention))
        self._published_since_cleanup = 0

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


class _PartitionBatches:
    """Records grouped into producer batches per (topic, partition), each partition's in the order added.

    The producer sends one partition's batches one after the other, so each partition receives its records
    in outbox order, as with one `send()` per record, at a fraction of the cost per record.
    """

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.batches: list[tuple[str, int, Any]] = []  # (topic, partition, aiokafka BatchBuilder)
        self.open_batch: dict[tuple[str, int], int] = {}  # the batch a partition's next record joins
        self.batch_of_record: list[int] = []

    def add(self, topic: str, partition: int, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        index = self.open_batch.get((topic, partition))
        if index is None or self.batches[index][2].append(timestamp=None, key=key, value=value,
                                                          headers=headers) is None:
            # No batch for this partition yet, or it is full: a new one (a batch always takes its first record).
            index = len(self.batches)
            builder = self.producer.create_batch()
            builder.append(timestamp=None, key=key, value=value, headers=headers)
            self.batches.append((topic, partition, builder))
            self.open_batch[(topic, partition)] = index
        self.batch_of_record.append(index)

    async def send(self) -> list[object]:
        futures = []
        for topic, partition, builder in self.batches:
            builder.close()  # nothing else may join it, so its result is exactly these records'
            futures.append(await self.producer.send_batch(builder, topic, partition=partition))
        results = await asyncio.gather(*futures, return_exceptions=True)
        return [results[index] for index in self.batch_of_record]


def key_partition(key: bytes, partitions: list[int]) -> int:
    """The partition `send(key=...)` chooses with the default partitioner (Java's client's too): an aggregate's
    events land on one partition, in order, whichever way they were sent."""
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (Java's `Utils.murmur2`), equal to aiokafka's `partitioner.murmur2` and twice as fast
    (it unpacks the 4-byte words at once rather than byte by byte): the relay hashes every key it publishes,
    and aiokafka's was the biggest item in its profile."""
    m = 0x5BD1E995
    h = 0x9747B28C ^ len(data)
    whole_words = len(data) >> 2
    for k in struct.unpack_from(f"<{whole_words}I", data):  # 4 bytes at a time, little-endian
        k = (k * m) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = data[whole_words << 2:]
    if tail:
        for position, byte in enumerate(tail):
            h ^= byte << (8 * position)
        h = (h * m) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


def _lock_key(name: str) -> int:
    # A stable 63-bit key (Python's hash() is salted per process).
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1

"""The outbox relay: publishes committed outbox rows to Kafka, in order, forever, never dropping one.

One relay per service is active at a time (a PostgreSQL advisory lock elects it), so the outbox is
published in id order and each aggregate's events keep their order on its partition. Others wait.
"""

import asyncio
import contextlib
import hashlib
from datetime import timedelta

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from throughline_messaging import failpoints, metrics
from throughline_messaging.db import asyncpg_dsn
from throughline_messaging.uow import RelaySignal

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(self, *, engine: AsyncEngine, database_url: str, producer: AIOKafkaProducer, outbox: Table,
                 service: str, notify_channel: str, signal: RelaySignal | None = None,
                 batch_size: int = 1000, poll_interval: float = 1.0, max_backoff: float = 10.0,
                 retention: timedelta = timedelta(days=7)) -> None:
        self.engine = engine
        self.dsn = asyncpg_dsn(database_url)
        self.producer = producer
        self.outbox = outbox
        self.service = service
        self.notify_channel = notify_channel
        self.signal = signal or RelaySignal()
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.retention = retention
        self.lock_key = _lock_key(f"outbox-relay:{service}")
        self.is_leader = False
        self._stopping = asyncio.Event()
        self._published_since_cleanup = 0

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

    async def _lead(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                await self._sleep(self.poll_interval)  # another relay leads; stand by
                return
            self.is_leader = True
            await conn.add_listener(self.notify_channel, lambda *_: self.signal.set())
            log.info("relay_leading", service=self.service)
            while True:
                published = await self.publish_batch()
                if published:
                    continue
                if self._stopping.is_set():
                    return
                await self.signal.wait(self.poll_interval)
                if conn.is_closed():
                    raise ConnectionError("relay lost its database connection")
        finally:
            await conn.close(timeout=2)

    async def publish_batch(self) -> int:
        o = self.outbox
        async with self.engine.connect() as db:
            rows = (await db.execute(
                select(o.c.id, o.c.topic, o.c.message_key, o.c.value, o.c.headers)
                .where(o.c.published_at.is_(None)).order_by(o.c.id).limit(self.batch_size)
            )).all()
            if not rows:
                return 0
            # Send the whole batch at once (the producer batches per partition), then wait for every ack.
            futures = [
                await self.producer.send(
                    row.topic, value=row.value, key=row.message_key.encode(),
                    headers=[(k, v.encode()) for k, v in row.headers.items()],
                )
                for row in rows
            ]
            results = await asyncio.gather(*futures, return_exceptions=True)
            acked = []
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    break  # stop at the first failure: later rows are retried too, in order
                acked.append(row.id)
            failpoints.hit("relay.after_publish")
            if acked:
                await db.execute(update(o).where(o.c.id.in_(acked)).values(published_at=func.now()))
                await db.commit()
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(acked))
            if len(acked) < len(rows):
                failed = next(r for r in results if isinstance(r, BaseException))
                raise RuntimeError(f"publish failed after {len(acked)} of {len(rows)}") from failed
            self._published_since_cleanup += len(acked)
            if self._published_since_cleanup >= 50_000:
                await self._forget_old()
            return len(acked)

    async def _forget_old(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.outbox).where(
                self.outbox.c.published_at < func.now() - self.retention))
        self._published_since_cleanup = 0

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _lock_key(name: str) -> int:
    # A stable 63-bit key (Python's hash() is salted per process).
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1

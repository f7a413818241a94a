"""Wires one service process: database, the one producer, relay and consumer, by the roles it plays.

A process plays any of the roles `api`, `relay`, `consumer`, `scheduler`. Production runs each as its
own Deployment; `make run` runs the api in one process and the rest in a worker process per service.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import Executable, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from throughline_messaging import metrics
from throughline_messaging.consumer import EventConsumer, Handler
from throughline_messaging.kafka import KafkaSettings, ensure_topics, new_producer, topics_for_group
from throughline_messaging.relay import OutboxRelay
from throughline_messaging.uow import OutboxWriter, RelaySignal, UnitOfWork
from throughline_platform.db import new_engine, new_session_factory
from throughline_platform.event_signing import EventSigner, EventVerifier

log = structlog.get_logger(__name__)

ROLES = frozenset({"api", "relay", "consumer", "scheduler"})

BackgroundJob = Callable[["ServiceRuntime"], Awaitable[None]]


@dataclass
class RuntimeConfig:
    service: str
    database_url: str
    kafka: KafkaSettings
    outbox: Table
    inbox: Table
    roles: frozenset[str]
    consumer_group: str
    consumed_topics: list[str] = field(default_factory=list)
    handlers: dict[tuple[str, int], Handler] = field(default_factory=dict)
    scheduled_jobs: list[BackgroundJob] = field(default_factory=list)
    db_pool_size: int = 10
    consumer_batch_size: int = 500
    consumer_lanes: int = 1
    consumer_commit_interval: float = 1.0  # seconds; 0 commits offsets after every batch
    consumer_max_attempts: int = 3
    relay_batch_size: int = 1000
    relay_poll_interval: float = 1.0
    relay_linger: float = 0.002  # seconds a busy relay waits for more commits before a round (see OutboxRelay)
    outbox_lag_limit: timedelta = timedelta(seconds=30)
    # Signs what the relay publishes; verifies what the consumer reads (docs/security.md). Each role refuses to
    # start without its own.
    signer: EventSigner | None = None
    verifier: EventVerifier | None = None

    @property
    def process_name(self) -> str:
        """Service and roles, as `crm-api` or `erp-consumer+relay+scheduler`."""
        return f"{self.service}-{'+'.join(sorted(self.roles))}"


class ServiceRuntime:
    def __init__(self, config: RuntimeConfig) -> None:
        unknown = config.roles - ROLES
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; choose from {sorted(ROLES)}")
        # Never publish unsigned events, never read unverified ones (event_driven_service_app says which setting).
        if "relay" in config.roles and config.signer is None:
            raise ValueError(f"{config.service}: the relay role needs a signing key")
        if "consumer" in config.roles and config.verifier is None:
            raise ValueError(f"{config.service}: the consumer role needs a key ring to verify events with")
        self.config = config
        self.engine: AsyncEngine = new_engine(config.database_url, pool_size=config.db_pool_size,
                                              application_name=config.process_name)
        self.session_factory: async_sessionmaker[AsyncSession] = new_session_factory(self.engine)
        # The same pool; each statement its own transaction (no BEGIN, COMMIT or ROLLBACK): for reads.
        self.read_session_factory = new_session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        self.relay_signal = RelaySignal()
        self.writer = OutboxWriter(config.service, config.outbox, notify_channel=f"outbox_{config.service}")
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: EventConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._broker_checked_at = 0.0
        self._broker_ok: tuple[bool, str] = (False, "not checked yet")
        self._extra_checks: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {}

    def uow(self) -> UnitOfWork:
        on_commit = self.relay_signal.set if "relay" in self.config.roles else None
        return UnitOfWork(self.session_factory, self.writer, on_commit=on_commit)

    def read_uow(self) -> UnitOfWork:
        """A unit of work for reading only (see `deps.ReadUoW`)."""
        return UnitOfWork(self.read_session_factory, self.writer, autocommit=True)

    @property
    def needs_kafka(self) -> bool:
        return bool(self.config.roles & {"relay", "consumer"})

    async def start(self) -> None:
        cfg = self.config
        if self.needs_kafka:
            await ensure_topics(cfg.kafka, topics_for_group(cfg.consumed_topics, cfg.consumer_group, cfg.service))
            self.producer = new_producer(cfg.kafka)
            await self._start_producer(self.producer)
        if "relay" in cfg.roles:
            assert self.producer is not None and cfg.signer is not None  # __init__ checked the signer
            self.relay = OutboxRelay(
                engine=self.engine, database_url=cfg.database_url, producer=self.producer, outbox=cfg.outbox,
                service=cfg.service, notify_channel=self.writer.notify_channel, signal=self.relay_signal,
                signer=cfg.signer,
                batch_size=cfg.relay_batch_size, poll_interval=cfg.relay_poll_interval, linger=cfg.relay_linger,
            )
            self._spawn(self.relay.run(), "relay")
        if "consumer" in cfg.roles:
            assert self.producer is not None and cfg.verifier is not None  # __init__ checked the verifier
            self.consumer = EventConsumer(
                service=cfg.service, group=cfg.consumer_group, topics=cfg.consumed_topics, kafka=cfg.kafka,
                uow_factory=self.uow, inbox=cfg.inbox, handlers=cfg.handlers, producer=self.producer,
                verifier=cfg.verifier,
                batch_size=cfg.consumer_batch_size, lanes=cfg.consumer_lanes,
                max_attempts=cfg.consumer_max_attempts, commit_interval=cfg.consumer_commit_interval,
            )
            self._spawn(self.consumer.run(), "consumer")
        if "scheduler" in cfg.roles:
            for job in cfg.scheduled_jobs:
                self._spawn(job(self), getattr(job, "__name__", "job"))
        log.info("runtime_started", roles=sorted(cfg.roles))

    async def _start_producer(self, producer: AIOKafkaProducer) -> None:
        backoff = 0.2
        while True:
            try:
                await producer.start()
                return
            except Exception as exc:
                log.warning("producer_start_retry", error=repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_task_crashed", task=name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def stop(self) -> None:
        """Clean stop: relay publishes what is committed, consumer finishes its batch, then the rest."""
        if self.relay is not None:
            await self.relay.stop()
        if self.consumer is not None:
            await self.consumer.stop(drain=False)
        for task in self._tasks:
            if task.get_name() not in ("relay", "consumer"):
                task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=15)
            for task in pending:
                task.cancel()
        if self.producer is not None:
            await self.producer.stop()
        await self.engine.dispose()
        log.info("runtime_stopped")

    # --- readiness -------------------------------------------------------------------------------

    def add_readiness(self, name: str, check: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """A component of `/health/ready` that a background job owns (the mail sender: is SMTP reachable, how old
        is the oldest queued mail). `check` answers like the others: {"ok": bool, ...}."""
        self._extra_checks[name] = check

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        components: dict[str, Any] = {"database": await self._check_database()}
        if self.needs_kafka:
            components["broker"] = await self._check_broker()
        if "relay" in self.config.roles:
            components["outbox"] = await self._check_outbox()
        if self.consumer is not None:
            components["consumer"] = await self._check_consumer()
        for name, check in self._extra_checks.items():
            components[name] = await check()
        crashed = self.crashed_tasks()
        if crashed:
            components["background_tasks"] = {"ok": False, "error": "; ".join(crashed)}
        return all(c["ok"] for c in components.values()), components

    def crashed_tasks(self) -> list[str]:
        """The relay, consumer or jobs that died of a bug, and why. Nothing restarts them in the process: the
        liveness probe fails (`/health/live`), so the orchestrator restarts the process, and readiness names them
        meanwhile rather than saying 'no partitions yet'."""
        return [f"{task.get_name()} crashed: {_short(error)}" for task in self._tasks
                if task.done() and not task.cancelled() and (error := task.exception()) is not None]

    async def _check_database(self) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self._one_row(select(1)), 2)
            return {"ok": True}
        except Exception as exc:
            return {"ok": False, "error": _short(exc)}

    async def _one_row(self, query: Executable) -> tuple[Any, ...]:
        """One row of `query`. The health checks time this whole call, the wait for a pooled connection too: the
        pool is fixed, so a saturated service must answer its health check late, not hang."""
        async with self.engine.connect() as conn:
            return tuple((await conn.execute(query)).one())

    async def _check_broker(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._broker_checked_at > 1.0 and self.producer is not None:
            self._broker_checked_at = now
            try:
                await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 2)
                self._broker_ok = (True, "")
            except Exception as exc:
                self._broker_ok = (False, _short(exc))
        ok, error = self._broker_ok
        return {"ok": ok} if ok else {"ok": False, "error": error}

    async def _check_outbox(self) -> dict[str, Any]:
        o = self.config.outbox
        try:
            row = await asyncio.wait_for(self._one_row(
                select(func.count(), func.min(o.c.created_at), func.now()).where(o.c.published_at.is_(None))), 2)
        except Exception as exc:
            return {"ok": False, "error": _short(exc)}
        unpublished, oldest, now = row
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        metrics.OUTBOX_UNPUBLISHED.labels(self.config.service).set(unpublished)
        ok = age <= self.config.outbox_lag_limit.total_seconds()
        result: dict[str, Any] = {"ok": ok, "unpublished": unpublished, "oldest_age_seconds": round(age, 3),
                                  "leader": bool(self.relay and self.relay.is_leader)}
        if not ok:
            result["error"] = f"oldest unpublished event is {age:.0f}s old"
        return result

    async def _check_consumer(self) -> dict[str, Any]:
        consumer = self.consumer
        assert consumer is not None
        assigned = consumer.assigned_partitions
        result: dict[str, Any] = {
            "ok": consumer.started and assigned > 0 and not consumer.waiting_on_infrastructure,
            "group": consumer.group, "assigned_partitions": assigned, "lag": await consumer.lag(),
            "handled": consumer.stats.handled, "duplicates": consumer.stats.duplicates,
            "dead_lettered": consumer.stats.dead_lettered,
        }
        if not result["ok"]:
            result["error"] = ("waiting for the database or broker" if consumer.waiting_on_infrastructure
                               else "no partitions assigned yet")
        return result


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]

"""Plain Kafka clients (aiokafka), set up the same way in every process. Nothing broker-specific."""

import asyncio
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from throughline_events import TOPICS, dead_letter_topic

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    client_id: str
    # Consumer-group timings. Kafka's defaults suit production; the embedded broker in tests uses short ones
    # so that a restarted consumer rejoins in a second or two.
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    rebalance_timeout_ms: int = 30_000
    # How long the broker may hold a fetch that finds nothing new. Apache Kafka answers as soon as a record
    # arrives, so its default (500 ms) costs no latency there; the embedded broker (Tansu) holds every empty fetch
    # for the whole wait, so the dev stack uses a short one (latency) at the price of more idle polling (CPU).
    fetch_max_wait_ms: int = 500
    replication_factor: int = 1


def new_producer(settings: KafkaSettings) -> AIOKafkaProducer:
    """The process's one producer. acks=all: a write is confirmed only once every in-sync replica has it.

    No idempotent producer and no transactions (the dev broker lacks them): duplicates are possible and
    consumers dedupe by event id.
    """
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=settings.client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )


def topics_for_group(consumed: list[str], group: str) -> dict[str, int]:
    """The topics a service needs to exist: everything in the registry plus its own DLTs."""
    wanted = {t.name: t.partitions for t in TOPICS.values()}
    for topic in consumed:
        wanted[dead_letter_topic(topic, group)] = 1
    return wanted


async def ensure_topics(settings: KafkaSettings, wanted: dict[str, int], attempts: int = 30) -> None:
    """Create missing topics with their partition counts. Topics are never auto-created by use."""
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id=settings.client_id)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [NewTopic(name, n, settings.replication_factor) for name, n in wanted.items()
                       if name not in existing]
            if missing:
                await admin.create_topics(missing)
                log.info("topics_created", topics=[t.name for t in missing])
            return
        except Exception as exc:  # broker not up yet, or a racing creator; try again
            if attempt == attempts:
                raise
            log.warning("ensure_topics_retry", attempt=attempt, error=repr(exc))
            await asyncio.sleep(min(0.2 * attempt, 2.0))
        finally:
            await admin.close()

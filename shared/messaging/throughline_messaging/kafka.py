"""Plain Kafka clients (aiokafka), set up the same way in every process. Nothing broker-specific.

Every client (producer, consumers, admin) connects with the same `client_options()`: plaintext on the embedded dev
broker, SASL/SCRAM over TLS on a production one (docs/security.md).
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.helpers import create_ssl_context

from throughline_events import TOPICS, dead_letter_topic
from throughline_platform.event_signing import topic_service

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
    # The largest record the producer sends (aiokafka's default, and Kafka's own: 1 MiB). Dead letters are cut to
    # fit it (consumer.py), so a record that arrived larger still leaves for its dead-letter topic.
    max_request_size: int = 1_048_576
    # How clients reach the broker: PLAINTEXT (the embedded dev broker), or SASL_SSL with SCRAM-SHA-512 and the
    # service's own user; the broker's certificate is checked against `ssl_cafile` (the system's CAs if empty).
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""

    def __post_init__(self) -> None:
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f"Kafka security protocol {self.security_protocol!r}: choose one of "
                             f"{', '.join(SECURITY_PROTOCOLS)}")

    def missing_credentials(self) -> str | None:
        """What a process that talks to the broker lacks to log in, if anything (an API-only process does not talk
        to it, and is given no Kafka user)."""
        if self.security_protocol.startswith("SASL_") and not (self.sasl_username and self.sasl_password):
            return f"Kafka security protocol {self.security_protocol} needs this service's SASL user name and password"
        return None

    def client_options(self) -> dict[str, Any]:
        """The connection options every aiokafka client of this process takes (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile or None)
        if self.security_protocol.startswith("SASL_"):
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password)
        return options


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


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
        max_request_size=settings.max_request_size,
        **settings.client_options(),
    )


def topics_for_group(consumed: list[str], group: str, producer: str | None = None) -> dict[str, int]:
    """The topics a service needs to exist: the ones it publishes (those of `producer`, its service; every topic of
    the registry when None), the ones it consumes, and its DLTs. Only what it uses: on a broker with ACLs a
    service may not even see another's topics (docs/security.md)."""
    wanted = {t.name: t.partitions for t in TOPICS.values()
              if producer is None or topic_service(t.name) == producer or t.name in consumed}
    for topic in consumed:
        wanted[dead_letter_topic(topic, group)] = 1
    return wanted


async def ensure_topics(settings: KafkaSettings, wanted: dict[str, int], attempts: int = 30) -> None:
    """Create missing topics with their partition counts. Topics are never auto-created by use."""
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id=settings.client_id,
                                    **settings.client_options())
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [NewTopic(name, n, settings.replication_factor) for name, n in wanted.items()
                       if name not in existing]
            if missing:
                created, refused = _outcome(await admin.create_topics(missing))
                if created:
                    log.info("topics_created", topics=created)
                if refused:
                    # A production service may not create topics (its ACLs: docs/security.md); the deployment's topic
                    # job does, and a topic it may not even see is simply not this service's. Say so and go on.
                    log.warning("topics_not_created", topics=refused)
            return
        except Exception as exc:  # broker not up yet, or a racing creator; try again
            if attempt == attempts:
                raise
            log.warning("ensure_topics_retry", attempt=attempt, error=repr(exc))
            await asyncio.sleep(min(0.2 * attempt, 2.0))
        finally:
            await admin.close()


# CreateTopics error codes that leave the topic there to use.
_NONE, _TOPIC_ALREADY_EXISTS = 0, 36


def _outcome(response: Any) -> tuple[list[str], dict[str, str]]:
    """(created, {topic: why not}) from a CreateTopics response (aiokafka returns per-topic errors, never raises
    them)."""
    created: list[str] = []
    refused: dict[str, str] = {}
    for topic_error in response.topic_errors:
        topic, code = topic_error[0], topic_error[1]
        if code == _NONE:
            created.append(topic)
        elif code != _TOPIC_ALREADY_EXISTS:
            message = topic_error[2] if len(topic_error) > 2 and topic_error[2] else ""
            refused[topic] = f"error {code} {message}".strip()
    return created, refused

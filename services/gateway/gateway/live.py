"""Live updates for the web app: the integration events, pushed to browsers as server-sent events.

`GET /api/live?access_token=...` (EventSource cannot set headers, so the token rides in the query; an
`Authorization: Bearer` header works too). One Kafka consumer per gateway process, with no consumer
group: it assigns itself every partition of the six topics in `throughline_events.TOPICS`, seeks to
their ends and fans each event out to the connected clients as

    id: <event_id>
    event: <event_type>
    data: <envelope json>

Only events whose signature verifies reach a browser (throughline_platform.event_signing, the key ring in
`EVENT_VERIFY_KEYS`, as every consumer): an unsigned, forged or altered record is dropped and logged, so a hand-made
event on the broker never shows on anyone's screen. Without a key ring the stream reads nothing and says so.

Every role may read the CRM and ERP data the events carry, so every authenticated user gets every event, except the
books' (`ledger.*`), which only the roles that read the ledger get (gateway.live.ledger); `types` (a
comma-separated list of event-type prefixes, e.g. `deal.,invoice.`) narrows a stream. The stream says
`event: ready` once the consumer sits at the end of every topic (what a client sees after that is new),
sends a comment every 15 s to keep proxies from closing it, and ends with `event: token-expired` when the
access token expires: the client refreshes its token and reconnects. When the user's sessions are ended (disabled,
role changed, password reset or changed: gateway/sessions.py) the stream ends at once with `event: token-revoked`
(in the process that made the change at once, in the others within seconds); the client's refresh then fails
unless it already holds newer tokens. A client that cannot keep up (its queue of 1,000 events is full) is dropped
with `event: overflow` and reconnects.

The consumer starts with the first subscriber and stops `IDLE_STOP_SECONDS` after the last one left.

Wiring (the gateway's app.py): `app.include_router(live.router)`; in the lifespan, `await start_live(app)`
after start-up (optional: the hub also starts on the first subscriber) and `await stop_live(app)` at
shutdown, before the engine is disposed.
"""

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.helpers import create_ssl_context
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from gateway.policy import POLICY, Action
from gateway.security import refuse_if_revoked
from gateway.sessions import SessionRevocations, issued_at
from throughline_events import TOPICS, ContractError, decode
from throughline_platform.auth import Principal, TokenVerifier
from throughline_platform.event_signing import EventKeyError, EventRejected, EventVerifier, KeyRing, check_producer
from throughline_platform.problems import Unauthorized

log = structlog.get_logger(__name__)

router = APIRouter(tags=["live"])

QUEUE_SIZE = 1000
KEEPALIVE_SECONDS = 15.0
READY_WAIT_SECONDS = 10.0
RETRY_MS = 3000
# How long the consumer keeps reading after the last subscriber left: long enough for a page reload or a
# token refresh to reconnect without a new consumer, short enough that a gateway nobody watches stops reading
# every event of the system (decoding each, and the broker serving fetches over every partition).
IDLE_STOP_SECONDS = 60.0
# The environment this module reads itself (GATEWAY_-prefixed first, then the name every service shares): the
# broker, how to log in to it (the gateway's own Kafka user, docs/security.md), and the key ring.
ENVIRONMENT = ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
               "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE", "EVENT_VERIFY_KEYS")


@dataclass(eq=False)
class Subscriber:
    prefixes: tuple[str, ...]
    user_id: str = ""
    token_issued_at: float = 0.0
    hidden: tuple[str, ...] = ()  # event-type prefixes the user's role may not see
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False
    revoked: bool = False

    def wants(self, event_type: str) -> bool:
        if self.hidden and event_type.startswith(self.hidden):
            return False
        return not self.prefixes or any(event_type.startswith(p) for p in self.prefixes)


class LiveHub:
    """One process-wide consumer (no group, every partition, from the end) and its subscribers."""

    def __init__(self, bootstrap_servers: str, idle_stop_seconds: float = IDLE_STOP_SECONDS,
                 verifier: EventVerifier | None = None) -> None:
        """`verifier`: the key ring events are checked against (default: the environment's EVENT_VERIFY_KEYS)."""
        self.bootstrap_servers = bootstrap_servers
        self.idle_stop_seconds = idle_stop_seconds
        self.unavailable: str | None = None  # why the hub cannot read events at all
        if verifier is None:
            verifier, self.unavailable = _verifier_from_environment()
        self.verifier = verifier
        self.rejected = 0  # records dropped because their signature did not hold
        self.subscribers: set[Subscriber] = set()
        self._unwatched_since: float | None = None  # when the last subscriber left
        self.ready = asyncio.Event()
        self.delivered = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.unavailable is not None:
            return  # nothing it could forward would be trusted
        if not self.running:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self.ready.clear()
        for subscriber in list(self.subscribers):
            _offer(subscriber, None)

    def subscribe(self, prefixes: tuple[str, ...], user_id: str = "", token_issued_at: float = 0.0,
                  hidden: tuple[str, ...] = ()) -> Subscriber:
        subscriber = Subscriber(prefixes, user_id, token_issued_at, hidden)
        self.subscribers.add(subscriber)
        self._unwatched_since = None
        self.start()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        if not self.subscribers and self._unwatched_since is None:
            self._unwatched_since = time.monotonic()

    def end_revoked(self, revocations: SessionRevocations) -> None:
        """End at once the streams whose token was issued before its user's sessions were ended."""
        for subscriber in list(self.subscribers):
            revoked_at = revocations.revoked_at(subscriber.user_id)
            if revoked_at is not None and subscriber.token_issued_at <= revoked_at:
                subscriber.revoked = True
                self.unsubscribe(subscriber)
                while not subscriber.queue.empty():  # what is queued was for a session that has ended
                    subscriber.queue.get_nowait()
                _offer(subscriber, None)

    def _unwatched_too_long(self) -> bool:
        return (not self.subscribers and self._unwatched_since is not None
                and time.monotonic() - self._unwatched_since >= self.idle_stop_seconds)

    def publish(self, event_type: str, event_id: str, envelope_json: str) -> None:
        message = f"id: {event_id}\nevent: {event_type}\ndata: {envelope_json}\n\n"
        for subscriber in list(self.subscribers):
            if subscriber.wants(event_type) and not _offer(subscriber, message):
                # Too slow to keep up: drop it rather than grow without bound; the client reconnects.
                subscriber.overflowed = True
                self.unsubscribe(subscriber)
        self.delivered += 1

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, group_id=None,
                                        client_id="gateway-live", enable_auto_commit=False,
                                        auto_offset_reset="latest", **_client_options())
            failed = False
            try:
                await consumer.start()
                await self._consume(consumer)  # returns once nobody has watched for a while
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: say so, wait, start again from the end
                log.warning("live.consumer_failed", error=str(exc), retry_in=backoff)
                failed = True
            finally:
                self.ready.clear()
                with contextlib.suppress(Exception):
                    await consumer.stop()
            # No await between this check and the return: a subscriber arriving later finds the task done and
            # starts a new one (`subscribe`); one arriving while the consumer stopped keeps this task going.
            if self._unwatched_too_long():
                log.info("live.consumer_stopped_unwatched", idle_s=self.idle_stop_seconds)
                return
            if failed:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        assigned = await self._assign(consumer)
        self.ready.set()
        log.info("live.consumer_ready", partitions=len(assigned))
        missing_checked = time.monotonic()
        while not self._unwatched_too_long():
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            if not self.subscribers:
                continue  # between subscribers: nobody to decode for
            for records in batches.values():
                for record in records:
                    self._forward(record)
            if len(assigned) < _partition_count() and time.monotonic() - missing_checked > 5:
                # Some topic did not exist yet at start (the services create them); pick it up from its end.
                missing_checked = time.monotonic()
                more = await _partitions(consumer)
                new = [tp for tp in more if tp not in assigned]
                if new:
                    positions = {tp: await consumer.position(tp) for tp in assigned}
                    consumer.assign(more)
                    for tp, offset in positions.items():
                        consumer.seek(tp, offset)
                    await consumer.seek_to_end(*new)
                    assigned = more

    async def _assign(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        for _ in range(40):
            partitions = await _partitions(consumer)
            if partitions:
                consumer.assign(partitions)
                await consumer.seek_to_end(*partitions)
                for tp in partitions:  # resolve the end offsets now, so "ready" means "from here on"
                    await consumer.position(tp)
                return partitions
            await asyncio.sleep(0.5)
        raise RuntimeError("none of the event topics exists yet")

    def _forward(self, record: ConsumerRecord[bytes, bytes]) -> None:
        assert self.verifier is not None  # a hub without one never starts
        try:
            signer = self.verifier.verify(record.topic, record.key, record.value, record.headers)
            envelope = decode(record.value)
            check_producer(signer, envelope.producer)
        except EventRejected as exc:
            self.rejected += 1
            log.warning("live.event_rejected", reason=exc.reason, error=str(exc), topic=record.topic,
                        partition=record.partition, offset=record.offset)
            return
        except ContractError as exc:
            log.warning("live.undecodable_event", error=str(exc))
            return
        self.publish(envelope.event_type, str(envelope.event_id), envelope.model_dump_json())


def _offer(subscriber: Subscriber, message: str | None) -> bool:
    try:
        subscriber.queue.put_nowait(message)
    except asyncio.QueueFull:
        return False
    return True


def _partition_count() -> int:
    return sum(topic.partitions for topic in TOPICS.values())


async def _partitions(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    existing = await consumer.topics()  # refreshes the cluster metadata
    partitions: list[TopicPartition] = []
    for name in TOPICS:
        if name in existing:
            partitions.extend(TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or ()))
    return partitions


def _bootstrap_servers(app: FastAPI) -> str:
    configured = getattr(app.state, "kafka_bootstrap_servers", None)
    if isinstance(configured, str) and configured:
        return configured
    return _setting("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092"


def _setting(name: str) -> str:
    """`GATEWAY_<name>`, else `<name>` (one of ENVIRONMENT), else empty."""
    return os.environ.get(f"GATEWAY_{name}") or os.environ.get(name) or ""


def _verifier_from_environment() -> tuple[EventVerifier | None, str | None]:
    """(the verifier, None), or (None, why there is none): a gateway that cannot verify shows no event."""
    ring = _setting("EVENT_VERIFY_KEYS")
    if not ring:
        log.error("live.no_event_verify_keys", detail="set EVENT_VERIFY_KEYS: live updates are off without it")
        return None, "the gateway has no event verification keys (EVENT_VERIFY_KEYS)"
    try:
        return EventVerifier(KeyRing.from_json(ring)), None
    except EventKeyError as exc:
        log.error("live.bad_event_verify_keys", error=str(exc))
        return None, "the gateway's event verification keys are unusable"


def _client_options() -> dict[str, Any]:
    """How the live consumer logs in to the broker: as the services do (throughline_messaging.kafka), with the
    gateway's own Kafka user, which may only read the event topics."""
    protocol = _setting("KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT"
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=_setting("KAFKA_SSL_CAFILE") or None)
    if protocol.startswith("SASL_"):
        options.update(sasl_mechanism=_setting("KAFKA_SASL_MECHANISM") or "SCRAM-SHA-512",
                       sasl_plain_username=_setting("KAFKA_SASL_USERNAME"),
                       sasl_plain_password=_setting("KAFKA_SASL_PASSWORD"))
    return options


def live_hub(app: FastAPI) -> LiveHub:
    hub = getattr(app.state, "live_hub", None)
    if not isinstance(hub, LiveHub):
        hub = LiveHub(_bootstrap_servers(app))
        app.state.live_hub = hub
        revocations = getattr(app.state, "revocations", None)
        if isinstance(revocations, SessionRevocations):
            revocations.on_change(lambda: hub.end_revoked(revocations))
    return hub


async def start_live(app: FastAPI) -> None:
    """Start the process's live consumer now (for the lifespan; otherwise the first subscriber starts it)."""
    live_hub(app).start()


async def stop_live(app: FastAPI) -> None:
    """Stop the consumer and end every open stream (call at shutdown)."""
    hub = getattr(app.state, "live_hub", None)
    if isinstance(hub, LiveHub):
        await hub.stop()


def _token_expiry(token: str) -> float:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return float(claims.get("exp", time.time() + 3600))


def _authenticate(request: Request, access_token: str | None) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    token = access_token
    if not token:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raise Unauthorized("Pass the access token as the access_token query parameter (or a bearer header).")
    principal = verifier.verify(token)
    refuse_if_revoked(request.app.state.revocations, principal)
    return principal


@router.get("/api/live", summary="Server-sent events: every integration event, as it happens",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: <event_type>`, `data: <envelope json>` per event"}})
async def live_events(
    request: Request,
    access_token: Annotated[str | None, Query(max_length=4096, description="The access token")] = None,
    types: Annotated[str | None, Query(max_length=500, description="Event-type prefixes, comma-separated")] = None,
) -> StreamingResponse:
    principal = _authenticate(request, access_token)
    expires_at = _token_expiry(principal.token)
    prefixes = tuple(p.strip() for p in (types or "").split(",") if p.strip())
    hub = live_hub(request.app)
    # The books are for the roles that read the ledger (gateway.live.ledger, like erp.ledger.read).
    hidden = () if POLICY.allows(principal.role, Action.LIVE_LEDGER) else ("ledger.",)
    subscriber = hub.subscribe(prefixes, principal.user_id, issued_at(principal.token), hidden)
    log.info("live.subscribed", user_id=principal.user_id, subscribers=len(hub.subscribers))
    return StreamingResponse(_stream(hub, subscriber, expires_at), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _stream(hub: LiveHub, subscriber: Subscriber, expires_at: float) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        try:
            if hub.unavailable is not None:  # no event could be verified: say why at once (the stream stays quiet)
                yield f"event: ready\ndata: {json.dumps({'live': False, 'detail': hub.unavailable})}\n\n"
            else:
                await asyncio.wait_for(hub.ready.wait(), READY_WAIT_SECONDS)
                yield f"event: ready\ndata: {json.dumps({'live': True})}\n\n"
        except TimeoutError:
            yield f"event: ready\ndata: {json.dumps({'live': False, 'detail': 'the event broker is unreachable'})}\n\n"
        while True:
            remaining = expires_at - time.time()
            if remaining <= 0:
                yield "event: token-expired\ndata: {}\n\n"
                return
            try:
                message = await asyncio.wait_for(subscriber.queue.get(), min(KEEPALIVE_SECONDS, remaining))
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if message is None:  # the gateway is stopping, or this user's sessions were ended
                if subscriber.revoked:
                    yield "event: token-revoked\ndata: {}\n\n"
                return
            yield message
            if subscriber.overflowed and subscriber.queue.empty():
                yield "event: overflow\ndata: {}\n\n"
                return
    finally:
        hub.unsubscribe(subscriber)

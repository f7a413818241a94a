"""An event-driven service process (the CRM's and the ERP's): the platform's app, with a runtime that plays the
roles asked for (api, relay, consumer, scheduler)."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from sqlalchemy import Table

from throughline_messaging.consumer import Handler
from throughline_messaging.idempotency import install_idempotency, purge_job
from throughline_messaging.runtime import BackgroundJob, RuntimeConfig, ServiceRuntime
from throughline_messaging.settings import EventDrivenSettings
from throughline_platform.app import service_app
from throughline_platform.event_signing import EventKeyError, EventSigner, EventVerifier, public_key_pem


def event_driven_service_app(*, service: str, title: str, settings: EventDrivenSettings, roles: frozenset[str],
                             outbox: Table, inbox: Table, routers: Callable[[], list[APIRouter]],
                             consumed_topics: list[str],
                             handlers: dict[tuple[str, int], Handler],
                             scheduled_jobs: list[BackgroundJob], idempotency: Table,
                             commits_before_answering: frozenset[str] = frozenset()) -> FastAPI:
    """A service process wired from its settings: the same wiring for the CRM and the ERP.

    `idempotency` is the service's `idempotency_keys` table: POSTs honour `Idempotency-Key`
    (throughline_messaging.idempotency), and the scheduler purges old keys. `commits_before_answering` names the
    paths whose work commits before it answers (see there)."""
    try:
        signer, verifier = event_keys(service, settings, roles)
        kafka = settings.kafka_settings(client_id=service)
        missing = kafka.missing_credentials() if roles & {"relay", "consumer"} else None
        if missing:
            raise ValueError(f"{missing}: set {service.upper()}_KAFKA_SASL_USERNAME and "
                             f"{service.upper()}_KAFKA_SASL_PASSWORD (docs/security.md)")
    except (EventKeyError, ValueError) as exc:
        # Refuse to start, saying what is missing: never publish unsigned events nor read unverified ones.
        raise SystemExit(f"{service} cannot start: {exc}") from None
    config = RuntimeConfig(
        service=service,
        database_url=settings.database_url,
        kafka=kafka,
        outbox=outbox, inbox=inbox, roles=roles, consumer_group=settings.consumer_group,
        consumer_lanes=settings.consumer_lanes,
        consumer_commit_interval=settings.consumer_commit_interval_ms / 1000,
        consumed_topics=consumed_topics, handlers=handlers,
        db_pool_size=settings.db_pool_size,
        scheduled_jobs=[*scheduled_jobs, purge_job(idempotency)],
        signer=signer, verifier=verifier,
    )
    runtime = ServiceRuntime(config)
    app = service_app(service=service, title=title, jwt_public_key=settings.jwt_public_key,
                      serves_api="api" in roles, routers=routers, readiness=runtime.readiness,
                      crashed_tasks=runtime.crashed_tasks, start=runtime.start, stop=runtime.stop,
                      log_level=settings.log_level)
    app.state.runtime = runtime
    if "api" in roles:
        install_idempotency(app, idempotency, commits_before_answering)
    return app


def event_keys(service: str, settings: EventDrivenSettings,
               roles: frozenset[str]) -> tuple[EventSigner | None, EventVerifier | None]:
    """The signer a relay needs and the verifier a consumer needs; an `EventKeyError` naming the missing setting
    when a role lacks its key."""
    prefix = service.upper()
    signer = settings.event_signer(service)
    verifier = settings.event_verifier()
    if "relay" in roles and signer is None:
        raise EventKeyError(f"the relay signs every event it publishes: set {prefix}_EVENT_SIGNING_KEY (an Ed25519 "
                            f"private key, PEM) and {prefix}_EVENT_SIGNING_KEY_ID (docs/security.md)")
    if "consumer" in roles and verifier is None:
        raise EventKeyError("the consumer verifies every event it reads: set EVENT_VERIFY_KEYS (or "
                            f"{prefix}_EVENT_VERIFY_KEYS) to the key ring, JSON {{\"<key id>\": {{\"service\": ..., "
                            "\"public_key\": <PEM>}} (docs/security.md)")
    if signer is not None and verifier is not None:
        # A relay whose key the readers do not know would have every event it publishes dead-lettered: say so now.
        known = verifier.ring.keys.get(signer.key_id)
        if known is None or known.service != service or public_key_pem(known.public_key) != public_key_pem(
                signer.public_key):
            raise EventKeyError(f"signing key {signer.key_id!r} is not in EVENT_VERIFY_KEYS as a {service} key with "
                                "this public key: readers would refuse every event signed with it")
    return signer, verifier

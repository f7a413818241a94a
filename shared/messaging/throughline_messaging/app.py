"""The FastAPI application every service process runs: its routers (for the api role), health, metrics."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI
from sqlalchemy import Table

from throughline_messaging.auth import TokenVerifier
from throughline_messaging.collector import settle_after_start_up
from throughline_messaging.consumer import Handler
from throughline_messaging.http import install_http_plumbing
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.logging import configure_logging
from throughline_messaging.runtime import BackgroundJob, RuntimeConfig, ServiceRuntime


def service_app(*, title: str, config: RuntimeConfig, jwt_public_key: str, routers: Callable[[], list[APIRouter]],
                log_level: str = "INFO") -> FastAPI:
    """`routers` is called (and so the routers imported) only when the process plays the api role."""
    configure_logging(config.service, log_level)
    if "api" in config.roles and not jwt_public_key.strip():
        raise RuntimeError(f"{config.service.upper()}_JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY) must hold the gateway's "
                           "public key: the API verifies every token itself")
    runtime = ServiceRuntime(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        settle_after_start_up()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    app.state.runtime = runtime
    app.state.verifier = TokenVerifier(jwt_public_key)
    install_http_plumbing(app, config.service, runtime.readiness, runtime.crashed_tasks)
    if "api" in config.roles:
        for router in routers():
            app.include_router(router)
    return app


class ServiceSettings(Protocol):
    """The settings every CRM/ERP-shaped service has (its pydantic-settings class, prefix CRM_ or ERP_)."""

    database_url: str
    kafka_bootstrap_servers: str
    kafka_session_timeout_ms: int
    kafka_heartbeat_interval_ms: int
    kafka_fetch_max_wait_ms: int
    kafka_replication_factor: int
    jwt_public_key: str
    consumer_group: str
    consumer_lanes: int
    consumer_commit_interval_ms: int
    db_pool_size: int
    log_level: str


def event_driven_service_app(*, service: str, title: str, settings: ServiceSettings, roles: frozenset[str],
                             outbox: Table, inbox: Table, routers: Callable[[], list[APIRouter]],
                             consumed_topics: list[str],
                             handlers: dict[tuple[str, int], Handler],
                             scheduled_jobs: list[BackgroundJob]) -> FastAPI:
    """A service process wired from its settings: the same wiring for the CRM and the ERP."""
    config = RuntimeConfig(
        service=service,
        database_url=settings.database_url,
        kafka=KafkaSettings(
            bootstrap_servers=settings.kafka_bootstrap_servers, client_id=service,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            replication_factor=settings.kafka_replication_factor,
        ),
        outbox=outbox, inbox=inbox, roles=roles, consumer_group=settings.consumer_group,
        consumer_lanes=settings.consumer_lanes,
        consumer_commit_interval=settings.consumer_commit_interval_ms / 1000,
        consumed_topics=consumed_topics, handlers=handlers,
        db_pool_size=settings.db_pool_size,
        scheduled_jobs=scheduled_jobs,
    )
    return service_app(title=title, config=config, jwt_public_key=settings.jwt_public_key, routers=routers,
                       log_level=settings.log_level)

"""An event-driven service process (the CRM's and the ERP's): the platform's app, with a runtime that plays the
roles asked for (api, relay, consumer, scheduler)."""

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from sqlalchemy import Table

from throughline_messaging.consumer import Handler
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.runtime import BackgroundJob, RuntimeConfig, ServiceRuntime
from throughline_messaging.settings import EventDrivenSettings
from throughline_platform.app import service_app


def event_driven_service_app(*, service: str, title: str, settings: EventDrivenSettings, roles: frozenset[str],
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
    runtime = ServiceRuntime(config)
    app = service_app(service=service, title=title, jwt_public_key=settings.jwt_public_key,
                      serves_api="api" in roles, routers=routers, readiness=runtime.readiness,
                      crashed_tasks=runtime.crashed_tasks, start=runtime.start, stop=runtime.stop,
                      log_level=settings.log_level)
    app.state.runtime = runtime
    return app

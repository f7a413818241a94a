"""The ERP process: which routers, which handlers, which background jobs."""

from fastapi import FastAPI

from erp.clients.router import router as clients_router
from erp.db import inbox, outbox
from erp.handlers import CONSUMED_TOPICS, HANDLERS
from erp.projects.router import router as projects_router
from erp.settings import get_settings
from throughline_messaging.app import service_app
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.runtime import RuntimeConfig

ROUTERS = [clients_router, projects_router]


def create_app(roles: frozenset[str]) -> FastAPI:
    settings = get_settings()
    config = RuntimeConfig(
        service="erp",
        database_url=settings.database_url,
        kafka=KafkaSettings(
            bootstrap_servers=settings.kafka_bootstrap_servers, client_id="erp",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        ),
        outbox=outbox,
        inbox=inbox,
        roles=roles,
        consumer_group=settings.consumer_group,
        consumed_topics=CONSUMED_TOPICS,
        handlers=HANDLERS,
        db_pool_size=settings.db_pool_size,
    )
    return service_app(title="Throughline ERP", config=config, jwt_public_key=settings.jwt_public_key,
                       routers=ROUTERS, log_level=settings.log_level)

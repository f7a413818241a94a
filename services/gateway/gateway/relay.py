"""The gateway's relay process (`python -m gateway relay`): publishes the gateway's outbox (its users' events,
gateway/user_events.py) to Kafka, signed with the gateway's own event key, like the CRM's and the ERP's relays.

It is a process of its own, not a task of the gateway: the web-facing gateway holds no private event key and
needs no broker to serve (decision 111), and production runs it as its own Deployment (deploy/).
"""

from functools import lru_cache

from fastapi import APIRouter, FastAPI
from pydantic_settings import SettingsConfigDict

from gateway.db import outbox
from throughline_messaging.app import event_driven_service_app
from throughline_messaging.settings import EventDrivenSettings
from throughline_messaging.tables import idempotency_table, inbox_table
from throughline_platform.db import new_metadata

ROLES = frozenset({"relay"})


class GatewayRelaySettings(EventDrivenSettings):
    """The gateway's database and the broker, with the `GATEWAY_` prefix (GATEWAY_DATABASE_URL,
    GATEWAY_EVENT_SIGNING_KEY, GATEWAY_EVENT_SIGNING_KEY_ID, ...)."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/gateway"
    consumer_group: str = "gateway"  # it consumes nothing; the name only prefixes what it would dead-letter


@lru_cache
def get_relay_settings() -> GatewayRelaySettings:
    return GatewayRelaySettings()


def _no_routers() -> list[APIRouter]:
    return []


def create_relay_app(settings: GatewayRelaySettings | None = None) -> FastAPI:
    # A relay alone reads no event and answers no API call: the inbox and idempotency tables the runtime is given
    # are never created nor touched (the gateway's database has neither).
    unused = new_metadata()
    return event_driven_service_app(
        service="gateway", title="Throughline gateway relay", settings=settings or get_relay_settings(),
        roles=ROLES, outbox=outbox, inbox=inbox_table(unused), routers=_no_routers, consumed_topics=[],
        handlers={}, scheduled_jobs=[], idempotency=idempotency_table(unused))

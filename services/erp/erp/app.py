"""The ERP process: which routers, which handlers, which background jobs."""

from fastapi import FastAPI

from erp.billing.jobs import billing_run_job
from erp.billing.router import router as billing_router
from erp.clients.router import router as clients_router
from erp.cost_centers.router import router as cost_centers_router
from erp.db import inbox, outbox
from erp.expenses.router import categories_router as expense_categories_router
from erp.expenses.router import router as expenses_router
from erp.handlers import CONSUMED_TOPICS, HANDLERS
from erp.invoices.router import router as invoices_router
from erp.projects.router import router as projects_router
from erp.rates.router import router as rates_router
from erp.reminders.jobs import reminder_run_job
from erp.reminders.router import router as reminders_router
from erp.reports.router import router as reports_router
from erp.settings import get_settings
from erp.time_entries.router import router as time_entries_router
from throughline_messaging.app import service_app
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.runtime import RuntimeConfig

ROUTERS = [clients_router, projects_router, cost_centers_router, expenses_router, expense_categories_router,
           rates_router, reports_router,
           # billing (docs/erp-billing.md)
           invoices_router, billing_router, time_entries_router, reminders_router]


def create_app(roles: frozenset[str]) -> FastAPI:
    settings = get_settings()
    config = RuntimeConfig(
        service="erp",
        database_url=settings.database_url,
        kafka=KafkaSettings(
            bootstrap_servers=settings.kafka_bootstrap_servers, client_id="erp",
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            replication_factor=settings.kafka_replication_factor,
        ),
        outbox=outbox,
        inbox=inbox,
        roles=roles,
        consumer_group=settings.consumer_group,
        consumed_topics=CONSUMED_TOPICS,
        handlers=HANDLERS,
        scheduled_jobs=[billing_run_job, reminder_run_job],
        db_pool_size=settings.db_pool_size,
    )
    return service_app(title="Throughline ERP", config=config, jwt_public_key=settings.jwt_public_key,
                       routers=ROUTERS, log_level=settings.log_level)

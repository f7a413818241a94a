"""The scheduler's daily billing run (as of today; catching up is automatic: every due item is billed)."""

import asyncio

import structlog

from erp.billing import service
from erp.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime

log = structlog.get_logger(__name__)


async def billing_run_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    while True:
        pause = settings.billing_run_interval_seconds
        try:
            async with runtime.uow() as uow:
                await service.scheduled_run(uow)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # retried soon; a failing run never kills the scheduler
            log.warning("billing_run_job_failed", error=repr(exc))
            pause = min(pause, 60.0)
        await asyncio.sleep(pause)

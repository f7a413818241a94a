"""The scheduler's daily dunning run: as of today, so a run after downtime sends every missed step."""

import asyncio

import structlog

from erp.clock import today
from erp.reminders.service import deliver, run_reminders, undelivered
from erp.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime

log = structlog.get_logger(__name__)


async def reminder_run_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    while True:
        pause = settings.reminder_interval_seconds
        try:
            async with runtime.uow() as uow:
                await run_reminders(uow, as_of=today())
            async with runtime.uow() as uow:
                await deliver(uow, runtime.uow, await undelivered(uow))  # this run's, and any a crash left pending
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # retried soon; a failing run never kills the scheduler
            log.warning("reminder_run_job_failed", error=repr(exc))
            pause = min(pause, 60.0)
        await asyncio.sleep(pause)

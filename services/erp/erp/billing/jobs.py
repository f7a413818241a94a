"""The scheduler's daily billing run (as of today; catching up is automatic: every due item is billed)."""

import asyncio

import structlog

from erp.billing.runs import run_billing
from erp.invoices.service import today
from erp.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime

log = structlog.get_logger(__name__)


async def billing_run_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    while True:
        pause = settings.billing_run_interval_seconds
        try:
            async with runtime.uow() as uow:
                # Holding the result keeps its invoices (and their recorded events) alive until COMMIT.
                result = await run_billing(uow, as_of=today(), issue=settings.billing_run_issue,
                                           triggered_by="scheduler")
                await uow.commit()
                del result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # retried soon; a failing run never kills the scheduler
            log.warning("billing_run_job_failed", error=repr(exc))
            pause = min(pause, 60.0)
        await asyncio.sleep(pause)

"""The scheduler role's job: evaluate the time-based rules every CRM_AUTOMATION_INTERVAL_SECONDS, forever."""

import asyncio
from typing import Any

import structlog

from crm.db import utcnow
from crm.idle_deals.service import run_time_based
from crm.settings import get_settings

log = structlog.get_logger(__name__)


async def automation_job(runtime: Any) -> None:
    interval = get_settings().automation_interval_seconds
    while True:
        try:
            async with runtime.uow() as uow:
                fired = await run_time_based(uow, utcnow())
            if fired:
                log.info("automation_run", fired=fired)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away: try again next round
            log.warning("automation_run_failed", error=repr(exc))
        await asyncio.sleep(interval)

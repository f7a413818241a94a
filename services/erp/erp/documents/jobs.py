"""The scheduler's document job: renders the documents of issued invoices that have none yet, soon after they
are issued (a billing run's invoices included), so a first request for a PDF rarely waits for its rendering."""

import asyncio

import structlog

from erp.documents import service
from erp.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime

log = structlog.get_logger(__name__)


async def document_render_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    while True:
        pause = settings.document_render_interval_seconds
        try:
            rendered = await service.render_missing(runtime.read_uow, runtime.uow)
            if rendered:
                pause = 0.0  # more may be waiting: go on at once
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # retried later; a failing render never kills the scheduler
            log.warning("document_render_job_failed", error=repr(exc))
        await asyncio.sleep(pause)

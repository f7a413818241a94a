"""The scheduler role's sequence job: run due steps in batches while there are any, stop the enrolments of closed
deals, then sleep until the earliest enrolment is due (at most CRM_SEQUENCE_INTERVAL_SECONDS), or until an
enrolment due now wakes it (NOTIFY on `crm_sequences`, delivered at its COMMIT). Several schedulers may run at
once: each batch takes its enrolments with SKIP LOCKED, and each step's run row is unique (runner.py)."""

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog

from crm.db import utcnow
from crm.sequences.runner import LimitRaced, RunResult, next_due, run_due_steps
from crm.sequences.service import WAKE_CHANNEL, stop_for_closed_deals
from crm.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime
from throughline_platform.db import asyncpg_dsn

log = structlog.get_logger(__name__)


async def sequence_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    wake = asyncio.Event()
    listener: asyncpg.Connection | None = None

    def on_notify(*_: Any) -> None:
        wake.set()

    try:
        while True:
            if listener is None or listener.is_closed():
                listener = await _listen(settings.database_url, on_notify)
            wake.clear()
            try:
                await _one_pass(runtime)
                async with runtime.read_uow() as uow:
                    due = await next_due(uow)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away: try again next round
                log.warning("sequence_run_failed", error=repr(exc), exc_info=True)
                due = None
            interval = settings.sequence_interval_seconds
            if due is not None:
                # Due already: another scheduler holds it (SKIP LOCKED), or it failed; look again soon, not at once.
                interval = max(0.5, min(interval, (due - utcnow()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), interval)
    finally:
        if listener is not None and not listener.is_closed():
            await listener.close()


async def _listen(database_url: str, on_notify: Any) -> asyncpg.Connection | None:
    """A connection listening for enrolments due now; None while the database is away (polling goes on)."""
    try:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        await connection.add_listener(WAKE_CHANNEL, on_notify)
        return connection
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("sequence_listen_failed", error=repr(exc))
        return None


async def _one_pass(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    async with runtime.uow() as uow:
        stopped = await stop_for_closed_deals(uow.session)
        await uow.commit()
    total = RunResult(stopped=stopped)
    while True:
        async with runtime.uow() as uow:
            try:
                result = await run_due_steps(uow, settings, utcnow())
            except LimitRaced as raced:  # rolled back (the unit of work ends without commit): run it again
                log.info("sequence_batch_retried", reason=str(raced))
                continue
        for field in ("mails", "tasks", "skipped", "waiting", "completed", "stopped"):
            setattr(total, field, getattr(total, field) + getattr(result, field))
        if result.handled == 0:
            break
    if total.handled:
        log.info("sequence_steps_run", mails=total.mails, tasks=total.tasks, skipped=total.skipped,
                 waiting=total.waiting, completed=total.completed, stopped=total.stopped)

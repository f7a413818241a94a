"""A background task that dies of a bug makes the process unready and not live, and says which one and why."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from crm.db import inbox, outbox
from devstack.ports import free_port
from devstack.stack import Stack
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.runtime import RuntimeConfig, ServiceRuntime
from throughline_platform.http import operations_router

CRASH = "_broken_job crashed: RuntimeError: a bug in a scheduled job"


async def _broken_job(runtime: ServiceRuntime) -> None:
    await asyncio.sleep(0)
    raise RuntimeError("a bug in a scheduled job")


@asynccontextmanager
async def _served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real HTTP port for the duration."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_a_crashed_background_task_fails_readiness_and_liveness(stack: Stack) -> None:
    runtime = ServiceRuntime(RuntimeConfig(
        service="crm", database_url=stack.database_urls["crm"],
        kafka=KafkaSettings(bootstrap_servers="unused:9092", client_id="readiness-test"),
        outbox=outbox, inbox=inbox, roles=frozenset({"scheduler"}), consumer_group="unused",
        scheduled_jobs=[_broken_job], db_pool_size=1,
    ))
    app = FastAPI()
    app.include_router(operations_router(runtime.readiness, runtime.crashed_tasks))
    async with _served(app) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/health/live")).json() == {"status": "live"}  # nothing has run yet
        await runtime.start()
        try:
            for _ in range(100):
                ready, components = await runtime.readiness()
                if "background_tasks" in components:
                    break
                await asyncio.sleep(0.02)
            assert ready is False
            assert components["database"] == {"ok": True}
            assert components["background_tasks"] == {"ok": False, "error": CRASH}
            # Readiness alone would leave a worker whose consumer died running for ever, handling nothing; a failed
            # liveness probe makes the orchestrator restart the process.
            live = await client.get("/health/live")
            assert live.status_code == 503
            assert live.json() == {"status": "dead", "crashed": [CRASH]}
        finally:
            await runtime.stop()

"""A background task that dies of a bug makes the process unready and says which one and why."""

import asyncio

from crm.db import inbox, outbox
from devstack.stack import Stack
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.runtime import RuntimeConfig, ServiceRuntime


async def _broken_job(runtime: ServiceRuntime) -> None:
    await asyncio.sleep(0)
    raise RuntimeError("a bug in a scheduled job")


async def test_a_crashed_background_task_fails_readiness(stack: Stack) -> None:
    runtime = ServiceRuntime(RuntimeConfig(
        service="crm", database_url=stack.database_urls["crm"],
        kafka=KafkaSettings(bootstrap_servers="unused:9092", client_id="readiness-test"),
        outbox=outbox, inbox=inbox, roles=frozenset({"scheduler"}), consumer_group="unused",
        scheduled_jobs=[_broken_job], db_pool_size=1,
    ))
    await runtime.start()
    try:
        for _ in range(100):
            ready, components = await runtime.readiness()
            if "background_tasks" in components:
                break
            await asyncio.sleep(0.02)
        assert ready is False
        assert components["database"] == {"ok": True}
        assert components["background_tasks"] == {
            "ok": False, "error": "_broken_job crashed: RuntimeError: a bug in a scheduled job"}
    finally:
        await runtime.stop()

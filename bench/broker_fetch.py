"""How the embedded broker answers a fetch that finds nothing: `python -m bench.broker_fetch`.

Starts a Tansu of its own on a free port and prints two tables (docs/perf-notes/embedded-broker-fetch.md):
- delivery: one record produced at spread-out moments to a consumer waiting on an idle topic, per
  `fetch_max_wait_ms`: how long each record took to arrive;
- cost: the broker's CPU per fetch of a consumer whose fetches find nothing, per wait and per set of assigned
  partitions (each of our consumers reads 2 topics x 6 partitions).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.broker import EmbeddedBroker

TOPICS, PARTITIONS = ("t0", "t1"), 6
DELIVERY_WAITS_MS = (50, 200)
COST_WAITS_MS = (0, 10, 50)
ASSIGNMENTS = {"1 partition": [TopicPartition("t0", 0)],
               "2 topics x 6 partitions": [TopicPartition(t, p) for t in TOPICS for p in range(PARTITIONS)]}


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def delivery(servers: str, producer: AIOKafkaProducer, wait_ms: int) -> list[float]:
    consumer = AIOKafkaConsumer("t0", bootstrap_servers=servers, group_id=None, auto_offset_reset="latest",
                                fetch_max_wait_ms=wait_ms)
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=300)  # positioned at the end, its next fetch waiting
        delays = []
        for n in range(8):
            await asyncio.sleep(0.013 * (n + 1) % 0.1)  # land at different moments of the broker's wait
            sent = time.monotonic()
            await producer.send_and_wait("t0", b"x", partition=0)
            while not await consumer.getmany(timeout_ms=5000):
                pass
            delays.append((time.monotonic() - sent) * 1000)
        return delays
    finally:
        await consumer.stop()


async def cost(servers: str, broker_pid: int, wait_ms: int, partitions: list[TopicPartition]) -> tuple[float, float]:
    """Fetches per second and broker CPU ms per fetch over 4 s of fetches that find nothing."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=None, fetch_max_wait_ms=wait_ms)
    await consumer.start()
    fetches = 0
    send = consumer._client.send  # counted at the client: aiokafka keeps no count of its fetch requests

    async def counting_send(node_id: int, request: object, *args: object, **kwargs: object) -> object:
        nonlocal fetches
        fetches += type(request).__name__.startswith("FetchRequest")
        return await send(node_id, request, *args, **kwargs)

    consumer._client.send = counting_send
    try:
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        await consumer.getmany(timeout_ms=300)
        fetches, cpu, started = 0, _cpu_seconds(broker_pid), time.monotonic()
        while time.monotonic() - started < 4:
            await consumer.getmany(timeout_ms=100)
        elapsed = time.monotonic() - started
        return fetches / elapsed, (_cpu_seconds(broker_pid) - cpu) * 1000 / max(fetches, 1)
    finally:
        await consumer.stop()


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        broker = EmbeddedBroker(Path(scratch) / "broker.log")
        broker.start()
        try:
            assert broker.process is not None
            servers = broker.bootstrap_servers
            admin = AIOKafkaAdminClient(bootstrap_servers=servers)
            await admin.start()
            await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in TOPICS])
            await admin.close()
            producer = AIOKafkaProducer(bootstrap_servers=servers)
            await producer.start()
            print("delivery of one record to a consumer waiting on an idle topic")
            for wait_ms in DELIVERY_WAITS_MS:
                delays = await delivery(servers, producer, wait_ms)
                print(f"  fetch_max_wait_ms={wait_ms:>4}: " + ", ".join(f"{d:.0f}" for d in delays) + " ms")
            await producer.stop()
            print("broker CPU per fetch that finds nothing")
            for label, partitions in ASSIGNMENTS.items():
                for wait_ms in COST_WAITS_MS:
                    rate, per_fetch = await cost(servers, broker.process.pid, wait_ms, partitions)
                    print(f"  {label}, fetch_max_wait_ms={wait_ms:>3}: {rate:6.0f} fetches/s, "
                          f"{per_fetch:.2f} CPU ms each")
        finally:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())

"""Reading and writing topics directly, as another system subscribed to our events would."""

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from throughline_platform.event_signing import EventSigner, EventVerifier, KeyRing, new_private_key_pem, public_key_pem

# aiokafka's default largest record; publish_raw raises it for a record that needs more, as a hostile sender would.
DEFAULT_MAX_REQUEST_SIZE = 1_048_576


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything in `topic` right now, every partition, without joining a group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        # Read until the topic goes quiet: the embedded broker's end offsets can lag a multi-record batch.
        records: list[ConsumerRecord[bytes, bytes]] = []
        while batch := await consumer.getmany(timeout_ms=300):
            for tp_records in batch.values():
                records.extend(tp_records)
        return records
    finally:
        await consumer.stop()


async def publish_raw(bootstrap: str, topic: str, value: bytes, key: bytes | None,
                      headers: list[tuple[str, bytes]] | None = None, *, signer: EventSigner | None = None) -> None:
    """Write one record as it is, unsigned unless a `signer` (a service's key: `Stack.event_signer`) signs it as
    that service's relay would, over this topic, key and value."""
    headers = list(headers or [])
    if signer is not None:
        headers += signer.headers(topic, key, value)
    size = len(value) + len(key or b"") + sum(len(name) + len(v) for name, v in headers)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False,
                                max_request_size=max(DEFAULT_MAX_REQUEST_SIZE, size + 64 * 1024))
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def wait_until(probe: Any, timeout: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting {timeout}s for {what}")


def fresh_keys(service: str) -> tuple[EventSigner, EventVerifier]:
    """A new signing key for `service` and a verifier whose ring holds just it: for tests that run their own
    consumer on topics of their own."""
    signer = EventSigner.from_pem(f"{service}-test-{uuid.uuid4().hex[:8]}", service, new_private_key_pem())
    ring = {signer.key_id: {"service": service, "public_key": public_key_pem(signer.public_key)}}
    return signer, EventVerifier(KeyRing.from_json(json.dumps(ring)))

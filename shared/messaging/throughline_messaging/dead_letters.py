"""Replaying a dead-letter topic: each parked event goes back to its original topic, as it was.

As it was means the same value, key and headers, the producer's signature among them: the signature covers the
original topic, key and value, so a replayed genuine event verifies again and a forged one is refused again. A
letter that was cut to fit the dead-letter topic (`dlt.truncated`) is not the event any more and is not replayed;
its headers say where the original sits.
"""

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from throughline_messaging.kafka import KafkaSettings

log = structlog.get_logger(__name__)


def replay_group(consumer_group: str) -> str:
    """The consumer group whose committed offsets are a replay's progress: `<group>.dlt-replay`."""
    return f"{consumer_group}.dlt-replay"


async def replay_dead_letters(kafka: KafkaSettings, producer: AIOKafkaProducer, dlt_topic: str,
                              replay_group: str, limit: int | None = None) -> int:
    """Re-publish what is in `dlt_topic` now (up to `limit`) and return how many were replayed.

    Progress is kept as the replay group's committed offsets, so a second run does not replay twice.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=replay_group, enable_auto_commit=False,
        auto_offset_reset="earliest", client_id=f"{kafka.client_id}-dlt-replay", **kafka.client_options(),
    )
    await consumer.start()
    try:
        await consumer.topics()  # loads metadata so the DLT's partitions are known
        partitions = [TopicPartition(dlt_topic, p) for p in sorted(consumer.partitions_for_topic(dlt_topic) or [])]
        if not partitions:
            raise ValueError(f"topic {dlt_topic!r} does not exist")
        consumer.assign(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is not None:
                consumer.seek(tp, committed)
            else:
                await consumer.seek_to_beginning(tp)
        # Replay what was parked before we started; an event that fails again and comes back is left for
        # the next replay. (Read until quiet rather than to end offsets, which some brokers under-report.)
        cutoff_ms = int(time.time() * 1000)
        replayed = 0
        while (limit is None or replayed < limit) and (batch := await consumer.getmany(timeout_ms=1000)):
            for tp, records in batch.items():
                for record in records:
                    if record.timestamp > cutoff_ms or (limit is not None and replayed >= limit):
                        consumer.pause(tp)
                        break
                    if await _republish(producer, dlt_topic, record):
                        replayed += 1
                    await consumer.commit({tp: record.offset + 1})
        log.info("dlt_replayed", topic=dlt_topic, count=replayed)
        return replayed
    finally:
        await consumer.stop()


async def _republish(producer: AIOKafkaProducer, dlt_topic: str, record: ConsumerRecord[bytes, bytes]) -> bool:
    """Send the parked record back where it came from; False when it cannot be (and says why in the log)."""
    headers = dict(record.headers or ())
    original = headers.get("dlt.original.topic")
    if original is None:
        log.error("dlt_record_without_origin", offset=record.offset)
        return False
    if headers.get("dlt.truncated") == b"true":
        log.error("dlt_record_truncated_not_replayed", offset=record.offset, original_topic=original.decode(),
                  original_partition=headers.get("dlt.original.partition", b"").decode(),
                  original_offset=headers.get("dlt.original.offset", b"").decode())
        return False
    kept = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlt.")]
    kept.append(("replayed_from", f"{dlt_topic}@{record.partition}:{record.offset}".encode()))
    await (await producer.send(original.decode(), value=record.value, key=record.key, headers=kept))
    return True


def run_replay(kafka: KafkaSettings, dlt_topic: str, replay_group: str, limit: int | None) -> int:
    async def main() -> int:
        from throughline_messaging.kafka import new_producer

        producer = new_producer(kafka)
        await producer.start()
        try:
            return await replay_dead_letters(kafka, producer, dlt_topic, replay_group, limit)
        finally:
            await producer.stop()

    return asyncio.run(main())

"""Replaying a dead-letter topic: each parked event goes back to its original topic, as it was."""

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from throughline_messaging.kafka import KafkaSettings

log = structlog.get_logger(__name__)


async def replay_dead_letters(kafka: KafkaSettings, producer: AIOKafkaProducer, dlt_topic: str,
                              replay_group: str, limit: int | None = None) -> int:
    """Re-publish what is in `dlt_topic` now (up to `limit`) and return how many were replayed.

    Progress is kept as the replay group's committed offsets, so a second run does not replay twice.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=replay_group, enable_auto_commit=False,
        auto_offset_reset="earliest", client_id=f"{kafka.client_id}-dlt-replay",
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
                    await _republish(producer, dlt_topic, record)
                    replayed += 1
                    await consumer.commit({tp: record.offset + 1})
        log.info("dlt_replayed", topic=dlt_topic, count=replayed)
        return replayed
    finally:
        await consumer.stop()


async def _republish(producer: AIOKafkaProducer, dlt_topic: str, record: ConsumerRecord[bytes, bytes]) -> None:
    headers = dict(record.headers or ())
    original = headers.get("dlt.original.topic")
    if original is None:
        log.error("dlt_record_without_origin", offset=record.offset)
        return
    kept = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlt.")]
    kept.append(("replayed_from", f"{dlt_topic}@{record.partition}:{record.offset}".encode()))
    await (await producer.send(original.decode(), value=record.value, key=record.key, headers=kept))


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

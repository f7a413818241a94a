"""Dead letters never fail for their size (consumer.dead_letter and EventConsumer._dead_letter, no broker).

A record may arrive larger than our producer may send; its dead letter is cut to fit, says so, and says where the
original sits. A broker that refuses even that (a topic allowing less) gets it cut further. Any other failure to
send is the infrastructure's and is raised, so the batch waits as in an outage.
"""

import asyncio
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from sqlalchemy import MetaData

from throughline_events.codec import MalformedEvent
from throughline_messaging.consumer import SMALL_DEAD_LETTER_BYTES, EventConsumer, _record_size, dead_letter
from throughline_messaging.kafka import KafkaSettings
from throughline_messaging.tables import inbox_table
from throughline_messaging.uow import UnitOfWork
from throughline_platform.event_signing import EventVerifier, KeyRing

LIMIT = 1_048_576


def record(value: bytes | None, key: bytes | None = b"deal-1",
           headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic="crm.deal.events", partition=3, offset=42, timestamp=0, timestamp_type=0, key=key,
                          value=value, checksum=None, serialized_key_size=len(key or b""),
                          serialized_value_size=len(value or b""), headers=headers or [])


def letter_headers(letter: Any) -> dict[str, bytes]:
    return dict(letter.headers)


def test_a_record_that_fits_is_dead_lettered_as_it_came() -> None:
    original = record(b'{"event_type": "deal.won"}', headers=[("signature", b"sig"), ("dlt.reason", b"stale")])
    letter = dead_letter(original, MalformedEvent("bad"), "erp", "2026-12-07T10:00:00+00:00", LIMIT)
    assert (letter.topic, letter.key, letter.value, letter.truncated) == (
        "crm.deal.events.erp.dlt", b"deal-1", original.value, False)
    headers = letter_headers(letter)
    assert headers["signature"] == b"sig"  # kept, so that a replay verifies
    assert headers["dlt.reason"] == b"malformed"  # ours, not a stale one from an earlier parking
    assert (headers["dlt.original.topic"], headers["dlt.original.partition"], headers["dlt.original.offset"]) == (
        b"crm.deal.events", b"3", b"42")
    assert "dlt.truncated" not in headers


def test_a_record_over_the_limit_is_cut_to_fit_and_says_where_the_original_is() -> None:
    value = bytes(range(256)) * (6 * 1024)  # 1.5 MiB
    original = record(value, headers=[("signature", b"s" * 88), ("case", b"huge")])
    letter = dead_letter(original, MalformedEvent("too large"), "erp", "now", LIMIT)
    assert letter.truncated
    assert _record_size(letter.key, letter.value, letter.headers) <= LIMIT  # what the producer checks
    assert letter.value is not None and value.startswith(letter.value) and len(letter.value) > LIMIT - 4096
    headers = letter_headers(letter)
    assert headers["dlt.truncated"] == b"true"
    assert headers["dlt.original.value_bytes"] == str(len(value)).encode()
    assert headers["dlt.original.headers_dropped"] == b"0" and headers["case"] == b"huge"
    assert (headers["dlt.original.topic"], headers["dlt.original.offset"]) == (b"crm.deal.events", b"42")


def test_huge_keys_and_headers_are_cut_too() -> None:
    original = record(b"v" * 10, key=b"k" * 2_000_000, headers=[(f"h{n}", b"x" * 1000) for n in range(100)])
    letter = dead_letter(original, MalformedEvent("odd"), "erp", "now", SMALL_DEAD_LETTER_BYTES)
    assert _record_size(letter.key, letter.value, letter.headers) <= SMALL_DEAD_LETTER_BYTES
    headers = letter_headers(letter)
    assert letter.key == b"k" * 1024 and headers["dlt.original.key_bytes"] == b"2000000"
    assert headers["dlt.original.headers_dropped"] == b"100" and "h0" not in headers
    assert letter.value == b"v" * 10


class FakeProducer:
    """Records what is sent; the broker's answer to each send comes from `answers` (None: accepted)."""

    def __init__(self, answers: list[BaseException | None]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, bytes | None]] = []

    async def send(self, topic: str, *, value: bytes | None, key: bytes | None,
                   headers: list[tuple[str, bytes]]) -> "asyncio.Future[None]":
        self.sent.append((topic, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        answer = self.answers.pop(0) if self.answers else None
        if answer is None:
            future.set_result(None)
        else:
            future.set_exception(answer)
        return future


def consumer(producer: FakeProducer) -> EventConsumer:
    def no_database() -> UnitOfWork:
        raise AssertionError("dead-lettering needs no database")

    return EventConsumer(service="erp", group="erp", topics=["crm.deal.events"],
                         kafka=KafkaSettings("unused:9092", "test"), uow_factory=no_database,
                         inbox=inbox_table(MetaData()), handlers={}, producer=producer,
                         verifier=EventVerifier(KeyRing([])))


async def test_a_dead_letter_the_broker_refuses_as_too_large_is_cut_further_and_sent() -> None:
    producer = FakeProducer([MessageSizeTooLargeError("topic allows less"), None])
    parking = consumer(producer)
    await parking._dead_letter([(record(b"x" * 500_000), MalformedEvent("bad"))])
    [(_, first), (_, second)] = producer.sent
    assert first is not None and len(first) == 500_000
    assert second is not None and len(second) < SMALL_DEAD_LETTER_BYTES
    assert parking.stats.dead_lettered == 1


async def test_any_other_failure_to_dead_letter_is_an_outage_and_raised() -> None:
    parking = consumer(FakeProducer([KafkaConnectionError("broker away")]))
    with pytest.raises(KafkaConnectionError):
        await parking._dead_letter([(record(b"x"), MalformedEvent("bad"))])
    assert parking.stats.dead_lettered == 0  # the batch will be handled again, and this event parked then

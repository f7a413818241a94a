"""The gateway's live stream forwards only events whose signature holds (gateway.live, no broker)."""

import json
import uuid

import pytest
from aiokafka import ConsumerRecord

from gateway.live import LiveHub, Subscriber
from throughline_events import Envelope, encode
from throughline_platform.event_signing import EventSigner, EventVerifier, KeyRing, new_private_key_pem, public_key_pem

TOPIC = "crm.account.events"
CRM = EventSigner.from_pem("crm-live-test", "crm", new_private_key_pem())
VERIFIER = EventVerifier(KeyRing.from_json(json.dumps(
    {CRM.key_id: {"service": "crm", "public_key": public_key_pem(CRM.public_key)}})))


def company_created(producer: str = "crm") -> bytes:
    company_id = uuid.uuid4()
    return encode(Envelope(event_id=uuid.uuid4(), event_type="company.created", event_version=1,
                           occurred_at="2026-12-07T10:00:00Z", producer=producer, aggregate_type="company",
                           aggregate_id=company_id, data={"company_id": str(company_id), "name": "Acme"}))


def record(value: bytes, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic=TOPIC, partition=0, offset=7, timestamp=0, timestamp_type=0, key=b"k", value=value,
                          checksum=None, serialized_key_size=1, serialized_value_size=len(value), headers=headers)


def test_only_verified_events_reach_the_subscribers() -> None:
    hub = LiveHub("unused:9092", verifier=VERIFIER)
    hub.start = lambda: None  # type: ignore[method-assign]  # no consumer: records are handed in directly
    watcher = hub.subscribe(())
    genuine = company_created()
    forged = company_created()
    claims_erp = company_created(producer="erp")
    hub._forward(record(forged, []))  # unsigned
    hub._forward(record(forged, CRM.headers(TOPIC, b"k", genuine)))  # a genuine signature over other bytes
    hub._forward(record(claims_erp, CRM.headers(TOPIC, b"k", claims_erp)))  # signed by the CRM, "from the ERP"
    hub._forward(record(genuine, CRM.headers(TOPIC, b"k", genuine)))
    assert (hub.rejected, hub.delivered) == (3, 1)
    message = watcher.queue.get_nowait()
    assert message is not None and json.loads(message.split("data: ", 1)[1])["event_id"] == \
        json.loads(genuine)["event_id"]
    assert watcher.queue.empty()


def test_without_a_key_ring_the_hub_reads_nothing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EVENT_VERIFY_KEYS", "GATEWAY_EVENT_VERIFY_KEYS"):
        monkeypatch.delenv(name, raising=False)
    hub = LiveHub("unused:9092")
    assert hub.unavailable is not None and "EVENT_VERIFY_KEYS" in hub.unavailable
    hub.subscribe(())
    assert not hub.running  # never started a consumer whose events it could not trust


def test_the_books_events_reach_only_the_roles_that_read_the_books() -> None:
    """A subscriber whose role may not read the ledger (`hidden`, set from gateway.live.ledger) gets the other events
    and none of `ledger.*`; one who may gets them all."""
    hub = LiveHub("unused:9092", verifier=VERIFIER)
    hub.start = lambda: None  # type: ignore[method-assign]
    sales, finance = hub.subscribe((), hidden=("ledger.",)), hub.subscribe(())
    hub.publish("ledger.entry_posted", "e1", "{}")
    hub.publish("invoice.issued", "e2", "{}")

    def types(watcher: Subscriber) -> list[str]:
        got = []
        while not watcher.queue.empty():
            message = watcher.queue.get_nowait()
            assert message is not None
            got.append(message.split("\n")[1])
        return got

    assert types(sales) == ["event: invoice.issued"]
    assert types(finance) == ["event: ledger.entry_posted", "event: invoice.issued"]

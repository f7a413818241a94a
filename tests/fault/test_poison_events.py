"""Hostile events published raw to a topic the ERP consumes: each goes to the dead-letter topic with a
header saying why, and the consumer moves on to the next good event."""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

import throughline_events
from devstack.stack import Stack
from tests.kafka_support import publish_raw, read_topic, wait_until
from tests.support import Api
from throughline_events.codec import MAX_EVENT_BYTES

pytestmark = pytest.mark.fault

TOPIC = "crm.deal.events"
DLT = "crm.deal.events.erp.dlt"
GOLDEN = Path(throughline_events.__file__).parent / "golden" / "deal.won.v1.json"


def golden(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(GOLDEN.read_text())
    deal_id = str(uuid.uuid4())
    event.update(event_id=str(uuid.uuid4()), aggregate_id=deal_id, **changes)
    event["data"]["deal_id"] = deal_id
    return event


async def test_malformed_incomplete_unknown_version_and_oversized_events_are_dead_lettered_with_a_reason(
        stack: Stack, admin: Api) -> None:
    key = str(uuid.uuid4()).encode()  # one key: the same partition, so they queue up before the good event
    missing_envelope = golden()
    del missing_envelope["occurred_at"], missing_envelope["event_type"]
    missing_data = golden()
    del missing_data["data"]["amount"], missing_data["data"]["company"]
    wrong_types = golden()
    wrong_types["data"]["amount"] = {"value": 12000}
    oversized = golden()
    oversized["data"]["title"] = "x" * (MAX_EVENT_BYTES + 100)
    cases: dict[str, tuple[bytes, str, bytes]] = {  # name -> (value, expected dlt.reason, text in dlt.error)
        "not json": (b"{this is not json", "malformed", b""),
        "not utf-8": (b"\xff\xfe\x00\x01", "malformed", b""),
        "missing envelope fields": (json.dumps(missing_envelope).encode(), "malformed", b"occurred_at"),
        "missing data fields": (json.dumps(missing_data).encode(), "invalid_payload", b"amount"),
        "wrong field types": (json.dumps(wrong_types).encode(), "invalid_payload", b"amount"),
        "unknown version": (json.dumps(golden(event_version=7)).encode(), "unknown_event_version", b"v7"),
        "oversized": (json.dumps(oversized).encode(), "malformed", str(MAX_EVENT_BYTES).encode()),
    }
    assert len(cases["oversized"][0]) > MAX_EVENT_BYTES
    crm = stack.event_signer("crm")  # signed as the CRM's relay would: what is wrong with them is what they say
    for name, (value, _, _) in cases.items():
        await publish_raw(stack.bootstrap_servers, TOPIC, value, key, [("case", name.encode())], signer=crm)
    deal = admin.won_deal()  # a good event after the poison is still handled
    admin.project_of(deal["id"], timeout=30)

    async def parked() -> dict[str, dict[str, bytes]] | None:
        records = [r for r in await read_topic(stack.bootstrap_servers, DLT) if r.key == key]
        found = {dict(r.headers)["case"].decode(): dict(r.headers) for r in records}
        return found if len(found) == len(cases) else None

    dead = await wait_until(parked, 30, "every poison event in the dead-letter topic")
    for name, (_, reason, error_text) in cases.items():
        headers = dead[name]
        assert headers["dlt.reason"].decode() == reason, f"{name}: {headers['dlt.reason']!r}"
        assert error_text in headers["dlt.error"], f"{name}: {headers['dlt.error'][:300]!r}"
        assert headers["dlt.original.topic"] == TOPIC.encode()
        assert headers["dlt.consumer.group"] == b"erp"
        assert int(headers["dlt.original.offset"]) >= 0
    # Nothing of the poison reached the ERP's tables: no project for the aggregates they named.
    for name in ("missing data fields", "wrong field types", "unknown version"):
        aggregate = json.loads(cases[name][0])["data"]["deal_id"]
        assert admin.ok("GET", "/api/erp/projects", params={"deal_id": aggregate})["total"] == 0, name

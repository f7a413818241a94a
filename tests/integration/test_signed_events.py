"""Trust at the edge of the bus, on the real broker and services: only events signed by their producer's key reach
a handler; everything else is dead-lettered with its reason and changes nothing. Poison of any size never stops a
partition. A replayed genuine event still verifies.

Each forgery is what someone who can reach the broker could write: a hand-made `deal.won` for a new deal of an
invented company, 999,999.00, owner "attacker".
"""

import json
import re
import subprocess
import sys
import uuid
from typing import Any

import asyncpg
import httpx

from devstack.ports import free_port
from devstack.stack import Stack
from tests.kafka_support import publish_raw, read_topic, wait_until
from tests.support import Api
from throughline_events import Envelope, dead_letter_topic, encode
from throughline_platform.db import asyncpg_dsn
from throughline_platform.event_signing import EventSigner, new_private_key_pem

DEAL_TOPIC = "crm.deal.events"
DLT = dead_letter_topic(DEAL_TOPIC, "erp")
LIMIT = 1_048_576  # the services' producers' largest record (KafkaSettings.max_request_size)


def deal_won(*, producer: str = "crm", amount: str = "999999.00", owner: str = "attacker",
             title: str = "Nothing to see here") -> Envelope:
    deal_id, company_id = uuid.uuid4(), uuid.uuid4()
    return Envelope(
        event_id=uuid.uuid4(), event_type="deal.won", event_version=1, occurred_at="2026-12-07T10:00:00Z",
        producer=producer, aggregate_type="deal", aggregate_id=deal_id,
        data={"deal_id": str(deal_id), "title": title,
              "company": {"id": str(company_id), "name": f"Invented {company_id.hex[:8]} Ltd"},
              "contact": None, "amount": amount, "currency": "EUR", "owner_id": owner,
              "won_at": "2026-12-07T10:00:00Z"})


def dead_lettered_total(stack: Stack) -> dict[str, float]:
    """events_dead_lettered_total of the ERP worker, per reason."""
    text = httpx.get(f"http://127.0.0.1:{stack.ports.erp_worker}/metrics", timeout=5).text
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r'events_dead_lettered_total\{(.*)\} (\S+)', line)
        if match and 'service="erp"' in match.group(1):
            reason = re.search(r'reason="([^"]*)"', match.group(1))
            assert reason is not None
            totals[reason.group(1)] = float(match.group(2))
    return totals


async def erp_rows(stack: Stack, deal_ids: list[uuid.UUID], company_ids: list[uuid.UUID]) -> tuple[int, int]:
    """(projects, clients) in the ERP database for these deals and companies, read with SQL."""
    conn = await asyncpg.connect(asyncpg_dsn(stack.database_urls["erp"]))
    try:
        projects = await conn.fetchval("SELECT count(*) FROM projects WHERE deal_id = ANY($1::uuid[])", deal_ids)
        clients = await conn.fetchval("SELECT count(*) FROM clients WHERE crm_company_id = ANY($1::uuid[])",
                                      company_ids)
    finally:
        await conn.close()
    return int(projects), int(clients)


async def parked(stack: Stack, key: bytes, count: int) -> list[Any] | None:
    records = [r for r in await read_topic(stack.bootstrap_servers, DLT) if r.key == key]
    return records if len(records) >= count else None


async def test_forged_unsigned_and_altered_deals_are_dead_lettered_and_create_nothing(
        stack: Stack, admin: Api) -> None:
    key = str(uuid.uuid4()).encode()  # one key: one partition, the forgeries queue up before the genuine event
    crm, erp = stack.event_signer("crm"), stack.event_keys()["erp"]
    stranger = EventSigner.from_pem("crm-not-in-the-ring", "crm", new_private_key_pem())
    impostor = EventSigner.from_pem(crm.key_id, "crm", new_private_key_pem())  # the CRM's key id, another key
    erp_key_on_a_crm_topic = EventSigner.from_pem(erp.key_id, "crm", erp.private_pem)  # the ERP's real key

    forgeries: dict[str, tuple[Envelope, str]] = {}  # case -> (event, expected dlt.reason)
    for case, reason in (("unsigned", "unsigned"), ("key not in the ring", "unknown_key"),
                         ("the CRM's key id, another key", "bad_signature"),
                         ("the ERP's key on a CRM topic", "wrong_producer"),
                         ("altered after signing", "bad_signature"),
                         ("signed by the CRM, claims the ERP produced it", "wrong_producer")):
        forgeries[case] = (deal_won(producer="erp" if "claims" in case else "crm"), reason)
    before = dead_lettered_total(stack)

    for case, (event, _) in forgeries.items():
        value, headers = encode(event), [("case", case.encode()), ("event_type", b"deal.won")]
        signer = {"unsigned": None, "key not in the ring": stranger, "the CRM's key id, another key": impostor,
                  "the ERP's key on a CRM topic": erp_key_on_a_crm_topic}.get(case, crm)
        if signer is not None:
            headers += signer.headers(DEAL_TOPIC, key, value)
        if case == "altered after signing":
            value = value.replace(b"999999.00", b"999998.00")  # a genuine signature, another amount
        await publish_raw(stack.bootstrap_servers, DEAL_TOPIC, value, key, headers)
    genuine = deal_won(amount="1200.00", owner="owner-1", title="A genuine deal behind the forgeries")
    await publish_raw(stack.bootstrap_servers, DEAL_TOPIC, encode(genuine), key, signer=crm)

    admin.project_of(str(genuine.aggregate_id), timeout=30)  # the partition went on past every forgery
    records = await wait_until(lambda: parked(stack, key, len(forgeries)), 30, "every forgery dead-lettered")
    by_case = {dict(r.headers)["case"].decode(): dict(r.headers) for r in records}
    assert set(by_case) == set(forgeries)
    for case, (_, reason) in forgeries.items():
        letter = by_case[case]
        assert letter["dlt.reason"].decode() == reason, f"{case}: {letter['dlt.reason']!r} {letter['dlt.error']!r}"
        assert letter["dlt.original.topic"] == DEAL_TOPIC.encode() and letter["dlt.consumer.group"] == b"erp"
        assert letter["dlt.error"], case
    # Counted in the dead-letter metrics, by reason.
    after = dead_lettered_total(stack)
    for reason in {"unsigned", "unknown_key", "bad_signature", "wrong_producer"}:
        expected = sum(1 for _, r in forgeries.values() if r == reason)
        assert after.get(reason, 0) - before.get(reason, 0) >= expected, reason
    # Nothing of any forgery reached the ERP's tables: no project, no client.
    deal_ids = [event.aggregate_id for event, _ in forgeries.values()]
    company_ids = [uuid.UUID(event.data["company"]["id"]) for event, _ in forgeries.values()]
    assert await erp_rows(stack, deal_ids, company_ids) == (0, 0)
    assert await erp_rows(stack, [genuine.aggregate_id], [uuid.UUID(genuine.data["company"]["id"])]) == (1, 1)


async def test_an_event_over_the_size_limit_is_dead_lettered_cut_to_fit_and_the_partition_goes_on(
        stack: Stack, admin: Api) -> None:
    key = str(uuid.uuid4()).encode()
    crm = stack.event_signer("crm")
    huge = deal_won(title="x" * (LIMIT + 512 * 1024))  # 1.5 MiB: more than any of our producers may send
    value = encode(huge)
    assert len(value) > LIMIT
    await publish_raw(stack.bootstrap_servers, DEAL_TOPIC, value, key, [("case", b"huge")], signer=crm)
    behind = deal_won(amount="800.00", owner="owner-2", title="Behind the huge one")
    await publish_raw(stack.bootstrap_servers, DEAL_TOPIC, encode(behind), key, signer=crm)

    admin.project_of(str(behind.aggregate_id), timeout=30)  # same partition, after the huge record: handled
    [letter] = await wait_until(lambda: parked(stack, key, 1), 30, "the huge event dead-lettered")
    headers = dict(letter.headers)
    assert headers["dlt.reason"] == b"malformed"  # verified first (genuine), then too large to decode
    assert headers["dlt.truncated"] == b"true"
    assert int(headers["dlt.original.value_bytes"]) == len(value)
    assert len(letter.value) < LIMIT and value.startswith(letter.value) and len(letter.value) > LIMIT // 2
    assert headers["case"] == b"huge" and headers["dlt.original.headers_dropped"] == b"0"
    # Where the original sits, as the headers say: the whole record, still on its topic.
    originals = [r for r in await read_topic(stack.bootstrap_servers, DEAL_TOPIC)
                 if r.partition == int(headers["dlt.original.partition"])
                 and r.offset == int(headers["dlt.original.offset"])]
    assert [r.value for r in originals] == [value]
    body = httpx.get(f"http://127.0.0.1:{stack.ports.erp_worker}/health/ready", timeout=5).json()
    assert body["components"]["consumer"]["ok"] is True  # not waiting on an "outage"


async def test_a_replayed_genuine_event_still_verifies_and_is_handled(stack: Stack, admin: Api) -> None:
    # A genuine deal.won parked in the ERP's dead-letter topic, as the consumer parks one (say its handler kept
    # failing while a bug was there): its value, key and headers as they came, the CRM's signature among them.
    crm = stack.event_signer("crm")
    event = deal_won(amount="2500.00", owner="owner-3", title="Parked, then replayed")
    value, key = encode(event), str(event.aggregate_id).encode()
    headers = [("event_type", b"deal.won"), *crm.headers(DEAL_TOPIC, key, value),
               ("dlt.reason", b"handler_failed"), ("dlt.error", b"RuntimeError: a bug, since fixed"),
               ("dlt.original.topic", DEAL_TOPIC.encode()), ("dlt.original.partition", b"0"),
               ("dlt.original.offset", b"0"), ("dlt.consumer.group", b"erp")]
    await publish_raw(stack.bootstrap_servers, DLT, value, key, headers)

    result = subprocess.run([sys.executable, "-m", "erp", "replay-dlt", "--topic", DLT], env=stack.common_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    admin.project_of(str(event.aggregate_id), timeout=30)
    replayed = [r for r in await read_topic(stack.bootstrap_servers, DEAL_TOPIC) if r.key == key]
    assert len(replayed) == 1 and "replayed_from" in dict(replayed[0].headers)
    assert stack.event_verifier().verify(DEAL_TOPIC, key, replayed[0].value, replayed[0].headers).service == "crm"


def test_a_relay_without_its_signing_key_refuses_to_start(stack: Stack, tmp_path: Any) -> None:
    env = {name: value for name, value in stack.common_env().items() if "EVENT_SIGNING" not in name}
    result = subprocess.run([sys.executable, "-m", "crm", "serve", "--roles", "relay", "--port", str(free_port())],
                            env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert "crm cannot start" in result.stderr and "CRM_EVENT_SIGNING_KEY" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr  # a message for an operator, not a stack trace


def test_a_consumer_without_the_key_ring_refuses_to_start(stack: Stack, tmp_path: Any) -> None:
    env = {name: value for name, value in stack.common_env().items() if name != "EVENT_VERIFY_KEYS"}
    result = subprocess.run([sys.executable, "-m", "erp", "serve", "--roles", "consumer", "--port", str(free_port())],
                            env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert "erp cannot start" in result.stderr and "EVENT_VERIFY_KEYS" in result.stderr, result.stderr[-2000:]


def test_the_stack_gives_each_relay_its_own_key_and_every_process_only_the_ring(stack: Stack) -> None:
    ring = json.loads(stack.common_env()["EVENT_VERIFY_KEYS"])
    assert {entry["service"] for entry in ring.values()} == {"crm", "erp", "gateway"}
    for name, process in stack.processes.items():
        signing = {key for key in process.env if "EVENT_SIGNING_KEY" in key}
        if name == "crm-worker":
            assert signing == {"CRM_EVENT_SIGNING_KEY", "CRM_EVENT_SIGNING_KEY_ID"}
        elif name == "erp-worker":
            assert signing == {"ERP_EVENT_SIGNING_KEY", "ERP_EVENT_SIGNING_KEY_ID"}
        elif name == "gateway-worker":  # the gateway's relay: its users' events (issue 23)
            assert signing == {"GATEWAY_EVENT_SIGNING_KEY", "GATEWAY_EVENT_SIGNING_KEY_ID"}
        else:
            assert not signing, f"{name} holds a signing key it does not need"
        assert process.env["EVENT_VERIFY_KEYS"] == stack.common_env()["EVENT_VERIFY_KEYS"], name

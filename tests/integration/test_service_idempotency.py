"""`Idempotency-Key` honoured by the services themselves, called directly (not through the gateway): a repeat gets
the stored answer and changes nothing, another body with the same key is 422, a repeat while the first runs is 409,
the answer is stored in the change's own transaction, a reminder run (which commits before it answers) is replayed
too, and expired keys are purged."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from crm.db import idempotency as crm_idempotency
from devstack.stack import Stack
from tests.erp_costs.helpers import as_role
from throughline_messaging.idempotency import KEEP_FOR, LOCK_CLASS, lock_name, purge_expired


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def crm_rows(stack: Stack, query: str) -> list[list[str]]:
    assert stack.postgres is not None
    return [line.split("|") for line in stack.postgres.psql("crm", query).splitlines() if line.strip()]


def test_a_repeat_gets_the_stored_answer_and_changes_nothing(stack: Stack) -> None:
    sales = as_role(stack, "sales")  # straight at the CRM (tests.erp_costs.helpers.ServiceClient)
    headers, name = key(), f"Once {uuid.uuid4().hex[:8]}"
    first = sales.post("/api/crm/companies", json={"name": name}, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = sales.post("/api/crm/companies", json={"name": name}, headers=headers)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["content-type"] == first.headers["content-type"]
    assert sales.ok("GET", "/api/crm/companies", params={"q": name})["total"] == 1
    # The answer was committed with the company (one transaction): both are there.
    [[status, principal]] = crm_rows(stack, "SELECT status, principal FROM idempotency_keys "
                                            f"WHERE key = '{headers['Idempotency-Key']}'")
    assert (status, principal) == ("201", f"user:{sales.user_id}")

    reused = sales.post("/api/crm/companies", json={"name": name + " other"}, headers=headers)
    assert reused.status_code == 422 and reused.json()["type"].endswith("/idempotency-key-reused")
    other_caller = as_role(stack, "sales").post("/api/crm/companies", json={"name": name}, headers=headers)
    assert other_caller.status_code == 201 and "idempotent-replayed" not in other_caller.headers  # keys per caller
    bad = sales.post("/api/crm/companies", json={"name": name}, headers={"Idempotency-Key": "k" * 201})
    assert bad.status_code == 422 and bad.json()["type"].endswith("/idempotency-key-invalid")


def test_a_refusal_is_replayed_and_nothing_of_it_is_kept(stack: Stack) -> None:
    sales, headers = as_role(stack, "sales"), key()
    body = {"title": "No company", "company_id": str(uuid.uuid4()), "amount": "10.00", "currency": "EUR"}
    first = sales.post("/api/crm/deals", json=body, headers=headers)
    assert first.status_code == 422, first.text
    again = sales.post("/api/crm/deals", json=body, headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"], again.json()) == (422, "true", first.json())


def test_a_win_once_with_its_key_and_its_event_published_once(stack: Stack) -> None:
    """The win's one-statement path (no transaction of its own) inside an idempotent request: the deal, its events
    and the answer commit together; the repeat replays the win instead of a 409 'already won'."""
    sales, headers = as_role(stack, "sales"), key()
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Win {uuid.uuid4().hex[:8]}"})
    deal = sales.ok("POST", "/api/crm/deals", 201, json={
        "title": "Keyed win", "company_id": company["id"], "amount": "900.00", "currency": "EUR",
        "billing": {"type": "fixed", "installments": 1, "start_date": "2027-01-01"}})
    won = sales.post(f"/api/crm/deals/{deal['id']}/win", headers=headers)
    assert won.status_code == 200 and won.json()["status"] == "won", won.text
    again = sales.post(f"/api/crm/deals/{deal['id']}/win", headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert sales.post(f"/api/crm/deals/{deal['id']}/win").status_code == 409  # without the key: already won
    events = crm_rows(stack, f"SELECT event_type FROM outbox WHERE message_key = '{deal['id']}' "
                             "AND event_type = 'deal.won'")
    assert events == [["deal.won"]]


async def test_a_repeat_while_the_first_still_runs_is_409(stack: Stack) -> None:
    sales, headers = as_role(stack, "sales"), key()
    assert stack.postgres is not None
    # Hold the key's lock as a first request still running would.
    connection = await asyncpg.connect(stack.postgres.url("crm", driver="postgresql"))
    try:
        name = lock_name(f"user:{sales.user_id}", headers["Idempotency-Key"])
        await connection.execute("SELECT pg_advisory_lock($1, hashtext($2))", LOCK_CLASS, name)
        busy = await asyncio.to_thread(sales.post, "/api/crm/companies", json={"name": "Busy"}, headers=headers)
        assert busy.status_code == 409 and busy.json()["type"].endswith("/idempotency-in-flight"), busy.text
        await connection.execute("SELECT pg_advisory_unlock($1, hashtext($2))", LOCK_CLASS, name)
    finally:
        await connection.close()
    done = sales.post("/api/crm/companies", json={"name": "Busy"}, headers=headers)
    assert done.status_code == 201  # the 409 was not stored: the retry runs


async def test_concurrent_repeats_change_once(stack: Stack) -> None:
    sales, headers = as_role(stack, "sales"), key()
    name = f"Race {uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.ports.crm}", timeout=30,
                                 headers={**sales.client.headers, **headers}) as client:
        answers = await asyncio.gather(*(client.post("/api/crm/companies", json={"name": name}) for _ in range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # replays carry the first answer
    assert sales.ok("GET", "/api/crm/companies", params={"q": name})["total"] == 1


def test_a_reminder_run_that_commits_before_it_answers_is_replayed(stack: Stack) -> None:
    finance, headers = as_role(stack, "finance"), key()  # straight at the ERP
    # Past days: a run dated in the future is refused (issue 22), and these must be accepted whenever CI runs.
    yesterday, day_before = date.today() - timedelta(days=1), date.today() - timedelta(days=2)
    body = {"as_of": yesterday.isoformat(), "client_id": str(uuid.uuid4())}
    first = finance.post("/api/erp/reminder-runs", json=body, headers=headers)
    assert first.status_code == 200, first.text
    again = finance.post("/api/erp/reminder-runs", json=body, headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"], again.json()) == (200, "true", first.json())
    other = finance.post("/api/erp/reminder-runs", json={**body, "as_of": day_before.isoformat()}, headers=headers)
    assert other.status_code == 422


async def test_expired_keys_do_not_count_and_are_purged(stack: Stack) -> None:
    sales, headers = as_role(stack, "sales"), key()
    old = (datetime.now(UTC) - KEEP_FOR - timedelta(minutes=1)).isoformat()
    assert stack.postgres is not None
    stack.postgres.psql("crm", "INSERT INTO idempotency_keys (principal, key, request_hash, status, created_at) "
                               f"VALUES ('user:{sales.user_id}', '{headers['Idempotency-Key']}', 'stale', 201, "
                               f"'{old}')")
    fresh = sales.post("/api/crm/companies", json={"name": f"After expiry {uuid.uuid4().hex[:6]}"}, headers=headers)
    assert fresh.status_code == 201 and "idempotent-replayed" not in fresh.headers  # not a 422 for the old hash
    stale = f"stale-{uuid.uuid4()}"
    stack.postgres.psql("crm", "INSERT INTO idempotency_keys (principal, key, request_hash, status, created_at) "
                               f"VALUES ('user:x', '{stale}', 'h', 200, '{old}')")
    engine = create_async_engine(stack.postgres.url("crm"))
    try:
        runtime: Any = SimpleNamespace(session_factory=async_sessionmaker(engine))
        assert await purge_expired(runtime, crm_idempotency) >= 1
    finally:
        await engine.dispose()
    assert crm_rows(stack, f"SELECT count(*) FROM idempotency_keys WHERE key = '{stale}'") == [["0"]]
    assert crm_rows(stack, "SELECT count(*) FROM idempotency_keys "
                           f"WHERE key = '{headers['Idempotency-Key']}'") == [["1"]]  # the fresh answer stays

"""The gateway's users become the ERP's people (issue 23): each change to a user is written to the gateway's outbox in
the user's own transaction, published by the gateway's relay on `gateway.user.events`, and applied by the ERP exactly
once; a deactivated user's person takes no more time."""

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

import gateway
from devstack.stack import Stack
from gateway.db import User, outbox
from gateway.users import service as users
from gateway.users.schemas import UserIn
from tests.erp_billing.helpers import as_role, fixed, project_for, today
from tests.kafka_support import publish_raw, read_topic
from tests.support import Api, wait_for
from throughline_events import decode, parse_payload
from throughline_events.gateway import UserCreatedV1
from throughline_platform.db import new_session_factory
from throughline_platform.migrations import upgrade

USER_TOPIC = "gateway.user.events"


def erp_consumer_stats(stack: Stack) -> dict[str, int]:
    body = httpx.get(f"http://127.0.0.1:{stack.ports.erp_worker}/health/ready", timeout=5).json()
    consumer: dict[str, int] = body["components"]["consumer"]
    return consumer


def person(api: Api, person_id: str) -> dict[str, Any] | None:
    response = api.get(f"/api/erp/people/{person_id}")
    return response.json() if response.status_code == 200 else None


def gateway_sql(stack: Stack, query: str) -> list[str]:
    assert stack.postgres is not None
    return [line for line in stack.postgres.psql("gateway", query).splitlines() if line.strip()]


def erp_sql(stack: Stack, query: str) -> list[str]:
    assert stack.postgres is not None
    return [line for line in stack.postgres.psql("erp", query).splitlines() if line.strip()]


def test_the_first_admin_is_a_person(stack: Stack, admin: Api) -> None:
    me = admin.ok("GET", "/api/auth/me")
    found = wait_for(lambda: person(admin, str(me["id"])), 20, "the admin's person")
    assert (found["email"], found["role"], found["active"]) == ("admin@example.com", "admin", True)


async def test_a_user_becomes_a_person_once_follows_changes_and_deactivation(stack: Stack, admin: Api) -> None:
    email = f"mira-{uuid.uuid4().hex[:8]}@example.com"
    user = admin.ok("POST", "/api/auth/users", 201, json={"email": email, "full_name": "Mira Kovac", "role": "member",
                                                           "password": "a long enough passphrase"})
    created = wait_for(lambda: person(admin, user["id"]), 20, "the new user's person")
    assert (created["name"], created["email"], created["role"], created["active"]) == (
        "Mira Kovac", email, "member", True)

    # Delivered again (twice), the same user.created changes nothing: one inbox row, one person.
    records = [r for r in await read_topic(stack.bootstrap_servers, USER_TOPIC) if r.key == user["id"].encode()]
    assert [dict(r.headers)["event_type"] for r in records] == [b"user.created"]
    event_id = dict(records[0].headers)["event_id"].decode()
    before = erp_consumer_stats(stack)["duplicates"]
    for _ in range(2):
        await publish_raw(stack.bootstrap_servers, USER_TOPIC, records[0].value, records[0].key,
                          list(records[0].headers))
    wait_for(lambda: erp_consumer_stats(stack)["duplicates"] >= before + 2, 20, "the duplicates to be skipped")
    assert erp_sql(stack, f"SELECT count(*) FROM inbox WHERE event_id = '{event_id}'") == ["1"]
    assert erp_sql(stack, f"SELECT count(*) FROM people WHERE id = '{user['id']}'") == ["1"]

    # The ERP's own fields survive the gateway's changes; the gateway's follow them.
    with as_role(stack, "finance") as finance:
        finance.ok("PATCH", f"/api/erp/people/{user['id']}", json={"department": "Design"})
    admin.ok("PATCH", f"/api/auth/users/{user['id']}", json={"full_name": "Mira Lind", "role": "project_manager"})
    renamed = wait_for(lambda: p if (p := person(admin, user["id"])) and p["name"] == "Mira Lind" else None, 20,
                       "the new name")
    assert (renamed["role"], renamed["department"], renamed["active"]) == ("project_manager", "Design", True)

    admin.ok("PATCH", f"/api/auth/users/{user['id']}", json={"active": False})
    wait_for(lambda: p if (p := person(admin, user["id"])) and not p["active"] else None, 20, "the deactivation")
    assert gateway_sql(stack, f"SELECT event_type FROM outbox WHERE message_key = '{user['id']}' ORDER BY id") == [
        "user.created", "user.updated", "user.updated", "user.deactivated"]

    # A deactivated person takes no more time, from anyone.
    project = project_for(admin, fixed(1, today()), amount="1000.00")
    with as_role(stack, "project_manager") as pm:
        refused = pm.post("/api/erp/time-entries", json={"project_id": project["id"], "person_id": user["id"],
                                                         "work_date": date.today().isoformat(), "hours": "2"})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/inactive-person"), refused.text
    assert erp_sql(stack, f"SELECT count(*) FROM time_entries WHERE person_id = '{user['id']}'") == ["0"]


class CommitFailed(Exception):
    pass


async def test_the_users_event_is_written_in_the_users_transaction(stack: Stack) -> None:
    """The outbox row is part of the transaction that creates the user: staged with it, gone with its rollback."""
    engine = create_async_engine(stack.database_urls["gateway"])
    email = f"rolled-back-{uuid.uuid4().hex[:8]}@example.com"
    try:
        async with new_session_factory(engine)() as session:

            async def fail_instead_of_committing() -> None:
                await session.flush()
                raise CommitFailed

            session.commit = fail_instead_of_committing  # type: ignore[method-assign]
            with pytest.raises(CommitFailed):
                await users.create_user(session, UserIn(email=email, full_name="Never Was", role="member"))
            # Inside the transaction: the user and its event, together.
            user_id = (await session.execute(select(User.id).where(User.email == email))).scalar_one()
            staged = (await session.execute(select(outbox.c.event_type).where(
                outbox.c.message_key == str(user_id)))).scalars().all()
            assert staged == ["user.created"]
            await session.rollback()
    finally:
        await engine.dispose()
    # Rolled back: neither the user nor its event.
    assert gateway_sql(stack, f"SELECT count(*) FROM users WHERE email = '{email}'") == ["0"]
    assert gateway_sql(stack, f"SELECT count(*) FROM outbox WHERE message_key = '{user_id}'") == ["0"]


def test_the_migration_announces_the_users_that_exist_before_it(stack: Stack) -> None:
    """Upgrading a gateway database that has users (0005 -> 0006) stages one user.created per user, so an existing
    installation gets its people; the events are the contract's (they parse as user.created v1)."""
    assert stack.postgres is not None
    database = f"gateway_upgrade_{uuid.uuid4().hex[:8]}"
    stack.postgres.create_databases([database])
    url = stack.postgres.url(database)
    migrations = Path(gateway.__file__).parent / "migrations"
    upgrade(migrations, url, "0005")
    ids = [str(uuid.uuid4()) for _ in range(2)]
    for n, user_id in enumerate(ids):
        stack.postgres.psql(database, f"""INSERT INTO users (id, email, password_hash, full_name, role)
                                          VALUES ('{user_id}', 'old-{n}@example.com', 'x', 'Old {n}', 'sales')""")
    upgrade(migrations, url)
    rows = [line.split("|") for line in stack.postgres.psql(
        database, "SELECT message_key, topic, convert_from(value, 'UTF8') FROM outbox ORDER BY id").splitlines()]
    assert sorted(key for key, _, _ in rows) == sorted(ids)
    for key, topic, value in rows:
        envelope = decode(value.encode())
        payload = parse_payload(envelope)
        assert isinstance(payload, UserCreatedV1) and str(payload.user_id) == key and topic == USER_TOPIC
        assert (envelope.producer, payload.role, payload.active) == ("gateway", "sales", True)
    # And the member role is one a user may now have.
    stack.postgres.psql(database, f"UPDATE users SET role = 'member' WHERE id = '{ids[0]}'")

"""The gateway's users become the ERP's people (issue 23): each change to a user is written to the gateway's outbox in
the user's own transaction, published by the gateway's relay on `gateway.user.events`, and applied by the ERP exactly
once; a deactivated user's person takes no more time."""

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.stack import Stack
from gateway.db import User, outbox
from gateway.users import service as users
from gateway.users.schemas import UserIn
from tests.erp_billing.helpers import as_role, fixed, project_for, today
from tests.kafka_support import publish_raw, read_topic
from tests.support import Api, wait_for
from throughline_platform.db import new_session_factory

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

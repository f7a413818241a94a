"""User management by admins at /api/auth/users."""

import asyncio
import uuid
from typing import Any

import httpx
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.stack import Stack
from tests.gateway.helpers import assert_problem, client, gateway_url, login, token_for
from tests.support import Api


def _new_user(admin: Api, role: str = "sales", password: str = "correct-horse-1") -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:10]}@Example.com"
    user = admin.ok("POST", "/api/auth/users", 201,
                    json={"email": email, "password": password, "full_name": "Ada Lovelace", "role": role})
    return {**user, "password": password}


def test_admin_creates_a_user_who_can_log_in_with_that_role(admin: Api, stack: Stack) -> None:
    user = _new_user(admin, role="finance")
    assert user["role"] == "finance" and user["active"] is True and user["full_name"] == "Ada Lovelace"
    assert "password" not in admin.ok("GET", f"/api/auth/users/{user['id']}")
    response = login(gateway_url(stack), user["email"].lower(), user["password"])  # emails match case-blind
    assert response.status_code == 200, response.text
    with client(gateway_url(stack), token=response.json()["access_token"]) as c:
        assert c.get("/api/auth/me").json()["role"] == "finance"
    assert_problem(admin.post("/api/auth/users", json={"email": user["email"].upper(), "password": "another-pass",
                                                         "role": "viewer"}), 409, "email-taken")


def test_user_input_is_validated(admin: Api) -> None:
    good = {"email": f"v-{uuid.uuid4().hex[:8]}@example.com", "password": "long-enough", "role": "viewer"}
    for bad in ({**good, "role": "superuser"}, {**good, "password": "short"}, {**good, "email": "not-an-email"},
                {**good, "unknown": 1}, {"email": good["email"]}):
        assert_problem(admin.post("/api/auth/users", json=bad), 422, "validation-error")
    assert_problem(admin.client.patch(f"/api/auth/users/{uuid.uuid4()}", json={"role": "viewer"}), 404)
    assert_problem(admin.get("/api/auth/users/not-a-uuid"), 422)
    assert_problem(admin.get("/api/auth/users", params={"limit": 0}), 422)


def test_list_filters_and_paginates(admin: Api) -> None:
    user = _new_user(admin, role="project_manager")
    page = admin.ok("GET", "/api/auth/users", params={"q": user["email"][:15].lower(), "role": "project_manager"})
    assert [u["id"] for u in page["items"]] == [user["id"]] and page["total"] == 1
    first = admin.ok("GET", "/api/auth/users", params={"limit": 1, "offset": 0})
    assert first["limit"] == 1 and len(first["items"]) == 1 and first["total"] >= 2
    assert admin.ok("GET", "/api/auth/users", params={"active": "false", "q": user["email"]})["total"] == 0


def test_role_change_deactivation_and_password_reset(admin: Api, stack: Stack) -> None:
    base = gateway_url(stack)
    user = _new_user(admin, role="sales")
    tokens = login(base, user["email"], user["password"]).json()
    changed = admin.ok("PATCH", f"/api/auth/users/{user['id']}", json={"role": "viewer", "full_name": "Ada L."})
    assert changed["role"] == "viewer" and changed["full_name"] == "Ada L."
    assert login(base, user["email"], user["password"]).json()["access_token"]

    reset = admin.post(f"/api/auth/users/{user['id']}/password", json={"password": "new-password-2"})
    assert reset.status_code == 204, reset.text
    assert_problem(login(base, user["email"], user["password"]), 401)
    assert login(base, user["email"], "new-password-2").status_code == 200
    # A reset ends the sessions: refresh tokens issued before it are revoked.
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": tokens["refresh_token"]}), 401)
    assert_problem(admin.post(f"/api/auth/users/{user['id']}/password", json={"password": "short"}), 422)

    fresh = login(base, user["email"], "new-password-2").json()
    disabled = admin.ok("PATCH", f"/api/auth/users/{user['id']}", json={"active": False})
    assert disabled["active"] is False
    assert_problem(login(base, user["email"], "new-password-2"), 401, "invalid-credentials")
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": fresh["refresh_token"]}), 401)


def test_an_admin_cannot_demote_or_disable_themselves(admin: Api) -> None:
    me = admin.ok("GET", "/api/auth/me")
    assert_problem(admin.client.patch(f"/api/auth/users/{me['id']}", json={"role": "viewer"}), 409)
    assert_problem(admin.client.patch(f"/api/auth/users/{me['id']}", json={"active": False}), 409)
    assert admin.ok("GET", "/api/auth/me")["role"] == "admin"


def test_only_admins_manage_users(stack: Stack) -> None:
    for role in ("sales", "finance", "project_manager", "member", "viewer"):
        with client(gateway_url(stack), token=token_for(stack, role)) as c:
            assert_problem(c.get("/api/auth/users"), 403, "forbidden")
            assert_problem(c.post("/api/auth/users", json={"email": "x@example.com", "password": "long-enough",
                                                             "role": "admin"}), 403)
            assert_problem(c.post(f"/api/auth/users/{uuid.uuid4()}/password", json={"password": "long-enough"}),
                           403)


async def test_a_hash_with_older_argon2_parameters_is_replaced_at_login(admin: Api, stack: Stack) -> None:
    """Passwords hashed under argon2-cffi's default parameters (before issue 7) still log in, and come out of that
    login hashed with today's (OWASP's 19 MiB, 2 passes, 1 lane)."""
    user = _new_user(admin, role="viewer")
    engine = create_async_engine(stack.database_urls["gateway"])
    try:
        async with engine.begin() as conn:
            stored = (await conn.execute(text("SELECT password_hash FROM users WHERE id = :id"),
                                         {"id": user["id"]})).scalar_one()
            assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
            await conn.execute(text("UPDATE users SET password_hash = :h WHERE id = :id"),
                               {"h": PasswordHasher().hash(user["password"]), "id": user["id"]})
        response = await asyncio.to_thread(login, gateway_url(stack), user["email"], user["password"])
        assert response.status_code == 200, response.text
        async with engine.connect() as conn:
            rehashed = (await conn.execute(text("SELECT password_hash FROM users WHERE id = :id"),
                                           {"id": user["id"]})).scalar_one()
        assert rehashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert (await asyncio.to_thread(login, gateway_url(stack), user["email"], user["password"])).status_code == 200
    finally:
        await engine.dispose()

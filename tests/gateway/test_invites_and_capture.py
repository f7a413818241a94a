"""Inviting users with one-time set-password links, the directory every role may read, and the public lead capture
through the gateway (form posts without a token, the CRM's CORS, a rate limit per address)."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from devstack.stack import Stack
from gateway.app import CorsExceptLeadCapture
from tests.gateway.helpers import assert_problem, client, gateway_url, issuer, login, token_for
from tests.support import Api


def _invite(admin: Api, role: str = "sales") -> dict[str, Any]:
    email = f"invited-{uuid.uuid4().hex[:10]}@example.com"
    user: dict[str, Any] = admin.ok("POST", "/api/auth/users", 201, json={"email": email, "full_name": "Ida Invited",
                                                                           "role": role})
    return user


def _set_password(stack: Stack, token: str, password: str) -> httpx.Response:
    return httpx.post(f"{gateway_url(stack)}/api/auth/set-password", json={"token": token, "password": password},
                      timeout=15)


def test_an_invited_user_sets_a_password_once_through_the_link(admin: Api, stack: Stack) -> None:
    user = _invite(admin)
    link = admin.ok("POST", f"/api/auth/users/{user['id']}/password-link")
    assert link["path"] == f"/#/set-password?token={link['token']}" and link["expires_at"]
    # The link is no access token, for the gateway or a service.
    with client(gateway_url(stack), token=link["token"]) as holder:
        assert holder.get("/api/auth/me").status_code == 401
        assert holder.get("/api/crm/companies").status_code == 401
    assert_problem(_set_password(stack, link["token"], "password1"), 422, "weak-password")  # the policy applies
    done = _set_password(stack, link["token"], "a long invited passphrase")
    assert done.status_code == 200 and done.json() == {"email": user["email"]}
    assert login(gateway_url(stack), user["email"], "a long invited passphrase").status_code == 200
    # Once: the new password voids the link (and every other link made before it).
    assert_problem(_set_password(stack, link["token"], "another long passphrase"), 403, "link-used")
    assert login(gateway_url(stack), user["email"], "a long invited passphrase").status_code == 200


def test_links_that_are_forged_expired_or_for_others_open_nothing(admin: Api, stack: Stack) -> None:
    user = _invite(admin)
    link = admin.ok("POST", f"/api/auth/users/{user['id']}/password-link")
    head, _, signature = link["token"].rpartition(".")
    forged = f"{head}.{signature[::-1]}"
    assert_problem(_set_password(stack, forged, "a long forged passphrase"), 403, "link-invalid")
    expired = issuer(stack).set_password_token(user_id=user["id"], fingerprint="x" * 32, ttl=timedelta(seconds=-5))
    assert_problem(_set_password(stack, expired, "a long expired passphrase"), 410, "link-expired")
    access = token_for(stack, "admin", user["id"])  # an access token is no link
    assert_problem(_set_password(stack, access, "a long wrong passphrase"), 403, "link-invalid")
    # A deactivated account's link is dead; only admins make links.
    admin.ok("PATCH", f"/api/auth/users/{user['id']}", json={"active": False})
    assert_problem(_set_password(stack, link["token"], "a long late passphrase"), 403, "link-invalid")
    assert_problem(admin.post(f"/api/auth/users/{user['id']}/password-link"), 409, "user-inactive")
    with client(gateway_url(stack), token=token_for(stack, "sales")) as sales:
        assert_problem(sales.post(f"/api/auth/users/{user['id']}/password-link"), 403)


def test_a_reset_link_ends_the_old_sessions_when_used(admin: Api, stack: Stack) -> None:
    email = f"forgetful-{uuid.uuid4().hex[:8]}@example.com"
    user = admin.ok("POST", "/api/auth/users", 201, json={"email": email, "password": "old long passphrase",
                                                          "role": "viewer"})
    session = login(gateway_url(stack), email, "old long passphrase").json()
    link = admin.ok("POST", f"/api/auth/users/{user['id']}/password-link")
    # Until the link is used, nothing changes.
    assert login(gateway_url(stack), email, "old long passphrase").status_code == 200
    assert _set_password(stack, link["token"], "new long passphrase").status_code == 200
    with client(gateway_url(stack), token=session["access_token"]) as old:
        assert_problem(old.get("/api/auth/me"), 401, "token-revoked")
    assert login(gateway_url(stack), email, "old long passphrase").status_code == 401


def test_every_role_reads_the_directory_of_active_users(admin: Api, stack: Stack) -> None:
    active, gone = _invite(admin, "finance"), _invite(admin, "viewer")
    admin.ok("PATCH", f"/api/auth/users/{gone['id']}", json={"active": False})
    for role in ("sales", "finance", "project_manager", "viewer"):
        with client(gateway_url(stack), token=token_for(stack, role)) as caller:
            people = caller.get("/api/auth/directory").json()
        ids = {p["id"] for p in people}
        assert active["id"] in ids and gone["id"] not in ids, role
        assert set(people[0]) == {"id", "email", "full_name", "role"}
    with client(gateway_url(stack)) as anonymous:
        assert anonymous.get("/api/auth/directory").status_code == 401


def test_website_forms_post_through_the_gateway_without_a_token(admin: Api, stack: Stack) -> None:
    origin = f"https://site-{uuid.uuid4().hex[:6]}.test"
    key = admin.ok("POST", "/api/crm/capture-keys", 201, json={"name": "Gateway form", "allowed_origins": [origin]})
    email = f"form-{uuid.uuid4().hex[:8]}@example.com"
    form = {"capture_key": key["key"], "first_name": "Frieda", "email": email, "company_name": "Form Co",
            "submission_id": uuid.uuid4().hex}
    address = f"198.19.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    with client(gateway_url(stack)) as browser:
        preflight = browser.options("/api/crm/lead-capture", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST", "X-Forwarded-For": address})
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == origin
        headers = {"Origin": origin, "X-Forwarded-For": address}
        posted = browser.post("/api/crm/lead-capture", data=form, headers=headers)
        assert posted.status_code == 200 and "Thank you" in posted.text
        again = browser.post("/api/crm/lead-capture", data=form, headers=headers)
        assert again.status_code == 200
        assert_problem(browser.post("/api/crm/lead-capture", json={"email": email},
                                    headers={"Authorization": "Bearer not-a-token"}), 401)  # a bad token is refused
    assert admin.ok("GET", "/api/crm/leads", params={"q": email})["total"] == 1


def test_anonymous_capture_is_rate_limited_per_address(stack: Stack) -> None:
    address = f"198.19.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    statuses = []
    with client(gateway_url(stack)) as browser:
        for _ in range(31):
            statuses.append(browser.post("/api/crm/lead-capture", data={"capture_key": "tlc_unknown"},
                                         headers={"X-Forwarded-For": address}).status_code)
        other = browser.post("/api/crm/lead-capture", data={"capture_key": "tlc_unknown"},
                             headers={"X-Forwarded-For": f"198.20.{uuid.uuid4().int % 250}.7"})
    assert statuses[:30] == [401] * 30 and statuses[30] == 429  # the CRM refused the key; then the gateway stops them
    assert other.status_code == 401  # another address has its own budget


async def test_the_gateway_s_cors_leaves_the_lead_capture_to_the_crm() -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("reached the proxy", headers={"x-reached": "proxy"})(scope, receive, send)

    app = CorsExceptLeadCapture(inner, allow_origins=["https://app.example.test"], allow_methods=["POST"])
    preflight = {"Origin": "https://shop.example.test", "Access-Control-Request-Method": "POST"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        capture = await http.options("/api/crm/lead-capture", headers=preflight)
        other = await http.options("/api/crm/companies", headers=preflight)
    assert capture.status_code == 200 and capture.headers["x-reached"] == "proxy"
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers  # not the app's origin

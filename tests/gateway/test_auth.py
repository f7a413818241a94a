"""Login, refresh (rotated, revocable), logout, expiry, wrong password, tampered and expired tokens."""

from datetime import timedelta

import httpx
import jwt

from devstack.stack import Stack
from tests.gateway.helpers import assert_problem, client, gateway_url, login, token_for
from tests.support import Api

ADMIN = ("admin@example.com", "admin-test-password")


def test_login_returns_signed_access_and_refresh_tokens(stack: Stack) -> None:
    response = login(gateway_url(stack), *ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    _, public = stack.keys()
    claims = jwt.decode(body["access_token"], public, algorithms=["EdDSA"], audience="throughline-api")
    assert claims["role"] == "admin" and claims["typ"] == "access" and claims["kind"] == "user"
    refresh = jwt.decode(body["refresh_token"], public, algorithms=["EdDSA"], audience="throughline-api")
    assert refresh["typ"] == "refresh" and refresh["sub"] == claims["sub"]
    with client(gateway_url(stack), token=body["access_token"]) as c:
        me = c.get("/api/auth/me").json()
    actions = me.pop("actions")
    assert me == {"id": claims["sub"], "email": "admin@example.com", "role": "admin", "kind": "user",
                  "actions_incomplete": [], "password_change_required": False,  # the test admin's password is good
                  "full_name": "Administrator"}  # the name the first admin is created with
    assert {"gateway.users", "crm.deals.write", "erp.invoices.write"} <= set(actions)  # admin may do everything


def test_me_lists_what_the_role_may_do_as_the_services_enforce_it(stack: Stack) -> None:
    """The web app shows buttons from this list: it must be what the services' own tables say, service by service,
    and hold nothing the role is refused."""
    base = gateway_url(stack)
    with client(base, token=token_for(stack, "sales")) as c:
        me = c.get("/api/auth/me").json()
        tables = c.get("/api/auth/policy").json()
        crm_table = c.get("/api/crm/policy").json()["actions"]
        refused = c.post("/api/erp/billing-runs", json={"as_of": "2026-12-01"})
    assert me["role"] == "sales" and me["actions_incomplete"] == [] and tables["unavailable"] == []
    assert tables["services"]["crm"] == crm_table
    expected = sorted(action for table in tables["services"].values() for action, roles in table.items()
                      if "sales" in roles)
    assert me["actions"] == expected
    assert "crm.deals.write" in me["actions"] and "erp.expenses.create" in me["actions"]
    assert "erp.billing_runs.write" not in me["actions"] and "gateway.users" not in me["actions"]
    assert refused.status_code == 403  # what the list leaves out, the service refuses


def test_wrong_password_and_unknown_user_are_401(stack: Stack) -> None:
    wrong = login(gateway_url(stack), "admin@example.com", "not-the-password")
    assert_problem(wrong, 401, "invalid-credentials")
    assert wrong.headers["www-authenticate"] == "Bearer"
    unknown = login(gateway_url(stack), "nobody@example.com", "whatever-password")
    assert_problem(unknown, 401, "invalid-credentials")
    assert unknown.json()["detail"] == wrong.json()["detail"]  # no user enumeration


def test_missing_expired_and_tampered_tokens_are_401_at_gateway_and_proxy(stack: Stack) -> None:
    expired = token_for(stack, "admin", ttl=timedelta(seconds=-30))
    good = token_for(stack, "admin")
    header, payload, signature = good.split(".")
    tampered_signature = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    forged_payload = jwt.encode({"sub": "x", "role": "admin"}, "a-forgers-shared-secret-32-bytes", algorithm="HS256")
    for path in ("/api/auth/me", "/api/crm/companies", "/api/erp/projects"):
        with client(gateway_url(stack)) as anonymous:
            assert_problem(anonymous.get(path), 401)
        with client(gateway_url(stack), token=expired) as c:
            assert_problem(c.get(path), 401, "token-expired")
        with client(gateway_url(stack), token=tampered_signature) as c:
            assert_problem(c.get(path), 401, "token-invalid")
        with client(gateway_url(stack), token=forged_payload) as c:
            assert_problem(c.get(path), 401, "token-invalid")


def test_services_verify_tokens_themselves(stack: Stack) -> None:
    """Behind the gateway, a bare request or an expired token gets 401 from the service too."""
    expired = token_for(stack, "admin", ttl=timedelta(seconds=-30))
    for port, path in ((stack.ports.crm, "/api/crm/companies"), (stack.ports.erp, "/api/erp/projects")):
        assert httpx.get(f"http://127.0.0.1:{port}{path}").status_code == 401
        response = httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {expired}"})
        assert response.status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_login(stack: Stack) -> None:
    base = gateway_url(stack)
    first = login(base, *ADMIN).json()
    second = httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    with client(base, token=rotated["access_token"]) as c:
        assert c.get("/api/auth/me").json()["role"] == "admin"
    # The old one is spent: using it again is taken as theft and ends the whole login (the successor too).
    reused = httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": first["refresh_token"]})
    assert_problem(reused, 401, "token-reused")
    successor = httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": rotated["refresh_token"]})
    assert_problem(successor, 401, "token-revoked")


def test_logout_revokes_the_refresh_token_but_not_other_logins(stack: Stack) -> None:
    base = gateway_url(stack)
    session_a = login(base, *ADMIN).json()
    session_b = login(base, *ADMIN).json()
    out = httpx.post(f"{base}/api/auth/logout", data={"refresh_token": session_a["refresh_token"]})
    assert out.status_code == 204
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": session_a["refresh_token"]}), 401,
                   "token-revoked")
    assert httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": session_b["refresh_token"]}).status_code == 200


def test_access_tokens_do_not_refresh_and_refresh_tokens_do_not_open_the_api(stack: Stack) -> None:
    base = gateway_url(stack)
    tokens = login(base, *ADMIN).json()
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": tokens["access_token"]}), 401)
    with client(base, token=tokens["refresh_token"]) as c:
        assert_problem(c.get("/api/auth/me"), 401, "token-invalid")
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={"refresh_token": "garbage"}), 401, "token-invalid")
    assert_problem(httpx.post(f"{base}/api/auth/refresh", data={}), 422)


def test_admin_fixture_still_works(admin: Api) -> None:
    assert admin.ok("GET", "/api/auth/me")["role"] == "admin"

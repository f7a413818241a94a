"""API keys for machine clients: created by admins, shown once, stored hashed, carry a role, revocable."""

import uuid

import jwt

from devstack.stack import Stack
from tests.gateway.conftest import ExtraGateways
from tests.gateway.helpers import assert_problem, client, gateway_url, token_for
from tests.support import Api


def test_key_is_shown_once_and_opens_the_api_with_its_role(admin: Api, stack: Stack) -> None:
    created = admin.ok("POST", "/api/auth/api-keys", 201, json={"name": "website lead form", "role": "sales"})
    key = created["key"]
    assert key.startswith(created["prefix"] + "_") and created["role"] == "sales" and created["revoked_at"] is None
    listed = admin.ok("GET", "/api/auth/api-keys", params={"revoked": "false", "limit": 200})
    mine = [k for k in listed["items"] if k["id"] == created["id"]]
    assert mine and "key" not in mine[0]
    assert "key" not in admin.ok("GET", f"/api/auth/api-keys/{created['id']}")

    with client(gateway_url(stack), api_key=key) as machine:
        me = machine.get("/api/auth/me").json()
        assert {k: me[k] for k in ("id", "email", "role", "kind")} == {"id": created["id"], "email": "",
                                                                      "role": "sales", "kind": "api_key"}
        assert "crm.companies.write" in me["actions"] and "erp.clients.billing" not in me["actions"]
        assert me["password_change_required"] is False and me["full_name"] is None  # a key has no user row
        # Through the proxy: the service sees a signed token for the key's principal and applies the role.
        company = machine.post("/api/crm/companies", json={"name": "Lead Form Co"})
        assert company.status_code == 201, company.text
        assert machine.get(f"/api/crm/companies/{company.json()['id']}").status_code == 200
        assert machine.get("/api/erp/projects").status_code == 200
        assert_problem(machine.patch(f"/api/erp/clients/{company.json()['id']}", json={"tax_id": "X"}), 403)

    revoked = admin.client.delete(f"/api/auth/api-keys/{created['id']}")
    assert revoked.status_code == 204
    assert admin.ok("GET", f"/api/auth/api-keys/{created['id']}")["revoked_at"] is not None
    with client(gateway_url(stack), api_key=key) as machine:
        assert_problem(machine.get("/api/auth/me"), 401, "api-key-invalid")
        assert_problem(machine.get("/api/crm/companies"), 401, "api-key-invalid")


def test_unknown_keys_and_bad_input_are_refused(admin: Api, stack: Stack) -> None:
    with client(gateway_url(stack), api_key="tl_00000000_not-a-real-key") as machine:
        assert_problem(machine.get("/api/auth/me"), 401, "api-key-invalid")
    assert_problem(admin.post("/api/auth/api-keys", json={"name": "", "role": "sales"}), 422)
    assert_problem(admin.post("/api/auth/api-keys", json={"name": "x", "role": "root"}), 422)
    assert_problem(admin.client.delete("/api/auth/api-keys/00000000-0000-0000-0000-000000000000"), 404)


def test_only_admins_manage_keys(stack: Stack) -> None:
    for role in ("sales", "finance", "project_manager", "viewer"):
        with client(gateway_url(stack), token=token_for(stack, role)) as c:
            assert_problem(c.post("/api/auth/api-keys", json={"name": "x", "role": "admin"}), 403)
            assert_problem(c.get("/api/auth/api-keys"), 403)


def test_upstream_gets_a_short_lived_token_of_kind_api_key_and_never_the_key(admin: Api, stack: Stack,
                                                                             gateways: ExtraGateways) -> None:
    created = admin.ok("POST", "/api/auth/api-keys", 201, json={"name": "integration", "role": "viewer"})
    with client(gateways.edge.url, api_key=created["key"]) as machine:
        echoed = machine.get("/api/crm/echo").json()
    headers = echoed["headers"]
    assert "x-api-key" not in headers
    scheme, _, token = headers["authorization"].partition(" ")
    _, public = stack.keys()
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="throughline-api")
    assert scheme == "Bearer" and claims["kind"] == "api_key" and claims["role"] == "viewer"
    assert claims["sub"] == created["id"] and claims["exp"] - claims["iat"] <= 300


def test_lead_capture_form_with_a_gateway_key_or_the_crm_s_own_keys(admin: Api, stack: Stack) -> None:
    key = admin.ok("POST", "/api/auth/api-keys", 201, json={"name": "website form", "role": "sales"})["key"]
    suffix = uuid.uuid4().hex[:8]
    form = {"first_name": "Web", "last_name": f"Visitor {suffix}", "email": f"visitor-{suffix}@example.com",
            "company_name": f"Shop {suffix}"}
    with client(gateway_url(stack), api_key=key) as website:
        accepted = website.post("/api/crm/lead-capture", json=form)
    assert accepted.status_code == 202, accepted.text
    assert admin.ok("GET", f"/api/crm/leads/{accepted.json()['id']}")["email"] == form["email"]
    # A key the gateway does not know goes on to the CRM, which checks its own capture keys.
    with client(gateway_url(stack), api_key="not-a-capture-key") as stranger:
        assert_problem(stranger.post("/api/crm/lead-capture", json=form), 401, "capture-key-invalid")
        assert_problem(stranger.get("/api/crm/leads"), 401, "api-key-invalid")

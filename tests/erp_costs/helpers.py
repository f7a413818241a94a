"""Helpers for the ERP costs tests: callers in any role, a client and a project made by hand, SQL reads."""

import os
import uuid
from datetime import timedelta
from typing import Any

import httpx

from devstack.stack import Stack
from gateway.credentials.tokens import TokenIssuer
from tests.support import Api, ensure_person, wait_for


class ServiceClient(httpx.Client):
    """Sends /api/crm/* to the CRM and /api/erp/* to the ERP over real HTTP, with a token signed by the
    gateway's key (the services verify it exactly as behind the gateway). Talking to the services
    directly keeps these tests about the ERP's rules, not the gateway's routing, which its own tests cover;
    set ERP_COSTS_VIA_GATEWAY=1 to send everything through the gateway instead."""

    def __init__(self, stack: Stack, **kwargs: Any) -> None:
        super().__init__(timeout=15, **kwargs)
        self.via_gateway = os.environ.get("ERP_COSTS_VIA_GATEWAY") == "1"
        self.ports = stack.ports

    def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        path = str(url)
        port = self.ports.gateway if self.via_gateway else (
            self.ports.crm if path.startswith("/api/crm") else self.ports.erp)
        return super().request(method, f"http://127.0.0.1:{port}{path}", **kwargs)


class RoleApi(Api):
    """An Api for one (minted) user: knows its user id, and can PATCH and DELETE."""

    user_id: str = ""

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.patch(path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, **kwargs)


def as_role(stack: Stack, role: str, user_id: str | None = None) -> RoleApi:
    private, _ = stack.keys()
    issuer = TokenIssuer(private, timedelta(minutes=30), timedelta(days=1))
    uid = user_id or f"{role}-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, uid)  # the person the gateway's user.created would have made
    token = issuer.access_token(user_id=uid, email=f"{uid}@example.com", role=role)
    client = ServiceClient(stack)
    client.headers["Authorization"] = f"Bearer {token}"
    api = RoleApi(client, token)
    api.user_id = uid
    return api


def sql(stack: Stack, query: str) -> list[list[str]]:
    """Rows of a query on the ERP database, each a list of text columns."""
    assert stack.postgres is not None, "these tests read the embedded ERP database"
    out = stack.postgres.psql("erp", query)
    return [line.split("|") for line in out.splitlines() if line.strip()]


def scalar(stack: Stack, query: str) -> str:
    rows = sql(stack, query)
    return rows[0][0] if rows else ""


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def new_client(api: Api, stack: Stack, currency: str = "EUR") -> dict[str, Any]:
    """A client replica of a fresh CRM company, with its ERP currency set."""
    company = api.new_company()

    def found() -> dict[str, Any] | None:
        items = api.ok("GET", "/api/erp/clients", params={"q": company["name"]})["items"]
        return items[0] if items else None

    client = wait_for(found, 15, f"the client replica of {company['name']}")
    return api.ok("PATCH", f"/api/erp/clients/{client['id']}", json={"currency": currency})  # type: ignore[no-any-return]


def new_cost_center(api: Api, name: str = "Delivery") -> dict[str, Any]:
    center: dict[str, Any] = api.ok("POST", "/api/erp/cost-centers", 201,
                                    json={"code": f"CC-{suffix()}", "name": f"{name} {suffix()}"})
    return center


def new_project(api: Api, client_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Retainer {suffix()}", "client_id": client_id, "budget_amount": "10000.00",
            "budget_hours": "100", **fields}
    project: dict[str, Any] = api.ok("POST", "/api/erp/projects", 201, json=body)
    return project


def new_expense(api: Api, project_id: str | None = None, cost_center_id: str | None = None,
                **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": "40.00", "currency": "EUR", "expense_date": "2026-11-20",
                            "merchant": "Corner Shop", **fields}
    if project_id:
        body["project_id"] = project_id
    if cost_center_id:
        body["cost_center_id"] = cost_center_id
    expense: dict[str, Any] = api.ok("POST", "/api/erp/expenses", 201, json=body)
    return expense


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def upload_receipt(api: Api, expense_id: str, data: bytes = PNG, content_type: str = "image/png",
                   expected: int = 201) -> Any:
    return api.ok("POST", f"/api/erp/expenses/{expense_id}/receipt", expected,
                  files={"file": ("receipt.png", data, content_type)})

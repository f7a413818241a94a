"""Data for the browser tests, made through the gateway's public API (as the web app itself would)."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from devstack.stack import Stack
from tests.support import Api, ensure_person, fixed_terms
from tests.web.conftest import issuer

RECEIPT_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def api_as(stack: Stack, base_url: str, role: str, user_id: str | None = None) -> Api:
    """An API client for a user of `role` (token minted with the gateway's key; no user row needed)."""
    uid = user_id or str(uuid.uuid4())
    ensure_person(stack, uid)  # the person the gateway's user.created would have made
    token = issuer(stack).access_token(user_id=uid, email=f"{role}-{uid[:6]}@example.com", role=role)
    client = httpx.Client(base_url=base_url, timeout=15, headers={"Authorization": f"Bearer {token}"})
    return Api(client, token)


def stage_id(api: Api, name: str) -> str:
    pipeline = next(p for p in api.ok("GET", "/api/crm/pipelines") if p["is_default"])
    return str(next(s["id"] for s in pipeline["stages"] if s["name"] == name))


def titled_deal(api: Api, title: str, amount: str, company: str, stage: str | None = None,
                close_in_days: int = 30, billing: dict[str, Any] | None = None) -> dict[str, Any]:
    company_row = api.new_company(f"{company} {uuid.uuid4().hex[:4]}")
    body: dict[str, Any] = {"title": title, "company_id": company_row["id"], "amount": amount, "currency": "EUR",
                            "expected_close_date": (date.today() + timedelta(days=close_in_days)).isoformat()}
    body["billing"] = billing or fixed_terms(1, date.today())
    deal: dict[str, Any] = api.ok("POST", "/api/crm/deals", 201, json=body)
    if stage:
        deal = api.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": stage_id(api, stage)})
    return deal


def won_project(api: Api, title: str, amount: str, company: str,
                installments: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    deal = titled_deal(api, title, amount, company, billing=fixed_terms(installments, date.today()))
    api.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    return deal, api.project_of(deal["id"])


def issued_invoice(api: Api, project: dict[str, Any], amount: str,
                   description: str = "Design sprint") -> dict[str, Any]:
    draft = api.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": description, "quantity": "1", "unit_price": amount}]})
    issued: dict[str, Any] = api.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")
    return issued


def submitted_expense(api: Api, amount: str, merchant: str, project_id: str) -> dict[str, Any]:
    expense = api.ok("POST", "/api/erp/expenses", 201, json={
        "amount": amount, "currency": "EUR", "expense_date": date.today().isoformat(), "merchant": merchant,
        "description": "Client workshop", "project_id": project_id})
    api.ok("POST", f"/api/erp/expenses/{expense['id']}/receipt", 201,
           files={"file": ("receipt.pdf", RECEIPT_PDF, "application/pdf")})
    submitted: dict[str, Any] = api.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    return submitted


def no_default_tax_rate(finance: Api) -> None:
    """No tax rate is the default, so invoices carry the amounts a test names (another test may have set the
    company up in a country whose standard rate became the default)."""
    for rate in finance.ok("GET", "/api/erp/tax-rates", params={"limit": 200})["items"]:
        if rate["is_default"]:
            finance.ok("PATCH", f"/api/erp/tax-rates/{rate['id']}", json={"is_default": False})

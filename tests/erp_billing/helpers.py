"""Helpers of the billing tests: APIs acting as any role, projects from won deals, invoices."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from devstack.stack import Stack
from gateway.credentials.tokens import TokenIssuer
from tests.support import Api, ensure_person


def token(stack: Stack, role: str, user_id: str | None = None) -> str:
    private_pem, _ = stack.keys()
    issuer = TokenIssuer(private_pem, timedelta(minutes=30), timedelta(days=1))
    uid = user_id or f"{role}-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, uid)  # the person the gateway's user.created would have made
    return issuer.access_token(user_id=uid, email=f"{uid}@example.com", role=role)


def as_role(stack: Stack, role: str, *, direct: bool = False, user_id: str | None = None) -> Api:
    """An Api through the gateway (or straight at the ERP with `direct`) carrying a token of `role`."""
    port = stack.ports.erp if direct else stack.ports.gateway
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    access = token(stack, role, user_id)
    client.headers["Authorization"] = f"Bearer {access}"
    return Api(client, access)


def today() -> date:
    return datetime.now(UTC).date()


def project_for(api: Api, billing: dict[str, Any], amount: str = "12000.00", currency: str = "EUR") -> dict[str, Any]:
    deal = api.won_deal(billing=billing, amount=amount, currency=currency)
    return api.project_of(deal["id"])


def line(description: str = "Design work", quantity: str = "1", unit_price: str = "100.00",
         tax_rate: str = "0") -> dict[str, str]:
    return {"description": description, "quantity": quantity, "unit_price": unit_price, "tax_rate": tax_rate}


def draft(api: Api, project: dict[str, Any], lines: list[dict[str, str]] | None = None,
          **extra: Any) -> dict[str, Any]:
    body = {"project_id": project["id"], "lines": lines or [line()], **extra}
    result: dict[str, Any] = api.ok("POST", "/api/erp/invoices", 201, json=body)
    return result


def issued(api: Api, project: dict[str, Any], lines: list[dict[str, str]] | None = None,
           **extra: Any) -> dict[str, Any]:
    invoice = draft(api, project, lines, **extra)
    result: dict[str, Any] = api.ok("POST", f"/api/erp/invoices/{invoice['id']}/issue")
    return result


def pay(api: Api, invoice_id: str, amount: str, expected: int = 201, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("POST", f"/api/erp/invoices/{invoice_id}/payments", expected,
                                    json={"amount": amount, **extra})
    return result


def fixed(installments: int, start: date) -> dict[str, Any]:
    return {"type": "fixed", "installments": installments, "interval": "month", "start_date": start.isoformat()}


def d(value: str) -> Decimal:
    return Decimal(value)


def overdue_by(stack: Stack, invoice_id: str, days: int) -> None:
    """Move an issued invoice's due date `days` before today (UTC): a run as of today then sees it that many days
    overdue. Runs are never dated in the future (422), so the tests move the invoice back instead of the clock."""
    assert stack.postgres is not None, "these tests change the embedded ERP database"
    due = (today() - timedelta(days=days)).isoformat()
    stack.postgres.psql("erp", f"UPDATE invoices SET due_date = DATE '{due}' WHERE id = '{uuid.UUID(invoice_id)}'")

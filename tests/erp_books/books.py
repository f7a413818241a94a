"""Helpers of the books' tests: a client's entries, balances and open items, and the property tests' steps."""

from datetime import date
from decimal import Decimal
from typing import Any

from tests.support import Api

ZERO = Decimal(0)


def entries_of(api: Api, source_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/api/erp/journal-entries",
                                         params={"source_id": source_id, "limit": 50})["items"]
    return items


def balances(api: Api, client_id: str | None, currency: str = "EUR") -> dict[str, Decimal]:
    """The client's (or, without one, the whole) trial balance: balance per account code (normal direction)."""
    params = {"currency": currency} | ({"client_id": client_id} if client_id else {})
    report = api.ok("GET", "/api/erp/reports/trial-balance", params=params)
    return {row["code"]: Decimal(row["balance"]) for row in report["rows"]}


def trial_balance_difference(api: Api, **params: str) -> Decimal:
    report = api.ok("GET", "/api/erp/reports/trial-balance", params=params)
    return Decimal(report["total_debit"]) - Decimal(report["total_credit"])


def open_receivables(api: Api, client_id: str | None, currency: str = "EUR") -> Decimal:
    """What the AR aging report says the client (or, without one, every client) owes."""
    params = {"currency": currency} | ({"client_id": client_id} if client_id else {})
    report = api.ok("GET", "/api/erp/reports/ar-aging", params=params)
    return sum((Decimal(t["total"]) for t in report["totals"]), ZERO)


def open_payables(api: Api, currency: str = "EUR") -> Decimal:
    """What the AP aging report says is owed to every vendor in `currency`."""
    report = api.ok("GET", "/api/erp/reports/ap-aging")
    return sum((Decimal(t["total"]) for t in report["totals"] if t["currency"] == currency), ZERO)


def open_invoices(api: Api, project: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/api/erp/invoices", params={
        "project_id": project["id"], "limit": 200})["items"]
    return [i for i in items if i["kind"] == "invoice" and i["status"] in ("issued", "partially_paid")]


def part(balance: str, share: float) -> Decimal:
    return max(Decimal("0.01"), (Decimal(balance) * Decimal(str(share))).quantize(Decimal("0.01")))


def settle(api: Api, kind: str, invoice: dict[str, Any], share: float, paid_on: date | None = None) -> None:
    """A property test's step on an open invoice: pay or credit a share of what it owes, or void it while nothing
    was paid or credited (what the rules refuse is skipped)."""
    if kind == "pay":
        api.ok("POST", f"/api/erp/invoices/{invoice['id']}/payments", 201, json={
            "amount": str(part(invoice["balance_due"], share))} | ({"paid_on": str(paid_on)} if paid_on else {}))
    elif kind == "credit":
        api.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201,
               json={"amount": str(part(invoice["balance_due"], share)), "reason": "property"})
    elif kind == "void" and Decimal(invoice["amount_paid"]) == 0 and Decimal(invoice["amount_credited"]) == 0:
        api.ok("POST", f"/api/erp/invoices/{invoice['id']}/void", json={"reason": "property"})

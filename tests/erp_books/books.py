"""Helpers of the books' tests: a client's entries, balances and open items."""

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

"""Helpers of the books' tests: a client's entries, balances and open items."""

from decimal import Decimal
from typing import Any

from tests.support import Api

ZERO = Decimal(0)


def entries_of(api: Api, source_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/api/erp/journal-entries",
                                         params={"source_id": source_id, "limit": 50})["items"]
    return items


def balances(api: Api, client_id: str, currency: str = "EUR") -> dict[str, Decimal]:
    """The client's trial balance: balance per account code (normal direction)."""
    report = api.ok("GET", "/api/erp/reports/trial-balance", params={"client_id": client_id, "currency": currency})
    return {row["code"]: Decimal(row["balance"]) for row in report["rows"]}


def trial_balance_difference(api: Api, **params: str) -> Decimal:
    report = api.ok("GET", "/api/erp/reports/trial-balance", params=params)
    return Decimal(report["total_debit"]) - Decimal(report["total_credit"])


def open_receivables(api: Api, client_id: str, currency: str = "EUR") -> Decimal:
    """What the AR aging report says the client owes."""
    report = api.ok("GET", "/api/erp/reports/ar-aging", params={"client_id": client_id, "currency": currency})
    return sum((Decimal(t["total"]) for t in report["totals"]), ZERO)

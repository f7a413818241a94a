"""Helpers of the books' tests: a client's entries, balances and open items, the VAT report checked against the
trial balance, and the property tests' steps."""

from datetime import date
from decimal import Decimal
from typing import Any

from tests.support import Api

ZERO = Decimal(0)
D = Decimal
TAX_CODES = {"output_tax": "2200", "reverse_charge_output_tax": "2210", "input_tax": "1400",
             "reverse_charge_input_tax": "1410"}
VatRows = dict[tuple[Decimal | None, str | None], tuple[Decimal, Decimal]]


def entries_of(api: Api, source_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/api/erp/journal-entries",
                                         params={"source_id": source_id, "limit": 50})["items"]
    return items


def balances(api: Api, client_id: str | None, currency: str = "EUR", **filters: str) -> dict[str, Decimal]:
    """The client's (or, without one, the whole) trial balance: balance per account code (normal direction);
    `filters`: the report's others (project_id, cost_center_id)."""
    params = {"currency": currency, **filters} | ({"client_id": client_id} if client_id else {})
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


def vat(api: Api, **params: str) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("GET", "/api/erp/reports/vat", params={"currency": "EUR", **params})
    return result


def trial_rows(api: Api, **params: str) -> dict[str, dict[str, Decimal]]:
    report = api.ok("GET", "/api/erp/reports/trial-balance", params={"currency": "EUR", **params})
    return {r["code"]: {k: D(r[k]) for k in ("debit", "credit", "balance")} for r in report["rows"]}


def vat_rows(report: dict[str, Any], section: str) -> VatRows:
    """(rate, category) -> (base, tax) summed over the report's periods."""
    out: VatRows = {}
    for period in report["periods"]:
        for row in period[section]:
            key = (D(row["tax_rate"]) if row["tax_rate"] is not None else None, row["tax_category"])
            base, tax = out.get(key, (ZERO, ZERO))
            out[key] = (base + D(row["taxable_base"]), tax + D(row["tax"]))
    return out


def vat_delta(after: VatRows, before: VatRows) -> VatRows:
    keys = set(after) | set(before)
    diff = {k: (after.get(k, (ZERO, ZERO))[0] - before.get(k, (ZERO, ZERO))[0],
                after.get(k, (ZERO, ZERO))[1] - before.get(k, (ZERO, ZERO))[1]) for k in keys}
    return {k: v for k, v in diff.items() if v != (ZERO, ZERO)}


def vat_reconciles(api: Api, **params: str) -> dict[str, Any]:
    """The VAT report over a range, checked against the trial balance of the same range: each tax total is its
    account's balance, net payable their sum, and the periods add up to the whole."""
    report = vat(api, **params)
    balances_then = trial_rows(api, **params)
    totals = report["totals"]
    for field, code in TAX_CODES.items():
        assert D(totals[field]) == balances_then.get(code, {"balance": ZERO})["balance"], (field, code, params)
    assert D(totals["net_payable"]) == (D(totals["output_tax"]) + D(totals["reverse_charge_output_tax"])
                                        - D(totals["input_tax"]) - D(totals["reverse_charge_input_tax"]))
    for field in TAX_CODES:
        assert sum((D(p["totals"][field]) for p in report["periods"]), ZERO) == D(totals[field])
    return report

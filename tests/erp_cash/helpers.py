"""Helpers for the payables and cash tests: the company's base currency, vendors, bills, rates."""

import uuid
from typing import Any

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, scalar, sql
from tests.support import Api

SELLER: dict[str, Any] = {
    "legal_name": "Lumen Studio GmbH", "address_lines": ["Torstraße 12"], "postal_code": "10119", "city": "Berlin",
    "country": "DE", "vat_id": "DE136695976", "payment_terms_days": 30, "base_currency": "EUR",
    "invoice_language": "en",
}
VAT_ID = "DE136695976"
IBAN = "DE89370400440532013000"


def company_in_eur(finance: Api) -> dict[str, Any]:
    response = finance.client.get("/api/erp/settings/company")
    if response.status_code == 200 and response.json()["base_currency"] == "EUR":
        return response.json()  # type: ignore[no-any-return]
    profile: dict[str, Any] = finance.ok("PUT", "/api/erp/settings/company", json=SELLER)
    return profile


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def new_vendor(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Vendor {suffix()}", "currency": "EUR", "payment_terms_days": 14, **fields}
    vendor: dict[str, Any] = api.ok("POST", "/api/erp/vendors", 201, json=body)
    return vendor


def tax_rate(api: Api, category: str, percent: str) -> dict[str, Any]:
    """An active rate of this category and percent (added when there is none)."""
    for rate in api.ok("GET", "/api/erp/tax-rates", params={"active": "true", "limit": 200})["items"]:
        if rate["category"] == category and rate["percent"] == percent:
            return rate  # type: ignore[no-any-return]
    note = "Reverse charge: the recipient owes the VAT" if category == "reverse_charge" else None
    created: dict[str, Any] = api.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": f"{category} {percent} {suffix()}", "category": category, "percent": percent, "legal_note": note})
    return created


def new_bill(api: Api, vendor_id: str, lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body = {"vendor_id": vendor_id, "vendor_reference": f"R-{suffix()}", "bill_date": "2026-11-02",
            "lines": lines, **fields}
    bill: dict[str, Any] = api.ok("POST", "/api/erp/bills", 201, json=body)
    return bill


def approved_bill(entering: Api, approving: Api, vendor_id: str, lines: list[dict[str, Any]],
                  **fields: Any) -> dict[str, Any]:
    bill = new_bill(entering, vendor_id, lines, **fields)
    entering.ok("POST", f"/api/erp/bills/{bill['id']}/submit")
    decided: dict[str, Any] = approving.ok("POST", f"/api/erp/bills/{bill['id']}/approve")
    return decided


def rate_every_currency(stack: Stack, finance: RoleApi, on: str, rate: str = "1.25") -> None:
    """A rate on `on` for every currency the forecast may meet (other modules leave items in USD, GBP ...), so that
    the forecast converts them instead of refusing."""
    rows = sql(stack, """
        SELECT DISTINCT currency FROM (
            SELECT currency FROM invoices UNION SELECT currency FROM bills UNION SELECT currency FROM expenses
            UNION SELECT currency FROM billing_schedules UNION SELECT currency FROM bank_statements
            UNION SELECT currency FROM recurring_items UNION SELECT currency FROM cash_opening_balances
            UNION SELECT currency FROM pipeline_deals) c
        WHERE currency <> 'EUR'""")
    for (currency,) in rows:
        finance.ok("PUT", "/api/erp/exchange-rates", json={"currency": currency, "rate_date": on, "rate": rate})


def count(stack: Stack, table: str, where: str = "true") -> int:
    return int(scalar(stack, f"SELECT count(*) FROM {table} WHERE {where}"))

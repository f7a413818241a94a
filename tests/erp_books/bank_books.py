"""Helpers of the bank-lines-in-the-books tests (API and browser): the CAMT.053 fixture filled in, a fresh IBAN,
a vendor bill paid by hand."""

import random
import uuid
from datetime import timedelta
from pathlib import Path
from string import Template
from typing import Any

from tests.erp_billing.helpers import today
from tests.support import Api

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "camt053_bank_books.xml"


def german_iban() -> str:
    """A valid German IBAN of an account no other test has: the statement is its account's first."""
    bban = "37040044" + f"{random.randint(0, 9_999_999_999):010d}"
    check = 98 - int(bban + "131400") % 97  # D=13, E=14
    return f"DE{check:02d}{bban}"


def statement_data(values: dict[str, str]) -> bytes:
    return Template(FIXTURE.read_text()).substitute(values).encode()


def quiet_values(**changes: str) -> dict[str, str]:
    """The fixture's placeholders for a statement whose credits pay no invoice (references nobody has)."""
    return {"tag": uuid.uuid4().hex[:12].upper(), "iban": german_iban(), "booked": today().isoformat(),
            "opened": (today() - timedelta(days=1)).isoformat(), "opening": "1000.00", "closing": "0.00",
            "amount_1": "10.00", "ref_1": "RF18539007547034", "amount_2": "20.00", "ref_2_spaced": "none",
            "contribution": "30.00", "amount_3": "40.00", "ref_3": "RF18539007547034", "rent": "50.00",
            "bill_paid": "70.00", "bill_reference": "none", "fee": "60.00"} | changes


def paid_bill(finance: Api, approver: Api, net: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An approved vendor bill of `net` (and the default VAT), paid in full by hand today: Dr AP / Cr bank posted
    with the payment."""
    vendor = finance.ok("POST", "/api/erp/vendors", 201, json={
        "name": f"Pixelwerk Hosting {uuid.uuid4().hex[:8]}", "currency": "EUR", "payment_terms_days": 14})
    bill = finance.ok("POST", "/api/erp/bills", 201, json={
        "vendor_id": vendor["id"], "vendor_reference": f"PW-{uuid.uuid4().hex[:8]}",
        "bill_date": (today() - timedelta(days=5)).isoformat(),
        "lines": [{"description": "Hosting", "quantity": "1", "unit_price": net}]})
    finance.ok("POST", f"/api/erp/bills/{bill['id']}/submit")
    approver.ok("POST", f"/api/erp/bills/{bill['id']}/approve")
    payment = finance.ok("POST", f"/api/erp/bills/{bill['id']}/payments", 201, json={
        "amount": bill["total"], "paid_on": today().isoformat(), "reference": "SEPA"})
    return bill, payment

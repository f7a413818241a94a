"""Accounts payable: vendors checked like the company (VAT ID, IBAN), bills with per-line tax and reverse charge,
the expenses' approval chain, payments, AP aging; bad input answered 4xx with nothing written."""

from decimal import Decimal
from typing import Any

from devstack.stack import Stack
from tests.erp_cash.helpers import IBAN, VAT_ID, approved_bill, count, new_bill, new_vendor, suffix, tax_rate
from tests.erp_costs.helpers import RoleApi, as_role, sql


def test_vendors_are_checked_and_only_finance_writes(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> None:
    vendor = new_vendor(finance, name=f"Hosting {suffix()}", vat_id="de 136 695 976",
                        iban="DE89 3704 0044 0532 0130 00", country="de", address="Hauptstr. 1, Berlin",
                        payment_terms_days=21)
    assert (vendor["vat_id"], vendor["iban"], vendor["country"]) == (VAT_ID, IBAN, "DE")
    for bad, field in (({"vat_id": "DE123"}, "vat_id"), ({"iban": "DE00 1234"}, "iban"),
                       ({"currency": "XYZ"}, "currency"), ({"country": "QQ"}, "country")):
        response = finance.post("/api/erp/vendors", json={"name": f"Bad {suffix()}", "currency": "EUR", **bad})
        assert response.status_code == 422, response.text
        assert field in response.text
    assert finance.post("/api/erp/vendors", json={"name": vendor["name"].upper(), "currency": "EUR"}).status_code == 409
    assert finance.post("/api/erp/vendors", json={"name": "Neg", "currency": "EUR",
                                                  "payment_terms_days": -1}).status_code == 422
    for role in ("sales", "project_manager", "viewer"):
        assert as_role(stack, role).post("/api/erp/vendors", json={"name": "x", "currency": "EUR"}).status_code == 403
    changed = finance.ok("PATCH", f"/api/erp/vendors/{vendor['id']}", json={"payment_terms_days": 45, "active": False})
    assert (changed["payment_terms_days"], changed["active"], changed["iban"]) == (45, False, IBAN)
    refused = finance.post("/api/erp/bills", json={"vendor_id": vendor["id"], "vendor_reference": "A1",
                                                   "bill_date": "2026-11-02", "lines": [
                                                       {"description": "x", "unit_price": "10.00"}]})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/inactive-vendor")


def test_bill_lines_tax_and_reverse_charge(finance: RoleApi, base: dict[str, Any]) -> None:
    standard = tax_rate(finance, "standard", "19")
    reverse = tax_rate(finance, "reverse_charge", "0")
    vendor = new_vendor(finance, payment_terms_days=14)
    bill = new_bill(finance, vendor["id"], [
        {"description": "Licences", "quantity": "3", "unit_price": "33.33", "tax_rate_id": standard["id"]},
        {"description": "Cloud (EU supplier)", "unit_price": "200.00", "tax_rate_id": reverse["id"]},
    ])
    assert bill["status"] == "draft" and bill["due_date"] == "2026-11-16"  # bill date + the vendor's 14 days
    assert (bill["subtotal"], bill["tax_total"], bill["total"]) == ("299.99", "19.00", "318.99")
    assert [line["tax_amount"] for line in bill["lines"]] == ["19.00", "0.00"]
    # The buyer self-assesses the VAT of the reverse-charge line at the default rate; the vendor is not paid it.
    assert bill["lines"][1]["tax_category"] == "reverse_charge"
    assert bill["balance_due"] == "318.99"
    changed = finance.ok("PATCH", f"/api/erp/bills/{bill['id']}", json={
        "lines": [{"description": "One licence", "unit_price": "100.00", "tax_rate_id": standard["id"]}],
        "due_date": "2026-12-01"})
    assert (changed["total"], changed["due_date"], len(changed["lines"])) == ("119.00", "2026-12-01", 1)
    assert finance.delete(f"/api/erp/bills/{bill['id']}").status_code == 204
    assert finance.get(f"/api/erp/bills/{bill['id']}").status_code == 404


def test_approval_chain_is_the_expenses_one_and_payments(stack: Stack, finance: RoleApi,
                                                          base: dict[str, Any]) -> None:
    zero = tax_rate(finance, "zero", "0")
    pm, other_finance = as_role(stack, "project_manager"), as_role(stack, "finance")
    vendor = new_vendor(finance)
    small = new_bill(finance, vendor["id"], [{"description": "Paper", "unit_price": "400.00",
                                              "tax_rate_id": zero["id"]}])
    assert finance.post(f"/api/erp/bills/{small['id']}/payments",
                        json={"amount": "1.00", "paid_on": "2026-11-03"}).status_code == 409  # a draft is not owed
    submitted = finance.ok("POST", f"/api/erp/bills/{small['id']}/submit")
    assert (submitted["status"], submitted["required_approval"]) == ("submitted", "manager")
    own = finance.post(f"/api/erp/bills/{small['id']}/approve")
    assert own.status_code == 403 and own.json()["type"].endswith("/own-expense")
    assert as_role(stack, "sales").post(f"/api/erp/bills/{small['id']}/approve").status_code == 403
    approved = pm.ok("POST", f"/api/erp/bills/{small['id']}/approve", json={"comment": "ok"})
    assert (approved["status"], approved["decided_by"]) == ("approved", pm.user_id)

    # Above the manager limit of EUR (1000): a project manager may not decide it, finance may.
    big = new_bill(finance, vendor["id"], [{"description": "Laptop", "unit_price": "2500.00",
                                            "tax_rate_id": zero["id"]}])
    finance.ok("POST", f"/api/erp/bills/{big['id']}/submit")
    refused = pm.post(f"/api/erp/bills/{big['id']}/approve")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/approval-level")
    assert "Bills above 1000" in refused.json()["detail"]
    rejected = other_finance.ok("POST", f"/api/erp/bills/{big['id']}/reject", json={"comment": "Wrong model"})
    assert rejected["status"] == "rejected"
    finance.ok("PATCH", f"/api/erp/bills/{big['id']}", json={"notes": "Corrected"})
    finance.ok("POST", f"/api/erp/bills/{big['id']}/submit")
    assert other_finance.ok("POST", f"/api/erp/bills/{big['id']}/approve")["status"] == "approved"

    # Payments: partly paid, then paid; more than owed is refused, nothing written.
    part = finance.ok("POST", f"/api/erp/bills/{big['id']}/payments", 201,
                      json={"amount": "1000.00", "paid_on": "2026-11-20", "reference": "SEPA 1"})
    assert part["amount"] == "1000.00"
    assert finance.ok("GET", f"/api/erp/bills/{big['id']}")["status"] == "partly_paid"
    over = finance.post(f"/api/erp/bills/{big['id']}/payments", json={"amount": "1500.01", "paid_on": "2026-11-21"})
    assert over.status_code == 422 and over.json()["type"].endswith("/overpayment")
    assert count(stack, "bill_payments", f"bill_id = '{big['id']}'") == 1
    assert as_role(stack, "project_manager").post(f"/api/erp/bills/{big['id']}/payments",
                                                  json={"amount": "1.00", "paid_on": "2026-11-21"}).status_code == 403
    finance.ok("POST", f"/api/erp/bills/{big['id']}/payments", 201, json={"amount": "1500.00", "paid_on": "2026-11-22"})
    paid = finance.ok("GET", f"/api/erp/bills/{big['id']}")
    assert (paid["status"], paid["balance_due"], paid["amount_paid"]) == ("paid", "0.00", "2500.00")
    history = [h["action"] for h in finance.ok("GET", f"/api/erp/bills/{big['id']}/history")]
    assert history == ["created", "submitted", "rejected", "updated", "submitted", "approved", "payment", "payment"]
    assert finance.post(f"/api/erp/bills/{big['id']}/payments",
                        json={"amount": "1.00", "paid_on": "2026-11-23"}).status_code == 409


def test_bad_bills_are_refused_and_nothing_is_written(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> None:
    vendor = new_vendor(finance)
    before = count(stack, "bills")
    line = {"description": "Work", "unit_price": "100.00"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"vendor_id": "00000000-0000-4000-8000-00000000dead"}, 422, "unknown-vendor"),
        ({"lines": [{**line, "unit_price": "-5.00"}]}, 422, ""),
        ({"lines": [{**line, "unit_price": 100}]}, 422, ""),  # a JSON number is not money
        ({"lines": [{**line, "unit_price": "999999999.00", "quantity": "1000"}]}, 422, "invalid-money"),
        ({"lines": [{**line, "unit_price": "10.001"}]}, 422, "invalid-money"),
        ({"lines": []}, 422, ""),
        ({"lines": [{**line, "tax_rate_id": "00000000-0000-4000-8000-00000000beef"}]}, 422, ""),
        ({"due_date": "2026-10-01"}, 422, ""),  # before the bill date
        ({"bill_date": "1999-12-31"}, 422, ""),
        ({"currency": "CHF"}, 422, "missing-exchange-rate"),  # no CHF rate for its date
    ]
    for change, status, slug in cases:
        body = {"vendor_id": vendor["id"], "vendor_reference": f"X-{suffix()}", "bill_date": "2026-11-02",
                "lines": [line], **change}
        response = finance.post("/api/erp/bills", json=body)
        assert response.status_code == status, (change, response.text)
        assert response.json()["type"].endswith(slug), (change, response.json())
    missing = finance.post("/api/erp/bills", json={"vendor_id": vendor["id"], "vendor_reference": "CHF-1",
                                                   "bill_date": "2026-11-02", "currency": "CHF", "lines": [line]})
    assert "CHF" in missing.json()["detail"] and missing.json()["date"] == "2026-11-02"
    assert count(stack, "bills") == before
    first = new_bill(finance, vendor["id"], [line], vendor_reference="SAME-1")
    again = finance.post("/api/erp/bills", json={"vendor_id": vendor["id"], "vendor_reference": "SAME-1",
                                                 "bill_date": "2026-11-02", "lines": [line]})
    assert again.status_code == 409 and first["id"] not in again.text
    assert finance.get("/api/erp/bills/00000000-0000-4000-8000-00000000dead").status_code == 404

    # With the day's rate a CHF bill is accepted and keeps its rate.
    finance.ok("PUT", "/api/erp/exchange-rates", json={"currency": "CHF", "rate_date": "2026-10-30", "rate": "1.07"})
    chf = new_bill(finance, vendor["id"], [line], currency="CHF")  # a Monday: Friday's rate applies
    assert (chf["currency"], chf["exchange_rate"]) == ("CHF", "1.0700000000")


def test_ap_aging(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> None:
    zero = tax_rate(finance, "zero", "0")
    pm = as_role(stack, "project_manager")
    vendor = new_vendor(finance, name=f"Aging {suffix()}")
    line = {"description": "Work", "tax_rate_id": zero["id"]}
    # Due 2026-12-10 (not due on 2026-12-01), due 2026-11-20 (11 days), due 2026-09-15 (77 days), a draft (not owed).
    approved_bill(finance, pm, vendor["id"], [{**line, "unit_price": "100.00"}], bill_date="2026-11-25",
                  due_date="2026-12-10")
    late = approved_bill(finance, pm, vendor["id"], [{**line, "unit_price": "300.00"}], bill_date="2026-11-01",
                         due_date="2026-11-20")
    approved_bill(finance, pm, vendor["id"], [{**line, "unit_price": "50.00"}], bill_date="2026-09-01",
                  due_date="2026-09-15")
    new_bill(finance, vendor["id"], [{**line, "unit_price": "999.00"}], bill_date="2026-11-01")
    finance.ok("POST", f"/api/erp/bills/{late['id']}/payments", 201, json={"amount": "120.00", "paid_on": "2026-11-28"})
    # A bill dated after as_of is not owed yet on it.
    approved_bill(finance, pm, vendor["id"], [{**line, "unit_price": "70.00"}], bill_date="2026-12-02")

    report = finance.ok("GET", "/api/erp/reports/ap-aging", params={"as_of": "2026-12-01", "vendor_id": vendor["id"]})
    [row] = report["items"]
    assert (row["vendor_name"], row["currency"], row["bills"]) == (vendor["name"], "EUR", 3)
    assert (row["not_due"], row["days_0_30"], row["days_31_60"], row["days_61_90"], row["days_90_plus"]) == \
        ("100.00", "180.00", "0.00", "50.00", "0.00")
    assert row["total"] == "330.00" and report["totals"][0]["total"] == "330.00"
    # Before the payment the late bill was still owed in full.
    earlier = finance.ok("GET", "/api/erp/reports/ap-aging", params={"as_of": "2026-11-27", "vendor_id": vendor["id"]})
    assert earlier["items"][0]["days_0_30"] == "300.00"
    assert as_role(stack, "viewer").get("/api/erp/reports/ap-aging").status_code == 200


def _entry(stack: Stack, source_type: str, source_id: str) -> list[list[str]]:
    """(account code, debit, credit) of the entry a fact posted, debits first."""
    return sql(stack, f"""
        SELECT a.code, l.debit::numeric(18,2), l.credit::numeric(18,2)
        FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
        WHERE e.source_type = '{source_type}' AND e.source_id = '{source_id}'
        ORDER BY l.debit DESC, a.code""")


def test_approval_and_payments_post_to_the_ledger(stack: Stack, finance: RoleApi, base: dict[str, Any]) -> None:
    standard = tax_rate(finance, "standard", "19")
    reverse = tax_rate(finance, "reverse_charge", "0")
    pm = as_role(stack, "project_manager")
    bill = new_bill(finance, new_vendor(finance)["id"], [
        {"description": "Licences", "unit_price": "100.00", "tax_rate_id": standard["id"]},
        {"description": "EU cloud", "unit_price": "200.00", "tax_rate_id": reverse["id"]}])
    finance.ok("POST", f"/api/erp/bills/{bill['id']}/submit")
    assert _entry(stack, "bill", bill["id"]) == []  # a submitted bill is not owed yet
    approved = pm.ok("POST", f"/api/erp/bills/{bill['id']}/approve")
    entry = _entry(stack, "bill", approved["id"])
    debits = sum(Decimal(d) for _, d, _ in entry)
    credits = sum(Decimal(c) for _, _, c in entry)
    assert debits == credits
    rc_tax = Decimal(approved["reverse_charge_tax"])
    # Expenses 300.00 + input VAT 19.00 + reverse-charge VAT both ways; payable: the total the vendor is paid.
    assert debits == Decimal("319.00") + rc_tax and approved["total"] == "319.00"
    assert count(stack, "journal_entries", f"source_type = 'bill' AND source_id = '{bill['id']}'") == 1

    payment = finance.ok("POST", f"/api/erp/bills/{bill['id']}/payments", 201,
                         json={"amount": "119.00", "paid_on": "2026-11-10"})
    paid = _entry(stack, "bill_payment", payment["id"])
    assert sorted((Decimal(d), Decimal(c)) for _, d, c in paid) == [(Decimal(0), Decimal("119.00")),
                                                                    (Decimal("119.00"), Decimal(0))]

"""The cash story through the gateway: deal won -> project -> billing run -> invoice issued -> partial payment ->
overdue reminder -> final payment -> invoice paid, and the CRM's timeline shows it."""

import uuid
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import overdue_by, today
from tests.support import Api, wait_for


def test_cash_story(stack: Stack, admin: Api) -> None:
    suffix = uuid.uuid4().hex[:8]
    company = admin.ok("POST", "/api/crm/companies", 201, json={
        "name": f"Cash Story {suffix}", "domain": f"cash-{suffix}.example", "email": f"ap-{suffix}@example.com"})
    deal = admin.new_deal(company["id"], amount="12000.00", billing={
        "type": "fixed", "installments": 1, "interval": "month", "start_date": today().isoformat()})
    admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = admin.project_of(deal["id"])

    run = admin.ok("POST", "/api/erp/billing-runs", 201, json={"as_of": today().isoformat(),
                                                               "project_id": project["id"]})
    assert run["invoices_created"] == 1
    invoice = run["invoices"][0]
    assert (invoice["status"], invoice["total"], invoice["currency"]) == ("issued", "12000.00", "EUR")

    partial = admin.ok("POST", f"/api/erp/invoices/{invoice['id']}/payments", 201,
                       json={"amount": "5000.00", "method": "bank_transfer"})
    assert partial["invoice"]["status"] == "partially_paid" and partial["invoice"]["balance_due"] == "7000.00"

    overdue_by(stack, invoice["id"], 4)  # four days late (runs are never dated in the future)
    reminders = admin.ok("POST", "/api/erp/reminder-runs", json={"as_of": today().isoformat(),
                                                                 "invoice_id": invoice["id"]})
    assert [r["step"] for r in reminders["reminders"]] == [1]
    assert reminders["reminders"][0]["recipient"] == f"ap-{suffix}@example.com"

    final = admin.ok("POST", f"/api/erp/invoices/{invoice['id']}/payments", 201, json={"amount": "7000.00"})
    assert final["invoice"]["status"] == "paid" and final["invoice"]["balance_due"] == "0.00"

    seen: list[str] = []

    def timeline() -> list[dict[str, Any]] | None:
        facts: list[dict[str, Any]] = admin.ok("GET", "/api/crm/erp-facts", params={"company_id": company["id"]})
        seen[:] = sorted(f["kind"] for f in facts)
        wanted = {"invoice.issued", "payment.recorded", "invoice.overdue", "invoice.paid"}
        return facts if wanted <= set(seen) else None

    facts = wait_for(timeline, 20, f"the invoice facts on the CRM timeline (seen: {seen})")
    assert all(f["deal_id"] == deal["id"] for f in facts if f["kind"].startswith(("invoice", "payment")))
    assert sum(1 for f in facts if f["kind"] == "payment.recorded") == 2
